package lifecycle

import (
	"archive/tar"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// ExportOptions tune Export.
type ExportOptions struct {
	CondoVersion string   // written into the manifest
	Progress     Progress // nil: none
	// Action names the export in the audit trail: "tenant.export" when
	// empty; an archive's says "tenant.archive".
	Action string
}

// Export writes tenant id as an archive to w while the tenant keeps
// serving: its database through a VACUUM INTO snapshot (readers and
// writers do not wait on it), then its media, then the manifest. Memory
// stays flat: each file is copied through a fixed buffer and hashed as it
// goes. It returns the manifest it wrote.
//
// Errors: those of the catalog lookup (ENOTFOUND), EGONE for an archived
// tenant, EUNAVAILABLE for one whose database is elsewhere; an error
// while writing w leaves w holding a truncated archive that an import
// refuses.
func Export(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string, w io.Writer, opt ExportOptions) (*Manifest, error) {
	t, err := cat.Tenant(ctx, id)
	if err != nil {
		return nil, err
	}
	staging, err := store.NewStaging()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	snap := filepath.Join(staging, dbEntry)
	if err := store.CopyDatabase(ctx, id, snap); err != nil {
		return nil, err
	}
	m := &Manifest{Format: Format, CondoVersion: opt.CondoVersion, CreatedAt: time.Now().UTC(), Tenant: record(t)}
	if m.SchemaVersion, m.Stats, err = describe(ctx, snap); err != nil {
		return nil, err
	}
	media := store.MediaDir(id)
	files, total, err := mediaFiles(media)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(snap)
	if err != nil {
		return nil, err
	}
	total += fi.Size()

	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	c := &copier{tw: tw, buf: make([]byte, 256<<10), total: total, progress: opt.Progress, ctx: ctx}
	f, err := c.add(dbEntry, snap)
	if err != nil {
		return nil, err
	}
	m.Files = append(m.Files, f)
	for _, rel := range files {
		f, err := c.add(mediaPrefix+rel, filepath.Join(media, filepath.FromSlash(rel)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted since the walk (a sweep, a DELETE): it is not in the snapshot's future either
		}
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, f)
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: manifestEntry, Mode: 0o640, Size: int64(len(body)), ModTime: m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(body); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	return m, cat.RecordAudit(ctx, cmp.Or(opt.Action, "tenant.export"), id, "", map[string]any{"schema_version": m.SchemaVersion, "files": len(m.Files), "bytes": size})
}

func record(t *catalog.Tenant) TenantRecord {
	r := TenantRecord{ID: t.ID, Name: t.Name, Plan: t.Plan, Status: t.Status, StorageQuota: t.StorageQuota,
		UserLimit: t.UserLimit, Region: t.Region, Residency: t.Residency}
	if len(t.Branding) > 0 && string(t.Branding) != "{}" && string(t.Branding) != "null" {
		r.Branding = t.Branding
	}
	for _, d := range t.Domains { // the primary first, as NewTenant takes them
		if d.Primary {
			r.Domains = append([]catalog.Domain{d}, r.Domains...)
		} else {
			r.Domains = append(r.Domains, d)
		}
	}
	return r
}

// describe reads a database file's schema version and the rows of each
// table.
func describe(ctx context.Context, path string) (uint, map[string]int, error) {
	db, err := sqlitedb.Open(path, sqlitedb.Options{Readers: 1, Job: true})
	if err != nil {
		return 0, nil, err
	}
	defer db.Close()
	v, dirty, err := migrations.Version(ctx, db.Write)
	if err != nil {
		return 0, nil, err
	}
	if dirty {
		return 0, nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_migrating", "the tenant's database is dirty at version %d: fix its migration before exporting", v)
	}
	counts, err := TableCounts(ctx, db.Write)
	return v, counts, err
}

// mediaFiles lists the regular files under dir (slash-separated, relative
// to it) and their total size. A missing dir is a tenant with no media.
// Anything else (a symlink, a device) is not media and is left out.
func mediaFiles(dir string) ([]string, int64, error) {
	var files []string
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, filepath.ToSlash(rel))
		total += fi.Size()
		return nil
	})
	return files, total, err
}

// copier writes files into the tar stream, hashing and counting them.
type copier struct {
	ctx      context.Context
	tw       *tar.Writer
	buf      []byte
	done     int64
	total    int64
	progress Progress
}

// add writes the file at path as entry name, its size as of when it was
// opened (media files are written once, under a new name, and never
// changed in place).
func (c *copier) add(name, path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return File{}, err
	}
	if err := c.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o640, Size: fi.Size(), ModTime: fi.ModTime().UTC(), Typeflag: tar.TypeReg}); err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(io.MultiWriter(c.tw, h), &progressReader{c: c, r: io.LimitReader(f, fi.Size())}, c.buf)
	if err != nil {
		return File{}, err
	}
	if n != fi.Size() {
		return File{}, fmt.Errorf("export: %s shrank while it was read", name)
	}
	return File{Path: name, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// progressReader counts bytes for the progress callback and stops the
// copy when the export's context ends.
type progressReader struct {
	c *copier
	r io.Reader
}

func (p *progressReader) Read(b []byte) (int, error) {
	if err := p.c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := p.r.Read(b)
	p.c.done += int64(n)
	if p.c.progress != nil && n > 0 {
		p.c.progress(p.c.done, p.c.total)
	}
	return n, err
}
