// Package backup replicates tenant databases continuously to an object
// store (s3://bucket/prefix) or a directory (file:///path) with
// Litestream, embedded as a library, and restores them from it.
//
// Only tenants being written cost anything. A tenant is registered with
// Litestream at the first commit of its open handle and unregistered,
// after a final sync, before that handle closes (the tenantstore.Backups
// seam); ten thousand idle tenants are ten thousand files Litestream
// never looks at, where its directory watcher would poll every one.
// Each registered tenant costs one Litestream replica goroutine (uploads,
// at most one a second), one read transaction, and a WAL read by the
// replicator's sync loop only in the intervals it was committed to (a
// commit watch marks it dirty; Litestream's own per-database monitor,
// which reads every WAL every interval, is off).
//
// Each tenant replicates under <prefix>/<tenant id>/ in Litestream's LTX
// layout (level 0 per sync, compacted to levels 1-3 and a daily snapshot
// at level 9), its local LTX files beside the database in
// <data>/tenants/<id>/.tenant.db-litestream. A sync that cannot reach the
// store leaves them there and retries with backoff: writes go on, the
// tenant's lag grows, and /readyz says degraded past the alert threshold.
//
// Checkpoints: Litestream wants to be the one that restarts the WAL. It
// holds a read transaction, so Condo's own automatic checkpoints
// (wal_autocheckpoint 4000, PASSIVE) copy pages but can never restart the
// WAL under it, and its passive checkpoints are set to the same 4,000
// pages. The TRUNCATE checkpoint Condo runs when its store closes, and
// SQLite's checkpoint when the last connection of a file closes, come
// after the final sync (Closing runs first). The cost: a tenant
// registered again after its handle closed finds its WAL restarted and
// starts with a snapshot of the whole database (Litestream cannot prove
// the WAL it left was not rewritten). The pool keeps written tenants
// open, so that is once per stay in the pool, not per write.
package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/litestream"
	_ "github.com/benbjohnson/litestream/file" // the file:// client
	_ "github.com/benbjohnson/litestream/s3"   // the s3:// client

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/metrics"
	"github.com/condohq/condo/sqlitedb"
)

// Defaults for Config.
const (
	DefaultLagAlert        = time.Minute
	DefaultCloseSync       = 10 * time.Second
	DefaultMonitorInterval = 500 * time.Millisecond
	// checkpointPages agrees with sqlitedb's wal_autocheckpoint.
	checkpointPages = 4000
)

// Config tunes a Replicator.
type Config struct {
	// URL is where replicas go: s3://bucket/prefix (credentials from the
	// AWS variables; ?endpoint=URL, or AWS_ENDPOINT_URL_S3, for an
	// S3-compatible server) or file:///path.
	URL string
	// Region is the region the store keeps its bytes in, checked against
	// each tenant's residency before anything of it is sent there; empty
	// means the node's region (catalog.Config.Region).
	Region string
	// Catalog answers tenants' residency; nil skips the check (tests).
	Catalog *catalog.Catalog
	// LagAlert is the lag past which Health says degraded.
	LagAlert time.Duration
	// CloseSync bounds the final sync of a closing handle; a store that
	// does not answer in time leaves the rest in the local LTX files,
	// sent at the tenant's next registration.
	CloseSync time.Duration
	// MonitorInterval is how often a registered tenant's WAL is read.
	MonitorInterval time.Duration
	Logger          *slog.Logger
}

// Replicator owns the Litestream store of the registered tenants.
type Replicator struct {
	cfg   Config
	base  *url.URL
	store *litestream.Store

	mu      sync.Mutex
	tenants map[string]*tenant // registered, or being registered
	pending map[string]string  // written, not registered yet: id -> path
	refused map[string]bool    // residency forbids the store's region
	// unsent holds tenants whose final sync failed, since when; lastSync
	// the time of each closed tenant's last good final sync.
	unsent   map[string]time.Time
	lastSync map[string]time.Time
	closed   bool
	kick     chan struct{}
	syncing  sync.Mutex // held by syncDirty while it reads a tenant's WAL
	stop     context.CancelFunc
	wg       sync.WaitGroup
	started  bool
}

type tenant struct {
	id, path string
	db       *litestream.DB
	ready    chan struct{} // closed once registration ended (db or err)
	err      error
	since    time.Time // registered at
	// dirty is set by a commit watch (sqlitedb.WatchCommits) and cleared
	// by the sync loop, which reads the WAL of dirty tenants only.
	dirty   atomic.Bool
	unwatch func() // drops the dirty watch; set by the sync loop only
}

// New checks cfg and returns a Replicator that has started nothing; the
// commands that only read or erase replicas use it as it is, serve calls
// Start and Close.
func New(cfg Config) (*Replicator, error) {
	u, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.LagAlert <= 0 {
		cfg.LagAlert = DefaultLagAlert
	}
	if cfg.CloseSync <= 0 {
		cfg.CloseSync = DefaultCloseSync
	}
	if cfg.MonitorInterval <= 0 {
		cfg.MonitorInterval = DefaultMonitorInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" && cfg.Catalog != nil {
		cfg.Region = cfg.Catalog.Config().Region
	}
	s := litestream.NewStore(nil, litestream.DefaultCompactionLevels)
	s.Logger = cfg.Logger.With("subsystem", "litestream")
	s.ShutdownSyncTimeout = cfg.CloseSync
	return &Replicator{cfg: cfg, base: u, store: s, tenants: map[string]*tenant{}, pending: map[string]string{},
		refused: map[string]bool{}, unsent: map[string]time.Time{}, lastSync: map[string]time.Time{}, kick: make(chan struct{}, 1)}, nil
}

// ParseURL checks a --backup-url: s3://bucket[/prefix] or file:///path.
// Errors never repeat the URL's user info.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--backup-url is not a URL")
	}
	if u.User != nil {
		return nil, fmt.Errorf("--backup-url must not carry credentials: use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	switch u.Scheme {
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("--backup-url s3:// needs a bucket: s3://bucket/prefix")
		}
	case "file":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("--backup-url file:// needs an absolute path: file:///var/backups/condo")
		}
	default:
		return nil, fmt.Errorf("--backup-url must be s3://bucket/prefix or file:///path, not %q", u.Scheme)
	}
	return u, nil
}

// Redacted is the URL as logs and answers show it (no query: an
// endpoint may carry a signature).
func (r *Replicator) Redacted() string {
	u := *r.base
	u.RawQuery = ""
	return u.String()
}

// Client returns the Litestream client of tenant id's replica, under
// <prefix>/<id>.
func (r *Replicator) Client(id string) (litestream.ReplicaClient, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, err
	}
	u := *r.base
	u.Path = path.Join("/", u.Path, id)
	if u.Scheme == "s3" {
		q := u.Query()
		if q.Get("endpoint") == "" {
			if ep := os.Getenv("AWS_ENDPOINT_URL_S3"); ep != "" {
				q.Set("endpoint", ep)
			} else if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
				q.Set("endpoint", ep)
			}
		}
		u.RawQuery = q.Encode()
	}
	c, err := litestream.NewReplicaClientFromURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("backup store: %w", err)
	}
	c.SetLogger(r.cfg.Logger.With("tenant", id))
	return c, nil
}

// Start starts the store's compaction and retention monitors and the
// registration loop. Serve calls it before it serves and Close after the
// tenant store has closed every handle.
func (r *Replicator) Start(ctx context.Context) error {
	if err := r.store.Open(ctx); err != nil {
		return err
	}
	ctx, r.stop = context.WithCancel(context.WithoutCancel(ctx))
	r.mu.Lock()
	r.started = true
	r.mu.Unlock()
	metrics.SetBackupSource(r.figures)
	r.wg.Add(2)
	go func() { defer r.wg.Done(); r.loop(ctx) }()
	go func() { defer r.wg.Done(); r.syncLoop(ctx) }()
	return nil
}

// Close stops registering, gives every registered tenant its final sync
// and stops the monitors. Tenants still open should be closed first (the
// tenant store's Close), which unregisters them one by one.
func (r *Replicator) Close(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	started := r.started
	r.mu.Unlock()
	if !started {
		return nil
	}
	r.stop()
	r.wg.Wait()
	return r.store.Close(ctx)
}

// Written implements tenantstore.Backups: it queues the tenant for the
// registration loop, without blocking (it runs inside a commit).
func (r *Replicator) Written(id, path string) {
	r.mu.Lock()
	if _, ok := r.tenants[id]; !ok && !r.closed {
		r.pending[id] = path
	}
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Closing implements tenantstore.Backups: the tenant's final sync, then
// it is unregistered. A tenant written but not registered yet is
// registered first, so its last writes are not left behind.
func (r *Replicator) Closing(id string) {
	r.mu.Lock()
	p, pending := r.pending[id]
	delete(r.pending, id)
	started := r.started && !r.closed
	r.mu.Unlock()
	if pending && started {
		r.register(id, p)
	}
	r.mu.Lock()
	t := r.tenants[id]
	r.mu.Unlock()
	if t == nil {
		return
	}
	<-t.ready
	r.mu.Lock()
	delete(r.tenants, id)
	r.mu.Unlock()
	if t.db == nil {
		return
	}
	r.syncing.Lock() // no read of its WAL in flight, none to come
	if t.unwatch != nil {
		t.unwatch()
	}
	r.syncing.Unlock()
	// A store already failing (the tenant lags) gets one short attempt,
	// not CloseSync twice over: closes run on the pool's closer, in
	// TakeOut and at shutdown, and a dead store must not stall them.
	bound := r.cfg.CloseSync
	if r.Status(id).LagSeconds > (3*r.cfg.MonitorInterval + 2*time.Second).Seconds() {
		bound = min(bound, time.Second)
		t.db.ShutdownSyncTimeout = 0 // Close: one attempt, no retries
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*bound+time.Second)
	defer cancel()
	// The final sync: explicitly, because Litestream's Close syncs only a
	// database its monitor has read once already (a tenant written just
	// before its close has not been).
	sctx, scancel := context.WithTimeout(ctx, bound)
	serr := t.db.SyncAndWait(sctx)
	scancel()
	err := r.store.UnregisterDB(ctx, t.path) // Close: what came in since
	if err == nil {
		err = serr
	}
	if local, _ := t.db.Pos(); err == nil && (local.TXID == 0 || t.db.Replica.Pos().TXID < local.TXID) {
		// Written, yet nothing (or not all) reached the store: Litestream
		// never got to read the WAL (the store did not answer), or the
		// final upload fell short.
		err = errors.New("the store did not take the tenant's last writes")
	}
	if r.deleted(ctx, id) {
		// Deleted (GDPR) while this process still had it open, by another
		// process (the CLI beside a server): that delete erased the
		// replica, and the final sync just now may have written to it
		// again. Erase it once more; nothing of the tenant stays.
		if eerr := r.Erase(ctx, id); eerr != nil {
			r.cfg.Logger.Error("backup: cannot erase a deleted tenant's replica", "tenant", id, "err", eerr)
		}
		r.mu.Lock()
		delete(r.unsent, id)
		delete(r.lastSync, id)
		r.mu.Unlock()
		return
	}
	since := t.db.LastSuccessfulSyncAt()
	if since.IsZero() {
		since = t.since
	}
	r.recordClose(id, since, err)
	if err != nil {
		r.cfg.Logger.Warn("backup: final sync before close failed; the rest is sent at the tenant's next write", "tenant", id, "err", err)
	}
}

// loop registers the tenants Written queued.
func (r *Replicator) loop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		}
		for {
			r.mu.Lock()
			var id, p string
			for id, p = range r.pending {
				break
			}
			if id != "" {
				delete(r.pending, id)
			}
			r.mu.Unlock()
			if id == "" || ctx.Err() != nil {
				break
			}
			r.register(id, p)
		}
	}
}

// register opens tenant id's database with Litestream.
func (r *Replicator) register(id, p string) {
	r.mu.Lock()
	if _, ok := r.tenants[id]; ok || r.closed {
		r.mu.Unlock()
		return
	}
	t := &tenant{id: id, path: p, ready: make(chan struct{}), since: time.Now()}
	r.tenants[id] = t
	r.mu.Unlock()
	defer close(t.ready)
	if err := r.allowed(id); err != nil {
		t.err = err
		return
	}
	client, err := r.Client(id)
	if err != nil {
		t.err = err
		return
	}
	db := litestream.NewDB(p)
	// No Litestream monitor: it reads every registered database's WAL
	// each interval, written or not (measured at 0.6 ms of CPU a tenant
	// a second, mostly SQL statements parsed anew). The sync loop reads
	// only those committed to since their last read (see syncDirty).
	db.MonitorInterval = 0
	db.MinCheckpointPageN = checkpointPages
	db.Replica = litestream.NewReplicaWithClient(db, client)
	db.Replica.SyncInterval = min(2*r.cfg.MonitorInterval, time.Second) // uploads: at most one a second per tenant by default
	if err := r.store.RegisterDB(db); err != nil {
		t.err = err
		metrics.BackupSyncErrors.Inc()
		r.cfg.Logger.Error("backup: cannot register tenant", "tenant", id, "err", err)
		return
	}
	t.db = db
	t.dirty.Store(true) // the write that registered it
}

// allowed checks tenant id's residency against the store's region.
func (r *Replicator) allowed(id string) error {
	if r.cfg.Catalog == nil {
		return nil
	}
	t, err := r.cfg.Catalog.Lookup(context.Background(), id)
	if err != nil {
		return err
	}
	if err := r.cfg.Catalog.CheckResidency(t, r.cfg.Region); err != nil {
		r.mu.Lock()
		first := !r.refused[id]
		r.refused[id] = true
		r.mu.Unlock()
		if first {
			r.cfg.Logger.Warn("backup: tenant not replicated: its residency excludes the backup store's region", "tenant", id, "backup_region", r.cfg.Region, "err", condo.ErrorMessage(err))
		}
		return err
	}
	return nil
}

// Sync sends tenant id's writes to the store now, if it is registered
// (ok false when it is not: nothing of it is waiting).
func (r *Replicator) Sync(ctx context.Context, id string) (ok bool, err error) {
	r.mu.Lock()
	t := r.tenants[id]
	r.mu.Unlock()
	if t == nil {
		return false, nil
	}
	select {
	case <-t.ready:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if t.db == nil {
		return false, t.err
	}
	return true, t.db.SyncAndWait(ctx)
}

// ErrNoBackups is the answer for a tenant with no replica.
var ErrNoBackups = errors.New("no backups")

// syncLoop reads, every MonitorInterval, the WAL of each registered
// tenant committed to since its last read into Litestream's local LTX
// files; Litestream's replica goroutine then sends them to the store.
func (r *Replicator) syncLoop(ctx context.Context) {
	tick := time.NewTicker(r.cfg.MonitorInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.syncDirty(ctx)
	}
}

func (r *Replicator) syncDirty(ctx context.Context) {
	r.mu.Lock()
	var due []*tenant
	for _, t := range r.tenants {
		if t.db != nil && t.dirty.Load() {
			due = append(due, t)
		}
	}
	r.mu.Unlock()
	for _, t := range due {
		if ctx.Err() != nil {
			return
		}
		// Watch first, then read: a commit after the watch marks it dirty
		// again, one before it is in this read.
		r.syncing.Lock()
		r.mu.Lock()
		live := r.tenants[t.id] == t
		r.mu.Unlock()
		if live {
			t.dirty.Store(false)
			t.unwatch = sqlitedb.WatchCommits(t.path, func() { t.dirty.Store(true) })
			if err := t.db.Sync(ctx); err != nil && ctx.Err() == nil {
				t.dirty.Store(true) // again next time
				r.cfg.Logger.Debug("backup: WAL read failed", "tenant", t.id, "err", err)
			}
		}
		r.syncing.Unlock()
	}
}

// deleted reports whether tenant id has a tombstone (a GDPR delete begun
// or done).
func (r *Replicator) deleted(ctx context.Context, id string) bool {
	if r.cfg.Catalog == nil {
		return false
	}
	ts, err := r.cfg.Catalog.Tombstone(ctx, id)
	return err == nil && ts != nil
}
