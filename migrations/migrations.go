// Package migrations holds Condo's embedded SQL migration sets, one for the
// catalog and one for every tenant database, and applies them.
//
// Files are golang-migrate's numbered pairs (000001_name.up.sql and
// .down.sql), read through its iofs source, and the version lives in
// golang-migrate's schema_migrations table, so its tools can inspect a
// Condo database. Applying is Condo's own, for two reasons golang-migrate's
// runner cannot meet: it marks a database dirty in one transaction and runs
// the step in another, so a crash or kill -9 between them leaves the
// database dirty; and its lock is in-process only, so the server and the CLI
// could both apply the same step. Apply instead takes SQLite's write lock
// (BEGIN IMMEDIATE), re-reads the version under it, and commits every step
// together with the new version: a failure or a crash leaves the database
// exactly at its old version, and a second process finds the work done.
//
// Over libSQL (a tenant at a remote location, through libsql-client-go)
// the transaction is a plain BEGIN on one stream of the server, which
// orders its own writers; the nodes sharing that database take the
// catalog's migration lease first (tenantstore), since no SQLite lock of
// theirs reaches it.
//
// A step whose SQL cannot run in a transaction starts with the line
// "-- condo:no-transaction"; it runs alone, and the database is marked
// dirty if it fails. A step may also park the indexes the application
// created on a table before it runs, and restore them after (see
// ParkIndexes).
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/golang-migrate/migrate/v4/source/iofs"
)

//go:embed catalog/*.sql tenant/*.sql
var files embed.FS

// NoTransaction marks a step that must run outside a transaction.
const NoTransaction = "-- condo:no-transaction"

// Set is one ordered migration set.
type Set struct {
	Name  string
	steps []Step
}

// Step is one numbered migration.
type Step struct {
	Version uint
	Name    string
	Up      string
	Down    string

	upDirs, downDirs []directive // parsed from Up and Down (see ParkIndexes)
}

// Catalog returns the control-plane database's migrations.
func Catalog() *Set { return mustLoad("catalog") }

// Tenant returns the migrations every tenant database runs.
func Tenant() *Set { return mustLoad("tenant") }

func mustLoad(dir string) *Set {
	s, err := Load(files, dir)
	if err != nil {
		panic(err) // embedded files are checked by the tests
	}
	return s
}

// Load reads a set of golang-migrate files from dir in fsys.
func Load(fsys fs.FS, dir string) (*Set, error) {
	src, err := iofs.New(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations %s: %w", dir, err)
	}
	defer src.Close()
	s := &Set{Name: dir}
	v, err := src.First()
	for err == nil {
		st := Step{Version: v}
		if st.Up, st.Name, err = read(src.ReadUp(v)); err != nil {
			return nil, fmt.Errorf("migration %s/%d up: %w", dir, v, err)
		}
		if st.Down, _, err = read(src.ReadDown(v)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("migration %s/%d down: %w", dir, v, err)
		}
		if st.upDirs, err = directives(st.Up); err != nil {
			return nil, fmt.Errorf("migration %s/%d up: %w", dir, v, err)
		}
		if st.downDirs, err = directives(st.Down); err != nil {
			return nil, fmt.Errorf("migration %s/%d down: %w", dir, v, err)
		}
		s.steps = append(s.steps, st)
		v, err = src.Next(v)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load migrations %s: %w", dir, err)
	}
	return s, nil
}

func read(r io.ReadCloser, name string, err error) (string, string, error) {
	if err != nil {
		return "", "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), name, err
}

// Latest returns the highest version in the set, 0 for an empty set.
func (s *Set) Latest() uint {
	if len(s.steps) == 0 {
		return 0
	}
	return s.steps[len(s.steps)-1].Version
}

// Steps returns the set's migrations in order.
func (s *Set) Steps() []Step { return s.steps }

// Has reports whether v is a version of the set (0, the empty database,
// always is).
func (s *Set) Has(v uint) bool {
	if v == 0 {
		return true
	}
	for _, st := range s.steps {
		if st.Version == v {
			return true
		}
	}
	return false
}

// Version reads a database's version and dirty flag. A database that never
// ran a migration is at version 0.
func Version(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (v uint, dirty bool, err error) {
	err = q.QueryRowContext(ctx, "SELECT version, dirty FROM schema_migrations LIMIT 1").Scan(&v, &dirty)
	if errors.Is(err, sql.ErrNoRows) || err != nil && strings.Contains(err.Error(), "no such table: schema_migrations") {
		return 0, false, nil
	}
	return v, dirty, err
}

// DirtyError reports a database left dirty by a failed non-transactional
// step; it needs a manual fix and a forced version.
type DirtyError struct{ Version uint }

func (e *DirtyError) Error() string {
	return fmt.Sprintf("database is dirty at version %d: fix it by hand, then force a version", e.Version)
}

// AheadError reports a database at a version above the set's latest: a
// newer binary migrated it, and only that binary's migrations can move it
// (down included, since only it has the down files for those versions).
type AheadError struct {
	Set             string
	Version, Latest uint
}

func (e *AheadError) Error() string {
	return fmt.Sprintf("the database is at %s version %d, ahead of this binary's latest (%d): use the newer binary", e.Set, e.Version, e.Latest)
}

// Apply moves the database written through db (a single-connection writer)
// up or down to target and reports the version it started from. Steps run
// in one IMMEDIATE transaction together with the version update, so on any
// error the database stays at its old version; only a failed
// NoTransaction step leaves it dirty.
func (s *Set) Apply(ctx context.Context, db *sql.DB, target uint) (from uint, err error) {
	if !s.Has(target) {
		return 0, fmt.Errorf("%s migrations have no version %d (latest is %d)", s.Name, target, s.Latest())
	}
	last := uint(0)
	for first := true; ; first = false {
		at, done, err := s.applyBatch(ctx, db, target)
		if first {
			from = at
		}
		if err != nil || done {
			return from, err
		}
		// A batch stopped at a NoTransaction step and ran it; go on. A
		// batch that moved nothing would loop forever: refuse instead.
		if !first && at == last {
			return from, fmt.Errorf("%s migrations made no progress at version %d towards %d", s.Name, at, target)
		}
		last = at
	}
}

// applyBatch applies, in one transaction, every step up to target or up to
// the next NoTransaction step, which it then runs on its own.
func (s *Set) applyBatch(ctx context.Context, db *sql.DB, target uint) (from uint, done bool, err error) {
	tx, err := db.BeginTx(ctx, nil) // the writer's DSN makes this BEGIN IMMEDIATE
	if err != nil {
		return 0, false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64, dirty bool)"); err != nil {
		return 0, false, err
	}
	from, dirty, err := Version(ctx, tx)
	if err != nil {
		return 0, false, err
	}
	if dirty {
		return from, false, &DirtyError{Version: from}
	}
	// A version the set lacks has no plan to or from it.
	if from > s.Latest() {
		return from, false, &AheadError{Set: s.Name, Version: from, Latest: s.Latest()}
	}
	if !s.Has(from) {
		return from, false, fmt.Errorf("the database is at %s version %d, which this binary's migrations do not have", s.Name, from)
	}
	plan := s.plan(from, target)
	v := from
	for _, p := range plan {
		if strings.TrimSpace(p.sql) == "" {
			return from, false, fmt.Errorf("%s migration %d (%s) has no SQL for this direction", s.Name, p.version, p.name)
		}
		if strings.HasPrefix(strings.TrimSpace(p.sql), NoTransaction) {
			if v != from { // commit what came before it first
				break
			}
			return from, false, s.applyAlone(ctx, tx, db, p)
		}
		if err := runDirectives(ctx, tx, p.dirs, false); err != nil {
			return from, false, fmt.Errorf("%s migration %d (%s): %w", s.Name, p.version, p.name, err)
		}
		if _, err := tx.ExecContext(ctx, p.sql); err != nil {
			return from, false, fmt.Errorf("%s migration %d (%s): %w", s.Name, p.version, p.name, err)
		}
		if err := runDirectives(ctx, tx, p.dirs, true); err != nil {
			return from, false, fmt.Errorf("%s migration %d (%s): %w", s.Name, p.version, p.name, err)
		}
		v = p.to
	}
	if v != from {
		if err := setVersion(ctx, tx, v, false); err != nil {
			return from, false, err
		}
	}
	if err := tx.Commit(); err != nil {
		return from, false, err
	}
	return from, v == target, nil
}

// applyAlone runs one NoTransaction step: mark dirty, run, mark clean.
func (s *Set) applyAlone(ctx context.Context, tx *sql.Tx, db *sql.DB, p move) error {
	if err := setVersion(ctx, tx, p.to, true); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, p.sql); err != nil {
		return fmt.Errorf("%s migration %d (%s), outside a transaction: %w", s.Name, p.version, p.name, err)
	}
	_, err := db.ExecContext(ctx, "UPDATE schema_migrations SET dirty = 0")
	return err
}

// Force sets the version and clears the dirty flag without running SQL: the
// operator's way out after fixing a dirty database by hand.
func (s *Set) Force(ctx context.Context, db *sql.DB, v uint) error {
	if !s.Has(v) {
		return fmt.Errorf("%s migrations have no version %d", s.Name, v)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64, dirty bool)"); err != nil {
		return err
	}
	if err := setVersion(ctx, tx, v, false); err != nil {
		return err
	}
	return tx.Commit()
}

func setVersion(ctx context.Context, tx *sql.Tx, v uint, dirty bool) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM schema_migrations"); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)", v, dirty)
	return err
}

// move is one step of a plan: run sql to go from one version to another.
type move struct {
	version uint // the migration's number
	name    string
	sql     string
	to      uint // the version after it runs
	dirs    []directive
}

// plan lists the moves from one version to another: the up steps above
// from, or the down steps from from down to just above to.
func (s *Set) plan(from, to uint) []move {
	var out []move
	if to >= from {
		for _, st := range s.steps {
			if st.Version > from && st.Version <= to {
				out = append(out, move{st.Version, st.Name, st.Up, st.Version, st.upDirs})
			}
		}
		return out
	}
	for i := len(s.steps) - 1; i >= 0; i-- {
		st := s.steps[i]
		if st.Version <= from && st.Version > to {
			prev := uint(0)
			if i > 0 {
				prev = s.steps[i-1].Version
			}
			out = append(out, move{st.Version, st.Name, st.Down, prev, st.downDirs})
		}
	}
	return out
}
