-- 0008: batches of carnets as bulk jobs (SQLite).
--
-- Released migrations are never edited: add a new numbered file instead.
-- Keep this file and migrations/postgres/0008_carnet_batches.sql in step: the two
-- backends must enforce the same rules (tests/storage.rs and tests/carnet_batch.rs
-- run on both).
--
-- A batch of carnets (after an RAE jury session, say) is a bulk job of another kind:
-- the same job (state, row counts, resume at start), one row per carnet instead of
-- one per CSV line. A carnet row imports (or finds) the carnet and confirms every
-- class it earns: it can give several awards, or none, so its outcome is a small
-- JSON document instead of one award id, and the job counts awards apart from rows.

-- What the job's rows are: CSV lines of recipients for one class, or carnets.
ALTER TABLE bulk_jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'csv'
    CONSTRAINT bulk_jobs_kind_known CHECK (kind IN ('csv', 'carnets'));
-- Awards issued by the job, and awards its rows found already issued (a CSV row is
-- one award; a carnet row any number).
ALTER TABLE bulk_jobs ADD COLUMN awards_issued INTEGER NOT NULL DEFAULT 0
    CONSTRAINT bulk_jobs_awards_issued_positive CHECK (awards_issued >= 0);
ALTER TABLE bulk_jobs ADD COLUMN awards_already INTEGER NOT NULL DEFAULT 0
    CONSTRAINT bulk_jobs_awards_already_positive CHECK (awards_already >= 0);
UPDATE bulk_jobs SET awards_issued = issued, awards_already = already;

-- Re-sending a batch whose job is unfinished finds that job: the kind is part of it
-- (for a carnet batch, badge_class_slug is the class it is limited to, '' for all).
DROP INDEX bulk_jobs_unfinished_file;
CREATE UNIQUE INDEX bulk_jobs_unfinished_file
    ON bulk_jobs (issuer_slug, kind, badge_class_slug, batch, file_sha256)
    WHERE state IN ('queued', 'running');

-- bulk_rows gains `label` and `detail`, and a done row names its award (CSV) or has
-- its outcome (carnet). SQLite cannot change a table's constraints in place: the
-- table is rebuilt (nothing references it), keeping every row.
CREATE TABLE bulk_rows_0008 (
    job_id           TEXT NOT NULL
        CONSTRAINT bulk_rows_job_fkey REFERENCES bulk_jobs (id) ON DELETE CASCADE,
    -- CSV: the line the row starts on; carnets: the carnet's position in the batch
    line             INTEGER NOT NULL CONSTRAINT bulk_rows_line_positive CHECK (line > 0),
    -- where a carnet came from when the position alone does not say it (its file)
    label            TEXT
        CONSTRAINT bulk_rows_label_length CHECK (label IS NULL OR length(label) BETWEEN 1 AND 1000),
    -- the row's key, unique in its job (CSV: the award's idempotency key; carnets: a hash
    -- of the person's key and the référentiel version; never a clear email); NULL for a
    -- row refused before it got one
    idempotency_key  TEXT,
    -- a carnet row: 'issued' when this job issued at least one award from it, 'already'
    -- when it issued none (already issued, or nothing earned: see detail)
    status           TEXT NOT NULL
        CONSTRAINT bulk_rows_status_known CHECK (status IN ('pending', 'issued', 'already', 'error')),
    -- Privacy: the row's data (a CSV row, or a carnet document, with the email) sealed
    -- (AES-256-GCM under a key derived from the issuer's private key, which lives in the
    -- keys directory, never here), and erased once the row is done
    payload          TEXT,
    award_id         TEXT
        CONSTRAINT bulk_rows_award_fkey REFERENCES awards (id) ON DELETE RESTRICT,
    -- a carnet row's outcome (JSON: the carnet, each class issued, already issued, not
    -- earned and why); no email
    detail           TEXT
        CONSTRAINT bulk_rows_detail_size CHECK (detail IS NULL OR length(detail) <= 65536),
    -- the CSV column or carnet field concerned and why, for a row in error
    error_field      TEXT,
    error            TEXT,
    updated_at       TEXT NOT NULL,
    CONSTRAINT bulk_rows_pkey PRIMARY KEY (job_id, line),
    CONSTRAINT bulk_rows_job_key UNIQUE (job_id, idempotency_key),
    CONSTRAINT bulk_rows_payload_while_pending
        CHECK ((status = 'pending') = (payload IS NOT NULL)),
    CONSTRAINT bulk_rows_pending_has_key CHECK (status <> 'pending' OR idempotency_key IS NOT NULL),
    CONSTRAINT bulk_rows_award_when_given
        CHECK (award_id IS NULL OR status IN ('issued', 'already')),
    CONSTRAINT bulk_rows_done_has_outcome
        CHECK (status NOT IN ('issued', 'already') OR ((award_id IS NOT NULL) <> (detail IS NOT NULL))),
    CONSTRAINT bulk_rows_detail_once_done CHECK (detail IS NULL OR status <> 'pending'),
    CONSTRAINT bulk_rows_error_has_reason
        CHECK ((status = 'error') = (error IS NOT NULL AND error_field IS NOT NULL))
);
INSERT INTO bulk_rows_0008 (job_id, line, idempotency_key, status, payload, award_id,
                            error_field, error, updated_at)
    SELECT job_id, line, idempotency_key, status, payload, award_id, error_field, error, updated_at
    FROM bulk_rows;
DROP TABLE bulk_rows;
ALTER TABLE bulk_rows_0008 RENAME TO bulk_rows;

-- The pending rows of a job, in line order.
CREATE INDEX bulk_rows_job_status ON bulk_rows (job_id, status, line);
