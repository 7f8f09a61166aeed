package tenantstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/libsqldb"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
)

// Migrations returns the tenant migration set the store applies.
func (s *Store) Migrations() *migrations.Set { return s.set }

// MigrationError reports a tenant migration that failed. The database
// stayed at Version; Dirty is set only when a no-transaction step failed
// (or the database was dirty already), which needs a manual fix and Force.
type MigrationError struct {
	TenantID string
	Version  uint
	Dirty    bool
	Err      error
}

func (e *MigrationError) Error() string { return e.Err.Error() }
func (e *MigrationError) Unwrap() error { return e.Err }

// Migrate moves tenant id's database up or down to target and records the
// outcome in the catalog; it returns the version the database was at. A
// database already at target is left alone (the catalog is corrected if
// it said otherwise), so running Migrate again is cheap and safe.
//
// An open handle from the pool is migrated through its writer, so the
// tenant's requests keep reading meanwhile and their writes wait briefly;
// otherwise a handle is opened for the migration alone, outside the pool.
// Migrations of one tenant in this process (Migrate, Force, migrate-on-open)
// take turns, and Apply's write lock does the same between processes.
//
// Errors: EINVALID for a malformed id or a version the set lacks;
// ENOTFOUND; EGONE for an archived tenant; EUNAVAILABLE when the file is
// missing or unreadable; *MigrationError when the migration itself failed,
// wrapping ECONFLICT (schema_ahead) for a database above the set's latest
// version, which only a newer binary can move.
func (s *Store) Migrate(ctx context.Context, id string, target uint) (from uint, err error) {
	from, _, err = s.migrateTenant(ctx, &outcome{id: id, target: target})
	return from, err
}

// MigrateInRun is Migrate on behalf of fleet run runID: the tenant's
// outcome is added to the run's counts in the same catalog transaction
// that records the tenant's schema state, so the run's record agrees with
// its tenants' rows however the run stops. It returns what it added: one
// migrated, skipped (at target already) or failed tenant, or nothing when
// ctx stopped the migration and the tenant rolled back, left for the next
// run.
func (s *Store) MigrateInRun(ctx context.Context, runID, id string, target uint) (from uint, n catalog.RunCount, err error) {
	return s.migrateTenant(ctx, &outcome{id: id, target: target, runID: runID})
}

// MigrateUnrecorded is MigrateInRun that records nothing: it returns the
// outcome for the caller to write with catalog.RecordSchemas, batched with
// other tenants' (rec.State nil and a zero count: nothing to write). The
// caller marks the tenant pending first (catalog.SetSchemaPendings), so if
// the process dies before the batch is written the next run looks at the
// file and finds the tenant at its version there.
func (s *Store) MigrateUnrecorded(ctx context.Context, id string, target uint) (from uint, rec catalog.SchemaRecord, err error) {
	o := &outcome{id: id, target: target, unrecorded: true}
	from, _, err = s.migrateTenant(ctx, o)
	if o.rec != nil {
		rec = *o.rec
	}
	rec.TenantID = id
	return from, rec, err
}

// outcome is one migration's record: the tenant, the target and, in a
// fleet run, the run that counts it.
type outcome struct {
	id     string
	target uint
	runID  string
	// unrecorded: the caller records rec itself and marked the tenant
	// pending already (MigrateUnrecorded).
	unrecorded bool
	rec        *catalog.SchemaRecord
}

// failed is how a failure counts in a run.
func (o *outcome) failed(version uint, dirty bool, err error) catalog.RunCount {
	return catalog.RunCount{Failed: 1, Failures: []catalog.RunFailure{{TenantID: o.id, Version: version, Dirty: dirty, Error: ErrorLine(err)}}}
}

// recordOutcome writes st (when set) and, in a run, n, in one catalog
// transaction. It writes even when ctx has ended: what happened on disk
// must reach the catalog.
func (s *Store) recordOutcome(ctx context.Context, o *outcome, st *catalog.SchemaState, n catalog.RunCount) (catalog.RunCount, error) {
	if o.unrecorded {
		o.rec = &catalog.SchemaRecord{TenantID: o.id, State: st, Count: n}
		return n, nil
	}
	if o.runID == "" {
		n = catalog.RunCount{}
	}
	if st == nil && n.IsZero() {
		return n, nil
	}
	runID := o.runID
	if n.IsZero() {
		runID = ""
	}
	if err := s.catalog.RecordSchema(context.WithoutCancel(ctx), o.id, st, runID, n); err != nil {
		if st != nil {
			return catalog.RunCount{}, fmt.Errorf("tenant %s is at version %d, but recording that failed: %w", o.id, st.Version, err)
		}
		return catalog.RunCount{}, fmt.Errorf("tenant %s: record the run's count: %w", o.id, err)
	}
	return n, nil
}

// fail records a failure that happened before the tenant's state could be
// read (nothing is recorded for the tenant) and returns err. A failure
// because ctx ended counts nothing: the tenant is left for the next run.
func (s *Store) fail(ctx context.Context, o *outcome, version uint, err error) (uint, catalog.RunCount, error) {
	if ctx.Err() != nil {
		return version, catalog.RunCount{}, err
	}
	n, rerr := s.recordOutcome(ctx, o, nil, o.failed(version, false, err))
	if rerr != nil {
		s.cfg.Logger.Error("record migration run", "tenant", o.id, "run", o.runID, "err", rerr)
	}
	return version, n, err
}

func (s *Store) migrateTenant(ctx context.Context, o *outcome) (uint, catalog.RunCount, error) {
	id, target := o.id, o.target
	if err := condo.ValidateTenantID(id); err != nil {
		return s.fail(ctx, o, 0, err)
	}
	if !s.set.Has(target) {
		return s.fail(ctx, o, 0, condo.ReasonErrorf(condo.EINVALID, "invalid_version", "no tenant migration has version %d (latest is %d)", target, s.set.Latest()))
	}
	t, err := s.migratable(ctx, id)
	if err != nil {
		return s.fail(ctx, o, 0, err)
	}
	unlock, err := s.lockTenant(ctx, t)
	if err != nil {
		return s.fail(ctx, o, t.Schema.Version, err)
	}
	defer unlock()
	db, done, err := s.writer(ctx, t)
	if err != nil {
		return s.fail(ctx, o, t.Schema.Version, err)
	}
	defer done()

	// Verify on disk before taking the write lock: a tenant that is done
	// (migrated on open, or by another process) costs one read.
	v, dirty, err := migrations.Version(ctx, db.Writer())
	if err != nil {
		return s.fail(ctx, o, t.Schema.Version, s.unreadable(id, libsqldb.ErrRedacted(err, t.LocationToken)))
	}
	if dirty {
		derr := &migrations.DirtyError{Version: v}
		st := catalog.SchemaState{Version: v, Dirty: true, Error: derr.Error()}
		if t.Schema.Dirty && t.Schema.Version == v {
			st = t.Schema // keep the error that made it dirty
		}
		merr := &MigrationError{TenantID: id, Version: v, Dirty: true, Err: derr}
		n, err := s.recordOutcome(ctx, o, &st, o.failed(v, true, merr))
		if err != nil {
			s.cfg.Logger.Error("record tenant schema", "tenant", id, "err", err)
		}
		return v, n, merr
	}
	if v > s.set.Latest() {
		// A newer binary migrated it; this one has no plan from there,
		// neither up nor down. The catalog learns the version, not an
		// error: the database is fine for the binary that wrote it.
		merr := &MigrationError{TenantID: id, Version: v, Err: SchemaAheadError(id, v, s.set.Latest())}
		st := t.Schema
		st.Version = v
		n, err := s.recordOutcome(ctx, o, &st, o.failed(v, false, merr))
		if err != nil {
			s.cfg.Logger.Error("record tenant schema", "tenant", id, "err", err)
		}
		return v, n, merr
	}
	if v == target {
		st := t.Schema
		if st.Version != v {
			st = stamped(catalog.SchemaState{Version: v}, 0)
		}
		// Right already; this write also clears an error and a pending
		// mark a crash may have left.
		st.Error = ""
		n, err := s.recordOutcome(ctx, o, &st, catalog.RunCount{Skipped: 1})
		return v, n, err
	}
	// Mark the attempt first: if this process dies before recording the
	// outcome, the next run knows to look at the file.
	if !o.unrecorded { // else the caller marked it, with others
		if err := s.catalog.SetSchemaPending(ctx, id, target); err != nil {
			return s.fail(ctx, o, v, err)
		}
	}
	start := time.Now()
	from, err := s.set.Apply(ctx, db.Writer(), target)
	err = libsqldb.ErrRedacted(err, t.LocationToken) // a remote database's errors may name its URL
	d := time.Since(start)
	if err == nil {
		// Committed: record it even if ctx ended meanwhile, or the run
		// would count fewer tenants than it migrated.
		s.cfg.Logger.Debug("tenant migrated", "tenant", id, "from", from, "to", target, "duration", d)
		st := stamped(catalog.SchemaState{Version: target}, d)
		n, err := s.recordOutcome(ctx, o, &st, catalog.RunCount{Migrated: 1})
		return from, n, err
	}
	n, err := s.migrationFailed(ctx, o, db, t, err, d)
	return from, n, err
}

// SchemaAheadError is the error for tenant id's database at version v,
// above latest, this binary's latest tenant migration.
func SchemaAheadError(id string, v, latest uint) error {
	return condo.ReasonErrorf(condo.ECONFLICT, "schema_ahead",
		"tenant %s is at schema version %d, ahead of this binary's latest tenant migration (%d): a newer binary migrated it, so use that binary", id, v, latest)
}

// migrationFailed records where a failed migration left the database and
// returns the error to report.
func (s *Store) migrationFailed(ctx context.Context, o *outcome, db condo.DB, t *catalog.Tenant, err error, d time.Duration) (catalog.RunCount, error) {
	rctx := context.WithoutCancel(ctx) // record even when ctx ended the migration
	state := catalog.SchemaState{Error: err.Error()}
	if v, dirty, verr := migrations.Version(rctx, db.Writer()); verr == nil {
		state.Version, state.Dirty = v, dirty
	} else {
		state.Version = t.Schema.Version
	}
	var de *migrations.DirtyError
	if errors.As(err, &de) {
		state.Version, state.Dirty = de.Version, true
	}
	if ctx.Err() != nil && !state.Dirty {
		// Stopped, not failed: the database is intact at its version and
		// keeps whatever error it had before; the run counts nothing.
		state.Error, state.MigratedAt, state.Duration = t.Schema.Error, t.Schema.MigratedAt, t.Schema.Duration
		if _, rerr := s.recordOutcome(rctx, o, &state, catalog.RunCount{}); rerr != nil {
			s.cfg.Logger.Error("record tenant schema", "tenant", t.ID, "err", rerr)
		}
		return catalog.RunCount{}, &MigrationError{TenantID: t.ID, Version: state.Version, Err: ctx.Err()}
	}
	s.cfg.Logger.Warn("tenant migration failed", "tenant", t.ID, "version", state.Version, "dirty", state.Dirty, "err", err)
	merr := &MigrationError{TenantID: t.ID, Version: state.Version, Dirty: state.Dirty, Err: err}
	state = stamped(state, d)
	n, rerr := s.recordOutcome(rctx, o, &state, o.failed(state.Version, state.Dirty, merr))
	if rerr != nil {
		s.cfg.Logger.Error("record tenant schema", "tenant", t.ID, "err", rerr)
	}
	return n, merr
}

// ErrorLine renders an error as one line for a report: a coded error's
// message, whitespace folded.
func ErrorLine(err error) string {
	msg := err.Error()
	if code := condo.ErrorCode(err); code != condo.EINTERNAL {
		msg = condo.ErrorMessage(err)
	}
	return strings.Join(strings.Fields(msg), " ")
}

// Force sets tenant id's schema version to v and clears its dirty flag
// without running any SQL, in the database and in the catalog: the way out
// after fixing a dirty database by hand.
//
// Errors: EINVALID, ENOTFOUND, EGONE and EUNAVAILABLE as for Migrate.
func (s *Store) Force(ctx context.Context, id string, v uint) error {
	if err := condo.ValidateTenantID(id); err != nil {
		return err
	}
	if !s.set.Has(v) {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_version", "no tenant migration has version %d (latest is %d)", v, s.set.Latest())
	}
	t, err := s.migratable(ctx, id)
	if err != nil {
		return err
	}
	unlock, err := s.lockTenant(ctx, t)
	if err != nil {
		return err
	}
	defer unlock()
	db, done, err := s.writer(ctx, t)
	if err != nil {
		return err
	}
	defer done()
	if err := s.set.Force(ctx, db.Writer(), v); err != nil {
		return fmt.Errorf("force tenant %s to version %d: %w", id, v, libsqldb.ErrRedacted(err, t.LocationToken))
	}
	s.cfg.Logger.Info("tenant schema version forced", "tenant", id, "version", v)
	return s.setState(ctx, id, catalog.SchemaState{Version: v}, 0)
}

// CopyDatabase writes a consistent copy of tenant id's database to path,
// which must not exist, with VACUUM INTO on a connection of its own: it
// reads a snapshot, so neither requests nor the pool wait on it.
//
// Errors: as for Migrate.
func (s *Store) CopyDatabase(ctx context.Context, id, path string) error {
	if err := condo.ValidateTenantID(id); err != nil {
		return err
	}
	t, err := s.migratable(ctx, id)
	if err != nil {
		return err
	}
	if t.Location != "" {
		return condo.ReasonErrorf(condo.EINVALID, "remote_tenant", "tenant %s lives at a remote location: it has no file on this node to copy", id)
	}
	db, err := s.openOutsidePool(id)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Write.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("copy the database of tenant %s: %w", id, err)
	}
	return nil
}

// migratable looks a tenant up and refuses the ones whose database this
// node cannot migrate.
func (s *Store) migratable(ctx context.Context, id string) (*catalog.Tenant, error) {
	t, err := s.catalog.Lookup(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case t.Status == catalog.StatusArchived:
		return nil, condo.ReasonErrorf(condo.EGONE, "tenant_archived", "tenant %s is archived: it is migrated when restored", id)
	}
	return t, nil
}

// lockTenant takes the locks a migration of t holds: the process's lock
// of the tenant and, for a remote tenant, its migration lease in the
// catalog (a local file's SQLite write lock orders the processes of this
// node; nothing else orders the nodes sharing a remote database).
func (s *Store) lockTenant(ctx context.Context, t *catalog.Tenant) (func(), error) {
	unlock, err := s.migrating.lock(ctx, t.ID)
	if err != nil || t.Location == "" {
		return unlock, err
	}
	unlease, err := s.lease(ctx, t.ID)
	if err != nil {
		unlock()
		return nil, err
	}
	return func() { unlease(); unlock() }, nil
}

// writer returns a database to migrate tenant id through: the pool's open
// handle if there is one (its single writer connection makes requests'
// writes queue behind the migration), else a handle opened outside the
// pool. Call done when finished with it.
func (s *Store) writer(ctx context.Context, t *catalog.Tenant) (db condo.DB, done func(), err error) {
	id := t.ID
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "shutting_down", "the server is shutting down")
	}
	if h, ok := s.pool.Peek(id); ok { // Peek: a migration is no reason to keep a tenant cached
		h.refs.Add(1)
		s.mu.Unlock()
		return h.DB, s.releaser(h), nil
	}
	s.mu.Unlock()
	if t.Location != "" {
		db, err = s.openRemoteOutsidePool(ctx, t)
	} else {
		db, err = s.openOutsidePool(id)
	}
	if err != nil {
		return nil, nil, err
	}
	return db, func() {
		if err := db.Close(); err != nil {
			s.cfg.Logger.Warn("close tenant database", "tenant", id, "err", err)
		}
	}, nil
}

// openOutsidePool opens an existing tenant database for one job. It does
// not count against the pool's bound; callers keep few open at once.
func (s *Store) openOutsidePool(id string) (*sqlitedb.DB, error) {
	path, err := s.Path(id)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "the database of tenant %s is missing", id)
	}
	opt := s.cfg.DB
	// One connection (the reader pool is never used, so never opened) with
	// only the pragmas a job needs.
	opt.Create, opt.Readers, opt.Job = false, 1, true
	return sqlitedb.Open(path, opt)
}

func (s *Store) unreadable(id string, err error) error {
	s.cfg.Logger.Error("tenant database unreadable", "tenant", id, "err", err)
	return condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "the database of tenant %s cannot be read: %v", id, err)
}

// stamped returns st stamped now, with the migration's duration.
func stamped(st catalog.SchemaState, d time.Duration) catalog.SchemaState {
	now := time.Now()
	st.MigratedAt, st.Duration = &now, d
	return st
}

// setState records a tenant's schema state, stamped now.
func (s *Store) setState(ctx context.Context, id string, st catalog.SchemaState, d time.Duration) error {
	if err := s.catalog.SetSchemaState(ctx, id, stamped(st, d)); err != nil {
		return fmt.Errorf("tenant %s is at version %d, but recording that failed: %w", id, st.Version, err)
	}
	return nil
}

// openTarget is the version migrate-on-open moves a tenant to: the set's
// latest, or the fleet's target when that is lower (the fleet was rolled
// back with `condo migrate down`).
func (s *Store) openTarget(ctx context.Context) (uint, error) {
	latest := s.set.Latest()
	v, ok, err := s.catalog.SchemaTarget(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the fleet's schema target: %w", err)
	}
	if !ok || v >= latest {
		return latest, nil
	}
	// The highest version of this set at or below the target, in case
	// another binary's set set it.
	floor := uint(0)
	for _, st := range s.set.Steps() {
		if st.Version <= v {
			floor = st.Version
		}
	}
	return floor, nil
}

// syncSchema corrects the catalog when it disagrees with an open database
// (another process migrated it, or died before recording). It re-reads
// both under the tenant's migration lock, so it cannot overwrite the
// record of a migration that finished meanwhile.
func (s *Store) syncSchema(ctx context.Context, h *Handle) {
	unlock, err := s.migrating.lock(ctx, h.TenantID)
	if err != nil {
		return
	}
	defer unlock()
	v, dirty, err := migrations.Version(ctx, h.Reader())
	if err != nil || dirty {
		return
	}
	if t, err := s.catalog.Lookup(ctx, h.TenantID); err == nil && t.Schema.Version != v {
		s.record(ctx, h.TenantID, catalog.SchemaState{Version: v}, 0)
	}
}

// provisionVersion is the version a new tenant starts at: the template's,
// or the fleet's target when the fleet was rolled back below it.
func (s *Store) provisionVersion(ctx context.Context, template uint) (uint, error) {
	v, err := s.openTarget(ctx)
	if err != nil {
		return 0, err
	}
	return min(v, template), nil
}

// lowerNew migrates a just-written tenant database down to v when the
// fleet was rolled back below the template's version.
func (s *Store) lowerNew(ctx context.Context, id string, v uint) error {
	if v >= s.set.Latest() {
		return nil
	}
	db, err := s.openOutsidePool(id)
	if err != nil {
		return err
	}
	_, err = s.set.Apply(ctx, db.Write, v)
	if err == nil {
		err = db.Checkpoint(ctx)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("bring new tenant %s down to the fleet's version %d: %w", id, v, err)
	}
	return nil
}

// tenantLocks serialises the migrations of each tenant within the process:
// migrate-on-open, Migrate and Force take a tenant's lock, so two of them
// never run on one tenant at once. Between processes, Apply's write lock
// and its re-read of the version do the same.
type tenantLocks struct {
	mu    sync.Mutex // guards locks
	locks map[string]*tenantLock
}

type tenantLock struct {
	held chan struct{} // holds one token while locked
	refs int           // holders and waiters, guarded by tenantLocks.mu; the entry goes at 0
}

// lock waits for tenant id's lock, or for ctx to end, and returns the
// function that unlocks it.
func (l *tenantLocks) lock(ctx context.Context, id string) (func(), error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*tenantLock{}
	}
	tl := l.locks[id]
	if tl == nil {
		tl = &tenantLock{held: make(chan struct{}, 1)}
		l.locks[id] = tl
	}
	tl.refs++
	l.mu.Unlock()
	select {
	case tl.held <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-tl.held; l.put(id, tl) }) }, nil
	case <-ctx.Done():
		l.put(id, tl)
		return nil, ctx.Err()
	}
}

func (l *tenantLocks) put(id string, tl *tenantLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if tl.refs--; tl.refs == 0 {
		delete(l.locks, id)
	}
}
