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
	// Cache is the content cache of the process, whose entries of a tenant
	// a pass drops when it changes the tenant's content (nil: none).
	Cache *Cache
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
	due, err := sc.Catalog.DueTenants(ctx, now, 100)
	if err != nil {
		sc.logger().Error("scheduler: due tenants", "err", err)
		return 0
	}
	total := 0
	for _, d := range due {
		n, next, err := sc.runTenant(ctx, d.TenantID, now)
		total += n
		if err != nil {
			// Retry in a minute, so a tenant that cannot be opened does not
			// hold the head of the queue.
			sc.logger().Error("scheduler: tenant", "tenant", d.TenantID, "err", err)
			retry := now.Add(RetryAfter)
			next = &retry
		}
		if err := sc.Catalog.RescheduleContent(ctx, d.TenantID, d.At, next); err != nil {
			sc.logger().Error("scheduler: reschedule", "tenant", d.TenantID, "err", err)
		}
	}
	return total
}

// RetryAfter is when the scheduler tries again a tenant whose pass failed.
const RetryAfter = time.Minute

// runTenant applies what is due at now in one tenant: the pass's clock,
// not the store's, so that a pass is one instant for every tenant.
func (sc *Scheduler) runTenant(ctx context.Context, id string, now time.Time) (int, *time.Time, error) {
	h, release, err := sc.Store.Acquire(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	defer release()
	st := sc.Cache.Store(id, h.DB, "")
	st.now = func() time.Time { return now }
	return st.RunSchedule(ctx, cmp.Or(sc.Retention, TrashRetention))
}

func (sc *Scheduler) logger() *slog.Logger {
	if sc.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return sc.Logger
}
