package tenantstore

import (
	"os"
	"path/filepath"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// RemoveFiles removes every file of tenant id under the data directory:
// its folder (database, WAL, SHM, media), its archive, its local
// snapshots, and the leftovers of interrupted operations (orphans, a
// move's work and kept copies, the folders an import or a backup restore
// replaced). The tenant must be out of service
// (TakeOut) or gone from the catalog. It is idempotent: what is absent
// already is fine.
func (s *Store) RemoveFiles(id string) error {
	if err := condo.ValidateTenantID(id); err != nil {
		return err
	}
	paths := []string{s.dir(id), filepath.Join(s.cfg.DataDir, "archive", id), filepath.Join(s.cfg.DataDir, "backups", id),
		filepath.Join(s.cfg.DataDir, "snapshots", id), // backup.SnapshotDir
		filepath.Join(s.cfg.DataDir, "moving", id)}
	for _, dir := range []string{"orphans", "moved", "replaced"} {
		// Leftovers are <id>-<number>; the glob also matches those of a
		// tenant whose id starts with "<id>-", which isLeftoverOf drops.
		m, _ := filepath.Glob(filepath.Join(s.cfg.DataDir, dir, id+"-*"))
		for _, p := range m {
			if isLeftoverOf(filepath.Base(p), id) {
				paths = append(paths, p)
			}
		}
	}
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			return storageError("the files of tenant "+id, err)
		}
		condo.SyncDir(filepath.Dir(p))
	}
	return nil
}

// isLeftoverOf reports whether name is "<id>-<digits>", the name
// moveOrphan (and a move's kept copy) gives a tenant's folder, rather than
// the leftover of a tenant whose id merely starts with "<id>-".
func isLeftoverOf(name, id string) bool {
	rest := name[len(id)+1:]
	if rest == "" {
		return false
	}
	for _, r := range rest {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// DataDir is the data directory the store's tenants live under.
func (s *Store) DataDir() string { return s.cfg.DataDir }

// Catalog is the catalog the store's tenants are recorded in.
func (s *Store) Catalog() *catalog.Catalog { return s.catalog }

// ArchivePath is where an archived tenant's archive lives.
func (s *Store) ArchivePath(id string) string {
	return filepath.Join(s.cfg.DataDir, "archive", id, id+".tar.zst")
}

// RemoveLive removes tenant id's live folder (database, WAL, SHM, media),
// as archiving does once the archive is verified. The tenant must be out
// of service.
func (s *Store) RemoveLive(id string) error {
	if err := condo.ValidateTenantID(id); err != nil {
		return err
	}
	if err := os.RemoveAll(s.dir(id)); err != nil {
		return storageError("the files of tenant "+id, err)
	}
	return condo.SyncDir(filepath.Dir(s.dir(id)))
}

// HasLive reports whether tenant id has a live folder on this node.
func (s *Store) HasLive(id string) bool {
	_, err := os.Lstat(s.dir(id))
	return err == nil
}
