// Package tenantstore owns the life of tenant databases: where their files
// live, creating them, and the pool of open handles that requests share.
//
// Files live at <data>/tenants/<id>/tenant.db (with -wal and -shm beside
// it); the id has passed condo.ValidateTenantID before it names anything.
// Create is the only way a database comes to exist: Acquire opens existing
// files and never creates one, so a typo cannot conjure a tenant.
//
// The pool is an LRU of open handles bounded by Config.PoolSize. A handle
// evicted while requests still hold it keeps serving them and closes after
// the last release ("draining"); open handles never exceed PoolSize plus
// the draining ones, and all of them together are capped at twice
// PoolSize, past which Acquire of a closed tenant answers EUNAVAILABLE
// (pool_exhausted) instead of opening more files.
//
// A database whose schema is behind the binary's tenant migrations is
// migrated by Acquire before it is handed out, once, while concurrent
// acquirers of that tenant wait; never past the fleet's schema target, when
// a rollback set one (see migrate.go). Migrations take SQLite's write lock,
// so a fleet run in another process and this one never apply a step twice,
// and migrations of one tenant in this process take turns.
package tenantstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
)

// Config tunes a Store.
type Config struct {
	// DataDir holds tenants/<id>/tenant.db.
	DataDir string
	// PoolSize bounds the open handles kept for reuse. Zero means
	// DefaultPoolSize().
	PoolSize int
	// DB tunes each tenant database's connections.
	DB sqlitedb.Options
	// Logger receives migrations and failures to open; nil discards.
	Logger *slog.Logger
	// Migrations is the tenant migration set; nil means migrations.Tenant().
	Migrations *migrations.Set
	// OnOpen, if set, is told the id of each tenant whose database Acquire
	// has just opened into the pool (a miss, not a hit), after the
	// acquirer has its handle. It runs on the acquirer's goroutine, so it
	// must return at once: the media sweeper only queues the tenant.
	OnOpen func(tenantID string)
}

// Store creates tenant databases and pools their open handles.
type Store struct {
	cfg      Config
	catalog  *catalog.Catalog
	set      *migrations.Set
	template template
	// migrating serialises the migrations of each tenant (see migrate.go).
	migrating tenantLocks

	mu       sync.Mutex // guards everything below
	pool     *simplelru.LRU[string, *Handle]
	opening  map[string]*openCall // tenants being opened, for waiters
	draining int                  // handles evicted while in use
	closed   bool
	drained  chan struct{} // closed when draining reaches 0 after Close
	evicted  []*Handle     // victims of the current pool.Add, closed outside mu
}

// Handle is one open tenant database. It is valid until the release
// function that came with it is called.
type Handle struct {
	*sqlitedb.DB
	TenantID string

	refs    int  // guarded by Store.mu
	evicted bool // guarded by Store.mu: out of the pool, close at refs == 0
}

type openCall struct {
	done chan struct{}
	err  error
}

// New returns a Store over the tenant databases of dataDir, recorded in
// cat. It opens nothing until asked.
func New(cat *catalog.Catalog, cfg Config) *Store {
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = DefaultPoolSize()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Migrations == nil {
		cfg.Migrations = migrations.Tenant()
	}
	s := &Store{cfg: cfg, catalog: cat, set: cfg.Migrations, opening: map[string]*openCall{}}
	s.pool, _ = simplelru.NewLRU[string, *Handle](cfg.PoolSize, s.onEvict) // size > 0
	return s
}

// Path returns the database file of a tenant. The id must be valid.
func (s *Store) Path(id string) (string, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return "", err
	}
	return filepath.Join(s.dir(id), "tenant.db"), nil
}

func (s *Store) dir(id string) string { return filepath.Join(s.cfg.DataDir, "tenants", id) }

// MediaDir returns the media folder of a tenant, <data>/tenants/<id>/media,
// which may not exist yet. The id must be valid: one the catalog resolved.
func (s *Store) MediaDir(id string) string { return filepath.Join(s.dir(id), "media") }

// PoolSize returns the pool's bound.
func (s *Store) PoolSize() int { return s.cfg.PoolSize }

// Stats describes the pool at one moment.
type Stats struct {
	Open     int `json:"open"`     // handles in the pool
	Draining int `json:"draining"` // evicted, still in use
	Opening  int `json:"opening"`
	Size     int `json:"size"`
}

// Stats reports the pool's occupancy.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Open: s.pool.Len(), Draining: s.draining, Opening: len(s.opening), Size: s.cfg.PoolSize}
}

// Acquire returns the open database of tenant id and the function that
// releases it; call release exactly once, when done. It opens the file on
// a miss (once, however many callers miss together) and migrates it first
// if its schema is behind.
//
// Errors: EINVALID for a malformed id; ENOTFOUND (tenant_not_found) for a
// tenant the catalog does not have; EGONE for an archived one;
// EUNAVAILABLE with reason tenant_migrating (migration failed or dirty),
// tenant_unavailable (file missing or unreadable) or pool_exhausted.
func (s *Store) Acquire(ctx context.Context, id string) (*Handle, func(), error) {
	return s.acquire(ctx, id, nil)
}

// AcquireTenant is Acquire for a caller that has just read the tenant's
// catalog row (the API resolved it from the host): on a miss it opens the
// database without reading the row again.
func (s *Store) AcquireTenant(ctx context.Context, t *catalog.Tenant) (*Handle, func(), error) {
	return s.acquire(ctx, t.ID, t)
}

// acquire implements Acquire; t, when not nil, is the tenant's row.
func (s *Store) acquire(ctx context.Context, id string, t *catalog.Tenant) (*Handle, func(), error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, nil, err
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "shutting_down", "the server is shutting down")
		}
		if h, ok := s.pool.Get(id); ok {
			h.refs++
			s.mu.Unlock()
			return h, s.releaser(h), nil
		}
		if call, ok := s.opening[id]; ok {
			s.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
			if call.err != nil {
				return nil, nil, call.err
			}
			continue // it is in the pool now (or was evicted already: open again)
		}
		if s.pool.Len()+s.draining+len(s.opening) >= 2*s.cfg.PoolSize {
			s.mu.Unlock()
			return nil, nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "pool_exhausted",
				"too many tenant databases are in use at once; retry shortly")
		}
		call := &openCall{done: make(chan struct{})}
		s.opening[id] = call
		s.mu.Unlock()

		// Opening is shared by every waiter, so one caller's cancellation
		// must not fail the others.
		h, err := s.open(context.WithoutCancel(ctx), id, t)

		s.mu.Lock()
		delete(s.opening, id)
		if err == nil && s.closed {
			err = condo.ReasonErrorf(condo.EUNAVAILABLE, "shutting_down", "the server is shutting down")
		}
		var victims []*Handle
		if err == nil {
			h.refs = 1
			s.pool.Add(id, h)
			victims, s.evicted = s.evicted, nil
		}
		s.mu.Unlock()
		call.err = err
		close(call.done)
		s.closeAll(victims)
		if err != nil {
			if h != nil {
				h.Close()
			}
			return nil, nil, err
		}
		if s.cfg.OnOpen != nil {
			s.cfg.OnOpen(id)
		}
		return h, s.releaser(h), nil
	}
}

// AcquireIfOpen is Acquire for background work that must neither open a
// database nor make one look recently used: it returns the handle only
// when the tenant is open in the pool already, without touching the
// LRU's order, and ok false otherwise (closed, evicted, shutting down).
func (s *Store) AcquireIfOpen(id string) (h *Handle, release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, false
	}
	if h, ok = s.pool.Peek(id); !ok {
		return nil, nil, false
	}
	h.refs++
	return h, s.releaser(h), true
}

// OpenTenants returns the ids of the tenants open in the pool now.
func (s *Store) OpenTenants() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pool.Keys()
}

// onEvict runs under s.mu when the LRU drops a handle to make room.
func (s *Store) onEvict(_ string, h *Handle) {
	h.evicted = true
	if h.refs > 0 {
		s.draining++
		return
	}
	s.evicted = append(s.evicted, h)
}

func (s *Store) releaser(h *Handle) func() {
	var once sync.Once
	return func() { once.Do(func() { s.release(h) }) }
}

func (s *Store) release(h *Handle) {
	s.mu.Lock()
	h.refs--
	last := h.refs == 0 && h.evicted
	if last {
		s.draining--
		if s.closed && s.draining == 0 && s.drained != nil {
			close(s.drained)
		}
	}
	s.mu.Unlock()
	if last {
		s.closeAll([]*Handle{h})
	}
}

func (s *Store) closeAll(hs []*Handle) {
	for _, h := range hs {
		if err := h.Close(); err != nil {
			s.cfg.Logger.Warn("close tenant database", "tenant", h.TenantID, "err", err)
		}
	}
}

// Close stops handing out handles, checkpoints and closes every idle one,
// and waits (until ctx ends) for handles still in use to be released and
// closed. A checkpoint that fails (a full disk) is logged, not returned.
func (s *Store) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.pool.Purge() // onEvict marks each handle: idle ones to close, busy ones draining
	idle := s.evicted
	s.evicted = nil
	var wait chan struct{}
	if s.draining > 0 {
		s.drained = make(chan struct{})
		wait = s.drained
	}
	s.mu.Unlock()

	var errs []error
	for _, h := range idle {
		// The checkpoint only makes the next open quicker: every commit
		// is durable in the WAL already, and the next open replays it. On
		// a full disk it cannot run (it grows the database file), and that
		// must not fail a shutdown.
		if err := h.Checkpoint(ctx); err != nil {
			s.cfg.Logger.Warn("cannot checkpoint tenant database at close; its WAL keeps every commit", "tenant", h.TenantID, "err", err)
		}
		if err := h.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close tenant %s: %w", h.TenantID, err))
		}
	}
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("close tenant store: handles still in use: %w", ctx.Err()))
		}
	}
	return errors.Join(errs...)
}

// open opens and, if needed, migrates one tenant's database.
func (s *Store) open(ctx context.Context, id string, t *catalog.Tenant) (*Handle, error) {
	if t == nil {
		var err error
		if t, err = s.catalog.Lookup(ctx, id); err != nil {
			return nil, err
		}
	}
	switch {
	case t.Status == catalog.StatusArchived:
		return nil, condo.ReasonErrorf(condo.EGONE, "tenant_archived", "tenant %s is archived", id)
	case t.Location != "":
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "tenant %s lives at a remote location, which this node cannot reach", id)
	case t.Schema.Dirty:
		return nil, migratingError(id, t.Schema.Error)
	}
	path, _ := s.Path(id)
	if _, err := os.Stat(path); err != nil {
		s.cfg.Logger.Error("tenant database missing", "tenant", id, "err", err)
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "the database of tenant %s is missing", id)
	}
	db, err := sqlitedb.Open(path, s.cfg.DB)
	if err != nil {
		return nil, err
	}
	h := &Handle{DB: db, TenantID: id}
	v, dirty, err := migrations.Version(ctx, db.Read)
	if err != nil {
		s.cfg.Logger.Error("tenant database unreadable", "tenant", id, "err", err)
		return h, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "the database of tenant %s cannot be read", id)
	}
	if dirty {
		err := fmt.Sprintf("the database is dirty at version %d", v)
		s.record(ctx, id, catalog.SchemaState{Version: v, Dirty: true, Error: err}, 0)
		return h, migratingError(id, err)
	}
	target, err := s.openTarget(ctx) // the set's latest, unless the fleet was rolled back
	if err != nil {
		return h, err
	}
	if v < target {
		return h, s.migrate(ctx, h, target)
	}
	if v != t.Schema.Version {
		s.syncSchema(ctx, h) // someone else migrated it; keep the catalog true
	}
	return h, nil
}

// migrate moves an open database to target and records the outcome.
func (s *Store) migrate(ctx context.Context, h *Handle, target uint) error {
	unlock, err := s.migrating.lock(ctx, h.TenantID) // a fleet run may be migrating it
	if err != nil {
		return err
	}
	defer unlock()
	start := time.Now()
	from, err := s.set.Apply(ctx, h.Write, target)
	if err != nil {
		state := catalog.SchemaState{Version: from, Error: err.Error()}
		var de *migrations.DirtyError
		if errors.As(err, &de) {
			state.Version, state.Dirty = de.Version, true
		} else if v, dirty, verr := migrations.Version(ctx, h.Write); verr == nil {
			state.Version, state.Dirty = v, dirty // a failed no-transaction step left it dirty
		}
		s.record(ctx, h.TenantID, state, time.Since(start))
		s.cfg.Logger.Error("tenant migration failed", "tenant", h.TenantID, "from", from, "to", target, "err", err)
		return migratingError(h.TenantID, err.Error())
	}
	s.record(ctx, h.TenantID, catalog.SchemaState{Version: target}, time.Since(start))
	s.cfg.Logger.Info("tenant migrated", "tenant", h.TenantID, "from", from, "to", target, "duration", time.Since(start))
	return nil
}

func (s *Store) record(ctx context.Context, id string, st catalog.SchemaState, d time.Duration) {
	now := time.Now()
	st.MigratedAt, st.Duration = &now, d
	if err := s.catalog.SetSchemaState(ctx, id, st); err != nil {
		s.cfg.Logger.Error("record tenant schema", "tenant", id, "err", err)
	}
}

func migratingError(id, cause string) error {
	if i := strings.IndexByte(cause, '\n'); i >= 0 {
		cause = cause[:i]
	}
	return condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_migrating", "tenant %s is migrating or its migration failed: %s", id, cause)
}

// Closed reports whether Close has been called.
func (s *Store) Closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
