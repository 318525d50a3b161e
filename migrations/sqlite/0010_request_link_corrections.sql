-- 0010: an educator may correct or drop the links of a badge request (a link stored before links
-- were checked could not be signed); the trail records it as a "links_corrected" event.
-- SQLite cannot change a CHECK constraint: the table is rebuilt with the same rows and seq.
CREATE TABLE badge_request_events_0010 (
    seq         INTEGER NOT NULL CONSTRAINT badge_request_events_pkey PRIMARY KEY AUTOINCREMENT,
    request_id  TEXT NOT NULL
        CONSTRAINT badge_request_events_request_fkey REFERENCES badge_requests (id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL
        CONSTRAINT badge_request_events_kind_known CHECK (kind IN
            ('submitted', 'evidence_added', 'approved', 'returned', 'declined', 'resubmitted',
             'links_corrected')),
    comment     TEXT,
    -- the evidence file added or the award issued
    subject     TEXT
);

INSERT INTO badge_request_events_0010 (seq, request_id, at, actor, kind, comment, subject)
    SELECT seq, request_id, at, actor, kind, comment, subject FROM badge_request_events;

DROP TABLE badge_request_events;
ALTER TABLE badge_request_events_0010 RENAME TO badge_request_events;
CREATE INDEX badge_request_events_request ON badge_request_events (request_id, seq);
