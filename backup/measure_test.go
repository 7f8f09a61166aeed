package backup_test

// The measurements of docs/PERFORMANCE.md. They run in the suite at a
// small size, where they check only that every write reached the store;
// the environment variables make them the measurements:
//
//	CONDO_BACKUP_LAG_SECONDS=30 go test -run TestMeasure_Lag -v ./backup/
//	CONDO_BACKUP_TENANTS=10000 CONDO_BACKUP_WRITTEN=100 CONDO_BACKUP_CPU_SECONDS=20 go test -run TestMeasure_CPU -v ./backup/
//	CONDO_BACKUP_RESTORE_MB=100 go test -run TestMeasure_Restore -v ./backup/

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/backup/backuptest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// measureSetup is setup at the production monitor interval (1 s).
func measureSetup(t *testing.T, url string, pool int) (*tenantstoretest.Env, *backup.Replicator) {
	t.Helper()
	rep, err := backup.New(backup.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{Backups: rep, PoolSize: pool})
	t.Cleanup(func() { rep.Close(context.Background()) })
	return env, rep
}

type sample struct {
	at            time.Time
	local, remote uint64
}

// TestMeasure_Lag writes 100 rows a second to one tenant replicating to
// a real S3 server and reports the lag of each write: from its commit to
// the first moment the store holds a Litestream transaction that
// certainly contains it (the second local transaction id begun after the
// commit: a WAL read that began before the commit cannot be the second),
// sampled every 5 ms, so an upper bound.
func TestMeasure_Lag(t *testing.T) {
	secs := envInt("CONDO_BACKUP_LAG_SECONDS", 3)
	s3 := backuptest.StartS3(t)
	env, rep := measureSetup(t, s3.URL("lag"), 0)
	env.MustCreate(t, "busy")
	ctx := context.Background()
	h, release, err := env.Store.Acquire(ctx, "busy")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	h.Writer().Exec(`CREATE TABLE notes (body TEXT)`)

	var mu sync.Mutex
	var samples []sample
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			st := rep.Status("busy")
			mu.Lock()
			samples = append(samples, sample{time.Now(), st.LocalTXID, st.RemoteTXID})
			mu.Unlock()
		}
	}()
	var commits []time.Time
	tick := time.NewTicker(10 * time.Millisecond)
	for end := time.Now().Add(time.Duration(secs) * time.Second); time.Now().Before(end); <-tick.C {
		if _, err := h.Writer().Exec(`INSERT INTO notes VALUES (randomblob(200))`); err != nil {
			t.Fatal(err)
		}
		commits = append(commits, time.Now())
	}
	tick.Stop()
	// Wait for the store to take the last of them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := rep.Status("busy")
		if st.LocalTXID > 0 && st.RemoteTXID == st.LocalTXID && time.Since(commits[len(commits)-1]) > 3*time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store never caught up: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	<-done
	var lags []time.Duration
	for _, c := range commits {
		var base uint64
		var target uint64
		var reached time.Time
		final := samples[len(samples)-1].local // holds every write
		for _, s := range samples {
			if target == 0 && s.local == final && !s.at.Before(c) {
				target = final // the last writes: no second transaction began after them
			}
			if s.at.Before(c) {
				base = s.local
				continue
			}
			if target == 0 && s.local >= base+2 {
				target = s.local
			}
			if target != 0 && s.remote >= target {
				reached = s.at
				break
			}
		}
		if reached.IsZero() {
			t.Fatalf("a write never reached the store (%d samples)", len(samples))
		}
		lags = append(lags, reached.Sub(c))
	}
	slices.Sort(lags)
	q := func(p float64) time.Duration { return lags[int(p*float64(len(lags)-1))] }
	t.Logf("backup lag over %d writes at 100/s: p50 %v, p99 %v, max %v", len(lags), q(.5), q(.99), lags[len(lags)-1])
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestMeasure_CPU provisions many tenants, writes one row a second to
// some of them, and reports the process's CPU over the window with the
// replicator on, and the same writes with it off: the difference is the
// replicator's.
func TestMeasure_CPU(t *testing.T) {
	tenants := envInt("CONDO_BACKUP_TENANTS", 50)
	written := envInt("CONDO_BACKUP_WRITTEN", 5)
	secs := envInt("CONDO_BACKUP_CPU_SECONDS", 3)
	run := func(replicate bool) time.Duration {
		var env *tenantstoretest.Env
		var rep *backup.Replicator
		if replicate {
			env, rep = measureSetup(t, "file://"+t.TempDir(), written*2)
		} else {
			env = tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: written * 2})
		}
		ctx := context.Background()
		for i := 0; i < tenants; i++ {
			if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: fmt.Sprintf("t%05d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		write := func(id string) {
			h, release, err := env.Store.Acquire(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			h.Writer().Exec(`CREATE TABLE IF NOT EXISTS notes (body TEXT)`)
			if _, err := h.Writer().Exec(`INSERT INTO notes VALUES (randomblob(200))`); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < written; i++ {
			write(fmt.Sprintf("t%05d", i*(tenants/written)))
		}
		time.Sleep(2 * time.Second) // registrations and first snapshots done
		c0, w0 := cpuTime(), time.Now()
		idle := os.Getenv("CONDO_BACKUP_IDLE") != "" // registered, not written in the window
		for s := 0; s < secs; s++ {
			for i := 0; i < written && !idle; i++ {
				write(fmt.Sprintf("t%05d", i*(tenants/written)))
			}
			time.Sleep(time.Second)
		}
		cpu := cpuTime() - c0
		wall := time.Since(w0)
		if replicate {
			if h := rep.Health(); h.Replicating != written {
				t.Fatalf("replicating %d tenants, want %d", h.Replicating, written)
			}
		}
		t.Logf("replicate=%v: %d tenants, %d written once a second: CPU %v over %v (%.2f%% of one CPU)",
			replicate, tenants, written, cpu.Round(time.Millisecond), wall.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds())
		env.Store.Close(ctx)
		return time.Duration(float64(cpu) / wall.Seconds())
	}
	off := run(false)
	on := run(true)
	file := fileFloor(t, 500)
	t.Logf("replicator: %.2f%% of one CPU; floor: one LTX-like file costs %v of CPU here, and Litestream writes two a sync "+
		"(its local L0 file, the replica's copy): %d syncs a second cost %.2f%% at least",
		100*(on-off).Seconds(), file.Round(time.Microsecond), written, 100*2*float64(written)*file.Seconds())
}

// fileFloor is the CPU of writing one file as Litestream writes an LTX
// file (the directory made if missing, the file created, written, synced,
// closed and renamed into place, the directory synced): the floor of a
// sync that makes one, on this machine's file system and kernel.
func fileFloor(t *testing.T, n int) time.Duration {
	dir := filepath.Join(t.TempDir(), "ltx", "0000")
	page := make([]byte, 4200) // one page and the LTX header and trailer
	c0 := cpuTime()
	for i := range n {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%016x.ltx", i))
		f, err := os.OpenFile(p+".tmp", os.O_CREATE|os.O_RDWR|os.O_TRUNC, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(page)
		f.Sync()
		f.Close()
		os.Rename(p+".tmp", p)
		d, err := os.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		d.Sync()
		d.Close()
	}
	return (cpuTime() - c0) / time.Duration(n)
}

// TestMeasure_Restore fills a tenant with N MB, replicates it to a real
// S3 server and times its restore from there.
func TestMeasure_Restore(t *testing.T) {
	mb := envInt("CONDO_BACKUP_RESTORE_MB", 4)
	s3 := backuptest.StartS3(t)
	env, rep := measureSetup(t, s3.URL("restore"), 0)
	env.MustCreate(t, "big")
	ctx := context.Background()
	h, release, err := env.Store.Acquire(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	h.Writer().Exec(`CREATE TABLE blobs (body BLOB)`)
	for i := 0; i < mb*4; i++ {
		if _, err := h.Writer().Exec(`INSERT INTO blobs VALUES (randomblob(262144))`); err != nil {
			t.Fatal(err)
		}
	}
	release()
	if ok, err := rep.Sync(ctx, "big"); !ok || err != nil {
		t.Fatalf("sync: %v %v", ok, err)
	}
	out := filepath.Join(t.TempDir(), "restored.db")
	t0 := time.Now()
	if err := rep.RestoreTo(ctx, "big", out, time.Time{}); err != nil {
		t.Fatal(err)
	}
	d := time.Since(t0)
	fi, _ := os.Stat(out)
	t.Logf("restore of a %d MB tenant from S3 (gofakes3 on loopback): %v", fi.Size()>>20, d.Round(time.Millisecond))
}
