-- 0011: one form for "the VC-JWT is not signed yet" on both backends (PostgreSQL).
--
-- Migration 0009 let PostgreSQL store NULL where SQLite, whose column stays NOT NULL, stores
-- ''. The store is now written once (src/store/), so both backends store '' and the rule
-- "an award whose RS256 forms wait for their download names the key that will sign them"
-- reads the same on both.

UPDATE awards SET credential_jwt = '' WHERE credential_jwt IS NULL;
ALTER TABLE awards ALTER COLUMN credential_jwt SET NOT NULL;
ALTER TABLE awards DROP CONSTRAINT awards_deferred_forms_have_a_key;
ALTER TABLE awards ADD CONSTRAINT awards_deferred_forms_have_a_key CHECK (
    rsa_kid IS NOT NULL
    OR (credential_jwt <> '' AND (assertion_json IS NULL OR assertion_jws IS NOT NULL))
);
