-- 0006: badge requests (the OB-HERO flow), their evidence files and share links (PostgreSQL).
--
-- Released migrations are never edited: add a new numbered file instead.
-- Keep this file and migrations/sqlite/0006_requests.sql in step: the two
-- backends must enforce the same rules (tests/storage.rs runs on both).

-- A learner (or an educator on their behalf) asks for a badge class.
-- Privacy: no clear email. The recipient is the salted hash awards carry, and
-- the email sealed (AES-256-GCM under a key derived from the issuer's private
-- key, which lives in the keys directory, never here) for the approval to issue;
-- emptied once the request is approved or declined.
CREATE TABLE badge_requests (
    id                  UUID NOT NULL CONSTRAINT badge_requests_pkey PRIMARY KEY,
    issuer_slug         TEXT NOT NULL,
    badge_class_slug    TEXT NOT NULL,
    recipient_identity  TEXT NOT NULL,
    recipient_salt      TEXT NOT NULL,
    recipient_name      TEXT,
    sealed_recipient    TEXT NOT NULL,
    narrative           TEXT,
    -- JSON array of URLs
    links               TEXT NOT NULL DEFAULT '[]',
    -- who asked, as they gave it; and who sent it (API token name)
    requested_by        TEXT NOT NULL,
    submitted_by        TEXT NOT NULL,
    state               TEXT NOT NULL
        CONSTRAINT badge_requests_state_known
        CHECK (state IN ('submitted', 'approved', 'returned', 'declined')),
    award_id            UUID
        CONSTRAINT badge_requests_award_fkey REFERENCES awards (id) ON DELETE RESTRICT,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT badge_requests_award_when_approved
        CHECK ((state = 'approved') = (award_id IS NOT NULL))
);

CREATE INDEX badge_requests_issuer_state ON badge_requests (issuer_slug, state, created_at);

-- Who did what to a request, and when.
CREATE TABLE badge_request_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY CONSTRAINT badge_request_events_pkey PRIMARY KEY,
    request_id  UUID NOT NULL
        CONSTRAINT badge_request_events_request_fkey REFERENCES badge_requests (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL
        CONSTRAINT badge_request_events_kind_known CHECK (kind IN
            ('submitted', 'evidence_added', 'approved', 'returned', 'declined', 'resubmitted')),
    comment     TEXT,
    -- the evidence file added or the award issued
    subject     UUID
);

CREATE INDEX badge_request_events_request ON badge_request_events (request_id, seq);

-- Evidence files, in the database so that several app nodes share them; the type
-- was read from the bytes, never from the name or the sender's Content-Type.
CREATE TABLE evidence_files (
    id          UUID NOT NULL CONSTRAINT evidence_files_pkey PRIMARY KEY,
    request_id  UUID NOT NULL
        CONSTRAINT evidence_files_request_fkey REFERENCES badge_requests (id) ON DELETE CASCADE,
    sha256      TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    genre       TEXT NOT NULL
        CONSTRAINT evidence_files_genre_known CHECK (genre IN ('image', 'document', 'audio', 'video')),
    name        TEXT NOT NULL,
    size        BIGINT NOT NULL CONSTRAINT evidence_files_size_positive CHECK (size >= 0),
    content     BYTEA NOT NULL,
    added_by    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    -- the same content is kept once per request
    CONSTRAINT evidence_files_request_sha256 UNIQUE (request_id, sha256)
);

-- Share links: only the SHA-256 of the token is kept.
CREATE TABLE evidence_shares (
    id            UUID NOT NULL CONSTRAINT evidence_shares_pkey PRIMARY KEY,
    evidence_id   UUID NOT NULL
        CONSTRAINT evidence_shares_evidence_fkey REFERENCES evidence_files (id) ON DELETE CASCADE,
    token_sha256  TEXT NOT NULL CONSTRAINT evidence_shares_token_key UNIQUE,
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,
    revoked_by    TEXT,
    CONSTRAINT evidence_shares_revoked_by_whom
        CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);

CREATE INDEX evidence_shares_evidence ON evidence_shares (evidence_id);
