package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/fleet"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/migrations/migrationstest"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

const v2 = migrationstest.Version

// base is the embedded tenant set's latest version: where tenants start,
// and where a down migration of the test step ends.
var base = migrationstest.Base

// fleetEnv is a data directory whose tenants were provisioned at the
// embedded schema, and a store whose migration set has one more step.
type fleetEnv struct {
	*tenantstoretest.Env
	store  *tenantstore.Store // with the test set
	runner *fleet.Runner
	ids    []string
}

func newFleet(t *testing.T, set string, n int) *fleetEnv {
	t.Helper()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	f := &fleetEnv{Env: env}
	for i := range n {
		f.ids = append(f.ids, fmt.Sprintf("t%04d", i))
	}
	env.MustCreate(t, f.ids...)
	f.store = tenantstore.New(env.Catalog, tenantstore.Config{DataDir: env.DataDir, PoolSize: 16, Migrations: migrationstest.Set(t, set)})
	t.Cleanup(func() { f.store.Close(context.Background()) })
	f.runner = fleet.New(env.Catalog, f.store, nil)
	return f
}

// mustContent writes items with the given titles into a tenant's
// database, directly, as if the tenant had been used.
func (f *fleetEnv) mustContent(t *testing.T, id string, titles ...string) {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(f.DataDir, "tenants", id, "tenant.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write.Exec(`INSERT OR IGNORE INTO collections (id, name, display_name, created_at, updated_at)
		VALUES ('posts', 'posts', 'Posts', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	for _, title := range titles {
		if _, err := db.Write.Exec(`INSERT INTO content (id, collection_id, slug, title, created_at, updated_at)
			VALUES (?, 'posts', ?, ?, 0, 0)`, condo.NewID(), condo.NewID(), title); err != nil {
			t.Fatal(err)
		}
	}
}

// diskVersion reads a tenant database's version straight from its file.
func (f *fleetEnv) diskVersion(t *testing.T, id string) (uint, bool) {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(f.DataDir, "tenants", id, "tenant.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, dirty, err := migrations.Version(context.Background(), db.Read)
	if err != nil {
		t.Fatal(err)
	}
	return v, dirty
}

func (f *fleetEnv) mustRun(t *testing.T, opt fleet.Options) *fleet.Report {
	t.Helper()
	rep, err := f.runner.Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func checkCounts(t *testing.T, rep *fleet.Report, status string, migrated, skipped, failed, notStarted int) {
	t.Helper()
	if rep.Status != status || rep.Migrated != migrated || rep.Skipped != skipped || rep.Failed != failed || rep.NotStarted != notStarted {
		t.Fatalf("report: status %s migrated %d skipped %d failed %d not started %d (%s); want %s %d %d %d %d",
			rep.Status, rep.Migrated, rep.Skipped, rep.Failed, rep.NotStarted, rep.Error, status, migrated, skipped, failed, notStarted)
	}
}

func TestRunner_UpDown(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, "wordcount", fleetSize)
	for _, id := range f.ids[:30] {
		f.mustContent(t, id, "hello", "world")
	}
	var waves []string
	opt := fleet.Options{Concurrency: 4, Canary: 5, MaxFailures: 0, Progress: func(p fleet.Progress) {
		if p.WaveDone {
			waves = append(waves, fmt.Sprintf("%s %d/%d", p.Wave, p.Done, p.Queued))
		}
	}}
	rep := f.mustRun(t, opt)
	checkCounts(t, rep, catalog.RunSucceeded, fleetSize, 0, 0, 0)
	if got, want := waves, []string{fmt.Sprintf("canary 5/%d", fleetSize), fmt.Sprintf("main %d/%d", fleetSize, fleetSize)}; !slices.Equal(got, want) {
		t.Errorf("waves = %v, want %v", got, want)
	}

	// Every tenant, opened through the store, is at the new version with
	// the new column, and the catalog agrees.
	verify := func(t *testing.T, want uint, column bool) {
		t.Helper()
		for _, id := range f.ids {
			h, release, err := f.store.Acquire(ctx, id)
			if err != nil {
				t.Fatalf("acquire %s: %v", id, err)
			}
			v, dirty, err := migrations.Version(ctx, h.Reader())
			_, colErr := h.Reader().Exec("SELECT word_count FROM content LIMIT 1")
			release()
			if err != nil || v != want || dirty {
				t.Fatalf("%s on disk: version %d dirty %v (%v), want %d", id, v, dirty, err, want)
			}
			if (colErr == nil) != column {
				t.Fatalf("%s: word_count column present = %v, want %v", id, colErr == nil, column)
			}
			ten, err := f.Catalog.Lookup(ctx, id)
			if err != nil || ten.Schema.Version != want || ten.Schema.Dirty || ten.Schema.Error != "" {
				t.Fatalf("%s in the catalog: %+v (%v), want version %d clean", id, ten.Schema, err, want)
			}
		}
	}
	verify(t, v2, true)

	st, err := f.runner.Status(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Versions, []catalog.VersionCount{{Version: v2, Tenants: fleetSize}}; !slices.Equal(got, want) {
		t.Errorf("status versions = %+v, want %+v", got, want)
	}
	if st.Latest != v2 || st.Target != nil || len(st.Runs) != 1 || st.Runs[0].Status != catalog.RunSucceeded || st.Runs[0].Migrated != fleetSize {
		t.Errorf("status = latest %d target %v runs %+v", st.Latest, st.Target, st.Runs)
	}

	t.Run("RerunSkipsEverything", func(t *testing.T) {
		rep := f.mustRun(t, fleet.DefaultOptions())
		checkCounts(t, rep, catalog.RunSucceeded, 0, fleetSize, 0, 0)
		if rep.Queued != 0 {
			t.Errorf("queued = %d, want 0", rep.Queued)
		}
	})

	t.Run("Down", func(t *testing.T) {
		// Some tenants are open in the pool now (verify acquired them all
		// through a pool of 16): those migrate through the pool's writer.
		rep := f.mustRun(t, fleet.Options{Direction: fleet.Down, Target: base, Concurrency: 3, Canary: 2})
		checkCounts(t, rep, catalog.RunSucceeded, fleetSize, 0, 0, 0)
		// Opening a tenant does not migrate it back up: the fleet's
		// target is base now.
		verify(t, base, false)
		st, err := f.runner.Status(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		if st.Target == nil || *st.Target != base {
			t.Errorf("fleet target = %v, want %d", st.Target, base)
		}
		// A tenant created now starts at the fleet's version too.
		if _, err := f.store.Create(ctx, catalog.NewTenant{ID: "newcomer"}); err != nil {
			t.Fatal(err)
		}
		if v, _ := f.diskVersion(t, "newcomer"); v != base {
			t.Errorf("new tenant at version %d, want %d", v, base)
		}
		f.ids = append(f.ids, "newcomer")
	})

	t.Run("UpAgainClearsTarget", func(t *testing.T) {
		rep := f.mustRun(t, fleet.Options{Concurrency: 2})
		checkCounts(t, rep, catalog.RunSucceeded, fleetSize+1, 0, 0, 0)
		verify(t, v2, true)
		if target, ok, err := f.Catalog.SchemaTarget(ctx); ok || err != nil {
			t.Errorf("fleet target = %d, %v, %v; want none", target, ok, err)
		}
	})
}

func TestRunner_FailureIsolation(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, "unique", 60)
	var bad []string
	for i, id := range f.ids {
		if i%9 == 4 {
			f.mustContent(t, id, "same", "same", "other")
			bad = append(bad, id)
		} else {
			f.mustContent(t, id, "one", "two")
		}
	}
	rep := f.mustRun(t, fleet.Options{Concurrency: 3, Canary: 0, MaxFailures: 100})
	checkCounts(t, rep, catalog.RunFailed, 60-len(bad), 0, len(bad), 0)
	var failed []string
	for _, fl := range rep.Failures {
		failed = append(failed, fl.TenantID)
		if fl.Dirty || fl.Version != base || !strings.Contains(fl.Error, "UNIQUE constraint failed") {
			t.Errorf("failure %+v: want version %d, not dirty, a UNIQUE error", fl, base)
		}
	}
	slices.Sort(failed)
	if !slices.Equal(failed, bad) {
		t.Fatalf("failed tenants = %v, want %v", failed, bad)
	}
	for _, id := range f.ids {
		v, dirty := f.diskVersion(t, id)
		ten, err := f.Catalog.Lookup(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := uint(v2)
		if slices.Contains(bad, id) {
			want = base
			if ten.Schema.Error == "" {
				t.Errorf("%s: no error recorded", id)
			}
		}
		if v != want || dirty || ten.Schema.Version != want || ten.Schema.Dirty {
			t.Errorf("%s: disk %d dirty %v, catalog %+v; want %d clean", id, v, dirty, ten.Schema, want)
		}
	}
	st, err := f.runner.Status(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if st.ProblemCount != len(bad) || len(st.Problems) != len(bad) || st.Problems[0].Schema.Dirty {
		t.Errorf("status problems = %d %+v, want %d failing", st.ProblemCount, st.Problems, len(bad))
	}

	// Fix the data; the next run finishes the rest.
	for _, id := range bad {
		db, err := sqlitedb.Open(filepath.Join(f.DataDir, "tenants", id, "tenant.db"), sqlitedb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write.Exec("UPDATE content SET title = title || '-' || id WHERE title = 'same'"); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	rep = f.mustRun(t, fleet.Options{Concurrency: 3, Canary: 2, MaxFailures: 0})
	checkCounts(t, rep, catalog.RunSucceeded, len(bad), 60-len(bad), 0, 0)
	st, err = f.runner.Status(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if st.ProblemCount != 0 || len(st.Versions) != 1 || st.Versions[0].Tenants != 60 {
		t.Errorf("status after the fix = %+v", st.SchemaStatus)
	}
}

func TestRunner_Canary(t *testing.T) {
	f := newFleet(t, "unique", 30)
	for i, id := range f.ids {
		if i%6 == 0 { // the canary wave of 5 picks every sixth tenant
			f.mustContent(t, id, "dup", "dup")
		}
	}
	rep := f.mustRun(t, fleet.Options{Concurrency: 2, Canary: 5, MaxFailures: 100})
	checkCounts(t, rep, catalog.RunFailed, 0, 0, 5, 25)
	if !strings.Contains(rep.Error, "canary") {
		t.Errorf("error = %q, want it to blame the canary wave", rep.Error)
	}
	for i, id := range f.ids {
		if v, _ := f.diskVersion(t, id); v != base {
			t.Errorf("tenant %d at version %d, want %d: nothing past the canary may start", i, v, base)
		}
	}
}

func TestRunner_MaxFailures(t *testing.T) {
	f := newFleet(t, "unique", 40)
	for _, id := range f.ids {
		f.mustContent(t, id, "dup", "dup")
	}
	rep := f.mustRun(t, fleet.Options{Concurrency: 2, Canary: 0, MaxFailures: 3})
	// More than 3 failed, so no new tenant started; the ones in flight
	// (at most Concurrency) finished.
	if rep.Status != catalog.RunFailed || rep.Failed < 4 || rep.Failed > 5 || rep.Migrated != 0 || rep.NotStarted != 40-rep.Failed {
		t.Fatalf("report = %+v", rep)
	}
	if !strings.Contains(rep.Error, "max-failures") {
		t.Errorf("error = %q", rep.Error)
	}
}

func TestRunner_DirtyAndForce(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, "notx", 10)
	bad := []string{f.ids[2], f.ids[5], f.ids[7]}
	for _, id := range bad {
		f.mustContent(t, id, "dup", "dup")
	}
	rep := f.mustRun(t, fleet.Options{Concurrency: 2, MaxFailures: 10})
	checkCounts(t, rep, catalog.RunFailed, 7, 0, 3, 0)
	for _, fl := range rep.Failures {
		if !fl.Dirty || fl.Version != v2 {
			t.Errorf("failure %+v: a failed no-transaction step leaves the tenant dirty at its version", fl)
		}
	}
	// A dirty tenant is not served...
	if _, _, err := f.store.Acquire(ctx, bad[0]); condo.ErrorReason(err) != "tenant_migrating" {
		t.Errorf("acquire a dirty tenant: %v, want tenant_migrating", err)
	}
	// ...nor attempted again: it is reported until forced.
	rep = f.mustRun(t, fleet.Options{Concurrency: 2, MaxFailures: 0})
	checkCounts(t, rep, catalog.RunFailed, 0, 7, 3, 0)

	// Fix one by hand (drop the duplicate, then do what the step does) and
	// force it to the new version; force another back to the old one.
	db, err := sqlitedb.Open(filepath.Join(f.DataDir, "tenants", bad[0], "tenant.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.Exec("DELETE FROM content WHERE rowid = (SELECT max(rowid) FROM content); CREATE UNIQUE INDEX content_unique_title ON content (collection_id, title)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := f.store.Force(ctx, bad[0], v2); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Force(ctx, bad[1], base); err != nil {
		t.Fatal(err)
	}
	for _, id := range bad[:2] {
		ten, _ := f.Catalog.Lookup(ctx, id)
		if _, dirty := f.diskVersion(t, id); dirty || ten.Schema.Dirty || ten.Schema.Error != "" {
			t.Errorf("%s after force: disk dirty %v, catalog %+v", id, dirty, ten.Schema)
		}
	}
	if _, release, err := f.store.Acquire(ctx, bad[0]); err != nil {
		t.Errorf("acquire after force: %v", err)
	} else {
		release()
	}
	t.Run("BadForce", func(t *testing.T) {
		for _, tc := range []struct {
			id   string
			v    uint
			code string
		}{{"nobody", 1, condo.ENOTFOUND}, {"Bad_ID", 1, condo.EINVALID}, {bad[2], 50, condo.EINVALID}} {
			if err := f.store.Force(ctx, tc.id, tc.v); condo.ErrorCode(err) != tc.code {
				t.Errorf("Force(%q, %d) = %v, want %s", tc.id, tc.v, err, tc.code)
			}
		}
		if _, dirty := f.diskVersion(t, bad[2]); !dirty {
			t.Errorf("a refused force changed %s", bad[2])
		}
	})
}

func TestRunner_DryRun(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, "unique", 20)
	bad := map[string]bool{}
	for i, id := range f.ids {
		if i%7 == 3 {
			f.mustContent(t, id, "dup", "dup")
			bad[id] = true
		} else {
			f.mustContent(t, id, "a", "b")
		}
	}
	rep := f.mustRun(t, fleet.Options{DryRun: true, Sample: 20, Concurrency: 2})
	if !rep.DryRun || rep.Status != catalog.RunFailed || len(rep.Samples) != 20 || rep.Failed != len(bad) || rep.Queued != 20 {
		t.Fatalf("dry run report = %+v", rep)
	}
	for _, s := range rep.Samples {
		if s.OK == bad[s.TenantID] || (!s.OK && !strings.Contains(s.Error, "UNIQUE")) {
			t.Errorf("sample %+v: bad tenant = %v", s, bad[s.TenantID])
		}
	}
	// Nothing changed: files, catalog, runs, target.
	for _, id := range f.ids {
		if v, _ := f.diskVersion(t, id); v != base {
			t.Errorf("%s at version %d after a dry run, want %d", id, v, base)
		}
	}
	st, err := f.runner.Status(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Runs) != 0 || st.Target != nil || st.ProblemCount != 0 || st.Versions[0].Version != base {
		t.Errorf("status after a dry run = %+v", st)
	}

	t.Run("SmallSample", func(t *testing.T) {
		rep := f.mustRun(t, fleet.Options{DryRun: true, Sample: 3})
		if len(rep.Samples) != 3 || rep.Queued != 20 {
			t.Errorf("samples = %d, queued %d; want 3 of 20", len(rep.Samples), rep.Queued)
		}
	})
}

func TestRunner_BadOptions(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, "wordcount", 3)
	for _, tc := range []struct {
		name string
		opt  fleet.Options
	}{
		{"AboveLatest", fleet.Options{Target: 999}},
		{"UnknownVersion", fleet.Options{Target: 50}},
		{"DownToZero", fleet.Options{Direction: fleet.Down}},
		{"Direction", fleet.Options{Direction: "sideways"}},
		{"NegativeConcurrency", fleet.Options{Concurrency: -1}},
		{"NegativeCanary", fleet.Options{Canary: -1}},
		{"NegativeMaxFailures", fleet.Options{MaxFailures: -2}},
		{"NegativeSample", fleet.Options{DryRun: true, Sample: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.runner.Run(ctx, tc.opt); condo.ErrorCode(err) != condo.EINVALID {
				t.Errorf("Run(%+v) = %v, want %s", tc.opt, err, condo.EINVALID)
			}
		})
	}
	st, err := f.runner.Status(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Runs) != 0 || st.Target != nil || st.Versions[0].Version != base {
		t.Errorf("bad options changed something: %+v", st)
	}
}

func TestRunner_OneAtATime(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, "wordcount", 5)
	run, err := f.runner.Start(ctx, fleet.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.runner.Start(ctx, fleet.Options{}); condo.ErrorReason(err) != "run_in_progress" {
		t.Fatalf("second Start = %v, want run_in_progress", err)
	}
	rep, err := run.Execute(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("Execute = %+v, %v", rep, err)
	}
	if _, err := f.runner.Start(ctx, fleet.Options{Direction: fleet.Down, Target: base}); err != nil {
		t.Errorf("Start after the first finished: %v", err)
	}
}

func TestRunner_Interrupted(t *testing.T) {
	f := newFleet(t, "wordcount", 8)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := f.runner.Run(ctx, fleet.Options{Concurrency: 1, Progress: func(p fleet.Progress) {
		if p.Done == 2 {
			cancel() // the way SIGINT stops `condo migrate up`
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, rep, catalog.RunInterrupted, 2, 0, 0, 6)
	for _, id := range f.ids {
		v, dirty := f.diskVersion(t, id)
		ten, err := f.Catalog.Lookup(context.Background(), id)
		if err != nil || dirty || ten.Schema.Dirty || ten.Schema.Version != v || ten.Schema.Error != "" {
			t.Errorf("%s: disk %d dirty %v, catalog %+v (%v)", id, v, dirty, ten.Schema, err)
		}
	}
	rep = f.mustRun(t, fleet.Options{Concurrency: 2})
	checkCounts(t, rep, catalog.RunSucceeded, 6, 2, 0, 0)
}

// returns runs fn and fails the test if it does not return: the guard
// against a spinning migration (never a measure of speed).
func returns(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not return: it spins", what)
	}
}

// A binary whose latest version is below the fleet's (an older one, after
// a newer one migrated) refuses every run at once, up, down and dry, and a
// tenant's own migration too, instead of spinning.
func TestRunner_SchemaAhead(t *testing.T) {
	ctx := context.Background()
	f := newFleet(t, "wordcount", 4)
	checkCounts(t, f.mustRun(t, fleet.Options{}), catalog.RunSucceeded, 4, 0, 0, 0)
	older := tenantstore.New(f.Catalog, tenantstore.Config{DataDir: f.DataDir, PoolSize: 4}) // the embedded set: latest is base
	t.Cleanup(func() { older.Close(context.Background()) })
	runner := fleet.New(f.Catalog, older, nil)

	for _, opt := range []fleet.Options{
		{},
		{Direction: fleet.Down, Target: base},
		{Direction: fleet.Down, Target: 1},
		{DryRun: true},
	} {
		var err error
		returns(t, fmt.Sprintf("Run(%+v)", opt), func() { _, err = runner.Run(ctx, opt) })
		if condo.ErrorReason(err) != "schema_ahead" || !strings.Contains(condo.ErrorMessage(err), fmt.Sprintf("version %d, ahead of this binary's latest tenant migration (%d)", v2, base)) {
			t.Errorf("Run(%+v) = %v, want schema_ahead naming %d and %d", opt, err, v2, base)
		}
	}
	runs, err := f.Catalog.Runs(ctx, 10)
	if err != nil || len(runs) != 1 {
		t.Errorf("runs = %d (%v), want only the first, up", len(runs), err)
	}
	if _, ok, _ := f.Catalog.SchemaTarget(ctx); ok {
		t.Error("a refused run set the fleet's target")
	}

	// The catalog may not know (it says base, as after a crash before the
	// record): the tenant's own migration reads the file and refuses.
	if err := f.Catalog.SetSchemaState(ctx, f.ids[0], catalog.SchemaState{Version: base}); err != nil {
		t.Fatal(err)
	}
	var from uint
	returns(t, "Migrate", func() { from, err = older.Migrate(ctx, f.ids[0], base) })
	var me *tenantstore.MigrationError
	if !errors.As(err, &me) || condo.ErrorReason(err) != "schema_ahead" || from != v2 || me.Dirty {
		t.Errorf("Migrate = %d, %v; want %d and a clean schema_ahead", from, err, v2)
	}
	if v, dirty := f.diskVersion(t, f.ids[0]); v != v2 || dirty {
		t.Errorf("disk %d dirty %v, want %d untouched", v, dirty, v2)
	}
	if ten, err := f.Catalog.Lookup(ctx, f.ids[0]); err != nil || ten.Schema.Version != v2 || ten.Schema.Error != "" {
		t.Errorf("catalog %+v (%v), want corrected to %d without an error", ten.Schema, err, v2)
	}
}

// A run stopped mid-way (SIGINT cancels its context) while several
// tenants are in flight records counts that match its tenants: as many
// migrated as the catalog (and the disk) hold at the target.
func TestRunner_InterruptedCounts(t *testing.T) {
	f := newFleet(t, "slow", 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, err := f.runner.Run(ctx, fleet.Options{Concurrency: 4, Progress: func(p fleet.Progress) {
		if p.Done == 2 {
			cancel()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	bg := context.Background()
	rec, err := f.Catalog.Run(bg, rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	migrated := 0
	for _, id := range f.ids {
		v, dirty := f.diskVersion(t, id)
		ten, err := f.Catalog.Lookup(bg, id)
		if err != nil || dirty || ten.Schema.Version != v || ten.Schema.Dirty {
			t.Errorf("%s: disk %d dirty %v, catalog %+v (%v)", id, v, dirty, ten.Schema, err)
		}
		if v == v2 {
			migrated++
		}
	}
	if rec.Status != catalog.RunInterrupted || rec.Migrated != migrated || rec.Skipped != 0 || rec.Failed != 0 {
		t.Errorf("run record: %s migrated %d skipped %d failed %d; %d tenants are at the target", rec.Status, rec.Migrated, rec.Skipped, rec.Failed, migrated)
	}
	if rep.Migrated != rec.Migrated || rep.NotStarted != len(f.ids)-migrated {
		t.Errorf("report: migrated %d, not started %d; want %d, %d", rep.Migrated, rep.NotStarted, rec.Migrated, len(f.ids)-migrated)
	}
	// The next run finishes exactly the rest.
	rep = f.mustRun(t, fleet.Options{Concurrency: 4})
	checkCounts(t, rep, catalog.RunSucceeded, len(f.ids)-migrated, migrated, 0, 0)
}
