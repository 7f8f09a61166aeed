package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/condohq/condo"
)

// Statuses of a fleet migration run.
const (
	RunRunning     = "running"
	RunSucceeded   = "succeeded"
	RunFailed      = "failed"
	RunInterrupted = "interrupted" // its process died or was stopped
)

// MaxRunFailures caps the failures stored with a run; Failed counts all.
const MaxRunFailures = 100

// MigrationRun is one fleet migration run as recorded in the catalog.
type MigrationRun struct {
	ID          string     `json:"id"`
	Direction   string     `json:"direction"` // "up" or "down"
	Target      uint       `json:"target"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	HeartbeatAt time.Time  `json:"heartbeat_at"`
	// Total counts the tenants the run considered; the others add up to it
	// once the run has finished every one.
	Total       int          `json:"total"`
	Migrated    int          `json:"migrated"`
	Skipped     int          `json:"skipped"`
	Failed      int          `json:"failed"`
	Concurrency int          `json:"concurrency"`
	Canary      int          `json:"canary"`
	MaxFailures int          `json:"max_failures"`
	Error       string       `json:"error,omitempty"` // why the run stopped short, if it did
	Failures    []RunFailure `json:"failures"`        // at most MaxRunFailures
	Owner       RunOwner     `json:"owner"`
}

// RunOwner is the process working on a run.
type RunOwner struct {
	PID  int    `json:"pid"`
	Host string `json:"host"`
	// Token is random per process: it tells a live process from an earlier
	// one that had the same pid (pid 1 in a restarted container, say).
	Token string `json:"-"`
}

// RunFailure is one tenant a run could not migrate.
type RunFailure struct {
	TenantID string `json:"tenant_id"`
	Version  uint   `json:"version"` // where the tenant stayed
	Dirty    bool   `json:"dirty"`
	Error    string `json:"error"`
}

// BeginRun records r as running, unless another run is running: alive
// reports whether a running run's owner is still at work. Runs whose owner
// is gone are marked interrupted on the way. The check and the insert are
// one transaction, so two processes cannot both begin.
//
// Errors: ECONFLICT (run_in_progress) when a live run exists.
func (c *Catalog) BeginRun(ctx context.Context, r *MigrationRun, alive func(MigrationRun) bool) error {
	failures, err := encodeFailures(r.Failures)
	if err != nil {
		return err
	}
	return c.db.Transact(ctx, func(tx *sql.Tx) error {
		if _, live, err := interruptStale(ctx, tx, alive); err != nil {
			return err
		} else if live != nil {
			return condo.ReasonErrorf(condo.ECONFLICT, "run_in_progress",
				"migration run %s (%s to %d, pid %d on %s) is in progress: wait for it, or stop it",
				live.ID, live.Direction, live.Target, live.Owner.PID, live.Owner.Host)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO migration_runs (id, direction, target, status, started_at, heartbeat_at,
				total, migrated, skipped, failed, concurrency, canary, max_failures, error, failures, owner_pid, owner_host, owner_token)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Direction, r.Target, r.Status, condo.UnixMS(r.StartedAt), condo.UnixMS(r.HeartbeatAt),
			r.Total, r.Migrated, r.Skipped, r.Failed, r.Concurrency, r.Canary, r.MaxFailures, r.Error, failures,
			r.Owner.PID, r.Owner.Host, r.Owner.Token)
		if err != nil {
			return err
		}
		return audit(ctx, tx, "migrations.run", "", r.ID, nil, map[string]any{"direction": r.Direction, "target": r.Target,
			"concurrency": r.Concurrency, "canary": r.Canary, "max_failures": r.MaxFailures, "host": r.Owner.Host})
	})
}

// InterruptStaleRuns marks interrupted every running run whose owner is
// gone (alive returns false) and reports how many it marked.
func (c *Catalog) InterruptStaleRuns(ctx context.Context, alive func(MigrationRun) bool) (int, error) {
	// A read first, so the common case (nothing stale) takes no write lock.
	runs, err := queryRuns(ctx, c.db.Reader(), "WHERE status = 'running'", -1)
	if err != nil {
		return 0, err
	}
	stale := false
	for _, r := range runs {
		stale = stale || !alive(r)
	}
	if !stale {
		return 0, nil
	}
	var n int
	err = c.db.Transact(ctx, func(tx *sql.Tx) error {
		n, _, err = interruptStale(ctx, tx, alive)
		return err
	})
	return n, err
}

// interruptStale marks the dead running runs interrupted and returns the
// first live one, if any.
func interruptStale(ctx context.Context, tx *sql.Tx, alive func(MigrationRun) bool) (int, *MigrationRun, error) {
	runs, err := queryRuns(ctx, tx, "WHERE status = 'running'", -1)
	if err != nil {
		return 0, nil, err
	}
	n := 0
	var live *MigrationRun
	for i, r := range runs {
		if alive(r) {
			if live == nil {
				live = &runs[i]
			}
			continue
		}
		msg := fmt.Sprintf("interrupted: its process (pid %d on %s) stopped without finishing; run it again to finish the rest", r.Owner.PID, r.Owner.Host)
		if _, err := tx.ExecContext(ctx, "UPDATE migration_runs SET status = ?, finished_at = heartbeat_at, error = ? WHERE id = ? AND status = 'running'",
			RunInterrupted, msg, r.ID); err != nil {
			return 0, nil, err
		}
		n++
	}
	return n, live, nil
}

// UpdateRun writes a run's status, heartbeat, finish time, total and
// error. It leaves the counts and failures alone: those are added tenant by
// tenant (RecordSchema, CountRun), so that they agree with the tenants'
// rows whenever the run stops, a kill -9 included.
func (c *Catalog) UpdateRun(ctx context.Context, r *MigrationRun) error {
	res, err := c.db.Writer().ExecContext(ctx, `UPDATE migration_runs SET status = ?, heartbeat_at = ?, finished_at = ?,
			total = ?, error = ? WHERE id = ?`,
		r.Status, condo.UnixMS(r.HeartbeatAt), condo.NullUnixMS(r.FinishedAt), r.Total, r.Error, r.ID)
	if err != nil {
		return fmt.Errorf("record migration run %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return condo.ReasonErrorf(condo.ENOTFOUND, "run_not_found", "migration run %q not found", r.ID)
	}
	return nil
}

// RunCount is what a tenant (or a batch of them) adds to a run's counts.
type RunCount struct {
	Migrated, Skipped, Failed int
	// Failures are appended while the run holds fewer than MaxRunFailures.
	Failures []RunFailure
}

// IsZero reports whether n adds nothing.
func (n RunCount) IsZero() bool {
	return n.Migrated == 0 && n.Skipped == 0 && n.Failed == 0 && len(n.Failures) == 0
}

// CountRun adds n to run id's counts.
func (c *Catalog) CountRun(ctx context.Context, id string, n RunCount) error {
	return c.db.Transact(ctx, func(tx *sql.Tx) error { return countRun(ctx, tx, id, n) })
}

// RecordSchema records tenant id's schema state (when st is set) and adds
// n to run runID's counts (when runID is set), in one transaction: a run's
// counts then always agree with the rows of the tenants it migrated,
// whatever stops the process that runs it.
//
// Errors: ENOTFOUND (tenant_not_found, run_not_found).
func (c *Catalog) RecordSchema(ctx context.Context, id string, st *SchemaState, runID string, n RunCount) error {
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		if st != nil {
			if err := setSchemaState(ctx, tx, id, *st); err != nil {
				return err
			}
		}
		if runID == "" {
			return nil
		}
		return countRun(ctx, tx, runID, n)
	})
	if err == nil && st != nil {
		c.cache.Purge()
	}
	return err
}

func countRun(ctx context.Context, tx *sql.Tx, id string, n RunCount) error {
	res, err := tx.ExecContext(ctx, `UPDATE migration_runs SET migrated = migrated + ?, skipped = skipped + ?,
		failed = failed + ? WHERE id = ?`, n.Migrated, n.Skipped, n.Failed, id)
	if err != nil {
		return fmt.Errorf("count migration run %s: %w", id, err)
	}
	if rows, _ := res.RowsAffected(); rows == 0 {
		return condo.ReasonErrorf(condo.ENOTFOUND, "run_not_found", "migration run %q not found", id)
	}
	for _, f := range n.Failures {
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE migration_runs SET failures = json_insert(failures, '$[#]', json(?))
			WHERE id = ? AND json_array_length(failures) < ?`, string(b), id, MaxRunFailures); err != nil {
			return fmt.Errorf("count migration run %s: %w", id, err)
		}
	}
	return nil
}

// Runs lists the most recent runs, newest first, at most limit (default 20).
func (c *Catalog) Runs(ctx context.Context, limit int) ([]MigrationRun, error) {
	if limit <= 0 {
		limit = 20
	}
	return queryRuns(ctx, c.db.Reader(), "", limit)
}

// Run returns one run. Errors: ENOTFOUND (run_not_found).
func (c *Catalog) Run(ctx context.Context, id string) (*MigrationRun, error) {
	runs, err := queryRuns(ctx, c.db.Reader(), "WHERE id = ?", 1, id)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "run_not_found", "migration run %q not found", condo.Clip(id))
	}
	return &runs[0], nil
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func queryRuns(ctx context.Context, q querier, where string, limit int, args ...any) ([]MigrationRun, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, direction, target, status, started_at, finished_at, heartbeat_at,
			total, migrated, skipped, failed, concurrency, canary, max_failures, error, failures, owner_pid, owner_host, owner_token
		FROM migration_runs `+where+` ORDER BY started_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []MigrationRun{}
	for rows.Next() {
		var r MigrationRun
		var started, heartbeat int64
		var finished *int64
		var failures string
		err := rows.Scan(&r.ID, &r.Direction, &r.Target, &r.Status, &started, &finished, &heartbeat,
			&r.Total, &r.Migrated, &r.Skipped, &r.Failed, &r.Concurrency, &r.Canary, &r.MaxFailures, &r.Error, &failures,
			&r.Owner.PID, &r.Owner.Host, &r.Owner.Token)
		if err != nil {
			return nil, err
		}
		r.StartedAt, r.HeartbeatAt, r.FinishedAt = condo.FromUnixMS(started), condo.FromUnixMS(heartbeat), condo.FromNullUnixMS(finished)
		if err := json.Unmarshal([]byte(failures), &r.Failures); err != nil {
			return nil, fmt.Errorf("migration run %s: failures: %w", r.ID, err)
		}
		if r.Failures == nil {
			r.Failures = []RunFailure{}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func encodeFailures(fs []RunFailure) (string, error) {
	if len(fs) > MaxRunFailures {
		fs = fs[:MaxRunFailures]
	}
	if fs == nil {
		fs = []RunFailure{}
	}
	b, err := json.Marshal(fs)
	return string(b), err
}
