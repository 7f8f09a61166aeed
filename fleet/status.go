package fleet

import (
	"context"

	"github.com/condohq/condo/catalog"
)

// Status is where the fleet stands: the binary's latest version, the
// tenants per version, the ones in trouble, and the recent runs.
type Status struct {
	// Latest is the binary's latest tenant schema version.
	Latest uint `json:"latest"`
	// Target is the fleet's schema target when one is set: after a
	// rollback, or an `up --to` short of the latest. Servers migrate
	// tenants on open no further than it.
	Target *uint `json:"target,omitempty"`
	*catalog.SchemaStatus
	// Runs lists the most recent runs, newest first. A running one's
	// counts include every tenant it has finished.
	Runs []catalog.MigrationRun `json:"runs"`
}

// Status reports where the fleet stands, with up to runs recent runs
// (default 10). Runs whose process died are marked interrupted first.
func (r *Runner) Status(ctx context.Context, runs int) (*Status, error) {
	if runs <= 0 {
		runs = 10
	}
	if _, err := r.catalog.InterruptStaleRuns(ctx, alive); err != nil {
		return nil, err
	}
	out := &Status{Latest: r.store.Migrations().Latest()}
	var err error
	if out.SchemaStatus, err = r.catalog.SchemaStatus(ctx, 100); err != nil {
		return nil, err
	}
	if v, ok, err := r.catalog.SchemaTarget(ctx); err != nil {
		return nil, err
	} else if ok {
		out.Target = &v
	}
	if out.Runs, err = r.catalog.Runs(ctx, runs); err != nil {
		return nil, err
	}
	return out, nil
}

// Lookup returns one run as recorded, marking it interrupted first if its
// process died. Errors: ENOTFOUND (run_not_found).
func (r *Runner) Lookup(ctx context.Context, id string) (*catalog.MigrationRun, error) {
	if _, err := r.catalog.InterruptStaleRuns(ctx, alive); err != nil {
		return nil, err
	}
	return r.catalog.Run(ctx, id)
}
