package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/condohq/condo"
)

// Lifecycle job kinds: the operations on one tenant that Track records.
const (
	JobArchive         = "archive"
	JobRestore         = "restore"
	JobImport          = "import"
	JobImportReplace   = "import_replace" // an import over an existing tenant
	JobImportSonicJS   = "import_sonicjs"
	JobDelete          = "delete"
	JobRestoreBackup   = "restore_backup"   // from the continuous backup's replica
	JobRestoreSnapshot = "restore_snapshot" // from a local scheduled snapshot
)

// JobKinds are the kinds of job a listing can select.
var JobKinds = []string{JobMigration, JobMove, JobArchive, JobRestore, JobImport, JobImportReplace, JobImportSonicJS,
	JobDelete, JobRestoreBackup, JobRestoreSnapshot}

// IsJobKind reports whether kind is one of JobKinds.
func IsJobKind(kind string) bool { return slices.Contains(JobKinds, kind) }

// States of a lifecycle job (the same words as a migration run's).
const (
	JobRunning     = RunRunning
	JobSucceeded   = RunSucceeded
	JobFailed      = RunFailed
	JobInterrupted = RunInterrupted // its process died before it ended
)

// maxJobError bounds the error text a job keeps.
const maxJobError = 1000

// jobProgressEvery is how often at most a job's progress is written while
// it runs (its last progress is always written when it ends).
const jobProgressEvery = time.Second

// DefaultJobBeatEvery is how often a running job's process writes its
// heartbeat (Config.JobBeatEvery); JobBeatTimeout is how long without one
// makes a job of another host interrupted (a job of this host is judged
// by its process instead).
const (
	DefaultJobBeatEvery = 30 * time.Second
	JobBeatTimeout      = 10 * time.Minute
)

// LifecycleJob is one tenant lifecycle operation as recorded in the
// catalog.
type LifecycleJob struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	TenantID   string     `json:"tenant_id,omitempty"`
	State      string     `json:"state"`
	Progress   string     `json:"progress"`
	Error      string     `json:"error,omitempty"`
	Actor      string     `json:"actor"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	BeatAt     *time.Time `json:"beat_at,omitempty"` // its process's last heartbeat
	Owner      RunOwner   `json:"owner"`
}

// jobOwner is this process as the owner of the jobs it records.
var jobOwner = RunOwner{PID: os.Getpid(), Host: hostname(), Token: condo.NewID()}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}

// jobAlive reports whether a running job's process is still at work: on
// this host, whether that process exists (a kill -9 shows at once; our
// own pid with another token was an earlier process). A job of another
// host is alive while its heartbeat is under JobBeatTimeout old (its
// start counts as one): a host that never comes back does not leave it
// running for ever.
func jobAlive(j LifecycleJob, now time.Time) bool {
	switch {
	case j.Owner.Host != jobOwner.Host:
		beat := j.StartedAt
		if j.BeatAt != nil && j.BeatAt.After(beat) {
			beat = *j.BeatAt
		}
		return now.Sub(beat) < JobBeatTimeout
	case j.Owner.PID == jobOwner.PID:
		return j.Owner.Token == jobOwner.Token
	case j.Owner.PID <= 0:
		return false
	}
	err := syscall.Kill(j.Owner.PID, 0) // signal 0: a check, nothing sent
	return err == nil || errors.Is(err, syscall.EPERM)
}

// TrackedJob is a running job as its operation sees it: the operation may
// name its tenant once it knows it (an import) and report progress.
type TrackedJob struct {
	c  *Catalog
	id string

	mu       sync.Mutex // guards the fields below
	tenant   string
	progress string
	wrote    time.Time // when progress was last written
}

// ID is the job's id.
func (j *TrackedJob) ID() string { return j.id }

// SetTenant records the tenant the job works on (best effort).
func (j *TrackedJob) SetTenant(ctx context.Context, id string) {
	j.mu.Lock()
	j.tenant = id
	j.mu.Unlock()
	j.c.db.Writer().ExecContext(ctx, "UPDATE lifecycle_jobs SET tenant_id = ? WHERE id = ?", id, j.id)
}

// Progress records what the job is doing, written at most once a second
// (best effort: progress is for watching, the end is always recorded).
func (j *TrackedJob) Progress(ctx context.Context, s string) {
	j.mu.Lock()
	j.progress = s
	write := time.Since(j.wrote) >= jobProgressEvery
	if write {
		j.wrote = time.Now()
	}
	j.mu.Unlock()
	if write {
		j.c.db.Writer().ExecContext(ctx, "UPDATE lifecycle_jobs SET progress = ? WHERE id = ? AND state = 'running'", s, j.id)
	}
}

// Track runs op as a lifecycle job of kind on tenantID ("" when op names
// it later): the job is recorded running, with ctx's actor, before op
// starts, and succeeded or failed (with op's error message) when it
// returns, a panic included. Every lifecycle operation goes through it.
// Jobs that dead processes left running are marked interrupted first.
//
// The job's end is written even when ctx has ended (a client that hung
// up). Track returns op's error; a job that cannot be recorded at the
// start is not run.
func (c *Catalog) Track(ctx context.Context, kind, tenantID string, op func(ctx context.Context, j *TrackedJob) error) (err error) {
	c.InterruptStaleJobs(ctx) // best effort: a listing does it too
	if condo.ValidateTenantID(tenantID) != nil {
		tenantID = "" // op refuses it; the job records no such name
	}
	j := &TrackedJob{c: c, id: condo.NewID(), tenant: tenantID}
	_, err = c.db.Writer().ExecContext(ctx, `INSERT INTO lifecycle_jobs (id, kind, tenant_id, state, actor, started_at,
			owner_pid, owner_host, owner_token) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?)`,
		j.id, kind, tenantID, ActorOf(ctx), condo.UnixMS(time.Now()), jobOwner.PID, jobOwner.Host, jobOwner.Token)
	if err != nil {
		return fmt.Errorf("record %s job: %w", kind, err)
	}
	finished := false
	stopBeat := c.beat(j.id)
	defer func() {
		stopBeat()
		if !finished { // op panicked
			c.endJob(ctx, j, JobFailed, "the operation panicked")
		}
	}()
	err = op(ctx, j)
	finished = true
	if err != nil {
		c.endJob(ctx, j, JobFailed, condo.ClipTo(err.Error(), maxJobError))
	} else {
		c.endJob(ctx, j, JobSucceeded, "")
	}
	return err
}

// beat writes job id's heartbeat every Config.JobBeatEvery until the returned
// stop is called (Track calls it when the operation returns): the
// goroutine lives exactly as long as the operation.
func (c *Catalog) beat(id string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(cmp.Or(c.cfg.JobBeatEvery, DefaultJobBeatEvery))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				c.db.Writer().ExecContext(ctx, "UPDATE lifecycle_jobs SET beat_at = ? WHERE id = ? AND state = 'running'", condo.UnixMS(time.Now()), id)
				cancel()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (c *Catalog) endJob(ctx context.Context, j *TrackedJob, state, msg string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	j.mu.Lock()
	progress := j.progress
	j.mu.Unlock()
	// A job marked interrupted while it still ran (its heartbeat could
	// not reach the catalog for JobBeatTimeout) gets its true end.
	c.db.Writer().ExecContext(ctx, `UPDATE lifecycle_jobs SET state = ?, error = ?, progress = ?, finished_at = ?
		WHERE id = ? AND (state = 'running' OR state = 'interrupted' AND owner_token = ?)`,
		state, msg, progress, condo.UnixMS(time.Now()), j.id, jobOwner.Token)
}

// InterruptStaleJobs marks interrupted every running lifecycle job whose
// process is gone and reports how many it marked. The tenant itself needs
// nothing: each operation's steps leave it whole in one place (a delete
// is finished by lifecycle.ResumeDeletes).
func (c *Catalog) InterruptStaleJobs(ctx context.Context) (int, error) {
	running, err := queryLifecycleJobs(ctx, c.db.Reader(), "WHERE state = 'running'", -1)
	if err != nil {
		return 0, err
	}
	n, now := 0, time.Now()
	for _, j := range running {
		if jobAlive(j, now) {
			continue
		}
		msg := fmt.Sprintf("interrupted: its process (pid %d on %s) stopped before it ended; the tenant is whole in one place: run it again if it is still wanted", j.Owner.PID, j.Owner.Host)
		if j.Owner.Host != jobOwner.Host {
			msg = fmt.Sprintf("interrupted: its host %s sent no heartbeat for %s; the tenant is whole in one place: run it again if it is still wanted", j.Owner.Host, JobBeatTimeout)
		}
		res, err := c.db.Writer().ExecContext(ctx, `UPDATE lifecycle_jobs SET state = 'interrupted', error = ?, finished_at = ?
			WHERE id = ? AND state = 'running'`, msg, condo.UnixMS(time.Now()), j.ID)
		if err != nil {
			return n, err
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, nil
}

// JobRetention is how long a finished lifecycle job stays listed: a
// quarter, enough to answer "what happened to this tenant last month".
const JobRetention = 90 * 24 * time.Hour

// PruneJobs deletes the lifecycle jobs that finished before cutoff and
// reports how many; running ones stay whatever their age.
func (c *Catalog) PruneJobs(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := c.db.Writer().ExecContext(ctx, `DELETE FROM lifecycle_jobs WHERE state <> 'running' AND finished_at < ?`, condo.UnixMS(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune lifecycle jobs: %w", err)
	}
	return res.RowsAffected()
}

// LifecycleJobs lists lifecycle jobs, newest first, at most limit,
// of kind and tenant when set.
func (c *Catalog) LifecycleJobs(ctx context.Context, kind, tenantID string, limit int) ([]LifecycleJob, error) {
	return queryLifecycleJobs(ctx, c.db.Reader(), "WHERE (?1 = '' OR kind = ?1) AND (?2 = '' OR tenant_id = ?2)", limit, kind, tenantID)
}

func queryLifecycleJobs(ctx context.Context, q querier, where string, limit int, args ...any) ([]LifecycleJob, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kind, tenant_id, state, progress, error, actor, started_at, finished_at, beat_at,
			owner_pid, owner_host, owner_token FROM lifecycle_jobs `+where+` ORDER BY started_at DESC, id DESC LIMIT ?`,
		append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []LifecycleJob{}
	for rows.Next() {
		var j LifecycleJob
		var started int64
		var finished, beat *int64
		if err := rows.Scan(&j.ID, &j.Kind, &j.TenantID, &j.State, &j.Progress, &j.Error, &j.Actor, &started, &finished, &beat,
			&j.Owner.PID, &j.Owner.Host, &j.Owner.Token); err != nil {
			return nil, err
		}
		j.StartedAt, j.FinishedAt, j.BeatAt = condo.FromUnixMS(started), condo.FromNullUnixMS(finished), condo.FromNullUnixMS(beat)
		out = append(out, j)
	}
	return out, rows.Err()
}

// Tracked is Track for an operation that returns a value.
func Tracked[T any](ctx context.Context, c *Catalog, kind, tenantID string, op func(context.Context, *TrackedJob) (T, error)) (T, error) {
	var out T
	err := c.Track(ctx, kind, tenantID, func(ctx context.Context, j *TrackedJob) error {
		var err error
		out, err = op(ctx, j)
		return err
	})
	return out, err
}

// ByteProgress is a progress callback (done of total bytes) that reports
// to j, and then to next when set.
func (j *TrackedJob) ByteProgress(ctx context.Context, verb string, next func(done, total int64)) func(done, total int64) {
	return func(done, total int64) {
		if total > 0 {
			j.Progress(ctx, fmt.Sprintf("%s %d of %d bytes", verb, done, total))
		} else {
			j.Progress(ctx, fmt.Sprintf("%s %d bytes", verb, done))
		}
		if next != nil {
			next(done, total)
		}
	}
}
