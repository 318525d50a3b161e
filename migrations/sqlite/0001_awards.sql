-- 0001: awards and their audit trail (SQLite).
--
-- Released migrations are never edited: add a new numbered file instead.
-- Keep this file and migrations/postgres/0001_awards.sql in step: the two
-- backends must enforce the same rules (tests/storage.rs runs on both).
--
-- Conventions for SQLite:
--   * ids (UUID) are TEXT in the hyphenated lower-case form;
--   * timestamps are TEXT, RFC 3339 in UTC with exactly six fractional digits
--     ("2025-01-31T12:00:00.000000Z"), so that text order is time order;
--   * constraints are named so that errors say which rule was broken.

-- One badge given to one recipient by one issuer, with its signed forms.
-- Privacy: recipients may be minors or vulnerable adults, so the clear email
-- is never stored, only the salted hash ("sha256$<hex>") and its salt.
CREATE TABLE awards (
    id                  TEXT NOT NULL CONSTRAINT awards_pkey PRIMARY KEY,
    -- the institution that issued the award (several per instance)
    issuer_slug         TEXT NOT NULL,
    badge_class_slug    TEXT NOT NULL,
    -- sha256 of the badge-class file at issue time: badge classes are versioned
    badge_class_digest  TEXT NOT NULL,
    recipient_identity  TEXT NOT NULL
        CONSTRAINT awards_recipient_identity_hashed CHECK (recipient_identity LIKE 'sha256$%'),
    recipient_salt      TEXT NOT NULL,
    recipient_name      TEXT,
    -- the OB 3.0 credential id; a verifier looks an award up by it
    credential_id       TEXT NOT NULL CONSTRAINT awards_credential_id_key UNIQUE,
    -- the credential with its Data Integrity proof, and the same as VC-JWT
    credential_json     TEXT NOT NULL,
    credential_jwt      TEXT NOT NULL,
    valid_from          TEXT NOT NULL,
    valid_until         TEXT,
    -- who asked for the award (CLI user, API token name)
    issued_by           TEXT NOT NULL,
    -- set by bulk awards so that a retried request does not award twice;
    -- unique per issuer when present (NULLs never collide)
    idempotency_key     TEXT,
    created_at          TEXT NOT NULL,
    -- revocation (OB 2.0 revocation list, OB 3.0 status): NULL while valid
    revoked_at          TEXT,
    revocation_reason   TEXT,
    CONSTRAINT awards_issuer_idempotency_key UNIQUE (issuer_slug, idempotency_key)
);

-- list_awards / count_awards: one issuer's awards, newest first.
CREATE INDEX awards_issuer_created ON awards (issuer_slug, created_at DESC, id DESC);

-- Append-only audit trail: who did what to an award, and when.
-- The "issued" event is written in the same transaction as the award.
CREATE TABLE award_events (
    id        INTEGER NOT NULL CONSTRAINT award_events_pkey PRIMARY KEY AUTOINCREMENT,
    award_id  TEXT NOT NULL
        CONSTRAINT award_events_award_fkey REFERENCES awards (id) ON DELETE RESTRICT,
    -- 'issued' now; 'revoked' and others later
    kind      TEXT NOT NULL CONSTRAINT award_events_kind_not_empty CHECK (kind <> ''),
    actor     TEXT NOT NULL,
    at        TEXT NOT NULL,
    -- a small JSON object; the cap keeps the audit trail small and gives
    -- tests/storage.rs a way to fail the second statement of insert_award
    detail    TEXT NOT NULL
        CONSTRAINT award_events_detail_size CHECK (length(detail) <= 4096)
);

CREATE INDEX award_events_award ON award_events (award_id, id);
