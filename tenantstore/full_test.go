package tenantstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/internal/disktest"
	"github.com/condohq/condo/tenantstore"
)

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// On a full disk the final checkpoint cannot grow the database file:
// Close logs that and still succeeds, since the WAL holds every commit.
func TestStore_CloseOnFullDisk(t *testing.T) {
	ctx := context.Background()
	dir := disktest.MustMount(t, 8<<20)
	cat, err := catalog.Open(ctx, dir, catalog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	var logs lockedBuffer
	store := tenantstore.New(cat, tenantstore.Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	closed := false
	t.Cleanup(func() {
		if !closed {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second) // a failed test may hold a handle
			defer cancel()
			store.Close(cctx)
		}
	})
	if _, err := store.Create(ctx, catalog.NewTenant{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	h, release, err := store.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	// New pages in the WAL, past the end of the database file.
	for range 20 {
		if _, err := h.Writer().ExecContext(ctx, "INSERT INTO settings (key, value, updated_at) VALUES (hex(randomblob(16)), json_quote(hex(randomblob(8000))), 0)"); err != nil {
			release()
			t.Fatal(err)
		}
	}
	release()
	disktest.MustFill(t, dir)
	closed = true
	if err := store.Close(ctx); err != nil {
		t.Fatalf("Close on a full disk: %v", err)
	}
	if !strings.Contains(logs.String(), "cannot checkpoint") {
		t.Errorf("the checkpoint did not fail, so this proved nothing; log:\n%s", logs.String())
	}
}
