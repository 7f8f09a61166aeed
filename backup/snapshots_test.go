package backup_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

func TestLocalSnapshots(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	env.MustCreate(t, "busy", "quiet")
	s := &backup.Snapshotter{Store: env.Store, DataDir: env.DataDir, Every: time.Hour, Keep: 2, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	// The first round copies every tenant (none has a snapshot yet).
	if n, err := s.Round(ctx); err != nil || n != 2 {
		t.Fatalf("first round: %d %v", n, err)
	}
	// Then only those written since: three more rounds with writes.
	for i := 0; i < 3; i++ {
		time.Sleep(20 * time.Millisecond) // file times must move past the last snapshot's
		write(t, env, "busy", i*10, 10)
		if n, err := s.Round(ctx); err != nil || n != 1 {
			t.Fatalf("round %d: %d %v", i, n, err)
		}
	}
	if n, err := s.Round(ctx); err != nil || n != 0 {
		t.Fatalf("a round without writes: %d %v", n, err)
	}
	busy, _ := backup.LocalSnapshots(env.DataDir, "busy")
	quiet, _ := backup.LocalSnapshots(env.DataDir, "quiet")
	if len(busy) != 2 || len(quiet) != 1 {
		t.Fatalf("kept %d and %d snapshots, want 2 (Keep) and 1", len(busy), len(quiet))
	}
	if got := rows(t, busy[1].Path); got != 30 {
		t.Fatalf("the newest snapshot has %d rows, want 30", got)
	}
	// Deleting the tenant's files removes its snapshots.
	handBack, _, _ := env.Store.TakeOut(ctx, "busy")
	env.Store.RemoveFiles("busy")
	handBack()
	if busy, _ := backup.LocalSnapshots(env.DataDir, "busy"); len(busy) != 0 {
		t.Fatalf("snapshots left after RemoveFiles: %v", busy)
	}
	if _, err := backup.LocalSnapshots(env.DataDir, "../x"); err == nil {
		t.Fatal("a bad id was accepted")
	}
}

// VerifySnapshots: a snapshot passes while its bytes are those recorded
// when it was taken (checking it changes nothing), fails once a byte
// changes, and one from before checksums were recorded is held to
// SQLite's integrity_check alone.
func TestVerifySnapshots(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	env.MustCreate(t, "acme")
	write(t, env, "acme", 0, 50)
	s := &backup.Snapshotter{Store: env.Store, DataDir: env.DataDir, Every: time.Hour, Logger: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	if n, err := s.Round(ctx); err != nil || n != 1 {
		t.Fatalf("round: %d %v", n, err)
	}
	check := func(want bool, problem string) backup.SnapshotCheck {
		t.Helper()
		got, err := backup.VerifySnapshots(ctx, env.DataDir, "acme")
		if err != nil || len(got) != 1 {
			t.Fatalf("verify: %+v %v", got, err)
		}
		if got[0].OK != want || !strings.Contains(got[0].Problem, problem) {
			t.Fatalf("verify: %+v, want ok %v with a problem saying %q", got[0], want, problem)
		}
		return got[0]
	}
	first := check(true, "")
	if first.Recorded == "" || first.Recorded != first.SHA256 {
		t.Fatalf("recorded %q, now %q", first.Recorded, first.SHA256)
	}
	check(true, "") // a check leaves the file as it was

	snaps, _ := backup.LocalSnapshots(env.DataDir, "acme")
	path := snaps[0].Path
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), b...)
	flipped[len(flipped)-100] ^= 0xff
	os.WriteFile(path, flipped, 0o640)
	check(false, "changed since it was taken")

	// Without a recorded checksum, integrity alone: the intact file passes,
	// a truncated one does not.
	os.Remove(path + ".sha256")
	os.WriteFile(path, b, 0o640)
	if got := check(true, ""); got.Recorded != "" {
		t.Fatalf("recorded %q after its removal", got.Recorded)
	}
	os.WriteFile(path, b[:len(b)/2], 0o640)
	check(false, "")
}
