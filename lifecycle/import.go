package lifecycle

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// ID names the new tenant; empty: the exported tenant's id. Under
	// another id the exported domains are left out (they would still
	// point at the original), and Report says so.
	ID string
	// Replace imports over an existing tenant of that id: its folder is
	// swapped for the archive's (the old one kept under <data>/replaced),
	// its catalog record takes the archive's name, plan, limits and
	// branding, and keeps its domains. Without it an existing id is
	// ECONFLICT tenant_exists.
	Replace  bool
	Progress Progress // nil: none
}

// Report says what an import did beyond creating the tenant.
type Report struct {
	Tenant        *catalog.Tenant `json:"tenant"`
	FromVersion   uint            `json:"from_schema_version"` // the archive's
	Files         int             `json:"files"`
	Bytes         int64           `json:"bytes"`
	DroppedDomain []string        `json:"dropped_domains,omitempty"`
	Replaced      string          `json:"replaced,omitempty"` // where the replaced tenant's folder is kept
}

// Import creates a tenant from an archive read from r. Every entry is
// staged and checked (its name, its type, its size and SHA-256 against
// the manifest; nothing missing, nothing extra) before anything is
// created, and the database is migrated up if the fleet moved on since
// (refused if it is newer than this binary). Any failure leaves no
// tenant, no row and no file behind; with Replace, the tenant that was
// there as it was, unless the swap of folders has happened (then the
// archive's is live).
//
// Errors: EINVALID (invalid_import) for an archive that is not a sound
// Condo export, naming what is wrong; ECONFLICT (tenant_exists,
// domain_taken) when the id or a domain is taken; the residency and
// region errors of catalog.CreateTenant.
func Import(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, r io.Reader, opt ImportOptions) (*Report, error) {
	kind := catalog.JobImport
	if opt.Replace {
		kind = catalog.JobImportReplace
	}
	return catalog.Tracked(ctx, cat, kind, opt.ID, func(ctx context.Context, j *catalog.TrackedJob) (*Report, error) {
		opt.Progress = j.ByteProgress(ctx, "read", opt.Progress)
		return importArchive(ctx, cat, store, r, opt, j)
	})
}

func importArchive(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, r io.Reader, opt ImportOptions, j *catalog.TrackedJob) (*Report, error) {
	if opt.ID != "" {
		if err := condo.ValidateTenantID(opt.ID); err != nil {
			return nil, err
		}
	}
	staging, err := store.NewStaging()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging) // after a success it was moved into the tenant
	m, got, n, err := stage(ctx, r, staging, opt.Progress)
	if err != nil {
		return nil, err
	}
	if err := check(m, got); err != nil {
		return nil, err
	}
	if opt.ID == "" {
		j.SetTenant(ctx, m.Tenant.ID)
	}
	rep := &Report{FromVersion: m.SchemaVersion, Files: len(got), Bytes: n}
	in := catalog.NewTenant{ID: m.Tenant.ID, Name: m.Tenant.Name, Plan: m.Tenant.Plan, Residency: m.Tenant.Residency,
		StorageQuota: &m.Tenant.StorageQuota, UserLimit: &m.Tenant.UserLimit, Branding: m.Tenant.Branding}
	for _, d := range m.Tenant.Domains {
		in.Domains = append(in.Domains, d.Domain)
	}
	if opt.ID != "" && opt.ID != m.Tenant.ID {
		in.ID, in.Domains, rep.DroppedDomain = opt.ID, nil, in.Domains
		if in.Name == m.Tenant.ID {
			in.Name = opt.ID
		}
	}
	if existing, err := cat.Tenant(ctx, in.ID); err == nil && opt.Replace {
		if rep.Tenant, rep.Replaced, err = replace(ctx, cat, store, existing, in, staging); err != nil {
			return nil, err
		}
		rep.DroppedDomain = nil // the tenant keeps its own
		cat.RecordAudit(ctx, "tenant.replace", in.ID, m.Tenant.ID, map[string]any{"from_schema_version": m.SchemaVersion, "kept": rep.Replaced})
		return rep, nil
	}
	if rep.Tenant, err = store.CreateFrom(ctx, in, staging); err != nil {
		return nil, err
	}
	// The creation was audited in its own transaction (tenant.create);
	// this adds where it came from, and failing to cannot undo it.
	cat.RecordAudit(ctx, "tenant.import", in.ID, m.Tenant.ID, map[string]any{"from_schema_version": m.SchemaVersion,
		"condo_version": m.CondoVersion, "exported_at": m.CreatedAt, "files": rep.Files, "bytes": rep.Bytes, "dropped_domains": rep.DroppedDomain})
	return rep, nil
}

// replace swaps the staged tenant in over existing, out of service for
// the swap, and gives its catalog record the archive's.
func replace(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, existing *catalog.Tenant, in catalog.NewTenant, staging string) (*catalog.Tenant, string, error) {
	switch {
	case !homeHere(cat, existing):
		return nil, "", wrongRegion(existing, "replace")
	case existing.Location != "":
		return nil, "", condo.ReasonErrorf(condo.ECONFLICT, "remote_location", "tenant %s lives at a remote location: an import cannot replace it", existing.ID)
	case existing.Status == catalog.StatusArchived:
		return nil, "", condo.ReasonErrorf(condo.ECONFLICT, "tenant_archived", "tenant %s is archived: restore it first", existing.ID)
	}
	handBack, busy, err := store.TakeOut(ctx, existing.ID)
	if err != nil {
		return nil, "", err
	}
	defer handBack()
	if busy > 0 {
		return nil, "", condo.ReasonErrorf(condo.ECONFLICT, "tenant_busy", "tenant %s has %d open libSQL streams: replace it once they end", existing.ID, busy)
	}
	condo.CrashAt(CrashEnv, "replace:staged")
	_, kept, err := store.Replace(ctx, existing.ID, staging)
	if err != nil {
		return nil, "", err
	}
	condo.CrashAt(CrashEnv, "replace:swapped")
	u := catalog.TenantUpdate{StorageQuota: in.StorageQuota, UserLimit: in.UserLimit, Branding: in.Branding}
	if in.Name != "" {
		u.Name = &in.Name
	}
	if in.Plan != "" {
		u.Plan = &in.Plan
	}
	t, err := cat.UpdateTenant(ctx, existing.ID, u)
	return t, kept, err
}

func invalid(format string, args ...any) error {
	return condo.ReasonErrorf(condo.EINVALID, "invalid_import", format, args...)
}

// stage writes the archive's entries under dir (with dir "", it only
// reads and hashes them), returning its manifest and what each file
// really was.
func stage(ctx context.Context, r io.Reader, dir string, progress Progress) (*Manifest, map[string]File, int64, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
	if err != nil {
		return nil, nil, 0, invalid("not a zstd stream: %v", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	got := map[string]File{}
	var m *Manifest
	var n int64
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && len(got) == 0 && m == nil {
			return nil, nil, 0, invalid("not a Condo tenant export (a zstd-compressed tar): %v", err)
		}
		if err != nil {
			return nil, nil, 0, invalid("the archive is damaged or truncated: %v", err)
		}
		name, err := entryName(h)
		if err != nil {
			return nil, nil, 0, err
		}
		if h.Typeflag == tar.TypeDir {
			continue // directories come from the files' paths
		}
		if m != nil {
			return nil, nil, 0, invalid("entry %q comes after the manifest, which must be last", name)
		}
		if name == manifestEntry {
			if m, err = readManifest(tr); err != nil {
				return nil, nil, 0, err
			}
			continue
		}
		if _, dup := got[name]; dup {
			return nil, nil, 0, invalid("entry %q appears twice", name)
		}
		var f File
		if dir == "" {
			f, err = hashEntry(tr, buf)
		} else {
			f, err = writeEntry(tr, filepath.Join(dir, filepath.FromSlash(name)), buf)
		}
		if err != nil {
			return nil, nil, 0, err
		}
		f.Path = name
		got[name] = f
		n += f.Size
		if progress != nil {
			progress(n, 0)
		}
	}
	if m == nil {
		return nil, nil, 0, invalid("the archive has no manifest: it is not a Condo tenant export, or it was cut short")
	}
	return m, got, n, nil
}

// entryName checks an entry's name and type: only regular files (and
// directories) at tenant.db, manifest.json or under media/, named by a
// clean relative path. Links, devices and anything that could land
// outside the tenant are refused.
func entryName(h *tar.Header) (string, error) {
	name := h.Name
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir:
	default:
		return "", invalid("entry %.100q is not a regular file (type %q): links and devices are refused", name, h.Typeflag)
	}
	trimmed := strings.TrimSuffix(name, "/")
	if trimmed == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || path.Clean(trimmed) != trimmed ||
		trimmed == ".." || strings.HasPrefix(trimmed, "../") || strings.ContainsRune(name, 0) {
		return "", invalid("entry %.100q is not a clean relative path", name)
	}
	if h.Typeflag == tar.TypeDir {
		if trimmed != "media" && !strings.HasPrefix(trimmed, mediaPrefix) {
			return "", invalid("directory %.100q is outside media/", name)
		}
		return trimmed, nil
	}
	if trimmed != dbEntry && trimmed != manifestEntry && !strings.HasPrefix(trimmed, mediaPrefix) {
		return "", invalid("entry %.100q is not part of a tenant export", name)
	}
	return trimmed, nil
}

func readManifest(r io.Reader) (*Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxManifest+1))
	if err != nil {
		return nil, invalid("the manifest cannot be read: %v", err)
	}
	if len(b) > maxManifest {
		return nil, invalid("the manifest is larger than %d bytes", maxManifest)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, invalid("the manifest is not valid JSON: %v", err)
	}
	if m.Format != Format {
		return nil, invalid("the archive's format is %.60q; this binary reads %q", m.Format, Format)
	}
	if err := condo.ValidateTenantID(m.Tenant.ID); err != nil {
		return nil, invalid("the manifest's tenant id: %v", condo.ErrorMessage(err))
	}
	return &m, nil
}

// writeEntry copies one entry to path (a new file; its directory is
// made), hashing it, and syncs it: CreateFrom renames, it does not copy.
func writeEntry(r io.Reader, path string, buf []byte) (File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return File{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	src := &sourceReader{r: r}
	n, err := io.CopyBuffer(io.MultiWriter(f, h), src, buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case src.err != nil:
		return File{}, invalid("the archive is damaged or truncated: %v", src.err)
	case err != nil:
		return File{}, fmt.Errorf("stage the import: %w", err)
	}
	return File{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// hashEntry reads one entry to its end, hashing it.
func hashEntry(r io.Reader, buf []byte) (File, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(h, r, buf)
	if err != nil {
		return File{}, invalid("the archive is damaged or truncated: %v", err)
	}
	return File{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Verify reads a whole archive and checks it as Import does (names,
// types, sizes, checksums, the manifest), writing nothing: what archive
// runs before it removes a tenant's live files.
func Verify(ctx context.Context, r io.Reader) (*Manifest, error) {
	m, got, _, err := stage(ctx, r, "", nil)
	if err != nil {
		return nil, err
	}
	return m, check(m, got)
}

// sourceReader keeps the archive's read error apart from the disk's
// write errors: the first is the archive's fault (invalid), the second
// the node's.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// check compares the staged files with the manifest: each listed file
// present with its size and checksum, and nothing unlisted.
func check(m *Manifest, got map[string]File) error {
	listed := make(map[string]bool, len(m.Files))
	for _, want := range m.Files {
		if listed[want.Path] {
			return invalid("the manifest lists %q twice", want.Path)
		}
		listed[want.Path] = true
		f, ok := got[want.Path]
		switch {
		case !ok:
			return invalid("the archive is missing %q, which its manifest lists", want.Path)
		case f.Size != want.Size:
			return invalid("%q has %d bytes; its manifest says %d", want.Path, f.Size, want.Size)
		case f.SHA256 != want.SHA256:
			return invalid("%q does not match its manifest's SHA-256: the archive was altered or damaged", want.Path)
		}
	}
	for name := range got {
		if !listed[name] {
			return invalid("%q is in the archive but not in its manifest", name)
		}
	}
	if !listed[dbEntry] {
		return invalid("the archive holds no %s", dbEntry)
	}
	return nil
}
