package lifecycle_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/migrations/migrationstest"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// fill gives tenant id content of every kind an export must carry: a
// collection with a schema, items with versions and workflow history, a
// trashed item and media files.
func fill(t *testing.T, env *tenantstoretest.Env, id string) {
	t.Helper()
	ctx := context.Background()
	h, release, err := env.Store.Acquire(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	st := cms.New(id, h.DB, env.Store.MediaDir(id))
	col, err := st.CreateCollection(ctx, cms.NewCollection{Name: "posts",
		Schema: json.RawMessage(`{"type":"object","properties":{"body":{"type":"richtext"},"price":{"type":"number","indexed":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		it, err := st.CreateItem(ctx, col, cms.ItemInput{Title: fmt.Sprintf("Post %d", i), Data: map[string]any{"body": "words about imports", "price": i}}, "")
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := st.Transition(ctx, it.ID, "published", "ok", "", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 3 {
		body := bytes.Repeat([]byte(fmt.Sprintf("line of media file %d\n", i)), 5_000+i)
		if _, err := st.Upload(ctx, cms.Upload{Name: fmt.Sprintf("f%d.txt", i), Body: bytes.NewReader(body), Quota: 1 << 30}); err != nil {
			t.Fatal(err)
		}
	}
}

// dump is every row of every table of a tenant's database, in order, and
// a hash of every media file: what a round trip must keep.
func dump(t *testing.T, env *tenantstoretest.Env, id string) map[string]string {
	t.Helper()
	ctx := context.Background()
	path, _ := env.Store.Path(id)
	db, err := sqlitedb.Open(path, sqlitedb.Options{Readers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts, err := lifecycle.TableCounts(ctx, db.Read)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for table := range counts {
		rows, err := db.Read.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, fmt.Sprintf("%q", vals))
		}
		rows.Close()
		sort.Strings(lines)
		out["table "+table] = strings.Join(lines, "\n")
	}
	media := env.Store.MediaDir(id)
	filepath.WalkDir(media, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(media, p)
			out["media "+rel] = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		return nil
	})
	return out
}

func export(t *testing.T, env *tenantstoretest.Env, id string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := lifecycle.Export(context.Background(), env.Catalog, env.Store, id, &buf, lifecycle.ExportOptions{CondoVersion: "test"}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportImport_RoundTrip(t *testing.T) {
	ctx := context.Background()
	src := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	if _, err := src.Store.Create(ctx, catalog.NewTenant{ID: "acme", Name: "Acme Inc", Plan: "pro", Domains: []string{"acme.example", "www.acme.example"}}); err != nil {
		t.Fatal(err)
	}
	quota := int64(12345678)
	if _, err := src.Catalog.UpdateTenant(ctx, "acme", catalog.TenantUpdate{StorageQuota: &quota, Branding: json.RawMessage(`{"color":"#123456"}`)}); err != nil {
		t.Fatal(err)
	}
	fill(t, src, "acme")
	want := dump(t, src, "acme")
	if len(want) < 10 {
		t.Fatalf("fixture too small: %d tables and files", len(want))
	}
	archive := export(t, src, "acme")

	// Into another node's data directory, under the same id: everything,
	// domains and limits included.
	dst := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	rep, err := lifecycle.Import(ctx, dst.Catalog, dst.Store, bytes.NewReader(archive), lifecycle.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files != 4 || rep.Tenant.Plan != "pro" || rep.Tenant.StorageQuota != quota || rep.Tenant.Name != "Acme Inc" ||
		string(rep.Tenant.Branding) != `{"color":"#123456"}` || len(rep.Tenant.Domains) != 2 {
		t.Fatalf("report = %+v, tenant %+v", rep, rep.Tenant)
	}
	if got := dump(t, dst, "acme"); !equalDumps(t, got, want) {
		t.Fatal("the imported tenant differs from the exported one")
	}
	// It serves: the CMS reads its content.
	h, release, err := dst.Store.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := cms.New("acme", h.DB, dst.Store.MediaDir("acme")).MediaUsage(ctx)
	release()
	if n == 0 {
		t.Fatal("no media usage after import")
	}

	// Next to the original, under a new id: the domains stay with it.
	rep, err = lifecycle.Import(ctx, src.Catalog, src.Store, bytes.NewReader(archive), lifecycle.ImportOptions{ID: "acme-copy"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Tenant.Domains) != 0 || len(rep.DroppedDomain) != 2 {
		t.Fatalf("copy kept the domains: %+v", rep)
	}
	if got := dump(t, src, "acme-copy"); !equalDumps(t, got, want) {
		t.Fatal("the copy differs from the original")
	}
	// Over an existing id: refused, nothing changed.
	_, err = lifecycle.Import(ctx, src.Catalog, src.Store, bytes.NewReader(archive), lifecycle.ImportOptions{})
	if condo.ErrorCode(err) != condo.ECONFLICT {
		t.Fatalf("import over an existing tenant: %v", err)
	}
	if got := dump(t, src, "acme"); !equalDumps(t, got, want) {
		t.Fatal("a refused import changed the existing tenant")
	}
	assertNoStaging(t, src.DataDir)
}

func storeConfig() tenantstore.Config { return tenantstore.Config{} }

func equalDumps(t *testing.T, got, want map[string]string) bool {
	t.Helper()
	ok := true
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s differs", k)
			ok = false
		}
	}
	for k := range got {
		if _, in := want[k]; !in {
			t.Errorf("%s is new", k)
			ok = false
		}
	}
	return ok
}

func assertNoStaging(t *testing.T, data string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(data, "staging"))
	if len(entries) != 0 {
		t.Fatalf("staging left behind: %v", entries)
	}
}

// rewrite re-packs an archive through edit, which sees each entry and
// returns the entries to write instead (none drops it).
func rewrite(t *testing.T, archive []byte, edit func(h *tar.Header, body []byte) []entry) []byte {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw, _ := zstd.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		for _, e := range edit(h, body) {
			e.h.Size = int64(len(e.body))
			if e.h.Typeflag != tar.TypeReg {
				e.h.Size = 0
			}
			if err := tw.WriteHeader(e.h); err != nil {
				t.Fatal(err)
			}
			tw.Write(e.body)
		}
	}
	tw.Close()
	zw.Close()
	return out.Bytes()
}

type entry struct {
	h    *tar.Header
	body []byte
}

func keep(h *tar.Header, body []byte) []entry { return []entry{{h, body}} }

func TestImport_RefusesBadArchives(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	env.MustCreate(t, "src")
	fill(t, env, "src")
	good := export(t, env, "src")
	// before is the manifest-first variant: an entry inserted before the manifest.
	before := func(extra entry) []byte {
		return rewrite(t, good, func(h *tar.Header, b []byte) []entry {
			if h.Name == "manifest.json" {
				return []entry{extra, {h, b}}
			}
			return keep(h, b)
		})
	}
	cases := map[string][]byte{
		"empty":     {},
		"not zstd":  []byte("hello, this is not an archive"),
		"truncated": good[:len(good)/2],
		"flipped byte in a media file": rewrite(t, good, func(h *tar.Header, b []byte) []entry {
			if strings.HasPrefix(h.Name, "media/") {
				b = append([]byte{}, b...)
				b[len(b)/2] ^= 1
			}
			return keep(h, b)
		}),
		"missing file": rewrite(t, good, func(h *tar.Header, b []byte) []entry {
			if strings.HasPrefix(h.Name, "media/") {
				return nil
			}
			return keep(h, b)
		}),
		"no manifest": rewrite(t, good, func(h *tar.Header, b []byte) []entry {
			if h.Name == "manifest.json" {
				return nil
			}
			return keep(h, b)
		}),
		"dot-dot path":       before(entry{&tar.Header{Name: "media/../../escape", Typeflag: tar.TypeReg, Mode: 0o640}, []byte("x")}),
		"absolute path":      before(entry{&tar.Header{Name: "/etc/condo", Typeflag: tar.TypeReg, Mode: 0o640}, []byte("x")}),
		"outside the tenant": before(entry{&tar.Header{Name: "catalog.db", Typeflag: tar.TypeReg, Mode: 0o640}, []byte("x")}),
		"symlink":            before(entry{&tar.Header{Name: "media/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}, nil}),
		"hard link":          before(entry{&tar.Header{Name: "media/hard", Typeflag: tar.TypeLink, Linkname: "tenant.db"}, nil}),
		"device":             before(entry{&tar.Header{Name: "media/dev", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}, nil}),
		"unlisted file":      before(entry{&tar.Header{Name: "media/extra.txt", Typeflag: tar.TypeReg, Mode: 0o640}, []byte("x")}),
		"newer schema": rewrite(t, good, func(h *tar.Header, b []byte) []entry {
			if h.Name == "tenant.db" {
				b = bumpVersion(t, b)
			}
			if h.Name == "manifest.json" {
				b = relist(t, b, "tenant.db", bumpVersion(t, nil))
			}
			return keep(h, b)
		}),
	}
	for name, archive := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := lifecycle.Import(ctx, env.Catalog, env.Store, bytes.NewReader(archive), lifecycle.ImportOptions{ID: "dst"})
			if condo.ErrorReason(err) != "invalid_import" {
				t.Fatalf("import = %v, want invalid_import", err)
			}
			if _, err := env.Catalog.Tenant(ctx, "dst"); condo.ErrorCode(err) != condo.ENOTFOUND {
				t.Fatalf("a refused import left a tenant: %v", err)
			}
			if _, err := os.Lstat(filepath.Join(env.DataDir, "tenants", "dst")); err == nil {
				t.Fatal("a refused import left files")
			}
			if _, err := os.Lstat(filepath.Join(env.DataDir, "escape")); err == nil {
				t.Fatal("an entry escaped the staging directory")
			}
			assertNoStaging(t, env.DataDir)
		})
	}
}

// bumped holds the tenant.db of the "newer schema" case, made once from
// the first call's bytes so that the manifest can list its checksum.
var bumped []byte

// bumpVersion returns a copy of a tenant database claiming a schema
// version far beyond this binary's; with nil, the copy made before.
func bumpVersion(t *testing.T, db []byte) []byte {
	t.Helper()
	if db == nil {
		return bumped
	}
	p := filepath.Join(t.TempDir(), "t.db")
	os.WriteFile(p, db, 0o600)
	d, err := sqlitedb.Open(p, sqlitedb.Options{Readers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write.Exec("UPDATE schema_migrations SET version = 999"); err != nil {
		t.Fatal(err)
	}
	d.Checkpoint(context.Background())
	d.Close()
	bumped, _ = os.ReadFile(p)
	return bumped
}

// relist rewrites a manifest so that file name has body's size and hash.
func relist(t *testing.T, manifest []byte, name string, body []byte) []byte {
	t.Helper()
	var m lifecycle.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	for i := range m.Files {
		if m.Files[i].Path == name {
			m.Files[i].Size, m.Files[i].SHA256 = int64(len(body)), fmt.Sprintf("%x", sha256.Sum256(body))
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// An archive from a node one migration behind is migrated up as it comes
// in, and the catalog records the version it ends at.
func TestImport_MigratesOlderArchives(t *testing.T) {
	ctx := context.Background()
	src := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	src.MustCreate(t, "old")
	fill(t, src, "old")
	archive := export(t, src, "old")

	newer := migrationstest.Set(t, "wordcount")
	dst := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{Migrations: newer})
	rep, err := lifecycle.Import(ctx, dst.Catalog, dst.Store, bytes.NewReader(archive), lifecycle.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if old := migrations.Tenant().Latest(); rep.FromVersion != old || rep.Tenant.Schema.Version != newer.Latest() {
		t.Fatalf("imported from %d at %d, want %d then %d", rep.FromVersion, rep.Tenant.Schema.Version, old, newer.Latest())
	}
	h, release, err := dst.Store.Acquire(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var items int
	if err := h.Reader().QueryRow("SELECT count(*) FROM content").Scan(&items); err != nil || items != 30 {
		t.Fatalf("items after the migrated import: %d %v", items, err)
	}
}

// Export streams: what it allocates does not grow with the tenant.
// Exporting 64 MiB of media allocates about what exporting 8 MiB does
// (the zstd window and the copy buffer), on a writer that keeps nothing.
func TestExport_FlatMemory(t *testing.T) {
	alloc := func(mib int) uint64 {
		env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
		env.MustCreate(t, "big")
		media := env.Store.MediaDir("big")
		os.MkdirAll(media, 0o750)
		f, err := os.Create(filepath.Join(media, "video.bin"))
		if err != nil {
			t.Fatal(err)
		}
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
		for range mib {
			f.Write(chunk)
		}
		f.Close()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, err := lifecycle.Export(context.Background(), env.Catalog, env.Store, "big", io.Discard, lifecycle.ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		if len(m.Files) != 2 || m.Files[1].Size != int64(mib)<<20 {
			t.Fatalf("manifest files = %+v", m.Files)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, big := alloc(8), alloc(64)
	t.Logf("allocated %.1f MiB for 8 MiB, %.1f MiB for 64 MiB", float64(small)/(1<<20), float64(big)/(1<<20))
	if big > small+4<<20 {
		t.Fatalf("allocations grow with the tenant: %d bytes for 8 MiB, %d for 64 MiB", small, big)
	}
}

// Import with Replace puts an archive back over the live tenant of its
// id (a rollback to the export): the rows are the archive's again, the
// tenant keeps its domains, and the replaced folder is kept.
func TestImport_Replace(t *testing.T) {
	ctx := context.Background()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, storeConfig())
	if _, err := env.Store.Create(ctx, catalog.NewTenant{ID: "acme", Domains: []string{"acme.example"}}); err != nil {
		t.Fatal(err)
	}
	fill(t, env, "acme")
	want := dump(t, env, "acme")
	archive := export(t, env, "acme")
	h, release, err := env.Store.Acquire(ctx, "acme") // more content after the export
	if err != nil {
		t.Fatal(err)
	}
	st := cms.New("acme", h.DB, env.Store.MediaDir("acme"))
	col, _ := st.Collection(ctx, "posts")
	if _, err := st.CreateItem(ctx, col, cms.ItemInput{Title: "after the export"}, ""); err != nil {
		t.Fatal(err)
	}
	release()
	if got := dump(t, env, "acme"); equalDumpsQuiet(got, want) {
		t.Fatal("the second fill changed nothing")
	}
	if _, err := lifecycle.Import(ctx, env.Catalog, env.Store, bytes.NewReader(archive), lifecycle.ImportOptions{}); condo.ErrorReason(err) != "tenant_exists" {
		t.Fatalf("import over an id without Replace: %v", err)
	}
	rep, err := lifecycle.Import(ctx, env.Catalog, env.Store, bytes.NewReader(archive), lifecycle.ImportOptions{Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replaced == "" || len(rep.Tenant.Domains) != 1 {
		t.Fatalf("report: %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(rep.Replaced, "tenant.db")); err != nil {
		t.Fatalf("the replaced folder is not kept: %v", err)
	}
	if got := dump(t, env, "acme"); !equalDumps(t, got, want) {
		t.Fatal("the replaced tenant is not the archive's")
	}
	if _, release, err = env.Store.Acquire(ctx, "acme"); err != nil { // it serves again
		t.Fatal(err)
	}
	release()
}

func equalDumpsQuiet(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
