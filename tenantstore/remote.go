package tenantstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/libsqldb"
)

// A tenant whose catalog location is a libSQL URL (Turso, sqld, another
// Condo node's libSQL endpoint) is opened with libsqldb instead of from
// this node's volume. Everything above the Handle works the same: the
// pool, migrate-on-open, fleet migrations, the CMS and auth, all through
// condo.DB. What differs is ordering migrations: SQLite's write lock
// orders every process on one node, but a remote database is shared by
// the whole fleet, so a migration of one takes the tenant's migration
// lease in the catalog first (catalog.TakeMigrationLease).

// Lease timings: a lease outlives any one migration step with room to
// spare, and a node that waits for another's asks again every
// leasePoll until leaseWait has passed.
const (
	leaseTTL  = 10 * time.Minute
	leasePoll = 100 * time.Millisecond
	leaseWait = 30 * time.Second
)

// openRemote opens the tenant at its remote location and checks that it
// answers. Nothing it logs or returns carries the token, and the URL only
// redacted.
func (s *Store) openRemote(ctx context.Context, t *catalog.Tenant) (*Handle, error) {
	db, err := libsqldb.Open(t.Location, t.LocationToken)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		s.cfg.Logger.Error("tenant location does not answer", "tenant", t.ID, "location", db.URL(), "err", libsqldb.RedactError(err, t.LocationToken))
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "the database of tenant %s, at %s, does not answer", t.ID, db.URL())
	}
	return &Handle{DB: db, TenantID: t.ID}, nil
}

// openRemoteOutsidePool opens a remote tenant for one job (a fleet
// migration of a tenant not open in the pool).
func (s *Store) openRemoteOutsidePool(ctx context.Context, t *catalog.Tenant) (*libsqldb.DB, error) {
	h, err := s.openRemote(ctx, t)
	if err != nil {
		return nil, err
	}
	return h.DB.(*libsqldb.DB), nil
}

// lease takes tenant id's migration lease for this store, waiting while
// another node holds it, and returns the function that gives it back.
// Errors: EUNAVAILABLE (tenant_migrating) when another node kept it for
// leaseWait, or ctx's.
func (s *Store) lease(ctx context.Context, id string) (func(), error) {
	deadline := time.Now().Add(leaseWait)
	for {
		ok, err := s.catalog.TakeMigrationLease(ctx, id, s.holder, leaseTTL)
		if err != nil {
			return nil, err
		}
		if ok {
			return func() {
				if err := s.catalog.ReleaseMigrationLease(context.WithoutCancel(ctx), id, s.holder); err != nil {
					s.cfg.Logger.Warn("release migration lease; it expires on its own", "tenant", id, "err", err)
				}
			}, nil
		}
		if time.Now().After(deadline) {
			return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_migrating", "tenant %s is being migrated by another node", id)
		}
		select {
		case <-time.After(leasePoll):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// newHolder names this store in migration leases: unique per process.
func newHolder() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
