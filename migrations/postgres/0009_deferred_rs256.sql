-- 0009: an award's RS256 forms are signed when they are first asked for (PostgreSQL).
--
-- Released migrations are never edited: add a new numbered file instead.
-- Keep this file and migrations/sqlite/0009_deferred_rs256.sql in step.
--
-- An award is complete when it is stored: its OB 3.0 credential signed with its Data
-- Integrity proof (eddsa-rdfc-2022, the form baked by default), its OB 2.0 hosted
-- assertion, its status slot. Two more forms are signed with the issuer's RSA key: the
-- credential as VC-JWT, and the OB 2.0 signed assertion (the hosted one with
-- `verification` SignedBadge, as a compact JWS). RS256 (PKCS#1 v1.5) is deterministic:
-- the same bytes whenever they are computed with the same key. So carnet signs each on
-- its first download, with the RSA key named here (the issuer's active one when the
-- award was issued or re-signed), and stores it. Two RSA signatures were most of a bulk
-- award's CPU time; many badges are never downloaded in those forms.
--
-- credential_jwt NULL: not signed yet. assertion_jws NULL with assertion_json set: not
-- signed yet. assertion_json NULL: the award has no OB 2.0 form (its issuer had no email).

ALTER TABLE awards ALTER COLUMN credential_jwt DROP NOT NULL;
-- The kid (in the issuer's keys) of the RSA key that signs, or signed, those forms.
ALTER TABLE awards ADD COLUMN rsa_kid TEXT;
ALTER TABLE awards ADD CONSTRAINT awards_deferred_forms_have_a_key CHECK (
    rsa_kid IS NOT NULL
    OR (credential_jwt IS NOT NULL AND (assertion_json IS NULL OR assertion_jws IS NOT NULL))
);
