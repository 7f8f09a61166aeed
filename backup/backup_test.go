package backup_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/backup/backuptest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// setup opens a data directory whose store replicates to url.
func setup(t *testing.T, url string, logs *bytes.Buffer) (*tenantstoretest.Env, *backup.Replicator) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, nil))
	}
	rep, err := backup.New(backup.Config{URL: url, Logger: log, MonitorInterval: 100 * time.Millisecond,
		LagAlert: time.Second, CloseSync: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{Backups: rep})
	t.Cleanup(func() { rep.Close(context.Background()) }) // after the store's Close (cleanups run last first)
	return env, rep
}

// write inserts n rows into tenant id's notes table.
func write(t *testing.T, env *tenantstoretest.Env, id string, from, n int) {
	t.Helper()
	ctx := context.Background()
	h, release, err := env.Store.Acquire(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := h.Writer().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)`); err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		if _, err := h.Writer().ExecContext(ctx, `INSERT INTO notes (id, body) VALUES (?, ?)`, i, fmt.Sprintf("note %d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitSynced waits until tenant id's replica has caught up with its writes.
func waitSynced(t *testing.T, rep *backup.Replicator, id string) backup.Status {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := rep.Status(id)
		if st.Replicating && st.LocalTXID > 0 && st.RemoteTXID == st.LocalTXID {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant %s never replicated: %+v", id, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// closeHandle takes the tenant out of service and back: its handle closes.
func closeHandle(t *testing.T, env *tenantstoretest.Env, id string) {
	t.Helper()
	handBack, _, err := env.Store.TakeOut(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	handBack()
}

func TestReplicate_RestoreVerify(t *testing.T) {
	for _, kind := range []string{"file", "s3"} {
		t.Run(kind, func(t *testing.T) {
			var url string
			var s3 *backuptest.S3
			if kind == "file" {
				url = "file://" + t.TempDir()
			} else {
				s3 = backuptest.StartS3(t)
				url = s3.URL("prod")
			}
			var logs bytes.Buffer
			env, rep := setup(t, url, &logs)
			defer func() {
				if t.Failed() {
					t.Log(logs.String())
				}
			}()
			ctx := context.Background()
			env.MustCreate(t, "acme", "idle")
			if st := rep.Status("idle"); st.Replicating {
				t.Fatalf("a tenant never written is replicating: %+v", st)
			}
			write(t, env, "acme", 0, 50)
			waitSynced(t, rep, "acme")
			// Only written tenants are registered: reading one is not enough.
			h, release, err := env.Store.Acquire(ctx, "idle")
			if err != nil {
				t.Fatal(err)
			}
			var n int
			h.Reader().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&n)
			release()
			time.Sleep(300 * time.Millisecond)
			if st := rep.Status("idle"); st.Replicating {
				t.Fatalf("a tenant only read is replicating: %+v", st)
			}

			time.Sleep(1100 * time.Millisecond) // S3 timestamps have whole seconds
			mid := time.Now()
			time.Sleep(1100 * time.Millisecond)
			write(t, env, "acme", 50, 25)
			// The final sync on close: the last writes reach the store
			// without waiting for the monitor.
			closeHandle(t, env, "acme")
			if st := rep.Status("acme"); st.Replicating || st.LastSync == nil || st.LagSeconds != 0 {
				t.Fatalf("after close: %+v", st)
			}

			pts, err := rep.List(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if pts.Earliest == nil || pts.MaxTXID == 0 || len(pts.Levels) == 0 {
				t.Fatalf("restore points: %+v", pts)
			}
			if _, err := rep.List(ctx, "idle"); err != nil {
				t.Fatal(err)
			}

			v, err := backup.Verify(ctx, rep, env.Store, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if !v.OK {
				t.Fatalf("verify: %+v", v)
			}

			// Latest: all 75 rows; at mid: the first 50.
			out := filepath.Join(t.TempDir(), "latest.db")
			if err := rep.RestoreTo(ctx, "acme", out, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if got := rows(t, out); got != 75 {
				t.Fatalf("latest restore has %d rows, want 75", got)
			}
			res, err := backup.RestoreTenant(ctx, rep, env.Catalog, env.Store, "acme", mid)
			if err != nil {
				t.Fatal(err)
			}
			if res.Kept == "" {
				t.Fatal("the state before the restore was not kept")
			}
			if got := rows(t, filepath.Join(res.Kept, "tenant.db")); got != 75 {
				t.Fatalf("kept copy has %d rows, want 75", got)
			}
			if got := liveRows(t, env, "acme"); got != 50 {
				t.Fatalf("restored to %s: %d rows, want 50", mid.Format(time.RFC3339Nano), got)
			}
			// It keeps replicating after the restore, and verifies.
			write(t, env, "acme", 1000, 5)
			waitSynced(t, rep, "acme")
			if v, err := backup.Verify(ctx, rep, env.Store, "acme"); err != nil || !v.OK {
				t.Fatalf("verify after restore: %+v %v", v, err)
			}

			// Bad input: a time before any backup; a tenant with none.
			if _, err := backup.RestoreTenant(ctx, rep, env.Catalog, env.Store, "acme", time.Unix(1000, 0)); condo.ErrorCode(err) != condo.EINVALID {
				t.Fatalf("restore before the first backup: %v", err)
			}
			if _, err := backup.RestoreTenant(ctx, rep, env.Catalog, env.Store, "idle", time.Time{}); condo.ErrorCode(err) != condo.ENOTFOUND {
				t.Fatalf("restore of a tenant without backups: %v", err)
			}
			// Each restore is a job: the first succeeded, the last two failed.
			jobs, err := env.Catalog.LifecycleJobs(ctx, catalog.JobRestoreBackup, "", 10)
			if err != nil || len(jobs) != 3 || jobs[2].State != catalog.JobSucceeded || jobs[2].TenantID != "acme" ||
				jobs[1].State != catalog.JobFailed || jobs[0].State != catalog.JobFailed || !strings.Contains(jobs[0].Error, "no backup of tenant idle") {
				t.Fatalf("restore_backup jobs: %+v %v", jobs, err)
			}

			// Erase leaves nothing of the tenant in the store.
			closeHandle(t, env, "acme")
			if err := rep.Erase(ctx, "acme"); err != nil {
				t.Fatal(err)
			}
			if s3 != nil {
				if keys := s3.Keys(t, "prod/acme/"); len(keys) > 0 {
					t.Fatalf("left in the bucket: %v", keys)
				}
			} else {
				dir := strings.TrimPrefix(url, "file://")
				if _, err := os.Stat(filepath.Join(dir, "acme")); err == nil {
					entries := walk(t, filepath.Join(dir, "acme"))
					if len(entries) > 0 {
						t.Fatalf("left in the replica directory: %v", entries)
					}
				}
			}
			if strings.Contains(logs.String(), "test-secret-never-logged") {
				t.Fatal("a log line holds the secret key")
			}
		})
	}
}

func TestUnreachableStore(t *testing.T) {
	s3 := backuptest.StartS3(t)
	url := s3.URL("prod")
	s3.Server.Close() // nothing answers at its address any more
	var logs bytes.Buffer
	env, rep := setup(t, url, &logs)
	env.MustCreate(t, "acme")
	write(t, env, "acme", 0, 20) // writes keep working
	deadline := time.Now().Add(20 * time.Second)
	for !rep.Health().Degraded {
		if time.Now().After(deadline) {
			t.Fatalf("never degraded: %+v %+v", rep.Health(), rep.Status("acme"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st := rep.Status("acme"); st.LagSeconds <= 0 {
		t.Fatalf("no lag reported: %+v", st)
	}
	write(t, env, "acme", 20, 20)
	if got := liveRows(t, env, "acme"); got != 40 {
		t.Fatalf("%d rows, want 40", got)
	}
	// A close with the store down keeps the lag on record.
	closeHandle(t, env, "acme")
	if st := rep.Status("acme"); st.LagSeconds <= 0 {
		t.Fatalf("after a failed final sync: %+v", st)
	}
	if strings.Contains(logs.String(), "test-secret-never-logged") {
		t.Fatal("a log line holds the secret key")
	}
}

func walk(t *testing.T, dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}
