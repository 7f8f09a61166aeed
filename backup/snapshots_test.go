package backup_test

import (
	"context"
	"log/slog"
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
