package fleet

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// dryRun copies a sample of the tenants a run would migrate into a
// temporary directory, migrates the copies and reports which would fail.
// The originals are only read (VACUUM INTO takes a snapshot), and nothing
// is recorded in the catalog.
func (r *Runner) dryRun(ctx context.Context, opt Options) (*Report, error) {
	opt, err := r.resolve(opt)
	if err != nil {
		return nil, err
	}
	if err := r.refuseAhead(ctx); err != nil {
		return nil, err
	}
	start := time.Now()
	ts, err := r.catalog.SchemaTenants(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	todo, skipped, blocked := queue(ts, opt.Direction, opt.Target)
	// Samples are copies (VACUUM INTO), so only local tenants can be
	// sampled; the remote ones are counted apart.
	var local []catalog.SchemaTenant
	for _, t := range todo {
		if !t.Remote {
			local = append(local, t)
		}
	}
	sample, _ := spread(local, opt.Sample)
	dir, err := os.MkdirTemp("", "condo-dry-run-")
	if err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}
	defer os.RemoveAll(dir)

	samples := make([]Sample, len(sample))
	var mu sync.Mutex // serialises opt.Progress and guards done
	done, failed := 0, len(blocked)
	jobs := make(chan int)
	var workers sync.WaitGroup
	for range min(opt.Concurrency, len(sample)) {
		workers.Go(func() {
			for i := range jobs {
				samples[i] = r.trySample(ctx, dir, sample[i], opt.Target)
				mu.Lock()
				done++
				if !samples[i].OK {
					failed++
				}
				if opt.Progress != nil {
					var err error
					if !samples[i].OK {
						err = fmt.Errorf("%s", samples[i].Error)
					}
					opt.Progress(Progress{Wave: "sample", Queued: len(sample), Done: done, Failed: failed,
						TenantID: sample[i].ID, Err: err, Elapsed: time.Since(start)})
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range sample {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	workers.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	rep := &Report{
		MigrationRun: catalog.MigrationRun{Direction: opt.Direction, Target: opt.Target, Status: catalog.RunSucceeded,
			StartedAt: start, Total: len(ts), Skipped: skipped, Failed: failed, Failures: blocked,
			Concurrency: opt.Concurrency, Canary: opt.Canary, MaxFailures: opt.MaxFailures, Owner: self},
		Latest: r.store.Migrations().Latest(), Queued: len(todo), DryRun: true, Samples: samples,
		RemoteUnsampled: len(todo) - len(local),
	}
	if rep.Failures == nil {
		rep.Failures = []catalog.RunFailure{}
	}
	for i, s := range samples {
		if !s.OK {
			rep.Failures = append(rep.Failures, catalog.RunFailure{TenantID: s.TenantID, Version: sample[i].Schema.Version, Error: s.Error})
		}
	}
	if failed > 0 {
		rep.Status = catalog.RunFailed
		rep.Error = fmt.Sprintf("%d of %d sampled tenants would fail", failed-len(blocked), len(sample))
		if len(blocked) > 0 {
			rep.Error += fmt.Sprintf(", and %d are dirty", len(blocked))
		}
	}
	now := time.Now()
	rep.FinishedAt, rep.DurationMS = &now, time.Since(start).Milliseconds()
	return rep, nil
}

// trySample migrates a copy of one tenant's database and removes the copy.
func (r *Runner) trySample(ctx context.Context, dir string, t catalog.SchemaTenant, target uint) (s Sample) {
	start := time.Now()
	s = Sample{TenantID: t.ID, From: t.Schema.Version}
	path := filepath.Join(dir, t.ID+".db")
	defer func() {
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			os.Remove(p)
		}
		s.DurationMS = time.Since(start).Milliseconds()
	}()
	if err := r.store.CopyDatabase(ctx, t.ID, path); err != nil {
		s.Error = "copy: " + tenantstore.ErrorLine(err)
		return s
	}
	db, err := sqlitedb.Open(path, sqlitedb.Options{Readers: 1})
	if err != nil {
		s.Error = tenantstore.ErrorLine(err)
		return s
	}
	defer db.Close()
	s.From, err = r.store.Migrations().Apply(ctx, db.Write, target)
	if err != nil {
		s.Error = tenantstore.ErrorLine(err)
		return s
	}
	s.OK = true
	return s
}
