package cms

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// Scheduler applies scheduled publishing, unpublishing and trash purges.
// The catalog knows when each tenant is next due, so a pass opens only the
// tenants with work, however many tenants there are.
type Scheduler struct {
	Catalog   *catalog.Catalog
	Store     *tenantstore.Store
	Interval  time.Duration // between passes; default one second
	Retention time.Duration // how long the trash keeps items; default TrashRetention
	Logger    *slog.Logger
	// Changed is told of every tenant whose content a pass changed, so
	// caches of it can be dropped.
	Changed func(tenantID string)
}

// Run makes passes until ctx ends.
func (sc *Scheduler) Run(ctx context.Context) {
	tick := time.NewTicker(cmp.Or(sc.Interval, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			sc.Pass(ctx, time.Now())
		}
	}
}

// Pass does the work due at now and returns how many items changed.
func (sc *Scheduler) Pass(ctx context.Context, now time.Time) int {
	ids, err := sc.Catalog.DueTenants(ctx, now, 100)
	if err != nil {
		sc.logger().Error("scheduler: due tenants", "err", err)
		return 0
	}
	total := 0
	for _, id := range ids {
		n, err := sc.runTenant(ctx, id)
		if err != nil {
			sc.logger().Error("scheduler: tenant", "tenant", id, "err", err)
			continue
		}
		total += n
	}
	return total
}

func (sc *Scheduler) runTenant(ctx context.Context, id string) (int, error) {
	h, release, err := sc.Store.Acquire(ctx, id)
	if err != nil {
		return 0, err
	}
	defer release()
	n, next, err := New(id, h.DB, "").RunSchedule(ctx, cmp.Or(sc.Retention, TrashRetention))
	if n > 0 && sc.Changed != nil {
		sc.Changed(id)
	}
	if err != nil {
		return n, err
	}
	return n, sc.Catalog.SetContentDue(ctx, id, next)
}

func (sc *Scheduler) logger() *slog.Logger {
	if sc.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return sc.Logger
}
