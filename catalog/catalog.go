// Package catalog owns the control-plane database (<data>/catalog.db, or
// one shared by every node at a libSQL URL: OpenURL): which
// tenants exist, their plans, status and placement, the domains that reach
// them, platform admins, and each tenant database's schema state. It also
// resolves a request's host to a tenant, with a bounded cache.
//
// The catalog never opens a tenant database; package tenantstore does.
// Several processes (the server and operator commands, and with OpenURL
// every node of a fleet) may open one catalog at once: SQLite's locking
// serialises their writes, and a process sees another's changes to
// routing within Config.CacheTTL. A process that cannot reach its catalog
// keeps resolving the hosts it knows (stale.go).
package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/libsqldb"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/sqlitedb"
)

// Defaults for Config.
const (
	DefaultBaseDomain = "localhost"
	DefaultCacheSize  = 100_000
	DefaultCacheTTL   = 5 * time.Second
)

// Config tunes a Catalog. Zero fields take the defaults.
type Config struct {
	// BaseDomain is the domain tenants' subdomains live under:
	// "<subdomain>.<BaseDomain>" reaches a tenant. The catalog keeps it
	// (MetaBaseDomain): this seeds a new catalog (DefaultBaseDomain when
	// empty), and when set must agree with the catalog's, or Open refuses
	// (EINVALID, base_domain_mismatch). Empty: the catalog's. After Open,
	// Config reports the catalog's value at the time; Catalog.BaseDomain
	// follows later changes.
	BaseDomain string
	// HeaderFallback lets the X-Tenant-ID header name the tenant when the
	// host matches none.
	HeaderFallback bool
	// DefaultTenant, when set, is the tenant served on a host that
	// matches nothing (no custom domain, not a subdomain under the base
	// domain, no X-Tenant-ID fallback): a platform's own address such as
	// <app>.fly.dev. A host that names a subdomain under the base domain
	// that no tenant has stays tenant_not_found, so a mistyped or deleted
	// tenant never shows another's site.
	DefaultTenant string
	// CacheSize bounds the resolution cache (hosts, hits and misses alike).
	CacheSize int
	// CacheTTL is how long a resolution is trusted. Changes made through
	// this Catalog invalidate the cache at once; changes made by another
	// process are seen within CacheTTL.
	CacheTTL time.Duration
	// JobBeatEvery is how often a running lifecycle job writes its
	// heartbeat (0: DefaultJobBeatEvery); tests shorten it.
	JobBeatEvery time.Duration
	// Region is this node's region: the home of a tenant created without
	// one. Empty when the node has none.
	Region string
	// ResidencySets are the residency sets tenants may name; nil is none.
	ResidencySets ResidencySets
	// Plans are the plans tenants may be on (nil: plans.Builtin): a new
	// tenant, or one moved to another plan, takes its plan's storage
	// quota and user limit, and a plan none names is refused.
	Plans *plans.Set
	// Now is the clock of node heartbeats and health (tests set it); nil
	// is time.Now.
	Now func() time.Time
}

// Catalog is an open control-plane database.
type Catalog struct {
	// db is the control-plane database: a local SQLite file
	// (sqlitedb) or a libSQL URL (libsqldb), both through condo.DB so
	// that nothing here depends on which.
	db    condo.DB
	cfg   Config
	cache *resolveCache
	base  atomic.Pointer[baseDomain] // the base domain as last read

	local  *sqlitedb.DB // db when it is a local file, else nil
	remote string       // db's URL (redacted) when it is remote, else ""
	stale  staleState   // stale-while-unavailable (see stale.go)
}

// Path returns the catalog's file inside a data directory.
func Path(dataDir string) string { return filepath.Join(dataDir, "catalog.db") }

// Open opens (creating if needed) the catalog in dataDir and migrates it to
// the binary's catalog schema.
func Open(ctx context.Context, dataDir string, cfg Config) (*Catalog, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, condo.ReasonErrorf(condo.EINVALID, "data_dir", "cannot create data directory %s: %v", dataDir, errors.Unwrap(err))
	}
	db, err := sqlitedb.Open(Path(dataDir), sqlitedb.Options{Create: true, SecureDelete: true})
	if err != nil {
		return nil, err
	}
	set := migrations.Catalog()
	if _, err := set.Apply(ctx, db.Write, set.Latest()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open catalog %s: %w", Path(dataDir), explainOpen(err))
	}
	c, err := newCatalog(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	c.local = db
	return c, nil
}

// OpenURL opens the catalog at a libSQL URL (libsql://, http:// or
// https://: Turso, sqld, or a primary node's /_condo/catalog endpoint),
// authenticating with token, and migrates it as Open does. Many nodes may
// start at once against one catalog: see applyShared.
//
// Its errors show the URL redacted and never the token.
func OpenURL(ctx context.Context, rawURL, token string, cfg Config) (*Catalog, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	db, err := libsqldb.Open(rawURL, token)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "catalog_unavailable", "%s", libsqldb.RedactError(err, token))
	}
	if err := applyShared(ctx, db.Writer()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open catalog %s: %w", db.URL(), libsqldb.ErrRedacted(err, token))
	}
	c, err := newCatalog(ctx, immediateDB{db}, cfg)
	if err != nil {
		return nil, err
	}
	c.remote = db.URL()
	return c, nil
}

// applyShared migrates a catalog that other nodes may be migrating at the
// same moment. Over libSQL a transaction begins DEFERRED (the client sends
// a plain BEGIN), so two nodes may both read the old version and the
// second to write fails with SQLITE_BUSY instead of waiting, as BEGIN
// IMMEDIATE would make it. Apply re-reads the version inside its
// transaction, so running it again after such a failure is safe: the
// retry finds the winner's work done.
func applyShared(ctx context.Context, db *sql.DB) error {
	set := migrations.Catalog()
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		if _, err = set.Apply(ctx, db, set.Latest()); err == nil || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(25*(attempt+1)) * time.Millisecond):
		}
	}
	return err
}

// immediateDB is a remote catalog whose transactions take the write lock
// at their start, as the file's writer does (BEGIN IMMEDIATE): over
// libSQL the client's BEGIN is DEFERRED, and a transaction that read
// before it wrote fails with SQLITE_BUSY when another node wrote in
// between, where the file's would have waited its turn. A write as the
// transaction's first statement waits instead (the server's busy
// timeout), like BEGIN IMMEDIATE; this one changes no row.
type immediateDB struct{ *libsqldb.DB }

func (d immediateDB) Transact(ctx context.Context, fn func(*sql.Tx) error) error {
	return d.DB.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = value WHERE 0"); err != nil {
			return fmt.Errorf("take the catalog's write lock: %w", err)
		}
		return fn(tx)
	})
}

// isBusy reports a lock conflict as a remote server words it.
func isBusy(err error) bool {
	return containsAny(err.Error(), "SQLITE_BUSY", "database is locked", "database table is locked")
}

// fill checks cfg and fills in its defaults.
func (cfg *Config) fill() error {
	if cfg.Plans == nil {
		cfg.Plans = plans.Builtin()
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.Region != "" {
		if err := ValidateRegion(cfg.Region); err != nil {
			return err
		}
	}
	if cfg.DefaultTenant != "" {
		if err := condo.ValidateTenantID(cfg.DefaultTenant); err != nil {
			return err
		}
	}
	return nil
}

// newCatalog is what Open and OpenURL share once db is migrated; it
// closes db when it fails.
func newCatalog(ctx context.Context, db condo.DB, cfg Config) (*Catalog, error) {
	c := &Catalog{db: db, cfg: cfg, cache: newResolveCache(cfg.CacheSize, cfg.CacheTTL)}
	var err error
	if c.cfg.BaseDomain, err = c.openBaseDomain(ctx, cfg.BaseDomain); err != nil {
		db.Close()
		return nil, err
	}
	if err := c.backfillCustomLimits(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return c, nil
}

// LocalDB returns the catalog's local database, nil when the catalog is
// remote: the primary node serves it to the others (its /_condo/catalog
// endpoint).
func (c *Catalog) LocalDB() *sqlitedb.DB { return c.local }

// Remote returns the catalog's URL (redacted) when it is remote, else "".
func (c *Catalog) Remote() string { return c.remote }

// Close closes the catalog database.
func (c *Catalog) Close() error { return c.db.Close() }

// Ping checks that the catalog answers a query, and records the answer
// in Availability.
func (c *Catalog) Ping(ctx context.Context) error {
	var one int // a query, not PingContext: libSQL's connections do not implement driver.Pinger
	if err := c.db.Reader().QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		c.unreachable(ctx, err)
		if c.remote != "" {
			return fmt.Errorf("catalog %s: %s", c.remote, libsqldb.RedactError(err))
		}
		return err
	}
	c.reachable()
	return nil
}

// Config returns the catalog's settings.
func (c *Catalog) Config() Config { return c.cfg }

// Meta returns a process-wide value, ENOTFOUND when unset.
func (c *Catalog) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := c.db.Reader().QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	return v, notFound(err, "meta %s", key)
}

// SetMetaOnce stores value under key unless a value is there already, and
// returns the stored value: the first process to set it wins.
func (c *Catalog) SetMetaOnce(ctx context.Context, key, value string) (string, error) {
	if _, err := c.db.Writer().ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", key, value); err != nil {
		return "", err
	}
	return c.Meta(ctx, key)
}

// explainOpen turns SQLite's terse open failures into an operator's words.
func explainOpen(err error) error {
	if os.IsPermission(err) || containsAny(err.Error(), "readonly", "unable to open", "out of memory (14)") {
		return condo.ReasonErrorf(condo.EINVALID, "data_dir", "cannot write the catalog: check the data directory's permissions (%v)", err)
	}
	return err
}
