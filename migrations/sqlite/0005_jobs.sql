-- 0005: bulk-award jobs and their rows (SQLite).
--
-- Released migrations are never edited: add a new numbered file instead.
-- Keep this file and migrations/postgres/0005_jobs.sql in step: the two
-- backends must enforce the same rules (tests/storage.rs runs on both).

-- One CSV file of recipients for one badge class. Written with all its rows, in
-- one transaction, before anything is issued, so that a crash leaves the
-- pending rows as exactly what is left to do.
CREATE TABLE bulk_jobs (
    id                TEXT NOT NULL CONSTRAINT bulk_jobs_pkey PRIMARY KEY,
    issuer_slug       TEXT NOT NULL,
    badge_class_slug  TEXT NOT NULL,
    -- the batch name given by the user ('' when none): it enters the rows' keys
    batch             TEXT NOT NULL DEFAULT '',
    -- SHA-256 (hex) of the file as sent
    file_sha256       TEXT NOT NULL,
    -- who submitted it (CLI user, API token name)
    created_by        TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    state             TEXT NOT NULL
        CONSTRAINT bulk_jobs_state_known CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- rows, and how many were issued, found already issued, or refused
    total             INTEGER NOT NULL CONSTRAINT bulk_jobs_total_positive CHECK (total >= 0),
    issued            INTEGER NOT NULL DEFAULT 0 CONSTRAINT bulk_jobs_issued_positive CHECK (issued >= 0),
    already           INTEGER NOT NULL DEFAULT 0 CONSTRAINT bulk_jobs_already_positive CHECK (already >= 0),
    failed            INTEGER NOT NULL DEFAULT 0 CONSTRAINT bulk_jobs_failed_positive CHECK (failed >= 0),
    -- why the whole job failed (state 'failed')
    error             TEXT,
    CONSTRAINT bulk_jobs_counts_within_total CHECK (issued + already + failed <= total)
);

-- Re-sending a file whose job is unfinished finds that job instead of starting another.
CREATE UNIQUE INDEX bulk_jobs_unfinished_file ON bulk_jobs (issuer_slug, badge_class_slug, batch, file_sha256)
    WHERE state IN ('queued', 'running');
-- Jobs to resume at start.
CREATE INDEX bulk_jobs_issuer_state ON bulk_jobs (issuer_slug, state, created_at);

-- One CSV line of a job.
-- Privacy: no clear email. A pending row's data (email, name, narrative...) is
-- sealed (AES-256-GCM under a key derived from the issuer's private key, which
-- lives in the keys directory, never here) and erased once the row is done.
CREATE TABLE bulk_rows (
    job_id           TEXT NOT NULL
        CONSTRAINT bulk_rows_job_fkey REFERENCES bulk_jobs (id) ON DELETE CASCADE,
    line             INTEGER NOT NULL CONSTRAINT bulk_rows_line_positive CHECK (line > 0),
    -- the award's idempotency key (derived from the class, batch and email, or the row's key
    -- column; never the clear email); NULL for a row refused before it got one
    idempotency_key  TEXT,
    status           TEXT NOT NULL
        CONSTRAINT bulk_rows_status_known CHECK (status IN ('pending', 'issued', 'already', 'error')),
    payload          TEXT,
    award_id         TEXT
        CONSTRAINT bulk_rows_award_fkey REFERENCES awards (id) ON DELETE RESTRICT,
    -- the CSV column concerned and why, for a row in error
    error_field      TEXT,
    error            TEXT,
    updated_at       TEXT NOT NULL,
    CONSTRAINT bulk_rows_pkey PRIMARY KEY (job_id, line),
    CONSTRAINT bulk_rows_job_key UNIQUE (job_id, idempotency_key),
    CONSTRAINT bulk_rows_payload_while_pending
        CHECK ((status = 'pending') = (payload IS NOT NULL)),
    CONSTRAINT bulk_rows_pending_has_key CHECK (status <> 'pending' OR idempotency_key IS NOT NULL),
    CONSTRAINT bulk_rows_award_when_given
        CHECK ((status IN ('issued', 'already')) = (award_id IS NOT NULL)),
    CONSTRAINT bulk_rows_error_has_reason
        CHECK ((status = 'error') = (error IS NOT NULL AND error_field IS NOT NULL))
);

-- The pending rows of a job, in line order.
CREATE INDEX bulk_rows_job_status ON bulk_rows (job_id, status, line);
