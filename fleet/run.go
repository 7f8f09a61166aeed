package fleet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// Run is a started fleet migration run.
type Run struct {
	runner *Runner
	opt    Options
	start  time.Time

	mu         sync.Mutex // guards everything below, and serialises opt.Progress
	rec        catalog.MigrationRun
	queued     int
	done       int // queued tenants finished, whatever the outcome
	attempted  int // failures of tenants the run tried (not the dirty ones)
	curWave    string
	stopReason string
}

// Start checks opt, records a new run as running and sets the fleet's
// schema target, so that servers migrating tenants as they open them go
// no further than the run. Execute does the work.
//
// Errors: EINVALID for bad options (a dry run cannot be started, only
// Run); ECONFLICT: run_in_progress while another run is live, schema_ahead
// when a tenant is above this binary's latest version.
func (r *Runner) Start(ctx context.Context, opt Options) (*Run, error) {
	opt, err := r.resolve(opt)
	if err != nil {
		return nil, err
	}
	if opt.DryRun {
		return nil, condo.Errorf(condo.EINVALID, "a dry run is not started in the background: use Run")
	}
	if err := r.refuseAhead(ctx); err != nil {
		return nil, err
	}
	now := time.Now()
	rec := catalog.MigrationRun{
		ID: condo.NewID(), Direction: opt.Direction, Target: opt.Target, Status: catalog.RunRunning,
		StartedAt: now, HeartbeatAt: now, Failures: []catalog.RunFailure{},
		Concurrency: opt.Concurrency, Canary: opt.Canary, MaxFailures: opt.MaxFailures, Owner: self,
	}
	if err := r.catalog.BeginRun(ctx, &rec, alive); err != nil {
		return nil, err
	}
	run := &Run{runner: r, opt: opt, start: now, rec: rec}
	if opt.Direction == Up && opt.Target == r.store.Migrations().Latest() {
		err = r.catalog.ClearSchemaTarget(ctx)
	} else {
		err = r.catalog.SetSchemaTarget(ctx, opt.Target)
	}
	if err != nil {
		run.finish(ctx, fmt.Sprintf("could not set the fleet's schema target: %v", err))
		return nil, fmt.Errorf("set the fleet's schema target: %w", err)
	}
	r.logger.Info("migration run started", "run", rec.ID, "direction", opt.Direction, "target", opt.Target,
		"concurrency", opt.Concurrency, "canary", opt.Canary, "max_failures", opt.MaxFailures)
	return run, nil
}

// ID returns the run's id.
func (x *Run) ID() string { return x.rec.ID }

// Record returns the run's record as it stands.
func (x *Run) Record() catalog.MigrationRun {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.snapshot()
}

// Execute migrates the run's tenants: the canary wave, then, if every
// canary succeeded, the rest. It stops starting tenants once failures pass
// MaxFailures, and when ctx ends (then in-flight migrations are cancelled
// and roll back). It records the outcome and returns the report; the error
// is for a run that could not even list its tenants.
func (x *Run) Execute(ctx context.Context) (*Report, error) {
	r := x.runner
	ts, err := r.catalog.SchemaTenants(ctx)
	if err != nil {
		x.finish(ctx, fmt.Sprintf("could not list the tenants: %v", err))
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	todo, skipped, blocked := queue(ts, x.opt.Direction, x.opt.Target)
	canary, rest := spread(todo, x.opt.Canary)
	// The counts are the catalog's, added tenant by tenant in the
	// transaction that records each one's state (see migrate); these are
	// the tenants the run settles without migrating.
	initial := catalog.RunCount{Skipped: skipped, Failed: len(blocked), Failures: blocked}
	if err := r.catalog.CountRun(ctx, x.rec.ID, initial); err != nil {
		x.finish(ctx, fmt.Sprintf("could not record the run: %v", err))
		return nil, fmt.Errorf("record migration run: %w", err)
	}
	x.mu.Lock()
	x.rec.Total, x.queued = len(ts), len(todo)
	x.add(initial, 1)
	rec := x.snapshot()
	x.mu.Unlock()
	if err := r.catalog.UpdateRun(ctx, &rec); err != nil {
		x.finish(ctx, fmt.Sprintf("could not record the run: %v", err))
		return nil, fmt.Errorf("record migration run: %w", err)
	}

	// The heartbeat goroutine is owned here and stopped before returning.
	hctx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	var beat sync.WaitGroup
	beat.Go(func() { x.heartbeat(hctx) })
	defer func() { stopBeat(); beat.Wait() }()

	x.wave(ctx, "canary", canary)
	x.mu.Lock()
	canaryFailed := x.attempted
	x.mu.Unlock()
	if canaryFailed > 0 && len(rest) > 0 {
		x.stop(fmt.Sprintf("the canary wave failed for %d of %d tenants, so no other tenant was started", canaryFailed, len(canary)))
	} else {
		x.wave(ctx, "main", rest)
	}
	return x.finish(ctx, ""), nil
}

// wave migrates ts with up to opt.Concurrency workers and one recorder,
// owned here, and returns when they are done and every outcome is written.
// It stops feeding the workers when the run stops.
//
// Catalog writes are batched, up to RecordBatch tenants a transaction: the
// feeder marks the next tenants pending together before handing them out,
// and the recorder writes outcomes (each tenant's state, and the run's
// counts) together with catalog.RecordSchemas. A crash loses at most the
// outcomes not yet written: the run's counts still equal its tenants'
// recorded states, and those tenants are still marked pending, so the next
// run finds them at their version on disk.
func (x *Run) wave(ctx context.Context, name string, ts []catalog.SchemaTenant) {
	if len(ts) == 0 {
		return
	}
	x.mu.Lock()
	x.curWave = name
	x.mu.Unlock()
	jobs := make(chan catalog.SchemaTenant)
	results := make(chan result, RecordBatch)
	var recorder sync.WaitGroup
	recorder.Go(func() { x.record(ctx, results) })
	var workers sync.WaitGroup
	for range min(x.opt.Concurrency, len(ts)) {
		workers.Go(func() {
			for t := range jobs {
				if x.stopped(ctx) { // failures may have passed the limit since t was sent
					continue
				}
				results <- x.migrate(ctx, t)
			}
		})
	}
feed:
	for i := 0; i < len(ts); i += RecordBatch {
		chunk := ts[i:min(i+RecordBatch, len(ts))]
		if x.stopped(ctx) {
			break
		}
		ids := make([]string, len(chunk))
		for j, t := range chunk {
			ids[j] = t.ID
		}
		if err := x.runner.catalog.SetSchemaPendings(ctx, ids, x.opt.Target); err != nil {
			if ctx.Err() == nil {
				x.stop(fmt.Sprintf("could not mark tenants pending in the catalog: %v", err))
			}
			break
		}
		for _, t := range chunk {
			if x.stopped(ctx) {
				break feed
			}
			select {
			case jobs <- t:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	workers.Wait()
	close(results)
	recorder.Wait()
	x.mu.Lock()
	x.progress(Progress{Wave: name, WaveDone: true})
	x.mu.Unlock()
}

// stopped reports whether the run must start no more tenants.
func (x *Run) stopped(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stopReason == "" && x.attempted > x.opt.MaxFailures {
		x.stopReason = fmt.Sprintf("stopped after %d failures, more than the %d allowed (--max-failures)", x.attempted, x.opt.MaxFailures)
	}
	return x.stopReason != ""
}

func (x *Run) stop(reason string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.stopReason == "" {
		x.stopReason = reason
	}
}

// result is one tenant's migration, waiting for the recorder.
type result struct {
	t   catalog.SchemaTenant
	rec catalog.SchemaRecord
	err error
}

// migrate migrates one tenant without recording it, and counts the
// outcome in memory at once, for the progress and the failure limit; the
// report's counts are the catalog's (see finish).
func (x *Run) migrate(ctx context.Context, t catalog.SchemaTenant) result {
	_, rec, err := x.runner.store.MigrateUnrecorded(ctx, t.ID, x.opt.Target)
	x.mu.Lock()
	defer x.mu.Unlock()
	if rec.Count.IsZero() && err != nil && ctx.Err() != nil {
		// Stopped, not failed: the tenant rolled back and stays queued for
		// the next run (rec may still restore its recorded state).
		return result{t: t, rec: rec, err: err}
	}
	x.done++
	x.add(rec.Count, 1)
	x.attempted += rec.Count.Failed
	x.progress(Progress{Wave: x.curWave, TenantID: t.ID, Err: err})
	return result{t: t, rec: rec, err: err}
}

// record writes results in batches of up to RecordBatch, or what came in
// RecordEvery, until results is closed.
func (x *Run) record(ctx context.Context, results <-chan result) {
	tick := time.NewTicker(RecordEvery)
	defer tick.Stop()
	var batch []result
	for {
		select {
		case r, ok := <-results:
			if !ok {
				x.flush(ctx, batch)
				return
			}
			if batch = append(batch, r); len(batch) >= RecordBatch {
				x.flush(ctx, batch)
				batch = batch[:0]
			}
		case <-tick.C:
			x.flush(ctx, batch)
			batch = batch[:0]
		}
	}
}

// flush writes a batch in one catalog transaction, even when ctx has
// ended: what happened on disk must reach the catalog. If the batch fails
// (a tenant deleted meanwhile), each is written alone, so one tenant's
// trouble costs the others nothing; one that still fails counts as failed.
func (x *Run) flush(ctx context.Context, batch []result) {
	if len(batch) == 0 {
		return
	}
	rctx := context.WithoutCancel(ctx)
	recs := make([]catalog.SchemaRecord, 0, len(batch))
	for _, r := range batch {
		if r.rec.State != nil || !r.rec.Count.IsZero() {
			recs = append(recs, r.rec)
		}
	}
	if err := x.runner.catalog.RecordSchemas(rctx, x.rec.ID, recs); err == nil {
		return
	}
	for _, rec := range recs {
		err := x.runner.catalog.RecordSchemas(rctx, x.rec.ID, []catalog.SchemaRecord{rec})
		if err == nil || rec.Count.IsZero() {
			if err != nil {
				x.runner.logger.Error("record tenant schema", "run", x.rec.ID, "tenant", rec.TenantID, "err", err)
			}
			continue
		}
		// Failed, and the catalog could not even count it.
		x.runner.logger.Error("migrate tenant", "run", x.rec.ID, "tenant", rec.TenantID, "err", err)
		x.mu.Lock()
		x.add(rec.Count, -1)
		if rec.Count.Failed == 0 {
			x.attempted++
		}
		v := uint(0)
		if rec.State != nil {
			v = rec.State.Version
		}
		x.add(catalog.RunCount{Failed: 1, Failures: []catalog.RunFailure{{TenantID: rec.TenantID, Version: v, Error: tenantstore.ErrorLine(err)}}}, 1)
		x.mu.Unlock()
	}
}

// add adds n to the run's counts in memory, sign times (-1 takes back
// an outcome the catalog could not record; its failures stay listed).
// x.mu is held.
func (x *Run) add(n catalog.RunCount, sign int) {
	x.rec.Migrated += sign * n.Migrated
	x.rec.Skipped += sign * n.Skipped
	x.rec.Failed += sign * n.Failed
	if sign < 0 {
		return
	}
	for _, f := range n.Failures {
		if len(x.rec.Failures) < catalog.MaxRunFailures {
			x.rec.Failures = append(x.rec.Failures, f)
		}
	}
}

// progress fills p's counts and hands it to opt.Progress. x.mu is held.
func (x *Run) progress(p Progress) {
	if x.opt.Progress == nil {
		return
	}
	p.RunID, p.Queued, p.Done = x.rec.ID, x.queued, x.done
	p.Migrated, p.Skipped, p.Failed = x.rec.Migrated, x.rec.Skipped, x.rec.Failed
	p.Elapsed = time.Since(x.start)
	x.opt.Progress(p)
}

// heartbeat writes the run's progress every HeartbeatInterval until ctx
// ends: watchers see the counts move, and other processes see it alive.
func (x *Run) heartbeat(ctx context.Context) {
	t := time.NewTicker(HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		x.mu.Lock()
		x.rec.HeartbeatAt = time.Now()
		rec := x.snapshot()
		x.mu.Unlock()
		if err := x.runner.catalog.UpdateRun(ctx, &rec); err != nil && ctx.Err() == nil {
			x.runner.logger.Warn("record migration run progress", "run", rec.ID, "err", err)
		}
	}
}

// snapshot copies the record. x.mu is held.
func (x *Run) snapshot() catalog.MigrationRun {
	rec := x.rec
	rec.Failures = append([]catalog.RunFailure(nil), x.rec.Failures...)
	return rec
}

// finish decides the run's status, records it and returns the report.
// failure, when set, is why the run could not proceed at all.
func (x *Run) finish(ctx context.Context, failure string) *Report {
	x.mu.Lock()
	now := time.Now()
	x.rec.HeartbeatAt, x.rec.FinishedAt = now, &now
	notStarted := x.queued - x.done
	switch {
	case failure != "" && ctx.Err() == nil:
		x.rec.Status, x.rec.Error = catalog.RunFailed, failure
	case ctx.Err() != nil:
		x.rec.Status = catalog.RunInterrupted
		x.rec.Error = fmt.Sprintf("interrupted (%v) with %d tenants left: run it again to finish them", ctx.Err(), notStarted)
	case x.stopReason != "":
		x.rec.Status = catalog.RunFailed
		x.rec.Error = fmt.Sprintf("%s; %d tenants not started", x.stopReason, notStarted)
	case x.rec.Failed > 0:
		x.rec.Status = catalog.RunFailed
		x.rec.Error = fmt.Sprintf("%d tenants failed", x.rec.Failed)
	default:
		x.rec.Status = catalog.RunSucceeded
	}
	rep := &Report{MigrationRun: x.snapshot(), Latest: x.runner.store.Migrations().Latest(), Queued: x.queued,
		NotStarted: notStarted, DurationMS: time.Since(x.start).Milliseconds()}
	x.mu.Unlock()

	rctx := context.WithoutCancel(ctx)
	if err := x.runner.catalog.UpdateRun(rctx, &rep.MigrationRun); err != nil {
		x.runner.logger.Error("record migration run", "run", rep.ID, "err", err)
	}
	// Report the counts as recorded, the ones every later reader sees.
	if rec, err := x.runner.catalog.Run(rctx, rep.ID); err == nil {
		rep.Migrated, rep.Skipped, rep.Failed, rep.Failures = rec.Migrated, rec.Skipped, rec.Failed, rec.Failures
	}
	x.runner.logger.Info("migration run finished", "run", rep.ID, "status", rep.Status, "migrated", rep.Migrated,
		"skipped", rep.Skipped, "failed", rep.Failed, "not_started", rep.NotStarted, "duration", time.Since(x.start))
	return rep
}
