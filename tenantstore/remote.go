package tenantstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/libsqldb"
	"github.com/condohq/condo/migrations"
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

// createRemote records a tenant whose database lives at in.Location: the
// location must answer, and is brought to the fleet's schema first (a new
// empty database gets every migration; one at the schema already, such
// as another Condo node's tenant, is left as it is), so the catalog row
// never names a database this node cannot serve. Nothing is written on
// this node's volume: media alone live here (MediaDir), made on the
// first upload. No lease is needed: until the row commits, no other node
// knows the tenant.
func (s *Store) createRemote(ctx context.Context, in catalog.NewTenant) (*catalog.Tenant, error) {
	if err := libsqldb.Validate(in.Location); err != nil {
		return nil, err
	}
	if _, err := s.catalog.Lookup(ctx, in.ID); err == nil {
		return nil, condo.ReasonErrorf(condo.ECONFLICT, "tenant_exists", "tenant %q already exists", in.ID)
	}
	db, err := s.openRemoteOutsidePool(ctx, &catalog.Tenant{ID: in.ID, Location: in.Location, LocationToken: in.LocationToken})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	target, err := s.openTarget(ctx)
	if err != nil {
		return nil, err
	}
	v, dirty, err := migrations.Version(ctx, db.Reader())
	switch {
	case err != nil:
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "the database at %s cannot be read: %s", db.URL(), libsqldb.RedactError(err, in.LocationToken))
	case dirty:
		return nil, condo.ReasonErrorf(condo.ECONFLICT, "location_dirty", "the database at %s is dirty at schema version %d: fix it first", db.URL(), v)
	case v < target:
		if _, err := s.set.Apply(ctx, db.Writer(), target); err != nil {
			return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_migrating", "migrate the database at %s: %s", db.URL(), libsqldb.RedactError(err, in.LocationToken))
		}
		v = target
	}
	in.SchemaVersion = v
	return s.catalog.CreateTenant(ctx, in, nil)
}

// EraseRemote empties tenant t's database at its remote location, the
// GDPR erasure of a tenant whose file Condo does not hold: every view,
// table (virtual tables first: their shadow tables go with them), index
// and trigger is dropped. Dropping what is gone already is nothing, so an
// interrupted erase is finished by running it again. The location's own
// copies (a libSQL server's history, its backups) are the location's to
// erase. Errors: EUNAVAILABLE (tenant_unavailable) when it does not
// answer.
func (s *Store) EraseRemote(ctx context.Context, t *catalog.Tenant) error {
	db, err := s.openRemoteOutsidePool(ctx, t)
	if err != nil {
		return err
	}
	defer db.Close()
	// One transaction: a location that checks its credentials in the very
	// database being emptied (another Condo node's endpoint keeps its
	// tokens there) sees them until the commit. Triggers first (a drop's
	// cascades would fire them on tables already gone), then views,
	// virtual tables, other tables: each pass drops one object and looks
	// again, as a drop can take others with it.
	const next = `SELECT type, name FROM sqlite_schema
		WHERE type IN ('trigger', 'view', 'table') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY type <> 'trigger', type = 'table', sql NOT LIKE 'CREATE VIRTUAL TABLE%', name LIMIT 1`
	err = db.Transact(ctx, func(tx *sql.Tx) error {
		for range 10_000 { // far more objects than a tenant schema has
			var typ, name string
			err := tx.QueryRowContext(ctx, next).Scan(&typ, &name)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			kind := map[string]string{"trigger": "TRIGGER", "view": "VIEW", "table": "TABLE"}[typ]
			if _, err := tx.ExecContext(ctx, "DROP "+kind+" IF EXISTS "+quoteIdent(name)); err != nil {
				return fmt.Errorf("drop %s: %w", name, err)
			}
		}
		return errors.New("objects keep coming back")
	})
	if err != nil {
		return fmt.Errorf("erase tenant %s at %s: %s", t.ID, db.URL(), libsqldb.RedactError(err, t.LocationToken))
	}
	return nil
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
