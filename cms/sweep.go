package cms

// Sweeping media folders: what crashes leave behind.
//
// An upload writes a temporary .upload-* file, renames it to <id><ext>
// and only then inserts its row (see media.go), so a crash leaves either a
// temporary file or a complete file no row names. Both only cost space,
// and both look, for a moment, exactly like an upload that is still
// running. So a sweep removes only files last written before a grace
// period (DefaultSweepGrace, an hour): a live upload writes its temporary
// file all along, and renames and records it within moments of its last
// write. Files whose names Condo never gives are left alone.
//
// Tenants are swept incrementally, never all at start-up: MediaSweeper
// sweeps a tenant soon after its database is opened into the pool
// (tenantstore.Config.OnOpen), and while it stays open sweeps it again
// when a check, every interval, finds its last sweep an interval old; one
// tenant at a time, on handles already open, never opening one.

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/condohq/condo/tenantstore"
)

// Defaults of MediaSweeper.
const (
	// DefaultSweepGrace is how long a leftover must have been untouched
	// before a sweep removes it.
	DefaultSweepGrace = time.Hour
	// DefaultSweepInterval is how often a tenant that stays open is swept
	// again, and how long a sweep counts when the tenant is opened again.
	DefaultSweepInterval = time.Hour
)

// SweepResult counts what a sweep removed.
type SweepResult struct {
	Temporary int   `json:"temporary"` // .upload-* files of uploads that never finished
	Orphans   int   `json:"orphans"`   // complete files without a media row
	Bytes     int64 `json:"bytes"`
}

// SweepMedia removes the leftovers of crashes from the media folder:
// temporary upload files, and files named like a media file (<id><ext>)
// that no media row names, last modified before before. Anything newer may
// belong to an upload in progress and is kept, as is every file whose name
// Condo would never give.
func (s *Store) SweepMedia(ctx context.Context, before time.Time) (SweepResult, error) {
	var res SweepResult
	ents, err := os.ReadDir(s.MediaDir)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil // no upload yet
	}
	if err != nil {
		return res, err
	}
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		name := e.Name()
		temp := strings.HasPrefix(name, ".upload-")
		id, named := mediaFileID(name)
		if !e.Type().IsRegular() || !temp && !named {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue // gone already, or possibly a live upload's
		}
		if !temp {
			// Checked file by file, after the listing, so a row inserted
			// since counts.
			exists, err := s.MediaExists(ctx, id)
			if err != nil {
				return res, err
			}
			if exists {
				continue
			}
		}
		if err := os.Remove(filepath.Join(s.MediaDir, name)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted meanwhile (DeleteMedia)
			}
			return res, err
		}
		if temp {
			res.Temporary++
		} else {
			res.Orphans++
		}
		res.Bytes += info.Size()
	}
	return res, nil
}

// mediaFileID returns the media id of a file name that is one Condo gives
// (<id><ext>, with the id's characters mediaPath accepts and the
// extension of an accepted type), and false for any other name.
func mediaFileID(name string) (string, bool) {
	ext := filepath.Ext(name)
	id := strings.TrimSuffix(name, ext)
	known := false
	for _, t := range mediaTypes {
		known = known || t.ext == ext
	}
	if !known || id == "" || len(id) > 64 {
		return "", false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", false
		}
	}
	return id, true
}

// MediaSweeper sweeps the media folders of tenants in the background (see
// the top of this file). Its zero value uses the defaults; serve owns its
// Run, which ends with the context it is given.
type MediaSweeper struct {
	// Grace is how long a leftover must have been untouched; 0 means
	// DefaultSweepGrace.
	Grace time.Duration
	// Interval is how often an open tenant is swept again; 0 means
	// DefaultSweepInterval.
	Interval time.Duration
	// Logger receives what was removed and what failed; nil discards.
	Logger *slog.Logger

	mu     sync.Mutex           // guards the fields below
	queue  []string             // tenants to sweep, in order
	queued map[string]bool      // what queue holds
	swept  map[string]time.Time // when each tenant was last swept, within Interval
	wake   chan struct{}        // signalled (never blocking) when queue grows
}

// Opened queues a tenant whose database was just opened, unless it was
// swept within the interval. It never blocks: it is tenantstore's OnOpen.
func (w *MediaSweeper) Opened(tenantID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	if w.queued[tenantID] || time.Since(w.swept[tenantID]) < w.interval() {
		return
	}
	w.queued[tenantID] = true
	w.queue = append(w.queue, tenantID)
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// init makes the maps and channel; w.mu is held.
func (w *MediaSweeper) init() {
	if w.wake == nil {
		w.queued, w.swept, w.wake = map[string]bool{}, map[string]time.Time{}, make(chan struct{}, 1)
	}
}

func (w *MediaSweeper) interval() time.Duration {
	if w.Interval > 0 {
		return w.Interval
	}
	return DefaultSweepInterval
}

// Run sweeps queued tenants of store one at a time, and every interval
// queues the tenants still open, until ctx ends. Call it once.
func (w *MediaSweeper) Run(ctx context.Context, store *tenantstore.Store) {
	w.mu.Lock()
	w.init()
	wake := w.wake
	w.mu.Unlock()
	tick := time.NewTicker(w.interval())
	defer tick.Stop()
	for {
		for {
			id, ok := w.next()
			if !ok || ctx.Err() != nil {
				break
			}
			w.sweep(ctx, store, id)
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-tick.C:
			w.forget()
			for _, id := range store.OpenTenants() {
				w.Opened(id)
			}
		}
	}
}

// next takes the first queued tenant.
func (w *MediaSweeper) next() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) == 0 {
		return "", false
	}
	id := w.queue[0]
	w.queue = w.queue[1:]
	delete(w.queued, id)
	return id, true
}

// forget drops the sweep times older than the interval, which no longer
// hold a sweep back, so the map holds only recently swept tenants.
func (w *MediaSweeper) forget() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, at := range w.swept {
		if time.Since(at) >= w.interval() {
			delete(w.swept, id)
		}
	}
}

// sweep sweeps one tenant if its database is still open; one closed since
// it was queued is swept when it is opened again.
func (w *MediaSweeper) sweep(ctx context.Context, store *tenantstore.Store, id string) {
	h, release, ok := store.AcquireIfOpen(id)
	if !ok {
		return
	}
	defer release()
	start := time.Now()
	w.mu.Lock()
	w.swept[id] = start
	w.mu.Unlock()
	grace := w.Grace
	if grace <= 0 {
		grace = DefaultSweepGrace
	}
	log := w.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res, err := New(id, h.DB, store.MediaDir(id)).SweepMedia(ctx, start.Add(-grace))
	switch {
	case err != nil && ctx.Err() == nil:
		log.Warn("sweep media folder", "tenant", id, "err", err)
	case res.Temporary+res.Orphans > 0:
		log.Info("removed leftover media files", "tenant", id, "temporary", res.Temporary, "orphans", res.Orphans, "bytes", res.Bytes)
	}
}
