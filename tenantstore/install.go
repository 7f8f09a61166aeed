package tenantstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
	"golang.org/x/sys/unix"
)

// stagingMaxAge is how old a staging directory must be before a new one's
// creation removes it: only a process killed mid-import leaves one behind.
const stagingMaxAge = 24 * time.Hour

// NewStaging makes an empty directory under <data>/staging for files on
// their way into a tenant (an import's database and media): it is on the
// same file system as the tenants, so CreateFrom moves them in with a
// rename. The caller removes it when done; ones left by a crash are
// removed by a later NewStaging once a day old.
func (s *Store) NewStaging() (string, error) {
	root := filepath.Join(s.cfg.DataDir, "staging")
	if err := os.MkdirAll(root, 0o750); err != nil {
		return "", storageError("a staging directory", err)
	}
	if old, err := os.ReadDir(root); err == nil {
		for _, e := range old {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > stagingMaxAge {
				os.RemoveAll(filepath.Join(root, e.Name()))
			}
		}
	}
	var b [8]byte
	rand.Read(b[:])
	dir := filepath.Join(root, hex.EncodeToString(b[:]))
	if err := os.Mkdir(dir, 0o750); err != nil {
		return "", storageError("a staging directory", err)
	}
	return dir, nil
}

// CreateFrom provisions tenant in.ID from files staged in dir (from
// NewStaging): dir/tenant.db, and dir/media if there is one. The staged
// database is migrated up to the fleet's version first (one newer than
// this binary's migrations, or dirty, is refused), then dir becomes the
// tenant's folder inside the catalog transaction that creates its row, as
// Create provisions from the template: afterwards either the tenant
// exists with all of it or nothing of it does (a crash between the
// rename and the commit leaves an orphan folder, which the next create of
// that id moves aside). in.SchemaVersion is set from the database.
//
// Errors: EINVALID (invalid_import) for a database this binary cannot
// take; those of Create.
func (s *Store) CreateFrom(ctx context.Context, in catalog.NewTenant, dir string) (*catalog.Tenant, error) {
	if err := condo.ValidateTenantID(in.ID); err != nil {
		return nil, err
	}
	if err := s.homeHere(in); err != nil {
		return nil, err
	}
	v, err := s.migrateStaged(ctx, filepath.Join(dir, "tenant.db"))
	if err != nil {
		return nil, err
	}
	in.SchemaVersion = v
	moved := false
	t, err := s.catalog.CreateTenant(ctx, in, func() error {
		if _, err := os.Lstat(s.dir(in.ID)); err == nil {
			if err := s.moveOrphan(in.ID); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(filepath.Dir(s.dir(in.ID)), 0o750); err != nil {
			return storageError("the files of tenant "+in.ID, err)
		}
		if err := os.Rename(dir, s.dir(in.ID)); err != nil {
			return storageError("the files of tenant "+in.ID, err)
		}
		moved = true
		return condo.SyncDir(filepath.Dir(s.dir(in.ID)))
	})
	if err != nil && moved {
		os.RemoveAll(s.dir(in.ID))
	}
	return t, err
}

// migrateStaged checks a staged database and migrates it to the version
// a tenant of this node opens at, which it returns. It runs outside the
// pool: the database is nobody's yet.
func (s *Store) migrateStaged(ctx context.Context, path string) (uint, error) {
	invalid := func(format string, args ...any) error {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_import", format, args...)
	}
	if _, err := os.Stat(path); err != nil {
		return 0, invalid("the archive holds no tenant database")
	}
	opt := s.cfg.DB
	opt.Create, opt.Readers, opt.Job = false, 1, true
	db, err := sqlitedb.Open(path, opt)
	if err != nil {
		return 0, invalid("the tenant database cannot be opened: %v", err)
	}
	defer db.Close()
	var check string
	if err := db.Write.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil || check != "ok" {
		return 0, invalid("the tenant database is not a sound SQLite database (%v%s)", err, check)
	}
	// A snapshot (VACUUM INTO, an export) is in rollback-journal mode;
	// every tenant database runs in WAL, where readers never wait on the
	// writer. The mode is kept in the file.
	if _, err := db.Write.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return 0, err
	}
	v, dirty, err := migrations.Version(ctx, db.Write)
	switch {
	case err != nil:
		return 0, invalid("the tenant database has no readable schema version: %v", err)
	case dirty:
		return 0, invalid("the tenant database is dirty at version %d: a migration failed in it", v)
	case v > s.set.Latest():
		return 0, invalid("the tenant database is at schema version %d, newer than this binary's %d: upgrade Condo first", v, s.set.Latest())
	}
	target, err := s.openTarget(ctx)
	if err != nil {
		return 0, err
	}
	if v < target {
		if _, err := s.set.Apply(ctx, db.Write, target); err != nil {
			return 0, fmt.Errorf("migrate the imported database from version %d to %d: %w", v, target, err)
		}
		v = target
	}
	if err := db.Checkpoint(ctx); err != nil {
		return 0, err
	}
	return v, db.Close()
}

// Reinstate puts staged files (as for CreateFrom) in place as the folder
// of tenant id, which exists in the catalog without live files (a
// restore): the database is migrated up first, a folder in the way is
// moved aside to <data>/orphans, and the catalog records the version it
// ends at. The tenant must be out of service (TakeOut).
func (s *Store) Reinstate(ctx context.Context, id, dir string) (uint, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return 0, err
	}
	v, err := s.migrateStaged(ctx, filepath.Join(dir, "tenant.db"))
	if err != nil {
		return 0, err
	}
	if _, err := os.Lstat(s.dir(id)); err == nil {
		if err := s.moveOrphan(id); err != nil {
			return 0, err
		}
	}
	if err := os.MkdirAll(filepath.Dir(s.dir(id)), 0o750); err != nil {
		return 0, storageError("the files of tenant "+id, err)
	}
	if err := os.Rename(dir, s.dir(id)); err != nil {
		return 0, storageError("the files of tenant "+id, err)
	}
	if err := condo.SyncDir(filepath.Dir(s.dir(id))); err != nil {
		return 0, storageError("the files of tenant "+id, err)
	}
	return v, s.setState(ctx, id, catalog.SchemaState{Version: v}, 0)
}

// WriteTemplate writes an empty tenant database at the template's schema
// (as Create provisions one) to path, a new file, synced, and returns its
// schema version: for an import that fills a database in a staging
// directory (NewStaging) before CreateFrom moves it in.
func (s *Store) WriteTemplate(path string) (uint, error) {
	img, err := s.template.image(s)
	if err != nil {
		return 0, err
	}
	if err := writeFileSync(path, img.bytes); err != nil {
		return 0, storageError("a staged tenant database", err)
	}
	return img.version, nil
}

// Replace swaps the staged files (as for CreateFrom) in as the folder of
// tenant id, which exists and is out of service (TakeOut): the database
// is migrated up first, then the two folders trade places in one atomic
// rename (RENAME_EXCHANGE), so a crash leaves either the old folder or the
// new one live, never neither. The old folder is kept under
// <data>/replaced/<id>-<unix nanoseconds>, whose path Replace returns,
// and the catalog records the new version.
func (s *Store) Replace(ctx context.Context, id, dir string) (uint, string, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return 0, "", err
	}
	v, err := s.migrateStaged(ctx, filepath.Join(dir, "tenant.db"))
	if err != nil {
		return 0, "", err
	}
	if err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, s.dir(id), unix.RENAME_EXCHANGE); err != nil {
		return 0, "", storageError("the files of tenant "+id, err)
	}
	if err := condo.SyncDir(filepath.Dir(s.dir(id))); err != nil {
		return 0, "", storageError("the files of tenant "+id, err)
	}
	kept := filepath.Join(s.cfg.DataDir, "replaced", fmt.Sprintf("%s-%d", id, time.Now().UnixNano()))
	if err := os.MkdirAll(filepath.Dir(kept), 0o750); err == nil {
		if err := os.Rename(dir, kept); err != nil { // else the staging sweep removes it
			kept = ""
		}
	}
	return v, kept, s.setState(ctx, id, catalog.SchemaState{Version: v}, 0)
}
