package backup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// Local scheduled snapshots, for operators without an object store: every
// Every, each local tenant written since its last snapshot (its database
// or WAL modified after it) is copied with SQLite's online backup, while
// it serves, to <data>/snapshots/<id>/<UTC time>.db; then the oldest are
// removed past Keep and past MaxAge. A crash mid-copy leaves a .tmp file,
// removed by the next round. A GDPR delete removes the folder
// (tenantstore.RemoveFiles).

// LocalSnapshot is one snapshot file.
type LocalSnapshot struct {
	Name  string    `json:"name"` // what RestoreSnapshot takes
	Path  string    `json:"path"`
	At    time.Time `json:"at"`
	Bytes int64     `json:"bytes"`
}

// Snapshotter takes the local snapshots; serve runs Run as a job loop.
type Snapshotter struct {
	Store   *tenantstore.Store
	DataDir string
	Every   time.Duration
	Keep    int           // 0: no count limit
	MaxAge  time.Duration // 0: no age limit
	Logger  *slog.Logger
}

const snapshotLayout = "20060102T150405.000000000Z"

// SnapshotDir is where tenant id's local snapshots live.
func SnapshotDir(dataDir, id string) string { return filepath.Join(dataDir, "snapshots", id) }

// LocalSnapshots lists tenant id's local snapshots, oldest first.
func LocalSnapshots(dataDir, id string) ([]LocalSnapshot, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(SnapshotDir(dataDir, id))
	if os.IsNotExist(err) {
		return []LocalSnapshot{}, nil
	} else if err != nil {
		return nil, err
	}
	out := []LocalSnapshot{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".db")
		if !ok {
			continue
		}
		at, err := time.Parse(snapshotLayout, name)
		if err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, LocalSnapshot{Name: e.Name(), Path: filepath.Join(SnapshotDir(dataDir, id), e.Name()), At: at, Bytes: fi.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// Run takes a round every s.Every until ctx ends.
func (s *Snapshotter) Run(ctx context.Context) {
	t := time.NewTicker(s.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.Round(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Error("local snapshots", "err", err, "taken", n)
		}
	}
}

// Round snapshots every tenant written since its last snapshot and
// applies the retention; it returns how many it took.
func (s *Snapshotter) Round(ctx context.Context) (int, error) {
	entries, err := os.ReadDir(filepath.Join(s.DataDir, "tenants"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		id := e.Name()
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if !e.IsDir() || condo.ValidateTenantID(id) != nil {
			continue
		}
		took, err := s.snapshot(ctx, id)
		if err != nil {
			s.Logger.Warn("local snapshot failed", "tenant", id, "err", err)
			continue
		}
		if took {
			n++
		}
		s.prune(id)
	}
	return n, nil
}

// modified is the last write to tenant id's database or WAL.
func (s *Snapshotter) modified(id string) time.Time {
	var last time.Time
	for _, f := range []string{"tenant.db", "tenant.db-wal"} {
		if fi, err := os.Stat(filepath.Join(s.DataDir, "tenants", id, f)); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	return last
}

func (s *Snapshotter) snapshot(ctx context.Context, id string) (bool, error) {
	have, err := LocalSnapshots(s.DataDir, id)
	if err != nil {
		return false, err
	}
	mod := s.modified(id)
	if mod.IsZero() || len(have) > 0 && !mod.After(have[len(have)-1].At) {
		return false, nil // not written since its last snapshot
	}
	h, release, err := s.Store.AcquireScan(ctx, id)
	if err != nil {
		if c := condo.ErrorCode(err); c == condo.ENOTFOUND || c == condo.EGONE {
			return false, nil // not a live tenant (being created, deleted, archived)
		}
		return false, err
	}
	defer release()
	db, ok := h.Local()
	if !ok {
		return false, nil
	}
	dir := SnapshotDir(s.DataDir, id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return false, err
	}
	if old, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(old) > 0 {
		for _, p := range old {
			os.Remove(p)
		}
	}
	at := time.Now().UTC()
	final := filepath.Join(dir, at.Format(snapshotLayout)+".db")
	tmp := final + ".tmp"
	conn, err := db.Read.Conn(ctx)
	if err != nil {
		return false, err
	}
	err = sqlitedb.Snapshot(ctx, conn, tmp)
	conn.Close()
	if err != nil {
		os.Remove(tmp)
		return false, err
	}
	if err := recordSum(tmp, final); err != nil {
		os.Remove(tmp)
		return false, fmt.Errorf("snapshot of %s: record its checksum: %w", id, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		os.Remove(final + sumSuffix)
		return false, fmt.Errorf("snapshot of %s: %w", id, err)
	}
	condo.SyncDir(dir)
	return true, nil
}

// prune removes tenant id's snapshots past Keep (oldest first) and older
// than MaxAge; the newest always stays.
func (s *Snapshotter) prune(id string) {
	have, err := LocalSnapshots(s.DataDir, id)
	if err != nil || len(have) <= 1 {
		return
	}
	for i, sn := range have[:len(have)-1] {
		tooMany := s.Keep > 0 && len(have)-i > s.Keep
		tooOld := s.MaxAge > 0 && time.Since(sn.At) > s.MaxAge
		if tooMany || tooOld {
			os.Remove(sn.Path)
			os.Remove(sn.Path + sumSuffix)
		}
	}
}
