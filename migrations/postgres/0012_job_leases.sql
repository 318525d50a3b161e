-- 0012: a bulk job is run by one node at a time (PostgreSQL).
--
-- Several `carnet serve` processes may share one database. The node running a job holds its
-- lease: lease_holder names the node ("host:pid:random"), lease_until says until when. The
-- holder renews it while it runs and clears it when it stops; another node takes over a job
-- whose lease has expired (its holder died).
ALTER TABLE bulk_jobs ADD COLUMN lease_holder TEXT;
ALTER TABLE bulk_jobs ADD COLUMN lease_until TIMESTAMPTZ;
