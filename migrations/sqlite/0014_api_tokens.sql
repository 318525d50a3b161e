-- 0014: API tokens created per institution (`carnet tokens create | list | revoke`), kept
-- as the SHA-256 of the token (shown once, when it is created). The tokens of
-- CARNET_API_TOKENS keep working beside them, instance-wide.
CREATE TABLE api_tokens (
    id            TEXT NOT NULL CONSTRAINT api_tokens_pkey PRIMARY KEY,
    -- the institution whose API the token opens
    issuer_slug   TEXT NOT NULL,
    -- who holds it, shown in every trail as "token:NAME"
    name          TEXT NOT NULL CONSTRAINT api_tokens_name_not_empty CHECK (name <> ''),
    token_sha256  TEXT NOT NULL CONSTRAINT api_tokens_sha256_key UNIQUE,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    -- updated at most once a minute
    last_used_at  TEXT,
    revoked_at    TEXT,
    revoked_by    TEXT
);

CREATE INDEX api_tokens_issuer ON api_tokens (issuer_slug, created_at, id);
