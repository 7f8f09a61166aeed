package catalog_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
)

// Track records a job's start and end: succeeded, failed with the
// error, failed when the operation panics.
func TestTrack(t *testing.T) {
	ctx := catalog.WithActor(context.Background(), "admin:ops@example.com")
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	var during catalog.LifecycleJob
	err := c.Track(ctx, catalog.JobArchive, "acme", func(ctx context.Context, j *catalog.TrackedJob) error {
		j.Progress(ctx, "halfway")
		jobs, _ := c.LifecycleJobs(ctx, "", "", 1)
		during = jobs[0]
		return nil
	})
	if err != nil || during.State != catalog.JobRunning || during.Progress != "halfway" || during.Actor != "admin:ops@example.com" || during.FinishedAt != nil {
		t.Fatalf("while running: %+v %v", during, err)
	}
	boom := errors.New("disk full")
	if err := c.Track(ctx, catalog.JobRestore, "acme", func(context.Context, *catalog.TrackedJob) error { return boom }); err != boom {
		t.Fatalf("error: %v", err)
	}
	func() {
		defer func() { recover() }()
		c.Track(ctx, catalog.JobDelete, "acme", func(context.Context, *catalog.TrackedJob) error { panic("bug") })
	}()
	jobs, err := c.LifecycleJobs(ctx, "", "acme", 10)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("jobs: %+v %v", jobs, err)
	}
	want := []struct{ kind, state, err string }{
		{catalog.JobDelete, catalog.JobFailed, "panicked"},
		{catalog.JobRestore, catalog.JobFailed, "disk full"},
		{catalog.JobArchive, catalog.JobSucceeded, ""},
	}
	for i, w := range want {
		j := jobs[i]
		if j.Kind != w.kind || j.State != w.state || !strings.Contains(j.Error, w.err) || (w.err == "") != (j.Error == "") || j.FinishedAt == nil {
			t.Errorf("job %d: %+v, want %+v", i, j, w)
		}
	}
}

// A job whose process is killed (SIGKILL) while it runs stays running
// until InterruptStaleJobs, which marks it interrupted; a live job is
// left alone.
func TestTrack_InterruptedAfterKill(t *testing.T) {
	if dir := os.Getenv("CONDO_TEST_TRACK_CHILD"); dir != "" {
		c, err := catalog.Open(context.Background(), dir, catalog.Config{})
		if err != nil {
			os.Exit(2)
		}
		c.Track(context.Background(), catalog.JobArchive, "acme", func(context.Context, *catalog.TrackedJob) error {
			time.Sleep(time.Hour) // killed here
			return nil
		})
		os.Exit(3)
	}
	dir := t.TempDir()
	c := mustOpen(t, dir, catalog.Config{})
	child := exec.Command(os.Args[0], "-test.run=^TestTrack_InterruptedAfterKill$")
	child.Env = append(os.Environ(), "CONDO_TEST_TRACK_CHILD="+dir)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if jobs, _ := c.LifecycleJobs(ctx, "", "", 1); len(jobs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatal("the child recorded no job")
		}
	}
	// While it lives, it is running.
	if n, err := c.InterruptStaleJobs(ctx); n != 0 || err != nil {
		t.Fatalf("a live job was interrupted: %d %v", n, err)
	}
	child.Process.Kill()
	child.Wait()
	if n, err := c.InterruptStaleJobs(ctx); n != 1 || err != nil {
		t.Fatalf("interrupted %d %v, want 1", n, err)
	}
	jobs, err := c.FindJobs(ctx, catalog.JobFilter{Kind: catalog.JobArchive})
	if err != nil || len(jobs) != 1 || jobs[0].State != catalog.JobInterrupted || !strings.Contains(jobs[0].Error, "stopped before it ended") || jobs[0].FinishedAt == nil {
		t.Fatalf("after the kill: %+v %v", jobs, err)
	}
}

// PruneJobs deletes finished jobs older than the cutoff and keeps newer
// ones and running ones, however old.
func TestPruneJobs(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	c.Track(ctx, catalog.JobArchive, "old", func(context.Context, *catalog.TrackedJob) error { return nil })
	done := make(chan struct{})
	started := make(chan struct{})
	go c.Track(ctx, catalog.JobRestore, "running", func(context.Context, *catalog.TrackedJob) error {
		close(started)
		<-done
		return nil
	})
	<-started
	defer close(done)
	if n, err := c.PruneJobs(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("prune before an hour ago: %d %v, want nothing", n, err)
	}
	if n, err := c.PruneJobs(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("prune up to now: %d %v, want the finished job", n, err)
	}
	jobs, err := c.LifecycleJobs(ctx, "", "", 10)
	if err != nil || len(jobs) != 1 || jobs[0].TenantID != "running" {
		t.Fatalf("left: %+v %v, want the running job", jobs, err)
	}
}

// A running job of another host is interrupted once its heartbeat is
// JobBeatTimeout old (a host that never comes back), not before; if its
// process was alive after all, its end is still recorded.
func TestInterruptStaleJobs_OtherHost(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	now := time.Now()
	insert := func(id string, beat time.Time) {
		_, err := c.LocalDB().Writer().ExecContext(ctx, `INSERT INTO lifecycle_jobs (id, kind, tenant_id, state, actor, started_at,
			beat_at, owner_pid, owner_host, owner_token) VALUES (?, 'archive', 'acme', 'running', 'cli', ?, ?, 1, 'a-host-gone-for-good', 'tok')`,
			id, now.Add(-time.Hour).UnixMilli(), beat.UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
	}
	insert("silent", now.Add(-catalog.JobBeatTimeout-time.Minute))
	insert("beating", now.Add(-catalog.DefaultJobBeatEvery))
	if n, err := c.InterruptStaleJobs(ctx); err != nil || n != 1 {
		t.Fatalf("interrupted %d %v, want the silent one", n, err)
	}
	jobs, err := c.LifecycleJobs(ctx, "", "acme", 10)
	if err != nil || len(jobs) != 2 {
		t.Fatal(jobs, err)
	}
	for _, j := range jobs {
		want := map[string]string{"silent": catalog.JobInterrupted, "beating": catalog.JobRunning}[j.ID]
		if j.State != want || j.ID == "silent" && !strings.Contains(j.Error, "no heartbeat") {
			t.Errorf("%s: %s %q, want %s", j.ID, j.State, j.Error, want)
		}
	}
	// A job marked interrupted while its process still ran (its beats
	// did not reach the catalog) records its real end.
	c.Track(ctx, catalog.JobRestore, "late", func(ctx context.Context, j *catalog.TrackedJob) error {
		_, err := c.LocalDB().Writer().ExecContext(ctx, "UPDATE lifecycle_jobs SET state = 'interrupted' WHERE id = ?", j.ID())
		return err
	})
	if jobs, err := c.LifecycleJobs(ctx, "", "late", 1); err != nil || len(jobs) != 1 || jobs[0].State != catalog.JobSucceeded {
		t.Fatalf("a job interrupted by mistake: %+v %v, want its real end", jobs, err)
	}
}

// A job's heartbeat is written while its operation runs.
func TestTrack_Beats(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{JobBeatEvery: 10 * time.Millisecond})
	c.Track(ctx, catalog.JobArchive, "acme", func(ctx context.Context, _ *catalog.TrackedJob) error {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if jobs, _ := c.LifecycleJobs(ctx, "", "acme", 1); len(jobs) == 1 && jobs[0].BeatAt != nil {
				return nil // beaten while running
			}
		}
		return nil
	})
	jobs, err := c.LifecycleJobs(ctx, "", "acme", 1)
	if err != nil || len(jobs) != 1 || jobs[0].BeatAt == nil || jobs[0].State != catalog.JobSucceeded {
		t.Fatalf("%+v %v, want a beat and the end", jobs, err)
	}
}
