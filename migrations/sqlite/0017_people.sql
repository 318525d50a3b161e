-- 0017: people (issue #13 §1). A person record per institution, known by the salted identity
-- carnets already use (person_key: sha256$ of the email under the institution's salt, never
-- the email), links that person's awards, carnets and requests. Awards and requests made
-- before have no person_key: they are linked when the person's email is given again.
CREATE TABLE people (
    issuer_slug  TEXT NOT NULL,
    person_key   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    -- when the awards and requests made before people were recorded were looked for (the
    -- first time the person's email was given again); NULL: still to do
    linked_at    TEXT,
    CONSTRAINT people_pkey PRIMARY KEY (issuer_slug, person_key)
);

ALTER TABLE awards ADD COLUMN person_key TEXT;
ALTER TABLE badge_requests ADD COLUMN person_key TEXT;
CREATE INDEX awards_person ON awards (issuer_slug, person_key);
CREATE INDEX badge_requests_person ON badge_requests (issuer_slug, person_key);

-- the people carnets already know
INSERT INTO people (issuer_slug, person_key, created_at)
SELECT issuer_slug, person_key, MIN(created_at) FROM carnets GROUP BY issuer_slug, person_key;
