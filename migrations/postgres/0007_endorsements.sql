-- 0007: endorsements by people without an account (issue #5 §6) (PostgreSQL).
--
-- Released migrations are never edited: add a new numbered file instead.
-- Keep this file and migrations/sqlite/0007_endorsements.sql in step: the two
-- backends must enforce the same rules (tests/storage_endorsements.rs runs on both).

-- A single-use, expiring link an educator gives an endorser (a tutor, a colleague,
-- another educator, a partner organisation). Only the SHA-256 of its token is kept.
-- It names the award endorsed: one already issued, or the id a badge request
-- reserved (request_id set), so that the endorsement names the credential before
-- it exists. No foreign key on award_id: a reserved id has no award yet.
CREATE TABLE endorsement_invitations (
    id                UUID NOT NULL CONSTRAINT endorsement_invitations_pkey PRIMARY KEY,
    issuer_slug       TEXT NOT NULL,
    token_sha256      TEXT NOT NULL CONSTRAINT endorsement_invitations_token_key UNIQUE,
    award_id          UUID NOT NULL,
    request_id        UUID
        CONSTRAINT endorsement_invitations_request_fkey REFERENCES badge_requests (id) ON DELETE CASCADE,
    badge_class_slug  TEXT NOT NULL,
    endorser_kind     TEXT NOT NULL
        CONSTRAINT endorsement_invitations_kind_known
        CHECK (endorser_kind IN ('tutor', 'colleague', 'educator', 'partner')),
    -- the educator's note to the endorser: shown on the page, never published
    note              TEXT CONSTRAINT endorsement_invitations_note_size CHECK (length(note) <= 1000),
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    expires_at        TIMESTAMPTZ NOT NULL,
    -- set in the same transaction as the endorsement given through it
    used_at           TIMESTAMPTZ,
    revoked_at        TIMESTAMPTZ,
    revoked_by        TEXT,
    CONSTRAINT endorsement_invitations_expires_after_creation CHECK (expires_at > created_at),
    CONSTRAINT endorsement_invitations_revoked_by_whom
        CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);

CREATE INDEX endorsement_invitations_award ON endorsement_invitations (award_id, created_at);

-- What an endorser wrote, with the signed OB 3.0 EndorsementCredential and the
-- hosted OB 2.0 Endorsement. One per invitation (the UNIQUE makes a link single
-- use even if two submissions race). The endorser's name, role and organisation
-- are public: the endorser agreed to it on the form.
CREATE TABLE endorsements (
    id                     UUID NOT NULL CONSTRAINT endorsements_pkey PRIMARY KEY,
    issuer_slug            TEXT NOT NULL,
    invitation_id          UUID NOT NULL
        CONSTRAINT endorsements_invitation_key UNIQUE
        CONSTRAINT endorsements_invitation_fkey REFERENCES endorsement_invitations (id) ON DELETE RESTRICT,
    -- the id of the endorser's Profile that carnet hosts and signs for
    endorser_id            UUID NOT NULL CONSTRAINT endorsements_endorser_key UNIQUE,
    award_id               UUID NOT NULL,
    request_id             UUID,
    endorser_kind          TEXT NOT NULL
        CONSTRAINT endorsements_kind_known
        CHECK (endorser_kind IN ('tutor', 'colleague', 'educator', 'partner')),
    endorser_name          TEXT NOT NULL
        CONSTRAINT endorsements_name_size CHECK (length(endorser_name) BETWEEN 1 AND 200),
    endorser_role          TEXT NOT NULL
        CONSTRAINT endorsements_role_size CHECK (length(endorser_role) BETWEEN 1 AND 200),
    endorser_organisation  TEXT
        CONSTRAINT endorsements_organisation_size CHECK (length(endorser_organisation) <= 200),
    comment                TEXT NOT NULL
        CONSTRAINT endorsements_comment_size CHECK (length(comment) BETWEEN 1 AND 4000),
    credential_json        TEXT NOT NULL,
    ob2_json               TEXT,
    created_at             TIMESTAMPTZ NOT NULL
);

CREATE INDEX endorsements_award ON endorsements (award_id, created_at);

-- The award id a badge request reserves when its first endorser is invited; the
-- approval issues the award under it.
CREATE TABLE request_award_reservations (
    request_id  UUID NOT NULL CONSTRAINT request_award_reservations_pkey PRIMARY KEY
        CONSTRAINT request_award_reservations_request_fkey REFERENCES badge_requests (id) ON DELETE CASCADE,
    award_id    UUID NOT NULL CONSTRAINT request_award_reservations_award_key UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);
