-- 0003: snapshots of the OB 2.0 BadgeClass documents awards point at (postgres).
--
-- An OB 2.0 assertion names a versioned BadgeClass URL (/ob2/badge-classes/{slug}/{version}).
-- Only the current badge-class file is loaded at start, so the document of every version an
-- award was issued under is kept here: changing a class's criteria never changes (nor breaks)
-- what an already-issued assertion points to. The first write of a version wins.
-- Released migrations are never edited: add a new numbered file instead.
CREATE TABLE badge_class_versions (
    issuer_slug      TEXT NOT NULL,
    badge_class_slug TEXT NOT NULL,
    -- first 12 hex digits of the class digest (file + image)
    version          TEXT NOT NULL,
    -- the OB 2.0 BadgeClass JSON-LD document, as served
    document         TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (issuer_slug, badge_class_slug, version)
);
