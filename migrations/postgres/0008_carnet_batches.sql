-- 0008: batches of carnets as bulk jobs (PostgreSQL).
--
-- Released migrations are never edited: add a new numbered file instead.
-- Keep this file and migrations/sqlite/0008_carnet_batches.sql in step: the two
-- backends must enforce the same rules (tests/storage.rs and tests/carnet_batch.rs
-- run on both).
--
-- A batch of carnets (after an RAE jury session, say) is a bulk job of another kind:
-- the same job (state, row counts, resume at start), one row per carnet instead of
-- one per CSV line. A carnet row imports (or finds) the carnet and confirms every
-- class it earns: it can give several awards, or none, so its outcome is a small
-- JSON document instead of one award id, and the job counts awards apart from rows.

-- What the job's rows are: CSV lines of recipients for one class, or carnets.
-- Awards issued by the job, and awards its rows found already issued (a CSV row is
-- one award; a carnet row any number).
ALTER TABLE bulk_jobs
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'csv'
        CONSTRAINT bulk_jobs_kind_known CHECK (kind IN ('csv', 'carnets')),
    ADD COLUMN awards_issued INTEGER NOT NULL DEFAULT 0
        CONSTRAINT bulk_jobs_awards_issued_positive CHECK (awards_issued >= 0),
    ADD COLUMN awards_already INTEGER NOT NULL DEFAULT 0
        CONSTRAINT bulk_jobs_awards_already_positive CHECK (awards_already >= 0);
UPDATE bulk_jobs SET awards_issued = issued, awards_already = already;

-- Re-sending a batch whose job is unfinished finds that job: the kind is part of it
-- (for a carnet batch, badge_class_slug is the class it is limited to, '' for all).
DROP INDEX bulk_jobs_unfinished_file;
CREATE UNIQUE INDEX bulk_jobs_unfinished_file
    ON bulk_jobs (issuer_slug, kind, badge_class_slug, batch, file_sha256)
    WHERE state IN ('queued', 'running');

-- line: for a carnet row, the carnet's position in the batch.
-- label: where a carnet came from when the position alone does not say it (its file).
-- idempotency_key: for a carnet row, a hash of the person's key and the référentiel
-- version (unique in the job; never a clear email).
-- status: a carnet row is 'issued' when this job issued at least one award from it,
-- 'already' when it issued none (already issued, or nothing earned: see detail).
-- payload: a CSV row or a carnet document, sealed, erased once the row is done.
-- detail: a carnet row's outcome (JSON: the carnet, each class issued, already issued,
-- not earned and why); no email. A done row names its award (CSV) or has its outcome.
ALTER TABLE bulk_rows
    ADD COLUMN label TEXT
        CONSTRAINT bulk_rows_label_length CHECK (label IS NULL OR length(label) BETWEEN 1 AND 1000),
    ADD COLUMN detail TEXT
        CONSTRAINT bulk_rows_detail_size CHECK (detail IS NULL OR length(detail) <= 65536),
    DROP CONSTRAINT bulk_rows_award_when_given,
    ADD CONSTRAINT bulk_rows_award_when_given
        CHECK (award_id IS NULL OR status IN ('issued', 'already')),
    ADD CONSTRAINT bulk_rows_done_has_outcome
        CHECK (status NOT IN ('issued', 'already') OR ((award_id IS NOT NULL) <> (detail IS NOT NULL))),
    ADD CONSTRAINT bulk_rows_detail_once_done CHECK (detail IS NULL OR status <> 'pending');
