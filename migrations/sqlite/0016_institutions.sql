-- 0016: institutions as data (issue #13 §1). An instance holds institutions; each is an
-- issuer with its own keys and badge classes. The first start with CARNET_ISSUER_* makes the
-- first institution from them, imports its key files and the classes of badge-classes/.
-- Every other table names its institution in issuer_slug (the institution's slug).
CREATE TABLE institutions (
    slug         TEXT NOT NULL CONSTRAINT institutions_pkey PRIMARY KEY,
    name         TEXT NOT NULL CONSTRAINT institutions_name_not_empty CHECK (name <> ''),
    url          TEXT,
    email        TEXT,
    description  TEXT,
    -- the logo: an https URL or a data: URI
    image        TEXT,
    -- 'fr' or 'en': the language of its pages and documents
    language     TEXT NOT NULL,
    -- 'instance': its documents answer at the instance's own paths (/badge-classes/…,
    -- /ob2/…, /credentials/…), as before institutions were data; 'scoped': under
    -- /issuers/{slug}/…
    urls         TEXT NOT NULL CONSTRAINT institutions_urls CHECK (urls IN ('instance', 'scoped')),
    -- bumped by every change, so that every node sees it
    revision     BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Signing keys, readable by every node: the private key only sealed under the instance key
-- (CARNET_INSTANCE_KEY_FILE or CARNET_INSTANCE_KEY), which is never stored here.
CREATE TABLE institution_keys (
    issuer_slug  TEXT NOT NULL REFERENCES institutions (slug),
    kid          TEXT NOT NULL,
    alg          TEXT NOT NULL CONSTRAINT institution_keys_alg CHECK (alg IN ('ed25519', 'rsa')),
    -- 'active' keys sign; 'retired' keys stay published so that earlier badges verify
    status       TEXT NOT NULL CONSTRAINT institution_keys_status CHECK (status IN ('active', 'retired')),
    -- compact JWE (dir, A256GCM) of the private key, its header naming the instance key
    sealed       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    CONSTRAINT institution_keys_pkey PRIMARY KEY (issuer_slug, kid)
);

-- Badge classes as their TOML file and PNG image (docs/BADGE-CLASSES.md): every node serves
-- them; the file format stays the import and export format.
CREATE TABLE badge_classes (
    issuer_slug  TEXT NOT NULL REFERENCES institutions (slug),
    slug         TEXT NOT NULL,
    file         TEXT NOT NULL,
    image_name   TEXT NOT NULL,
    image        BLOB NOT NULL,
    -- sha256 of file and image (the class version)
    digest       TEXT NOT NULL,
    revision     BIGINT NOT NULL,
    updated_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    CONSTRAINT badge_classes_pkey PRIMARY KEY (issuer_slug, slug)
);
