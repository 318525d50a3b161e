-- 0010: an educator may correct or drop the links of a badge request (a link stored before links
-- were checked could not be signed); the trail records it as a "links_corrected" event.
ALTER TABLE badge_request_events DROP CONSTRAINT badge_request_events_kind_known;
ALTER TABLE badge_request_events ADD CONSTRAINT badge_request_events_kind_known CHECK (kind IN
    ('submitted', 'evidence_added', 'approved', 'returned', 'declined', 'resubmitted',
     'links_corrected'));
