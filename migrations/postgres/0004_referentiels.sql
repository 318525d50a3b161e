-- 0004: référentiels (competence frameworks) and people's carnets on them (PostgreSQL).
--
-- Released migrations are never edited: add a new numbered file instead.
-- Keep this file and migrations/sqlite/0004_referentiels.sql in step: the two
-- backends must enforce the same rules (tests/storage.rs runs on both).

-- One version of a référentiel an institution imported. The RAE trade référentiels
-- belong to Différent et Compétent Réseau and are licensed to its members, so they
-- are kept per issuer. A version is never changed: new content is a new version,
-- kept beside the older ones (carnets point at one version).
CREATE TABLE referentiels (
    issuer_slug  TEXT NOT NULL,
    id           TEXT NOT NULL,
    version      TEXT NOT NULL,
    name         TEXT NOT NULL,
    -- number of competences, for listings
    competences  INTEGER NOT NULL
        CONSTRAINT referentiels_competences_positive CHECK (competences > 0),
    -- SHA-256 (hex) of the document: re-importing the same content is recognised
    digest       TEXT NOT NULL,
    -- the validated référentiel in its JSON import format (docs/REFERENTIELS.md)
    document     TEXT NOT NULL,
    -- who imported it (CLI user, API token name) and when
    imported_by  TEXT NOT NULL,
    imported_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT referentiels_pkey PRIMARY KEY (issuer_slug, id, version)
);

-- One person's carnet on one référentiel version.
-- Privacy: no clear email. person_key finds a person's carnets within an issuer
-- (the email hashed with a salt fixed per issuer); recipient_identity and its
-- random salt name the person in awards issued later from the carnet.
CREATE TABLE carnets (
    id                  UUID NOT NULL CONSTRAINT carnets_pkey PRIMARY KEY,
    issuer_slug         TEXT NOT NULL,
    person_key          TEXT NOT NULL
        CONSTRAINT carnets_person_key_hashed CHECK (person_key LIKE 'sha256$%'),
    recipient_identity  TEXT NOT NULL
        CONSTRAINT carnets_recipient_identity_hashed CHECK (recipient_identity LIKE 'sha256$%'),
    recipient_salt      TEXT NOT NULL,
    -- the name the person chose to show, if any
    display_name        TEXT,
    referentiel_id      TEXT NOT NULL,
    referentiel_version TEXT NOT NULL,
    -- bumped by every entry change, so that concurrent edits cannot overwrite each other
    revision            BIGINT NOT NULL DEFAULT 0,
    created_by          TEXT NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT carnets_referentiel_fkey FOREIGN KEY (issuer_slug, referentiel_id, referentiel_version)
        REFERENCES referentiels (issuer_slug, id, version) ON DELETE RESTRICT,
    -- one carnet per person and référentiel version (edit it rather than import it twice)
    CONSTRAINT carnets_person_referentiel UNIQUE (issuer_slug, person_key, referentiel_id, referentiel_version)
);

-- The person's positioning on one competence. The answers and recognitions are
-- stored as given: 'je_fais_en_partie' never becomes 'je_fais', and 'declared'
-- (by the person) stays apart from 'validated' (by an RAE jury).
CREATE TABLE carnet_entries (
    carnet_id    UUID NOT NULL
        CONSTRAINT carnet_entries_carnet_fkey REFERENCES carnets (id) ON DELETE CASCADE,
    competence   TEXT NOT NULL,
    answer       TEXT NOT NULL
        CONSTRAINT carnet_entries_answer_known
        CHECK (answer IN ('je_fais', 'je_fais_en_partie', 'je_ne_fais_pas')),
    -- JSON list of the ids of the parts struck out
    struck       TEXT NOT NULL DEFAULT '[]',
    recognition  TEXT NOT NULL
        CONSTRAINT carnet_entries_recognition_known CHECK (recognition IN ('declared', 'validated')),
    modality     TEXT
        CONSTRAINT carnet_entries_modality_known
        CHECK (modality IS NULL OR modality IN ('en_situation_de_travail', 'externe', 'externe_avec_stage')),
    -- the jury's date (validated) or the declaration's
    entry_date   DATE,
    -- JSON list of {"name", "role"?}
    jury         TEXT NOT NULL DEFAULT '[]',
    -- the id of the level reached (a RECTEC cercle)
    level        TEXT,
    comment      TEXT,
    updated_by   TEXT NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT carnet_entries_pkey PRIMARY KEY (carnet_id, competence),
    CONSTRAINT carnet_entries_validated_has_jury
        CHECK (recognition <> 'validated' OR (entry_date IS NOT NULL AND modality IS NOT NULL AND jury <> '[]')),
    CONSTRAINT carnet_entries_not_done_not_validated
        CHECK (NOT (answer = 'je_ne_fais_pas' AND recognition = 'validated')),
    CONSTRAINT carnet_entries_struck_only_in_part
        CHECK (struck = '[]' OR answer = 'je_fais_en_partie')
);

-- Append-only audit trail of a carnet: imported, each entry saved (before and after).
CREATE TABLE carnet_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY CONSTRAINT carnet_events_pkey PRIMARY KEY,
    carnet_id  UUID NOT NULL
        CONSTRAINT carnet_events_carnet_fkey REFERENCES carnets (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CONSTRAINT carnet_events_kind_not_empty CHECK (kind <> ''),
    actor      TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    detail     TEXT NOT NULL
        CONSTRAINT carnet_events_detail_size CHECK (char_length(detail) <= 65536)
);

CREATE INDEX carnet_events_carnet ON carnet_events (carnet_id, id);
