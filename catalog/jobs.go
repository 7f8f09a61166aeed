package catalog

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Job kinds.
const (
	JobMigration = "migration" // a fleet migration run
	JobMove      = "move"      // a live tenant move
)

// Job is one long operation as an operator follows it, whatever its
// kind: each kind keeps its own record (MigrationRun, Move), and Detail
// is that record.
type Job struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	TenantID   string     `json:"tenant_id,omitempty"` // "" for the fleet
	State      string     `json:"state"`
	Progress   string     `json:"progress"`
	Error      string     `json:"error,omitempty"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Detail     any        `json:"detail"`
}

// JobFilter narrows a listing of jobs.
type JobFilter struct {
	Kind     string // one kind (JobMigration, JobMove, JobArchive, ...); "" for all
	TenantID string // one tenant's jobs (which leaves out fleet runs); "" for all
	Limit    int    // at most this many (default 50)
}

// Jobs lists the most recent jobs of every kind, newest first, at most
// limit (default 50).
func (c *Catalog) Jobs(ctx context.Context, limit int) ([]Job, error) {
	return c.FindJobs(ctx, JobFilter{Limit: limit})
}

// FindJobs lists the most recent jobs f selects, newest first: fleet
// migration runs, tenant moves and lifecycle operations (Track). Lifecycle
// jobs whose process died are marked interrupted first.
func (c *Catalog) FindJobs(ctx context.Context, f JobFilter) ([]Job, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var runs []MigrationRun
	var moves []*Move
	var err error
	if f.TenantID == "" && (f.Kind == "" || f.Kind == JobMigration) {
		if runs, err = c.Runs(ctx, limit); err != nil {
			return nil, err
		}
	}
	if f.Kind == "" || f.Kind == JobMove {
		if moves, err = c.Moves(ctx, MoveFilter{TenantID: f.TenantID}); err != nil {
			return nil, err
		}
	}
	var lifecycle []LifecycleJob
	if f.Kind != JobMigration && f.Kind != JobMove {
		c.InterruptStaleJobs(ctx) // best effort: the listing is still right for live ones
		if lifecycle, err = c.LifecycleJobs(ctx, f.Kind, f.TenantID, limit); err != nil {
			return nil, err
		}
	}
	jobs := make([]Job, 0, len(runs)+len(moves)+len(lifecycle))
	for _, l := range lifecycle {
		jobs = append(jobs, Job{ID: l.ID, Kind: l.Kind, TenantID: l.TenantID, State: l.State, Progress: l.Progress, Error: l.Error,
			StartedAt: l.StartedAt, FinishedAt: l.FinishedAt, Detail: l})
	}
	for _, r := range runs {
		jobs = append(jobs, Job{ID: r.ID, Kind: JobMigration, State: r.Status, Error: r.Error, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
			Progress: fmt.Sprintf("%s to %d: %d of %d tenants (%d migrated, %d skipped, %d failed)",
				r.Direction, r.Target, r.Migrated+r.Skipped+r.Failed, r.Total, r.Migrated, r.Skipped, r.Failed), Detail: r})
	}
	for _, m := range moves {
		jobs = append(jobs, Job{ID: m.ID, Kind: JobMove, TenantID: m.TenantID, State: m.State, Error: m.Error, StartedAt: m.CreatedAt,
			FinishedAt: m.FinishedAt, Progress: fmt.Sprintf("%s to %s: %s, %d bytes", m.FromRegion, m.ToRegion, m.Step, m.Bytes), Detail: m})
	}
	slices.SortFunc(jobs, func(a, b Job) int { return b.StartedAt.Compare(a.StartedAt) })
	return jobs[:min(len(jobs), limit)], nil
}
