package hrana

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// Defaults of a Registry's Config.
const (
	// DefaultIdleTimeout is sqld's: a stream unused this long is rolled
	// back and closed. It is short because an idle stream may hold the
	// tenant's write lock.
	DefaultIdleTimeout = 10 * time.Second
	// DefaultTombstoneTTL is how long a closed stream's baton keeps
	// answering why (STREAM_EXPIRED, TRANSACTION_TIMEOUT), as sqld does.
	DefaultTombstoneTTL = 5 * time.Minute
	// DefaultMaxTombstones bounds the tombstones kept (about 100 bytes
	// each); past it the oldest go, and their batons answer BATON_INVALID.
	DefaultMaxTombstones = 10_000
	// DefaultMaxStreams bounds the open streams of the process: each
	// pins its tenant in the pool, and holds a SQLite connection while a
	// request runs or a transaction is open (see done).
	DefaultMaxStreams = 1000
	// DefaultMaxTenantStreams bounds one tenant's open streams, as many
	// as sqlitedb keeps stream connections for one database (more would
	// wait in StreamConn for one to come back).
	DefaultMaxTenantStreams = sqlitedb.DefaultStreamConns
	// DefaultTick is how often the reaper looks for streams to close.
	DefaultTick = 100 * time.Millisecond
)

// DefaultWriteLockCap is how long another writer of the tenant (a CMS
// write) may wait for the write lock a stream holds before the stream is
// rolled back: sqld's 5 s, but at most half the busy timeout, so the
// waiting write gets the lock before its own wait fails with SQLITE_BUSY.
var DefaultWriteLockCap = min(5*time.Second, sqlitedb.DefaultBusyTimeout/2)

// Config tunes a Registry. Zero fields take the defaults above.
type Config struct {
	IdleTimeout      time.Duration
	TombstoneTTL     time.Duration
	MaxTombstones    int
	MaxStreams       int
	MaxTenantStreams int
	WriteLockCap     time.Duration
	Tick             time.Duration
	// MaxBodyBytes caps a pipeline or cursor request's body (0:
	// DefaultMaxBodyBytes); MaxSQLBytes caps each SQL text in it (0:
	// DefaultMaxSQLBytes).
	MaxBodyBytes int64
	MaxSQLBytes  int
	// MaxPipelineBytes caps a pipeline's answer (0:
	// DefaultMaxPipelineBytes).
	MaxPipelineBytes int
	// Now is the clock of idle expiry and tombstones (nil: time.Now);
	// tests move it instead of sleeping.
	Now    func() time.Time
	Logger *slog.Logger // nil discards
	// NodeID, when set, names this node in every baton (see baton.go).
	NodeID string
}

func (c *Config) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.IdleTimeout, DefaultIdleTimeout)
	def(&c.TombstoneTTL, DefaultTombstoneTTL)
	def(&c.WriteLockCap, DefaultWriteLockCap)
	def(&c.Tick, DefaultTick)
	for _, n := range []struct {
		p *int
		v int
	}{{&c.MaxTombstones, DefaultMaxTombstones}, {&c.MaxStreams, DefaultMaxStreams},
		{&c.MaxTenantStreams, DefaultMaxTenantStreams}, {&c.MaxSQLBytes, DefaultMaxSQLBytes},
		{&c.MaxPipelineBytes, DefaultMaxPipelineBytes}} {
		if *n.p <= 0 {
			*n.p = n.v
		}
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Registry owns the process's libSQL streams: it opens them on a tenant's
// pinned handle, hands each request the stream its baton names, and
// closes (rolling back) streams that are done, idle too long or holding
// the write lock while the CMS waits for it.
//
// Goroutines: Run is the reaper; whoever built the Registry runs it
// (serve, as one of its jobs) and ends it by cancelling its context,
// which also closes every stream. A Registry whose Run has ended opens no
// more streams.
type Registry struct {
	cfg   Config
	store *tenantstore.Store
	key   [32]byte // signs batons; new in every process

	mu        sync.Mutex         // guards everything below
	streams   map[uint64]*stream // open, by id
	live      int                // streams holding resources, closing ones included
	perTenant map[string]int     // open, by tenant
	tombs     map[uint64]tombstone
	tombq     []uint64 // tombstone ids, oldest first (they expire in this order)
	nextID    uint64
	closed    bool
}

// stream is one open stream. Fields other than the immutable ones are
// guarded by Registry.mu.
type stream struct {
	id       uint64
	tenantID string
	access   Access
	quota    int64 // the storage quota its writes are capped to (Caller.Quota); 0: none
	conn     *Conn
	guard    *Guard
	db       *sqlitedb.DB // the pinned handle's local file
	release  func()       // the handle's pinned hold

	seq      uint64    // the sequence number of the one valid baton
	busy     bool      // a request is running on it
	cancel   func()    // ends the running request's context
	lastUse  time.Time // when the last request ended
	writing  bool      // held the write lock when the last request ended
	active   *Guard    // the running request's guard, for the reaper (nil when idle)
	dirtyTx  bool      // wrote inside the transaction still open (see finish)
	doom     *tombstone
	doomFail bool // the running request answers doom's error, not its results
}

// tombstone is what a closed stream's baton answers, until expires.
type tombstone struct {
	tenantID string
	err      *HTTPError
	expires  time.Time
}

// New builds a Registry over the tenant databases of store. It does no
// I/O and starts nothing; call Run.
func New(store *tenantstore.Store, cfg Config) *Registry {
	cfg.fill()
	r := &Registry{cfg: cfg, store: store, streams: map[uint64]*stream{}, perTenant: map[string]int{},
		tombs: map[uint64]tombstone{}}
	rand.Read(r.key[:])
	return r
}

// Config returns the registry's settings, defaults filled in.
func (r *Registry) Config() Config { return r.cfg }

// Streams reports how many streams are open now, closing ones included.
func (r *Registry) Streams() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.live
}

// TenantStreams reports how many streams of tenant id are open.
func (r *Registry) TenantStreams(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.perTenant[id]
}

// Tombstones reports how many closed streams' batons still answer why.
func (r *Registry) Tombstones() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tombs)
}

// Run reaps streams every Tick until ctx ends, then closes every stream
// and refuses new ones.
func (r *Registry) Run(ctx context.Context) {
	t := time.NewTicker(r.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.closeAll()
			return
		case <-t.C:
			r.Reap()
		}
	}
}

// Reap makes one pass of the reaper: it closes idle streams past
// IdleTimeout, rolls back streams holding the write lock that another
// writer of their tenant has waited for WriteLockCap, and forgets expired
// tombstones. Run calls it; tests call it after moving the clock.
func (r *Registry) Reap() {
	now := r.cfg.Now()
	var done []*stream
	r.mu.Lock()
	for _, st := range r.streams {
		// A stream holds the write lock if it did when its last request
		// ended, or if the request running now has compiled a write (a
		// long statement that took the lock: interrupted like an idle
		// holder).
		holds := st.writing || st.busy && st.active != nil && st.active.Wrote()
		switch {
		case holds && st.db.WriterWaiting() >= r.cfg.WriteLockCap:
			e := &HTTPError{http.StatusBadRequest, CodeTransactionTimeout,
				"the transaction was rolled back: it held the write lock while another writer waited", 0}
			if st.busy { // interrupt its statement; the request answers the error
				if st.doom == nil {
					st.doom, st.doomFail = &tombstone{tenantID: st.tenantID, err: e}, true
				}
				st.cancel()
				continue
			}
			r.unlink(st, e)
			done = append(done, st)
		case !st.busy && now.Sub(st.lastUse) >= r.cfg.IdleTimeout:
			r.unlink(st, &HTTPError{http.StatusBadRequest, CodeStreamExpired,
				"the stream expired after being idle; open a new one (its transaction, if any, was rolled back)", 0})
			done = append(done, st)
		}
	}
	for len(r.tombq) > 0 {
		id := r.tombq[0]
		if tb, ok := r.tombs[id]; ok && now.Before(tb.expires) {
			break
		}
		delete(r.tombs, id)
		r.tombq = r.tombq[1:]
	}
	r.mu.Unlock()
	for _, st := range done {
		r.free(st)
	}
}

// closeAll closes every stream and stops new ones, when Run ends.
func (r *Registry) closeAll() {
	r.mu.Lock()
	r.closed = true
	var done []*stream
	for _, st := range r.streams {
		if st.busy {
			// Its request ends soon (the server drains requests before
			// it stops the registry) and closes it then.
			st.doom = &tombstone{tenantID: st.tenantID, err: errShuttingDown}
			st.cancel()
			continue
		}
		r.unlink(st, errShuttingDown)
		done = append(done, st)
	}
	r.mu.Unlock()
	for _, st := range done {
		r.free(st)
	}
}

var errShuttingDown = &HTTPError{http.StatusServiceUnavailable, "SERVER_SHUTTING_DOWN", "the server is shutting down; retry shortly", time.Second}

// open opens a stream of c's tenant, busy with the caller's request, and
// returns the context that request runs in.
func (r *Registry) open(ctx context.Context, c *Caller) (*stream, context.Context, error) {
	id := c.Tenant.ID
	r.mu.Lock()
	switch {
	case r.closed:
		r.mu.Unlock()
		return nil, nil, errShuttingDown
	case r.live >= r.cfg.MaxStreams:
		r.mu.Unlock()
		return nil, nil, &HTTPError{http.StatusServiceUnavailable, "TOO_MANY_STREAMS",
			"the server has too many open streams; close streams you no longer use, or retry shortly", time.Second}
	case r.perTenant[id] >= r.cfg.MaxTenantStreams:
		r.mu.Unlock()
		return nil, nil, &HTTPError{http.StatusServiceUnavailable, "TOO_MANY_STREAMS",
			fmt.Sprintf("this database has %d open streams, its limit; close streams you no longer use, or retry shortly", r.cfg.MaxTenantStreams), time.Second}
	}
	r.live++ // a reservation, until the stream is set up or given up
	r.perTenant[id]++
	r.nextID++
	st := &stream{id: r.nextID, tenantID: id, access: c.Access, busy: true, seq: 1, quota: c.quota()}
	r.mu.Unlock()

	if err := r.connectOrFree(ctx, st, c); err != nil {
		return nil, nil, err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.free(st)
		return nil, nil, errShuttingDown
	}
	r.streams[st.id] = st
	st.active = st.guard
	rctx, cancel := context.WithCancel(ctx)
	st.cancel = cancel
	r.mu.Unlock()
	return st, rctx, nil
}

// connectOrFree is connect that frees st when connect fails, or panics:
// a reservation must never outlive its request, or the tenant's pinned
// handle would keep the store from closing.
func (r *Registry) connectOrFree(ctx context.Context, st *stream, c *Caller) (err error) {
	ok := false
	defer func() {
		if !ok {
			r.free(st)
		}
	}()
	err = r.connect(ctx, st, c)
	ok = err == nil
	return err
}

// connect gives st its pinned handle, its connection and its guard: on
// the caller's own database (the catalog's), which outlives every stream,
// else on the tenant's, pinned in the store.
func (r *Registry) connect(ctx context.Context, st *stream, c *Caller) error {
	if c.DB != nil {
		st.db = c.DB
		return r.attach(ctx, st)
	}
	h, release, err := r.store.AcquirePinned(ctx, c.Tenant)
	if err != nil {
		return err
	}
	db, ok := h.Local()
	if !ok {
		// The API forwards a remote tenant's requests to its location
		// (api/hrana_remote.go); a stream here needs the file.
		release()
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_remote", "tenant %s lives at a remote location: its libSQL streams are served there", c.Tenant.ID)
	}
	st.db, st.release = db, release
	return r.attach(ctx, st)
}

// attach gives st, busy with a request, a connection and its guard: a
// new stream, or one whose connection went back to the pool while it
// was idle (see done).
func (r *Registry) attach(ctx context.Context, st *stream) error {
	conn, protect := st.db.StreamConn, func(ctx context.Context, sc *sql.Conn) (*Guard, error) { return Protect(ctx, sc, st.access) }
	if st.access == ReadOnly {
		conn, protect = st.db.ReadStreamConn, ProtectReader
	}
	sc, err := conn(ctx)
	if err != nil {
		return fmt.Errorf("open a stream connection of tenant %s: %w", st.tenantID, err)
	}
	if st.access != ReadOnly {
		// Before the authorizer, which refuses this pragma.
		if err := capPages(ctx, sc, st.quota); err != nil {
			sc.Close()
			return fmt.Errorf("cap a stream connection of tenant %s: %w", st.tenantID, err)
		}
	}
	g, err := protect(ctx, sc)
	if err != nil {
		sc.Close()
		return fmt.Errorf("protect a stream connection of tenant %s: %w", st.tenantID, err)
	}
	st.guard = g
	if st.conn == nil {
		st.conn = NewConn(sc, g)
	} else {
		st.conn.Attach(sc, g)
	}
	st.conn.Quota, st.conn.Dir = 0, filepath.Dir(st.db.Path)
	if st.access != ReadOnly {
		st.conn.Quota = st.quota
	}
	return nil
}

// take returns the stream baton names, busy with the caller's request,
// and the context that request runs in. A baton that does not verify is
// BATON_INVALID; a genuine but old one (a replay, or a request racing
// another) BATON_REUSED, and it ends the stream, as any HTTP error does;
// a closed stream's baton answers why it closed.
func (r *Registry) take(ctx context.Context, baton string, c *Caller) (*stream, context.Context, error) {
	node, baton := splitBaton(baton)
	if node != r.cfg.NodeID {
		// Another node's stream (a node joined or left the region, and
		// this request was routed here): gone for this client, which
		// opens a new one.
		return nil, nil, &HTTPError{http.StatusBadRequest, CodeStreamExpired,
			"the stream lives on another node, which this request did not reach: open a new stream", 0}
	}
	id, seq, ok := r.parseBaton(baton)
	if !ok {
		return nil, nil, errBatonInvalid
	}
	r.mu.Lock()
	st, ended, foreign, err := r.takeLocked(id, seq, baton, c)
	if err == nil {
		st.busy, st.seq = true, st.seq+1
		var rctx context.Context
		rctx, st.cancel = context.WithCancel(ctx)
		r.mu.Unlock()
		if st.conn != nil && st.conn.Detached() {
			if err := r.attach(rctx, st); err != nil {
				r.cfg.Logger.Warn("libSQL stream: cannot take a connection again; closing it", "tenant", st.tenantID, "err", err)
				r.finish(st, errUnavailable, true, false)
				return nil, nil, errUnavailable
			}
		}
		r.mu.Lock()
		st.active = st.guard
		r.mu.Unlock()
		return st, rctx, nil
	}
	r.mu.Unlock()
	if ended != nil {
		r.free(ended)
	}
	if foreign != "" && c.OnForeignBaton != nil {
		c.OnForeignBaton(foreign) // it records an event: not under r.mu
	}
	return nil, nil, err
}

// takeLocked is take's check of a baton under r.mu: the stream it names,
// or the error to answer, the stream that error ended, if any, and the
// tenant of a genuine baton of another tenant's stream.
func (r *Registry) takeLocked(id, seq uint64, baton string, c *Caller) (st, ended *stream, foreign string, err error) {
	st, live := r.streams[id]
	tenant := ""
	switch {
	case live:
		tenant = st.tenantID
	default:
		tb, ok := r.tombs[id]
		if !ok {
			return nil, nil, "", errBatonInvalid
		}
		tenant = tb.tenantID
	}
	if !r.verify(baton, tenant, id, seq) {
		return nil, nil, "", errBatonInvalid
	}
	if tenant != c.Tenant.ID {
		// A genuine baton of another tenant's stream: refused as if
		// forged, recorded, and that stream left alone (nothing done on
		// this host may touch another tenant).
		return nil, nil, tenant, errBatonInvalid
	}
	if !live {
		return nil, nil, "", r.tombs[id].err
	}
	if seq != st.seq {
		e := &HTTPError{http.StatusBadRequest, CodeBatonReused,
			"the baton was used already: send the baton of the latest response; the stream is closed", 0}
		if st.busy {
			st.doom = &tombstone{tenantID: st.tenantID, err: e} // closed when its request ends
			return nil, nil, "", e
		}
		r.unlink(st, e)
		return nil, st, "", e
	}
	if c.Access < st.access {
		e := &HTTPError{http.StatusForbidden, "PERMISSION_DENIED",
			"the stream was opened with sql.write; this credential has sql.read only. The stream is closed", 0}
		r.unlink(st, e)
		return nil, st, "", e
	}
	return st, nil, "", nil
}

var errUnavailable = &HTTPError{http.StatusServiceUnavailable, "STREAM_UNAVAILABLE",
	"the stream could not get a connection of its database; it is closed: open a new one", time.Second}

var errBatonInvalid = &HTTPError{http.StatusBadRequest, CodeBatonInvalid,
	"the baton is not valid here: send the baton of the latest response on this host, or null to open a stream", 0}

// finish ends a request on st: it closes the stream when end is set (a
// close request, an HTTP error) or the stream was doomed meanwhile, and
// else marks it idle, with what its connection holds. It returns the
// stream's next baton (nil once closed) and, when the stream was doomed
// to answer an error instead of the request's results, that error.
func (r *Registry) finish(st *stream, end *HTTPError, autocommit, writing bool) (*string, *HTTPError) {
	r.mu.Lock()
	if !st.busy { // finished already (see recoverStream)
		r.mu.Unlock()
		return nil, nil
	}
	if st.cancel != nil {
		st.cancel()
	}
	st.active = nil
	var fail *HTTPError
	if st.doom != nil {
		if st.doomFail {
			fail = st.doom.err
		}
		end = st.doom.err
	}
	if end != nil {
		if _, ok := r.streams[st.id]; ok {
			r.unlink(st, end)
		}
		st.busy = false
		r.mu.Unlock()
		r.free(st)
		return nil, fail
	}
	st.busy, st.cancel, st.lastUse, st.writing = false, nil, r.cfg.Now(), writing
	b := r.baton(st.tenantID, st.id, st.seq)
	r.mu.Unlock()
	return &b, nil
}

// recoverStream, deferred by a handler that holds st, ends st if the
// handler panics (a bug), then lets the panic go on to the server's
// recovery: the stream is rolled back and its handle released rather than
// left busy for ever.
func (r *Registry) recoverStream(st *stream) {
	if p := recover(); p != nil {
		r.finish(st, errInternal, false, false)
		panic(p)
	}
}

var errInternal = &HTTPError{http.StatusInternalServerError, "INTERNAL", "internal error; the stream was closed", 0}

// unlink takes st out of the registry (so no request can take it) and
// leaves a tombstone answering why, under r.mu. st keeps counting as open
// until free has released what it holds.
func (r *Registry) unlink(st *stream, why *HTTPError) {
	delete(r.streams, st.id)
	if len(r.tombs) >= r.cfg.MaxTombstones && len(r.tombq) > 0 {
		delete(r.tombs, r.tombq[0])
		r.tombq = r.tombq[1:]
	}
	if _, ok := r.tombs[st.id]; !ok {
		r.tombq = append(r.tombq, st.id)
	}
	r.tombs[st.id] = tombstone{tenantID: st.tenantID, err: why, expires: r.cfg.Now().Add(r.cfg.TombstoneTTL)}
}

// free closes st's connection (rolling back its transaction), releases
// its pinned handle and counts it off. st is unlinked, or never linked.
func (r *Registry) free(st *stream) {
	if st.conn != nil {
		if err := st.conn.Close(); err != nil {
			r.cfg.Logger.Warn("close libSQL stream", "tenant", st.tenantID, "err", err)
		}
	}
	if st.release != nil {
		st.release()
	}
	r.mu.Lock()
	r.live--
	if r.perTenant[st.tenantID]--; r.perTenant[st.tenantID] == 0 {
		delete(r.perTenant, st.tenantID)
	}
	r.mu.Unlock()
}
