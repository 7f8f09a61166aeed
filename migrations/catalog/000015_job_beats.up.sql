-- A running lifecycle job's heartbeat: its process writes beat_at every
-- catalog.JobBeatEvery while the operation runs, so a job whose host
-- never comes back (a machine gone for good) can be told from one that is
-- slow: past catalog.JobBeatTimeout without a beat it is marked
-- interrupted by any node or command.
ALTER TABLE lifecycle_jobs ADD COLUMN beat_at INTEGER;
