-- A tenant lifecycle operation (archive, restore, import, delete,
-- restore-backup) as a job an operator can follow: written when it
-- starts and when it ends. A job left 'running' by a process that died is
-- marked 'interrupted' by the next job to start on the catalog, by a
-- listing, or when serve starts (catalog.InterruptStaleJobs). The error
-- is the operation's message: it never carries a secret.
CREATE TABLE lifecycle_jobs (
  id           TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,
  tenant_id    TEXT NOT NULL DEFAULT '',
  state        TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'interrupted')),
  progress     TEXT NOT NULL DEFAULT '',
  error        TEXT NOT NULL DEFAULT '',
  actor        TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER,
  owner_pid    INTEGER NOT NULL,
  owner_host   TEXT NOT NULL,
  owner_token  TEXT NOT NULL
) WITHOUT ROWID;

CREATE INDEX lifecycle_jobs_started ON lifecycle_jobs (started_at);
CREATE INDEX lifecycle_jobs_running ON lifecycle_jobs (state) WHERE state = 'running';
