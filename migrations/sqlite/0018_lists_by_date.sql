-- 0018: the lists of carnets and of bulk jobs (`GET /api/v1/carnets`, `/api/v1/bulk-awards`,
-- `/api/v1/carnet-batches`) are keyset pages, newest first: these indexes give every page at
-- the same cost.
--
-- Written once for both backends: migrations/postgres/0018_lists_by_date.sql is a link to
-- this file.
CREATE INDEX carnets_issuer_created ON carnets (issuer_slug, created_at, id);
CREATE INDEX bulk_jobs_issuer_kind_created ON bulk_jobs (issuer_slug, kind, created_at, id);
