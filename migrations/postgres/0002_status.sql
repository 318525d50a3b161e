-- 0002: status-list slots for OB 3.0 revocation, OB 2.0 assertion forms (PostgreSQL).
--
-- Released migrations are never edited: add a new numbered file instead.
-- Keep this file and migrations/sqlite/0002_status.sql in step.

-- The W3C Bitstring Status Lists of each issuer, one row per list and purpose.
-- An award's credential carries its (list, index) before it is signed, so an
-- index handed out once is never handed out again, even if the award that
-- asked for it was never stored (a crash between allocation and insert leaves
-- a gap, which is harmless: that bit is simply never set).
-- Allocation is one atomic UPDATE ... RETURNING on the newest list of the
-- issuer and purpose; when that list is full (next_index = size), the next
-- list_number is opened with INSERT ... ON CONFLICT DO NOTHING (a concurrent
-- allocator that loses the race retries on the list the winner opened).
CREATE TABLE status_lists (
    issuer_slug  TEXT NOT NULL,
    -- 'revocation' or 'suspension' (Bitstring Status List statusPurpose)
    purpose      TEXT NOT NULL
        CONSTRAINT status_lists_purpose_known CHECK (purpose IN ('revocation', 'suspension')),
    list_number  INTEGER NOT NULL
        CONSTRAINT status_lists_list_number_range CHECK (list_number >= 0),
    -- entries in this list, fixed when it is opened (131072 unless configured)
    size         INTEGER NOT NULL
        CONSTRAINT status_lists_size_range CHECK (size > 0),
    -- the next index to hand out; equal to size when the list is full
    next_index   INTEGER NOT NULL
        CONSTRAINT status_lists_next_index_range CHECK (next_index >= 0 AND next_index <= size),
    -- bumped in the transaction that changes a bit of the list (a revocation),
    -- so that a published, signed copy can be cached until it changes
    revision     BIGINT NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT status_lists_pkey PRIMARY KEY (issuer_slug, purpose, list_number)
);

-- The award's slot in its issuer's revocation list: both set or both NULL
-- (awards issued before this migration have none).
ALTER TABLE awards
    ADD COLUMN status_list INTEGER
        CONSTRAINT awards_status_list_range CHECK (status_list >= 0),
    ADD COLUMN status_index INTEGER,
    ADD CONSTRAINT awards_status_slot_complete
        CHECK ((status_index IS NOT NULL AND status_index >= 0 AND status_list IS NOT NULL)
               OR (status_index IS NULL AND status_list IS NULL)),
    -- Open Badges 2.0 forms of the same award: the hosted Assertion JSON and
    -- the signed Assertion (compact JWS), stored as served.
    ADD COLUMN assertion_json TEXT,
    ADD COLUMN assertion_jws TEXT;

-- No slot is given to two awards (the allocator never does; this is the proof).
-- Also serves revoked_in_list.
CREATE UNIQUE INDEX awards_status_slot
    ON awards (issuer_slug, status_list, status_index)
    WHERE status_list IS NOT NULL;

-- revoked_awards: an issuer's revoked awards (the OB 2.0 RevocationList).
CREATE INDEX awards_issuer_revoked
    ON awards (issuer_slug, revoked_at)
    WHERE revoked_at IS NOT NULL;
