package tenantstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/sqlitedb"
)

// Create provisions a tenant: its catalog row and domains, and a database
// file at the latest tenant schema. The file is a copy of a template
// migrated once per process, which costs a fraction of running every
// migration per tenant. Either all of it exists afterwards or none of it:
// a conflict is found before any file is written, and files written for a
// catalog commit that failed are removed.
//
// Leftover files of a tenant id the catalog does not know (an interrupted
// create, say) are moved to <data>/orphans, never overwritten or deleted.
func (s *Store) Create(ctx context.Context, in catalog.NewTenant) (*catalog.Tenant, error) {
	if err := condo.ValidateTenantID(in.ID); err != nil {
		return nil, err
	}
	if in.Location != "" {
		return s.createRemote(ctx, in)
	}
	if err := s.homeHere(in); err != nil {
		return nil, err
	}
	img, err := s.template.image(s)
	if err != nil {
		return nil, fmt.Errorf("create tenant %s: %w", in.ID, err)
	}
	// The template's version, or the fleet's if it was rolled back below.
	if in.SchemaVersion, err = s.provisionVersion(ctx, img.version); err != nil {
		return nil, fmt.Errorf("create tenant %s: %w", in.ID, err)
	}
	wrote := false
	t, err := s.catalog.CreateTenant(ctx, in, func() error {
		if err := s.writeDatabase(in.ID, img.bytes); err != nil {
			return err
		}
		wrote = true
		return s.lowerNew(ctx, in.ID, in.SchemaVersion)
	})
	if err != nil && wrote {
		os.RemoveAll(s.dir(in.ID))
	}
	return t, err
}

// homeHere refuses to write the database of a tenant homed in another
// region than this node's: its bytes would sit where it does not live
// (and where its residency may forbid them), and its home's nodes could
// not serve it. A node without a region places anything.
func (s *Store) homeHere(in catalog.NewTenant) error {
	cfg := s.catalog.Config()
	node := cfg.Region
	if node == "" || in.Region == "" || in.Region == node {
		return nil
	}
	// The caller's mistakes first, as the catalog would name them.
	if err := catalog.ValidateRegion(in.Region); err != nil {
		return err
	}
	if err := cfg.ResidencySets.Check(in.Residency, in.Region); err != nil {
		return err
	}
	return condo.ReasonErrorf(condo.ECONFLICT, "wrong_region",
		"tenant %s's home region is %s, and this node is in %s: create it on a node in %s (POST /platform/tenants on any node goes there)",
		in.ID, in.Region, node, in.Region)
}

// writeDatabase writes a tenant's database file and makes it durable: the
// file, its new directory and that directory's parent are synced.
func (s *Store) writeDatabase(id string, img []byte) error {
	dir := s.dir(id)
	if _, err := os.Lstat(dir); err == nil {
		if err := s.moveOrphan(id); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return storageError("the files of tenant "+id, err)
	}
	err := writeFileSync(filepath.Join(dir, "tenant.db"), img)
	if err == nil {
		err = condo.SyncDir(dir)
	}
	if err == nil {
		err = condo.SyncDir(filepath.Dir(dir))
	}
	if err != nil {
		os.RemoveAll(dir)
		return storageError("the files of tenant "+id, err)
	}
	return nil
}

func (s *Store) moveOrphan(id string) error {
	orphans := filepath.Join(s.cfg.DataDir, "orphans")
	if err := os.MkdirAll(orphans, 0o750); err != nil {
		return storageError("the files of tenant "+id, err)
	}
	to := filepath.Join(orphans, fmt.Sprintf("%s-%d", id, time.Now().UnixNano()))
	if err := os.Rename(s.dir(id), to); err != nil {
		return storageError("the files of tenant "+id, err)
	}
	s.cfg.Logger.Warn("moved leftover files of an unknown tenant aside", "tenant", id, "to", to)
	return nil
}

// storageError describes files (what) that could not be written: EFULL
// when the file system has no room left, else EUNAVAILABLE storage_error.
// The message, which API clients see, names no path; err stays in the
// chain for logs and the CLI.
func storageError(what string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return condo.FullError(err)
	}
	coded := condo.ReasonErrorf(condo.EUNAVAILABLE, "storage_error", "cannot write %s", what)
	return fmt.Errorf("%w: %w", coded, unwrapPath(err))
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// template is the image of an empty tenant database at the latest schema,
// built once per Store.
type template struct {
	once    sync.Once
	version uint
	bytes   []byte
	err     error
}

type templateImage struct {
	version uint
	bytes   []byte
}

func (t *template) image(s *Store) (templateImage, error) {
	t.once.Do(func() { t.version, t.bytes, t.err = s.buildTemplate() })
	return templateImage{t.version, t.bytes}, t.err
}

// buildTemplate migrates a scratch database to the latest tenant schema
// and reads it back. The scratch file lives in the data directory, so a
// directory that cannot be written fails here, before any catalog change.
func (s *Store) buildTemplate() (uint, []byte, error) {
	if err := os.MkdirAll(filepath.Join(s.cfg.DataDir, "tenants"), 0o750); err != nil {
		return 0, nil, storageError("the tenants directory", err)
	}
	dir, err := os.MkdirTemp(filepath.Join(s.cfg.DataDir, "tenants"), ".template-")
	if err != nil {
		return 0, nil, storageError("the tenants directory", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tenant.db")
	db, err := sqlitedb.Open(path, sqlitedb.Options{Create: true})
	if err != nil {
		return 0, nil, err
	}
	ctx := context.Background()
	_, err = s.set.Apply(ctx, db.Write, s.set.Latest())
	if err == nil {
		err = db.Checkpoint(ctx)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, nil, fmt.Errorf("build tenant template: %w", err)
	}
	b, err := os.ReadFile(path)
	return s.set.Latest(), b, err
}

// Sizing of the default pool (see DefaultPoolSize).
const (
	// fdsPerHandle: an idle handle holds one reader (the database file
	// and its WAL) and the shared-memory file, 3 descriptors (measured by
	// scripts/bench); a busy one adds the writer and a second reader
	// (7) until they sit idle for sqlitedb.DefaultIdleTime. 4 is the mean
	// of a pool where about one handle in four is busy.
	fdsPerHandle = 4
	// fdsReserved are kept for sockets, the catalog, media files and logs.
	fdsReserved = 512
	// bytesPerHandle: an idle handle after a query costs about 180-265 kB
	// of RSS (SQLite's per-connection memory, the parsed schema, the shm
	// mapping; docs/PERFORMANCE.md); a busy one's page caches grow up to
	// sqlitedb.DefaultCacheKiB per connection. 512 KiB covers a busy one.
	// Tenants over 16 MB get bigger reader caches (readCacheKiB, up to
	// 4 MiB a reader), which this does not count: such tenants are
	// expected to be few, and a cache holds only pages its reader used.
	bytesPerHandle = 512 << 10
	// memShare is the share of the memory limit the pool may take.
	memShare = 4 // a quarter
)

// DefaultPoolSize sizes the pool from both budgets a handle spends, and
// takes the smaller:
//
//   - descriptors: the open-file limit (RLIMIT_NOFILE), less fdsReserved,
//     must cover twice the pool at fdsPerHandle each, because handles
//     draining or closing may bring the store to twice its size before
//     Acquire refuses to open more (pool_exhausted);
//   - memory: a quarter of the memory limit (the cgroup's memory.max, else
//     the machine's MemTotal) at bytesPerHandle each.
//
// The limit that binds is usually descriptors on a default ulimit (1,024
// gives 64) and memory where the ulimit is raised, as in containers
// (1,048,576 descriptors would allow 131,008 handles, about 64 GiB).
func DefaultPoolSize() int {
	return poolSize(openFileLimit(), memoryLimit())
}

func poolSize(files, mem uint64) int {
	byFiles := (int64(min(files, 1<<24)) - fdsReserved) / (2 * fdsPerHandle)
	byMem := int64(min(mem, 1<<50) / memShare / bytesPerHandle)
	return int(max(min(byFiles, byMem), 16))
}

func openFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur > 0 {
		return lim.Cur
	}
	return 4096
}

// memoryLimit is the cgroup (v2, then v1) memory limit when one is set,
// else MemTotal, else 1 GiB.
func memoryLimit() uint64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(f); err == nil {
			if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && n < 1<<50 {
				return n
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 1 << 30
}
