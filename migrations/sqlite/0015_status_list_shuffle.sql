-- 0015: the slots of a status list are handed out in an order no one can guess (Bitstring
-- Status List, herd privacy): each list opened from now on keeps its permutation key (32 hex
-- digits, src/status/shuffle.rs). NULL for the lists opened before, which go on in order, so
-- no slot is ever handed out twice.
--
-- Written once for both backends: migrations/postgres/0015_status_list_shuffle.sql is a link
-- to this file.
ALTER TABLE status_lists ADD COLUMN shuffle_key TEXT;
