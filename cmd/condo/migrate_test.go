package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/fleet"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/migrations/migrationstest"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

const v2 = migrationstest.Version

// base is the embedded tenant set's latest version: where tenants are
// provisioned, and where a down migration of the test step ends.
var base = migrationstest.Base

// provision creates tenants at the embedded schema in a data directory,
// in-process, and closes everything again.
func provision(t *testing.T, data string, n int) []string {
	t.Helper()
	ctx := context.Background()
	cat, err := catalog.Open(ctx, data, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	st := tenantstore.New(cat, tenantstore.Config{DataDir: data, PoolSize: 1})
	defer st.Close(ctx)
	var ids []string
	for i := range n {
		id := fmt.Sprintf("t%03d", i)
		if _, err := st.Create(ctx, catalog.NewTenant{ID: id}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func tenantDB(t *testing.T, data, id string) *sqlitedb.DB {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(data, "tenants", id, "tenant.db"), sqlitedb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// addDuplicates gives a tenant two items with one title, which the
// "unique" test migration refuses.
func addDuplicates(t *testing.T, data, id string) {
	t.Helper()
	db := tenantDB(t, data, id)
	defer db.Close()
	_, err := db.Write.Exec(`INSERT INTO collections (id, name, display_name, created_at, updated_at) VALUES ('posts', 'posts', 'Posts', 0, 0);
		INSERT INTO content (id, collection_id, slug, title, created_at, updated_at) VALUES ('1', 'posts', 'a', 'same', 0, 0), ('2', 'posts', 'b', 'same', 0, 0)`)
	if err != nil {
		t.Fatal(err)
	}
}

func diskVersion(t *testing.T, data, id string) (uint, bool) {
	t.Helper()
	db := tenantDB(t, data, id)
	defer db.Close()
	v, dirty, err := migrations.Version(context.Background(), db.Read)
	if err != nil {
		t.Fatal(err)
	}
	return v, dirty
}

// fleetState reads where every tenant stands, in the catalog and on disk.
type fleetState struct {
	status *catalog.SchemaStatus
	runs   []catalog.MigrationRun
	target *uint
	tenant map[string]catalog.SchemaTenant
	disk   map[string]uint
	dirty  int
}

func readFleet(t *testing.T, data string) fleetState {
	t.Helper()
	ctx := context.Background()
	cat, err := catalog.Open(ctx, data, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	var s fleetState
	if s.status, err = cat.SchemaStatus(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if s.runs, err = cat.Runs(ctx, 100); err != nil { // raw: no interrupting here
		t.Fatal(err)
	}
	if v, ok, err := cat.SchemaTarget(ctx); err != nil {
		t.Fatal(err)
	} else if ok {
		s.target = &v
	}
	ts, err := cat.SchemaTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.tenant, s.disk = map[string]catalog.SchemaTenant{}, map[string]uint{}
	for _, ten := range ts {
		s.tenant[ten.ID] = ten
		v, dirty := diskVersion(t, data, ten.ID)
		s.disk[ten.ID] = v
		if dirty || ten.Schema.Dirty {
			s.dirty++
		}
	}
	return s
}

// allAt checks every tenant is at v on disk and in the catalog, clean,
// with no migration left pending.
func (s fleetState) allAt(t *testing.T, v uint) {
	t.Helper()
	for id, ten := range s.tenant {
		if s.disk[id] != v || ten.Schema.Version != v || ten.Schema.Dirty || ten.Schema.Error != "" || ten.Pending != nil {
			t.Errorf("%s: disk %d, catalog %+v pending %v; want %d, clean", id, s.disk[id], ten.Schema, ten.Pending, v)
		}
	}
}

// oneLineErr checks a failed command printed one line on stderr.
func oneLineErr(t *testing.T, stderr string) {
	t.Helper()
	if lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "condo: ") {
		t.Errorf("stderr = %q, want one line starting with \"condo: \"", stderr)
	}
}

func TestMigrate_CLI(t *testing.T) {
	data := t.TempDir()
	ids := provision(t, data, 12)
	t.Setenv(EnvTenantMigrations, migrationstest.Dir(t, "wordcount"))

	code, out, errOut := run(t, "", "migrate", "status", "--data", data, "--json")
	var st fleet.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status: %d %q %q", code, out, errOut)
	}
	if st.Latest != v2 || st.Tenants != 12 || len(st.Versions) != 1 || st.Versions[0].Version != base || len(st.Runs) != 0 {
		t.Errorf("status = %+v", st)
	}

	t.Run("DryRun", func(t *testing.T) {
		code, out, errOut := run(t, "", "migrate", "up", "--dry-run", "--sample", "3", "--data", data, "--json")
		var rep fleet.Report
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.DryRun || len(rep.Samples) != 3 || rep.Queued != 12 {
			t.Fatalf("dry run: %d %q %q", code, out, errOut)
		}
		readFleet(t, data).allAt(t, base)
	})
	t.Run("Up", func(t *testing.T) {
		code, out, errOut := run(t, "", "migrate", "up", "--data", data, "--concurrency", "2", "--canary", "3", "--json")
		var rep fleet.Report
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Status != catalog.RunSucceeded || rep.Migrated != 12 {
			t.Fatalf("up: %d %q %q", code, out, errOut)
		}
		// Without a terminal: one line per wave on stderr.
		if !strings.Contains(errOut, "canary wave done: 3/12") || !strings.Contains(errOut, "main wave done: 12/12") {
			t.Errorf("progress = %q", errOut)
		}
		readFleet(t, data).allAt(t, v2)
	})
	t.Run("JobsList", func(t *testing.T) {
		code, out, _ := run(t, "", "jobs", "list", "--data", data)
		if code != 0 || !strings.Contains(out, "migration") || !strings.Contains(out, "12 of 12 tenants (12 migrated") || !strings.Contains(out, "1 jobs") {
			t.Errorf("jobs list: %d %q", code, out)
		}
	})
	t.Run("StatusHuman", func(t *testing.T) {
		code, out, _ := run(t, "", "migrate", "status", "--data", data)
		if code != 0 || !strings.Contains(out, "latest version 101") || !strings.Contains(out, "succeeded") {
			t.Errorf("status: %d %q", code, out)
		}
	})
	t.Run("Down", func(t *testing.T) {
		code, out, errOut := run(t, "", "migrate", "down", "--to", fmt.Sprint(base), "--data", data)
		if code != 0 || !strings.Contains(out, fmt.Sprintf("migrate down to %d: succeeded", base)) {
			t.Fatalf("down: %d %q %q", code, out, errOut)
		}
		s := readFleet(t, data)
		s.allAt(t, base)
		if s.target == nil || *s.target != base {
			t.Errorf("fleet target = %v, want %d", s.target, base)
		}
	})
	t.Run("Force", func(t *testing.T) {
		// Pretend a hand fix brought one tenant to the new version.
		db := tenantDB(t, data, ids[0])
		if _, err := db.Write.Exec("ALTER TABLE content ADD COLUMN word_count INTEGER NOT NULL DEFAULT 0; CREATE INDEX content_word_count ON content (word_count)"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		code, out, errOut := run(t, "", "migrate", "force", ids[0], "101", "--data", data)
		if code != 0 || !strings.Contains(out, "version 101") {
			t.Fatalf("force: %d %q %q", code, out, errOut)
		}
		s := readFleet(t, data)
		if s.disk[ids[0]] != v2 || s.tenant[ids[0]].Schema.Version != v2 {
			t.Errorf("after force: disk %d catalog %+v", s.disk[ids[0]], s.tenant[ids[0]].Schema)
		}
		code, out, _ = run(t, "", "migrate", "up", "--data", data, "--json")
		var rep fleet.Report
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Migrated != 11 || rep.Skipped != 1 {
			t.Errorf("up after force: %d %q", code, out)
		}
		s = readFleet(t, data)
		s.allAt(t, v2)
		if s.target != nil {
			t.Errorf("fleet target %d left after up to the latest", *s.target)
		}
	})
	t.Run("Create", func(t *testing.T) {
		dir := migrationstest.Dir(t, "wordcount")
		code, out, errOut := run(t, "", "migrate", "create", "add_summary", "--dir", dir)
		if code != 0 {
			t.Fatalf("create: %d %q %q", code, out, errOut)
		}
		for _, name := range []string{"000102_add_summary.up.sql", "000102_add_summary.down.sql"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Errorf("create did not write %s: %v", name, err)
			}
		}
		set, err := migrations.LoadDir(dir, "tenant")
		if err != nil || set.Latest() != 102 {
			t.Errorf("the new pair does not load: %v", err)
		}
		if code, _, _ := run(t, "", "migrate", "create", "add_summary", "--dir", dir); code != 0 {
			t.Errorf("a second migration of the same name: exit %d, want the next number", code)
		}
	})
}

func TestMigrate_Failures(t *testing.T) {
	data := t.TempDir()
	ids := provision(t, data, 10)
	bad := []string{ids[3], ids[8]}
	for _, id := range bad {
		addDuplicates(t, data, id)
	}
	t.Setenv(EnvTenantMigrations, migrationstest.Dir(t, "unique"))

	code, out, errOut := run(t, "", "migrate", "up", "--data", data, "--canary", "0", "--json")
	if code != 1 {
		t.Fatalf("up with failing tenants: exit %d, want 1", code)
	}
	// Progress (one line per wave), then the one-line reason.
	if lines := strings.Split(strings.TrimSpace(errOut), "\n"); lines[len(lines)-1] != "condo: migrate up: 2 tenants failed" {
		t.Errorf("stderr = %q", errOut)
	}
	var rep fleet.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report %q: %v", out, err)
	}
	if rep.Status != catalog.RunFailed || rep.Migrated != 8 || rep.Failed != 2 || len(rep.Failures) != 2 {
		t.Errorf("report = %+v", rep)
	}
	s := readFleet(t, data)
	for _, id := range ids {
		want := uint(v2)
		if id == bad[0] || id == bad[1] {
			want = base
			if s.tenant[id].Schema.Error == "" || s.tenant[id].Schema.Dirty {
				t.Errorf("%s: catalog %+v, want the error recorded, not dirty", id, s.tenant[id].Schema)
			}
		}
		if s.disk[id] != want || s.tenant[id].Schema.Version != want {
			t.Errorf("%s: disk %d catalog %d, want %d", id, s.disk[id], s.tenant[id].Schema.Version, want)
		}
	}
	// The human report names the failures.
	code, out, _ = run(t, "", "migrate", "up", "--data", data, "--canary", "0")
	if code != 1 || !strings.Contains(out, fmt.Sprintf("%s (version %d): ", bad[0], base)) || !strings.Contains(out, "UNIQUE") {
		t.Errorf("human report: %d %q", code, out)
	}
	code, out, _ = run(t, "", "migrate", "status", "--data", data)
	if code != 0 || !strings.Contains(out, "2 tenants need attention") {
		t.Errorf("status: %q", out)
	}

	// Fix the data; a rerun finishes them.
	for _, id := range bad {
		db := tenantDB(t, data, id)
		if _, err := db.Write.Exec("UPDATE content SET title = 'other' WHERE id = '2'"); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	code, out, errOut = run(t, "", "migrate", "up", "--data", data, "--json")
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Migrated != 2 || rep.Skipped != 8 {
		t.Fatalf("rerun after the fix: %d %q %q", code, out, errOut)
	}
	readFleet(t, data).allAt(t, v2)
}

func TestMigrate_BadInput(t *testing.T) {
	data := t.TempDir()
	ids := provision(t, data, 2)
	t.Setenv(EnvTenantMigrations, migrationstest.Dir(t, "wordcount"))
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"AboveLatest", []string{"up", "--to", "999"}, 1},
		{"UnknownVersion", []string{"up", "--to", "50"}, 1},
		{"NotANumber", []string{"up", "--to", "latest"}, 2},
		{"NegativeVersion", []string{"up", "--to", "-1"}, 2},
		{"NegativeConcurrency", []string{"up", "--concurrency", "-1"}, 2},
		{"ZeroConcurrency", []string{"up", "--concurrency", "0"}, 2},
		{"NegativeCanary", []string{"up", "--canary", "-1"}, 2},
		{"NegativeMaxFailures", []string{"up", "--max-failures", "-1"}, 2},
		{"ZeroSample", []string{"up", "--dry-run", "--sample", "0"}, 2},
		{"UnknownFlag", []string{"up", "--fast"}, 2},
		{"Positional", []string{"up", "now"}, 2},
		{"DownWithoutTo", []string{"down"}, 2},
		{"DownToZero", []string{"down", "--to", "0"}, 1},
		{"DownAboveLatest", []string{"down", "--to", "999"}, 1},
		{"ForceMissingArgs", []string{"force", ids[0]}, 2},
		{"ForceBadID", []string{"force", "Bad_ID", "1"}, 1},
		{"ForceUnknownTenant", []string{"force", "nobody", "1"}, 1},
		{"ForceUnknownVersion", []string{"force", ids[0], "999"}, 1},
		{"ForceNotANumber", []string{"force", ids[0], "x"}, 2},
		{"CreateBadName", []string{"create", "Add Column"}, 1},
		{"CreatePath", []string{"create", "../evil"}, 1},
		{"CreateEmpty", []string{"create", ""}, 1},
		{"CreateNoDir", []string{"create", "ok_name", "--dir", filepath.Join(data, "nope")}, 1},
		{"StatusBadRuns", []string{"status", "--runs", "0"}, 2},
		{"UnknownSubcommand", []string{"sideways"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"migrate"}, tc.args...)
			code, _, errOut := run(t, "", append(args, "--data", data)...)
			if code != tc.code {
				t.Errorf("condo %s: exit %d, want %d (%q)", strings.Join(tc.args, " "), code, tc.code, errOut)
			}
			oneLineErr(t, errOut)
		})
	}
	t.Run("BadMigrationsDir", func(t *testing.T) {
		t.Setenv(EnvTenantMigrations, filepath.Join(data, "nope"))
		code, _, errOut := run(t, "", "migrate", "status", "--data", data)
		if code != 1 || !strings.Contains(errOut, EnvTenantMigrations) {
			t.Errorf("exit %d, %q", code, errOut)
		}
		oneLineErr(t, errOut)
	})
	// Nothing changed.
	s := readFleet(t, data)
	s.allAt(t, base)
	if len(s.runs) != 0 || s.target != nil {
		t.Errorf("bad input left runs %+v, target %v", s.runs, s.target)
	}
	if entries, _ := os.ReadDir(filepath.Join("..", "..", "migrations", "tenant")); len(entries) != len(migrations.Tenant().Steps())*2 {
		t.Errorf("a refused create wrote into migrations/tenant")
	}
}

// A real `condo migrate up` process is killed with SIGKILL mid-run; the
// next run finishes every tenant, none is dirty, and the dead run is
// recorded as interrupted.
func TestMigrate_CrashResume(t *testing.T) {
	data := t.TempDir()
	ids := provision(t, data, 24)
	env := append(os.Environ(), EnvTenantMigrations+"="+migrationstest.Dir(t, "slow"))

	cmd := exec.Command(condoBin, "migrate", "up", "--data", data, "--concurrency", "1", "--canary", "0")
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	cat, err := catalog.Open(context.Background(), data, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		st, err := cat.SchemaStatus(context.Background(), 1)
		return err == nil && len(st.Versions) == 2 && st.Versions[1].Tenants >= 3
	})
	cat.Close()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	s := readFleet(t, data)
	if len(s.runs) != 1 || s.runs[0].Status != catalog.RunRunning {
		t.Fatalf("runs after the kill = %+v, want one left running", s.runs)
	}
	done := 0
	for _, id := range ids {
		if s.disk[id] == v2 {
			done++
		}
		if s.tenant[id].Schema.Version != s.disk[id] && s.tenant[id].Pending == nil {
			t.Errorf("%s: catalog says %d, disk %d, and nothing marks it pending", id, s.tenant[id].Schema.Version, s.disk[id])
		}
	}
	if done < 3 || done == len(ids) || s.dirty != 0 {
		t.Fatalf("after the kill: %d of %d migrated, %d dirty; want some but not all, none dirty", done, len(ids), s.dirty)
	}
	// The dead run's counts are the tenants' rows: every tenant the
	// catalog records at the target, and no other, counts as migrated.
	recorded := 0
	for _, id := range ids {
		if s.tenant[id].Schema.Version == v2 && s.tenant[id].Pending == nil {
			recorded++
		}
	}
	if r := s.runs[0]; r.Migrated != recorded || r.Skipped != 0 || r.Failed != 0 {
		t.Errorf("killed run counts migrated %d skipped %d failed %d; the catalog records %d tenants migrated", r.Migrated, r.Skipped, r.Failed, recorded)
	}

	rerun := exec.Command(condoBin, "migrate", "up", "--data", data, "--json")
	rerun.Env = env
	out, err := rerun.Output()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	var rep fleet.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Status != catalog.RunSucceeded || rep.Migrated != len(ids)-done || rep.Skipped != done {
		t.Errorf("rerun: status %s, migrated %d, skipped %d; want succeeded, %d, %d", rep.Status, rep.Migrated, rep.Skipped, len(ids)-done, done)
	}
	s = readFleet(t, data)
	s.allAt(t, v2)
	if len(s.runs) != 2 || s.runs[1].Status != catalog.RunInterrupted || !strings.Contains(s.runs[1].Error, "stopped without finishing") {
		t.Errorf("runs = %+v, want the killed one interrupted", s.runs)
	}
}

// A fleet run by the CLI, in its own process, beside a serving `condo
// serve` whose requests open (and so migrate) the same tenants: no request
// fails, every tenant ends at the target, each migrated once.
func TestMigrate_BesideServer(t *testing.T) {
	data := t.TempDir()
	ids := provision(t, data, 30)
	dir := migrationstest.Dir(t, "wordcount")
	srv := startServer(t, data, EnvTenantMigrations+"="+dir)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for w := range 3 {
		wg.Go(func() {
			for i := w; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("GET", "http://"+srv.addr+"/api/tenant", nil)
				req.Host = ids[i%len(ids)] + ".localhost"
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				res.Body.Close()
				mu.Lock()
				statuses[res.StatusCode]++
				mu.Unlock()
			}
		})
	}
	cmd := exec.Command(condoBin, "migrate", "up", "--data", data, "--concurrency", "2", "--json")
	cmd.Env = append(os.Environ(), EnvTenantMigrations+"="+dir)
	out, err := cmd.Output()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("migrate up beside the server: %v\n%s", err, out)
	}
	var rep fleet.Report
	if err := json.Unmarshal(out, &rep); err != nil || rep.Status != catalog.RunSucceeded || rep.Migrated+rep.Skipped != len(ids)+1 { // and serve's "default"
		t.Fatalf("report = %+v (%v)", rep, err)
	}
	for code, n := range statuses {
		if code != http.StatusOK {
			t.Errorf("%d requests answered %d", n, code)
		}
	}
	readFleet(t, data).allAt(t, v2)
	if errs := strings.Count(srv.logs.String(), "level=ERROR"); errs > 0 {
		t.Errorf("the server logged %d errors:\n%s", errs, srv.logs.String())
	}
}

// The binary before a migration (the embedded set) meets a fleet that a
// newer one (the test set) migrated: `migrate up`, `migrate down --to` its
// latest and a dry run exit at once with one clear line, and change
// nothing. Each runs as a real process under a deadline, so a spin fails.
func TestMigrate_SchemaAhead(t *testing.T) {
	data := t.TempDir()
	provision(t, data, 3)
	newer := append(os.Environ(), EnvTenantMigrations+"="+migrationstest.Dir(t, "wordcount"))
	up := exec.Command(condoBin, "migrate", "up", "--data", data)
	up.Env = newer
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("up with the newer binary: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"migrate", "up"},
		{"migrate", "down", "--to", fmt.Sprint(base)},
		{"migrate", "up", "--dry-run"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // a guard against a spin, not a measure
			defer cancel()
			cmd := exec.CommandContext(ctx, condoBin, append(args, "--data", data)...)
			cmd.Env = append(os.Environ(), EnvTenantMigrations+"=")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("%v did not exit: it spins", args)
			}
			if err == nil {
				t.Fatalf("%v succeeded: %q", args, stdout.String())
			}
			oneLineErr(t, stderr.String())
			if want := fmt.Sprintf("is at schema version %d, ahead of this binary's latest tenant migration (%d)", v2, base); !strings.Contains(stderr.String(), want) ||
				!strings.Contains(stderr.String(), "newer binary") {
				t.Errorf("stderr = %q, want it to say %q and to use the newer binary", stderr.String(), want)
			}
		})
	}
	s := readFleet(t, data)
	s.allAt(t, v2)
	if len(s.runs) != 1 || s.target != nil {
		t.Errorf("runs %d, target %v: want only the newer binary's run and no target", len(s.runs), s.target)
	}
}

// `condo migrate down --to 1` on tenants whose collections have indexed
// and unique fields succeeds on every tenant, and `condo migrate up`
// brings the CMS's indexes back.
func TestMigrate_RollbackWithIndexes(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	ids := provision(t, data, 3)
	cxIndexes := func(id string) string {
		db := tenantDB(t, data, id)
		defer db.Close()
		var s sql.NullString
		db.Read.QueryRow(`SELECT group_concat(name) FROM (SELECT name FROM sqlite_schema WHERE name LIKE 'cx\_%' ESCAPE '\' ORDER BY name)`).Scan(&s)
		return s.String
	}
	for _, id := range ids {
		db := tenantDB(t, data, id)
		st := cms.New(id, db, "")
		col, err := st.CreateCollection(ctx, cms.NewCollection{Name: "products", Schema: json.RawMessage(`{"type": "object", "properties": {
			"sku": {"type": "string", "unique": true}, "price": {"type": "number", "indexed": true},
			"day": {"type": "date", "indexed": true, "unique": true}}}`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: "A", Data: map[string]any{"sku": "A-1", "price": 1, "day": "2026-01-01"}}, ""); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	want := "cx_products__day,cx_products__price,cx_products__sku"
	if got := cxIndexes(ids[0]); got != want {
		t.Fatalf("indexes = %q, want %q", got, want)
	}
	if code, out, errOut := run(t, "", "migrate", "down", "--to", "1", "--data", data); code != 0 {
		t.Fatalf("down to 1: %d %q %q", code, out, errOut)
	}
	readFleet(t, data).allAt(t, 1)
	if code, out, errOut := run(t, "", "migrate", "up", "--data", data); code != 0 {
		t.Fatalf("up: %d %q %q", code, out, errOut)
	}
	readFleet(t, data).allAt(t, base)
	for _, id := range ids {
		if got := cxIndexes(id); got != want {
			t.Errorf("%s: indexes after down and up = %q, want %q", id, got, want)
		}
	}
}
