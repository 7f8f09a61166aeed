package usage

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// Flusher writes a Meter's counts to the catalog, with what each active
// tenant stores gathered at the same time.
type Flusher struct {
	Meter   *Meter
	Catalog *catalog.Catalog
	// Store, when set, gathers each flushed tenant's bytes stored (its
	// database and media files, by stat) and, if its database is open,
	// its users and items. Nil: counters only.
	Store  *tenantstore.Store
	Every  time.Duration // 0: DefaultFlushEvery
	Logger *slog.Logger  // nil discards

	rolled string // the last day rollup saw claimed (Run's goroutine only)
}

// Run flushes every Every until ctx ends, then once more, so that what
// the last requests counted is written: run it as one of serve's jobs,
// which stop after the HTTP server has.
func (f *Flusher) Run(ctx context.Context) {
	every := f.Every
	if every <= 0 {
		every = DefaultFlushEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := f.Flush(fctx); err != nil {
				f.logger().Error("flush usage at shutdown", "err", err)
			}
			return
		case <-t.C:
			if err := f.Flush(ctx); err != nil && ctx.Err() == nil {
				f.logger().Error("flush usage", "err", err)
			}
			f.rollup(ctx)
		}
	}
}

// RollupAfter is how long after midnight (UTC) the previous day's
// usage.daily events go out: every node has flushed that day's last
// minute by then.
const RollupAfter = 5 * time.Minute

// rollup emits yesterday's usage.daily events once it is RollupAfter
// past midnight; the catalog makes sure only one node's call emits them.
func (f *Flusher) rollup(ctx context.Context) {
	day := f.Meter.now().UTC().Add(-RollupAfter).AddDate(0, 0, -1).Format(catalog.DayFormat)
	if day == f.rolled {
		return
	}
	n, err := f.Catalog.RollupUsage(ctx, day)
	if err != nil {
		if ctx.Err() == nil {
			f.logger().Error("roll up usage", "day", day, "err", err)
		}
		return
	}
	f.rolled = day
	if n > 0 {
		f.logger().Info("usage rolled up", "day", day, "tenants", n)
	}
}

func (f *Flusher) logger() *slog.Logger {
	if f.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Logger
}

// Flush writes the counts since the last flush. If the catalog refuses
// them they are put back, to be written with the next flush.
func (f *Flusher) Flush(ctx context.Context) error {
	deltas := f.Meter.drain()
	if len(deltas) == 0 {
		return nil
	}
	now := f.Meter.now().UTC()
	days := make([]catalog.UsageDay, len(deltas))
	for i, d := range deltas {
		at := now
		if !d.LastActive.IsZero() {
			at = d.LastActive
		}
		days[i] = catalog.UsageDay{TenantID: d.TenantID, Day: at.Format(catalog.DayFormat), Requests: d.Requests,
			Errors4xx: d.Errors4xx, Errors5xx: d.Errors5xx, BytesIn: d.BytesIn, BytesOut: d.BytesOut,
			Statements: d.Statements, Latency: d.Latency}
		if !d.LastActive.IsZero() {
			last := d.LastActive
			days[i].LastActive = &last
		}
		f.gather(ctx, &days[i])
	}
	if err := f.Catalog.AddUsage(ctx, days); err != nil {
		f.Meter.restore(deltas)
		return err
	}
	return nil
}

// gather fills d's gauges, leaving nil what it cannot read cheaply.
func (f *Flusher) gather(ctx context.Context, d *catalog.UsageDay) {
	if f.Store == nil {
		return
	}
	if path, err := f.Store.Path(d.TenantID); err == nil {
		var size int64
		for _, p := range []string{path, path + "-wal"} {
			if fi, err := os.Stat(p); err == nil {
				size += fi.Size()
			}
		}
		if size > 0 {
			size += dirSize(f.Store.MediaDir(d.TenantID))
			d.BytesStored = &size
		}
	}
	h, release, ok := f.Store.AcquireIfOpen(d.TenantID)
	if !ok {
		return
	}
	defer release()
	var users, items int64
	err := h.Reader().QueryRowContext(ctx, "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM content WHERE deleted_at IS NULL)").Scan(&users, &items)
	if err == nil {
		d.Users, d.Items = &users, &items
	}
}

// dirSize is the sum of the sizes of the files under dir (0 if none).
func dirSize(dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file gone meanwhile
		}
		if e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n
	}
	return n
}

// restore adds deltas back into the counters (a flush the catalog
// refused), so the next flush writes them.
func (m *Meter) restore(deltas []Delta) {
	for _, d := range deltas {
		c := m.counts(d.TenantID)
		c.requests.Add(d.Requests)
		c.errors4xx.Add(d.Errors4xx)
		c.errors5xx.Add(d.Errors5xx)
		c.bytesIn.Add(d.BytesIn)
		c.bytesOut.Add(d.BytesOut)
		c.statements.Add(d.Statements)
		for i, n := range d.Latency {
			if i < buckets {
				c.latency[i].Add(n)
			}
		}
		if !d.LastActive.IsZero() {
			c.lastActive.CompareAndSwap(0, d.LastActive.UnixNano())
		}
	}
}
