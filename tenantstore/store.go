// Package tenantstore owns the life of tenant databases: where their files
// live, creating them, and the pool of open handles that requests share.
//
// Files live at <data>/tenants/<id>/tenant.db (with -wal and -shm beside
// it); the id has passed condo.ValidateTenantID before it names anything.
// Create is the only way a database comes to exist: Acquire opens existing
// files and never creates one, so a typo cannot conjure a tenant. A tenant
// whose catalog location is a libSQL URL has no file here: its database
// is opened at that location (remote.go), and everything else works the
// same through condo.DB.
//
// The pool holds open handles bounded by Config.PoolSize, replaced by ARC
// (arc.go), which keeps tenants that come back over ones seen once. A
// handle evicted while requests still hold it keeps serving them and
// closes after the last release ("draining"); an idle handle evicted to
// make room is closed by the store's closer goroutine, off the request
// path. Open handles never exceed PoolSize plus the draining and closing
// ones, and all of them together are capped at twice PoolSize, past which
// Acquire of a closed tenant answers EUNAVAILABLE (pool_exhausted) instead
// of opening more files. AcquireScan serves sweeps over every tenant
// without displacing the ones requests keep coming back to.
//
// AcquirePinned holds a handle for a long-lived holder (a libSQL stream,
// which keeps one SQLite connection and maybe the write lock across HTTP
// requests): until its release the handle is never evicted, so every
// request of that tenant shares the one handle, and with it the one
// writer whose waits the stream's write-lock cap watches. Were a pinned
// tenant evicted and reopened, two handles of one file would each have a
// writer in this process, each blind to the other's.
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
	"sync/atomic"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/libsqldb"
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
	// BusyWait bounds how long an Acquire waits for a tenant taken out
	// of service (TakeOut); zero means DefaultBusyWait.
	BusyWait time.Duration
	// OnOpen, if set, is told the id of each tenant whose database Acquire
	// has just opened into the pool (a miss, not a hit), after the
	// acquirer has its handle. It runs on the acquirer's goroutine, so it
	// must return at once: the media sweeper only queues the tenant.
	OnOpen func(tenantID string)
	// Backups, if set, is told when each local tenant's open handle is
	// first written and before it closes (backups.go): the continuous
	// backup replicator's seam.
	Backups Backups
}

// Store creates tenant databases and pools their open handles.
type Store struct {
	cfg      Config
	catalog  *catalog.Catalog
	set      *migrations.Set
	template template
	// migrating serialises the migrations of each tenant (see migrate.go).
	migrating tenantLocks
	// holder names this store in the catalog's migration leases of
	// remote tenants (remote.go).
	holder string

	// closeq feeds the closer goroutine the idle handles evicted to make
	// room, so the request that evicted one does not wait for its close
	// (a checkpoint and three file closes). It is bounded: when it is
	// full, the evicting request closes its victim itself, and handles in
	// it count against the descriptor budget until closed.
	closeq     chan *Handle
	closerOnce sync.Once // closes closeq, once nothing can be queued
	counters   counters

	mu       sync.Mutex // guards everything below
	pool     *arc[*Handle]
	opening  map[string]*openCall // tenants being opened, for waiters
	draining int                  // handles evicted while in use
	pinned   int                  // handles with Handle.pins > 0
	closing  int                  // idle evicted handles not closed yet
	// closedOne, when not nil, is closed when the next closing handle
	// is: acquirers over the budget wait on it.
	closedOne chan struct{}
	closed    bool
	drained   chan struct{}    // closed when draining and closing reach 0 after Close
	evicted   []*Handle        // victims of the current pool.Add, closed outside mu
	busy      map[string]*busy // tenants taken out of service (exclusive.go)
	retired   map[string]int64 // tenants moved away, by the epoch they left at
}

// closeQueueLen bounds the handles waiting for the closer.
const closeQueueLen = 64

// counters are the pool's running totals, cheap atomics read by Counters.
type counters struct {
	hits, misses, opens, evictions atomic.Int64
	openNanos                      atomic.Int64
}

// Counters are the pool's totals since New.
type Counters struct {
	Hits      int64         `json:"hits"`      // Acquires served by an open handle
	Misses    int64         `json:"misses"`    // Acquires that opened or waited for an open
	Opens     int64         `json:"opens"`     // databases opened (one per miss, or shared)
	Evictions int64         `json:"evictions"` // handles evicted to make room
	OpenTime  time.Duration `json:"open_ns"`   // total time spent in those opens
}

// HitRate is Hits / (Hits + Misses), 0 before any Acquire.
func (c Counters) HitRate() float64 {
	if c.Hits+c.Misses == 0 {
		return 0
	}
	return float64(c.Hits) / float64(c.Hits+c.Misses)
}

// Sub returns the counts of c since the earlier reading d.
func (c Counters) Sub(d Counters) Counters {
	return Counters{c.Hits - d.Hits, c.Misses - d.Misses, c.Opens - d.Opens, c.Evictions - d.Evictions, c.OpenTime - d.OpenTime}
}

// Counters reports the pool's hits, misses, opens, evictions and time
// spent opening since New.
func (s *Store) Counters() Counters {
	c := &s.counters
	return Counters{c.hits.Load(), c.misses.Load(), c.opens.Load(), c.evictions.Load(), time.Duration(c.openNanos.Load())}
}

// Handle is one open tenant database. It is valid until the release
// function that came with it is called.
//
// The tenant's database is a condo.DB: a local SQLite file (sqlitedb) or,
// for a tenant whose catalog location is a URL, a remote libSQL database
// (libsqldb). Code that needs the file itself (raw connections, its size,
// a checkpoint) asks Local and handles the remote case.
type Handle struct {
	condo.DB
	TenantID string
	// local is the SQLite file behind DB; nil for a remote tenant.
	local *sqlitedb.DB

	// refs counts holders. It only grows under Store.mu while the handle
	// is in the pool, so once evicted is set it can only fall, and
	// releases that do not drop the last hold of an evicted handle take
	// no lock.
	refs    atomic.Int32
	evicted atomic.Bool // out of the pool: close at refs == 0
	closer  atomic.Bool // set by whichever of eviction and last release closes it
	closed  atomic.Bool // set once closeNow has closed it (TakeOut waits for it)
	// pins counts the holds of AcquirePinned (each also counts in refs);
	// guarded by Store.mu. A pinned handle is never chosen for eviction.
	pins int
	// unwatch drops the handle's commit watch (backups.go); nil without
	// Config.Backups.
	unwatch func()
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
	if cfg.BusyWait <= 0 {
		cfg.BusyWait = DefaultBusyWait
	}
	s := &Store{cfg: cfg, catalog: cat, set: cfg.Migrations, opening: map[string]*openCall{}, holder: newHolder(),
		closeq: make(chan *Handle, closeQueueLen)}
	s.pool = newARC(cfg.PoolSize, s.onEvict, func(h *Handle) bool { return h.pins > 0 }) // called under s.mu
	go s.closer()
	return s
}

// Local returns the local SQLite database of the handle, and false for a
// tenant at a remote location, which has no file on this node.
func (h *Handle) Local() (*sqlitedb.DB, bool) { return h.local, h.local != nil }

// Remote reports whether the tenant lives at a remote location.
func (h *Handle) Remote() bool { return h.local == nil }

// closer closes the idle handles evicted to make room, until Close has
// closed every handle (see closeNow).
func (s *Store) closer() {
	for h := range s.closeq {
		s.closeNow(h)
	}
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
	Closing  int `json:"closing"`  // evicted idle, waiting for the closer
	Opening  int `json:"opening"`
	Pinned   int `json:"pinned"` // handles held by AcquirePinned, never evicted
	Size     int `json:"size"`
}

// Stats reports the pool's occupancy.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Open: s.pool.Len(), Draining: s.draining, Closing: s.closing, Opening: len(s.opening), Pinned: s.pinned, Size: s.cfg.PoolSize}
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
	return s.acquire(ctx, id, nil, holdPlain)
}

// AcquireTenant is Acquire for a caller that has just read the tenant's
// catalog row (the API resolved it from the host): on a miss it opens the
// database without reading the row again.
func (s *Store) AcquireTenant(ctx context.Context, t *catalog.Tenant) (*Handle, func(), error) {
	return s.acquire(ctx, t.ID, t, holdPlain)
}

// AcquirePinned is AcquireTenant for a holder that keeps the handle for a
// long time (a libSQL stream): until release, the handle stays in the
// pool whatever else is opened, so the tenant has this one handle only
// (see the package comment). Pinned handles still count against the
// pool's descriptor budget.
func (s *Store) AcquirePinned(ctx context.Context, t *catalog.Tenant) (*Handle, func(), error) {
	return s.acquire(ctx, t.ID, t, holdPinned)
}

// AcquireScan is Acquire for work that visits every tenant once (a fleet
// run, a backup sweep): an open tenant is not counted as used again, and
// a tenant it opens takes the place of others seen once, never of the
// tenants requests keep coming back to, and leaves no trace when evicted.
// A scan therefore does not flush the pool's hot set.
func (s *Store) AcquireScan(ctx context.Context, id string) (*Handle, func(), error) {
	return s.acquire(ctx, id, nil, holdScan)
}

// hold is how an acquirer holds its handle.
type hold int

const (
	holdPlain  hold = iota // a request: Acquire, AcquireTenant
	holdScan               // a visit of every tenant: AcquireScan
	holdPinned             // a long-lived holder: AcquirePinned
)

// acquire implements Acquire; t, when not nil, is the tenant's row.
func (s *Store) acquire(ctx context.Context, id string, t *catalog.Tenant, how hold) (*Handle, func(), error) {
	scan := how == holdScan
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, nil, err
	}
	missed := false
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "shutting_down", "the server is shutting down")
		}
		if again, err := s.waitBusy(ctx, id); again {
			continue // handed back: look again (waitBusy unlocked)
		} else if err != nil {
			return nil, nil, err
		}
		var h *Handle
		var ok bool
		if scan {
			h, ok = s.pool.Peek(id)
		} else {
			h, ok = s.pool.Get(id)
		}
		if ok {
			h.refs.Add(1)
			if how == holdPinned {
				s.pin(h)
			}
			s.mu.Unlock()
			if !missed {
				s.counters.hits.Add(1)
			}
			return h, s.releaserOf(h, how), nil
		}
		if !missed {
			missed = true
			s.counters.misses.Add(1)
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
		if s.pool.Len()+s.draining+s.closing+len(s.opening) >= 2*s.cfg.PoolSize {
			if s.closing > 0 {
				// Handles on their way to closing free descriptors in
				// a moment: wait for one rather than refuse.
				if s.closedOne == nil {
					s.closedOne = make(chan struct{})
				}
				wait := s.closedOne
				s.mu.Unlock()
				select {
				case <-wait:
				case <-ctx.Done():
					return nil, nil, ctx.Err()
				}
				continue
			}
			s.mu.Unlock()
			return nil, nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "pool_exhausted",
				"too many tenant databases are in use at once; retry shortly")
		}
		call := &openCall{done: make(chan struct{})}
		s.opening[id] = call
		s.mu.Unlock()

		// Opening is shared by every waiter, so one caller's cancellation
		// must not fail the others.
		t0 := time.Now()
		h, err := s.open(context.WithoutCancel(ctx), id, t)
		if err == nil {
			s.counters.opens.Add(1)
			s.counters.openNanos.Add(int64(time.Since(t0)))
		}

		s.mu.Lock()
		delete(s.opening, id)
		if err == nil && s.closed {
			err = condo.ReasonErrorf(condo.EUNAVAILABLE, "shutting_down", "the server is shutting down")
		}
		var victims []*Handle
		if err == nil {
			h.refs.Store(1)
			if how == holdPinned {
				s.pin(h) // before Add, so making room cannot pick it
			}
			s.pool.Add(id, h, scan)
			victims, s.evicted = s.evicted, nil
		}
		s.mu.Unlock()
		call.err = err
		close(call.done)
		for _, v := range victims { // the closer's queue was full
			s.closeNow(v)
		}
		if err != nil {
			if h != nil {
				s.backupClosing(h)
				h.Close()
			}
			return nil, nil, err
		}
		if s.cfg.OnOpen != nil {
			s.cfg.OnOpen(id)
		}
		return h, s.releaserOf(h, how), nil
	}
}

// AcquireIfOpen is Acquire for background work that must neither open a
// database nor make one look recently used: it returns the handle only
// when the tenant is open in the pool already, without touching the
// pool's order, and ok false otherwise (closed, evicted, shutting down).
func (s *Store) AcquireIfOpen(id string) (h *Handle, release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, false
	}
	if h, ok = s.pool.Peek(id); !ok {
		return nil, nil, false
	}
	h.refs.Add(1)
	return h, s.releaser(h), true
}

// OpenTenants returns the ids of the tenants open in the pool now.
func (s *Store) OpenTenants() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pool.Keys()
}

// onEvict runs under s.mu when the pool drops a handle to make room (or
// Close purges it). No holder can appear once evicted is set (holds are
// taken under s.mu from the pool), so refs here is final or falling: a
// holder that releases the last hold concurrently sees evicted, and the
// closer flag makes exactly one of the two responsible for the close.
func (s *Store) onEvict(_ string, h *Handle) {
	h.evicted.Store(true)
	if !s.closed {
		s.counters.evictions.Add(1)
	}
	if h.refs.Load() > 0 || !h.closer.CompareAndSwap(false, true) {
		s.draining++ // the last release closes it (and counts it off)
		return
	}
	if s.closed {
		s.evicted = append(s.evicted, h) // Close checkpoints and closes it
		return
	}
	s.closing++
	select {
	case s.closeq <- h:
	default:
		s.evicted = append(s.evicted, h) // the evicting request closes it
	}
}

func (s *Store) releaser(h *Handle) func() {
	var once sync.Once
	return func() { once.Do(func() { s.release(h) }) }
}

// releaserOf is releaser for a hold of kind how: a pinned hold unpins
// before it releases.
func (s *Store) releaserOf(h *Handle, how hold) func() {
	if how != holdPinned {
		return s.releaser(h)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if h.pins--; h.pins == 0 {
				s.pinned--
			}
			s.mu.Unlock()
			s.release(h)
		})
	}
}

// pin adds a pin to h, under s.mu.
func (s *Store) pin(h *Handle) {
	if h.pins++; h.pins == 1 {
		s.pinned++
	}
}

// Holds reports how many holders tenant id's open handle has (refs) and
// how many of them pinned it, for tests and metrics; ok is false when the
// tenant is not open in the pool.
func (s *Store) Holds(id string) (refs, pins int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.pool.Peek(id)
	if !ok {
		return 0, 0, false
	}
	return int(h.refs.Load()), h.pins, true
}

func (s *Store) release(h *Handle) {
	if h.refs.Add(-1) > 0 || !h.evicted.Load() {
		return // the common case: no lock
	}
	if !h.closer.CompareAndSwap(false, true) {
		return // onEvict saw refs at 0 and queued it for closing
	}
	s.mu.Lock()
	s.draining--
	s.closing++ // counted off by closeNow, like a queued handle
	s.mu.Unlock()
	s.closeNow(h)
}

// closeNow closes an evicted handle counted in s.closing, and, once Close
// has begun and no handle is left out of the pool, tells Close and ends
// the closer.
func (s *Store) closeNow(h *Handle) {
	s.backupClosing(h)
	if err := h.Close(); err != nil {
		s.cfg.Logger.Warn("close tenant database", "tenant", h.TenantID, "err", err)
	}
	h.closed.Store(true)
	s.mu.Lock()
	s.closing--
	if s.closedOne != nil {
		close(s.closedOne)
		s.closedOne = nil
	}
	s.finishIfIdle()
	s.mu.Unlock()
}

// finishIfIdle runs under s.mu: after Close, when nothing is draining or
// closing, no handle can be queued again, so the closer may end.
func (s *Store) finishIfIdle() {
	if s.closed && s.draining == 0 && s.closing == 0 {
		if s.drained != nil {
			close(s.drained)
			s.drained = nil
		}
		s.closerOnce.Do(func() { close(s.closeq) })
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
	if s.draining > 0 || s.closing > 0 {
		s.drained = make(chan struct{})
		wait = s.drained
	} else {
		s.finishIfIdle()
	}
	s.mu.Unlock()

	var errs []error
	for _, h := range idle {
		s.backupClosing(h) // the replica's final sync, before the checkpoint rewrites the WAL
		// The checkpoint only makes the next open quicker: every commit
		// is durable in the WAL already, and the next open replays it. On
		// a full disk it cannot run (it grows the database file), and that
		// must not fail a shutdown.
		if db, ok := h.Local(); !ok {
			// A remote database has no WAL of this node's to fold.
		} else if err := db.Checkpoint(ctx); err != nil {
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

// maxReadCacheKiB caps readCacheKiB.
const maxReadCacheKiB = 4096

// readCacheKiB is the page cache of each reader of a tenant whose file has
// size bytes: 1/64 of the file, at most maxReadCacheKiB (and never less
// than sqlitedb.DefaultCacheKiB, which it then does not change). A
// tenant of 100,000 items (265 MB) gets 4 MiB a reader: its index pages
// stay cached, where 256 KiB made every search and list read most of its
// pages from the OS again (a rare word's search p99 2.8 ms instead of
// 8.8, docs/PERFORMANCE.md). SQLite fills a page cache only with pages
// it reads, so this costs memory only where a tenant is big and busy, and
// idle readers close after sqlitedb.DefaultIdleTime.
func readCacheKiB(size int64) int {
	return int(min(size/64>>10, maxReadCacheKiB))
}

// open opens and, if needed, migrates one tenant's database.
func (s *Store) open(ctx context.Context, id string, t *catalog.Tenant) (*Handle, error) {
	if t == nil {
		var err error
		if t, err = s.catalog.Lookup(ctx, id); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	left, retired := s.retired[id]
	s.mu.Unlock()
	region := s.catalog.Config().Region
	switch {
	case retired && t.Epoch <= left:
		return nil, movedError(id) // a request that resolved the tenant before its move
	case region != "" && t.Epoch > 0 && t.Region != region:
		// A moved tenant is served in its home region only: what is left
		// here is an older epoch's copy (the cheap epoch check: once per
		// open, on the row the open reads anyway).
		return nil, movedError(id)
	case t.Status == catalog.StatusArchived:
		return nil, condo.ReasonErrorf(condo.EGONE, "tenant_archived", "tenant %s is archived", id)
	case t.Schema.Dirty:
		return nil, migratingError(id, t.Schema.Error)
	}
	var h *Handle
	var err error
	if t.Location != "" {
		h, err = s.openRemote(ctx, t)
	} else {
		h, err = s.openLocal(id)
	}
	if err != nil {
		return nil, err
	}
	return h, s.prepare(ctx, h, t)
}

// openLocal opens the tenant's file on this node's volume.
func (s *Store) openLocal(id string) (*Handle, error) {
	path, _ := s.Path(id)
	fi, err := os.Stat(path)
	if err != nil {
		s.cfg.Logger.Error("tenant database missing", "tenant", id, "err", err)
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "the database of tenant %s is missing", id)
	}
	opt := s.cfg.DB
	opt.ReadCacheKiB = max(opt.ReadCacheKiB, readCacheKiB(fi.Size()))
	db, err := sqlitedb.Open(path, opt)
	if err != nil {
		return nil, err
	}
	h := &Handle{DB: db, local: db, TenantID: id}
	s.watchWrites(h)
	return h, nil
}

// prepare checks an open database's schema and migrates it when it is
// behind the target. The handle is returned with an error too: the
// caller closes it.
func (s *Store) prepare(ctx context.Context, h *Handle, t *catalog.Tenant) error {
	id := h.TenantID
	v, dirty, err := migrations.Version(ctx, h.Reader())
	if err != nil {
		s.cfg.Logger.Error("tenant database unreadable", "tenant", id, "err", libsqldb.ErrRedacted(err, t.LocationToken))
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "the database of tenant %s cannot be read", id)
	}
	if dirty {
		err := fmt.Sprintf("the database is dirty at version %d", v)
		s.record(ctx, id, catalog.SchemaState{Version: v, Dirty: true, Error: err}, 0)
		return migratingError(id, err)
	}
	if v < s.set.Latest() { // else no target can move it: skip reading the catalog
		target, err := s.openTarget(ctx) // the set's latest, unless the fleet was rolled back
		if err != nil {
			return err
		}
		if v < target {
			return s.migrate(ctx, h, target)
		}
	}
	if v != t.Schema.Version {
		s.syncSchema(ctx, h) // someone else migrated it; keep the catalog true
	}
	return nil
}

// migrate moves an open database to target and records the outcome.
func (s *Store) migrate(ctx context.Context, h *Handle, target uint) error {
	unlock, err := s.migrating.lock(ctx, h.TenantID) // a fleet run may be migrating it
	if err != nil {
		return err
	}
	defer unlock()
	if h.Remote() { // a local file has SQLite's write lock to order processes
		unlease, err := s.lease(ctx, h.TenantID)
		if err != nil {
			return err
		}
		defer unlease()
	}
	start := time.Now()
	from, err := s.set.Apply(ctx, h.Writer(), target)
	if err != nil {
		err = libsqldb.ErrRedacted(err) // a remote database's errors may name its URL
		state := catalog.SchemaState{Version: from, Error: err.Error()}
		var de *migrations.DirtyError
		if errors.As(err, &de) {
			state.Version, state.Dirty = de.Version, true
		} else if v, dirty, verr := migrations.Version(ctx, h.Writer()); verr == nil {
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
