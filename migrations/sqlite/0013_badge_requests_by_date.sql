-- 0013: an issuer's badge requests page by page, oldest first (keyset: created_at, id).
--
-- Written once for both backends: migrations/postgres/0013_badge_requests_by_date.sql is a link
-- to this file (tests/integration/schemas.rs compares the two schemas).
CREATE INDEX badge_requests_issuer_created ON badge_requests (issuer_slug, created_at, id);
