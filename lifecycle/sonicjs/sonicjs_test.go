package sonicjs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/lifecycle/sonicjs"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newEnv(t *testing.T) *tenantstoretest.Env {
	return tenantstoretest.MustOpen(t, catalog.Config{BaseDomain: "condo.test"}, tenantstore.Config{})
}

// TestImport imports the fixture both ways users have it, a D1 SQLite
// file and its `wrangler d1 export` SQL, and checks the tenant each
// makes: the same counts, exact values, and that it serves.
func TestImport(t *testing.T) {
	dbFile, sqlFile := fixturePaths(t)
	walFile := filepath.Join(t.TempDir(), "wal.sqlite")
	buildFixtureMode(t, walFile, "wal") // open until the test ends: its rows are in wal.sqlite-wal
	if fi, err := os.Stat(walFile + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL: %v", err)
	}
	for _, tc := range []struct{ name, file, kind string }{{"sqlite", dbFile, "sqlite"}, {"sqlite-wal", walFile, "sqlite"}, {"sql", sqlFile, "sql"}} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			ctx := context.Background()
			before, _ := os.ReadFile(tc.file)
			rep, err := sonicjs.Import(ctx, env.Store, tc.file, sonicjs.Options{ID: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := os.ReadFile(tc.file); !bytes.Equal(before, after) {
				t.Fatal("the import changed the SonicJS file")
			}
			if rep.Source != tc.kind || rep.Tenant.ID != "acme" || rep.Tenant.Name != "Acme Docs" {
				t.Fatalf("source %q tenant %+v", rep.Source, rep.Tenant)
			}
			m := rep.Mapped
			// Every SonicJS version, plus the current state as the latest
			// where it is not what the last version holds: the 15 items
			// with only their first draft, and the 27 others whose status
			// moved after their last version (SonicJS records versions of
			// data only; Condo's latest version is always the item).
			if m.Collections != fixtureCollections || m.Content != fixtureItems || m.Versions != fixtureSonicVers+15+27 ||
				m.Workflow != fixtureWorkflow || m.Media != fixtureMedia || m.Users != fixtureUsers || m.APITokens != 2 || m.Settings != 4 {
				t.Fatalf("mapped %+v", m)
			}
			checkTenant(t, env, rep)
		})
	}
}

func checkTenant(t *testing.T, env *tenantstoretest.Env, rep *sonicjs.Report) {
	t.Helper()
	ctx := context.Background()
	h, release, err := env.Store.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	st := cms.New("acme", h.DB, env.Store.MediaDir("acme"))

	// Collections with their schemas mapped.
	pages, err := st.Collection(ctx, "pages")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := pages.Schema.Lookup("content"); !ok || f.Type != cms.TypeRichtext {
		t.Fatalf("pages.content: %+v", f)
	}
	if f, ok := pages.Schema.Lookup("meta_description"); !ok || f.MaxLength == nil || *f.MaxLength != 160 {
		t.Fatalf("pages.meta_description: %+v", f)
	}
	blog, err := st.Collection(ctx, "blog_posts")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"read_time", "legacy_field", "gallery"} {
		if _, ok := blog.Schema.Lookup(name); !ok {
			t.Errorf("blog_posts has no field %s: %s", name, mustJSON(t, blog.Schema))
		}
	}
	art, err := st.Collection(ctx, "articles")
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]string{"content": cms.TypeRichtext, "featuredImage": cms.TypeMedia, "publishedAt": cms.TypeDatetime,
		"difficulty": cms.TypeSelect, "excerpt": cms.TypeTextarea, "slug": cms.TypeSlug} {
		if f, ok := art.Schema.Lookup(name); !ok || f.Type != typ {
			t.Errorf("articles.%s: %+v, want type %s", name, f, typ)
		}
	}
	news, err := st.Collection(ctx, "news")
	if err != nil {
		t.Fatal(err)
	}
	// "sports" is not one of SonicJS's declared categories: the field was
	// loosened rather than the items dropped.
	if f, _ := news.Schema.Lookup("category"); f.Type != cms.TypeString || len(f.Options) != 0 {
		t.Fatalf("news.category: %+v", f)
	}

	// Content, listed and read through the CMS.
	q, err := cms.ParseListQuery(url.Values{"limit": {"100"}}, pages.Schema)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.List(ctx, q, cms.ListOptions{CollectionID: pages.ID})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 18 { // 20 pages, 2 of them in the trash
		t.Fatalf("pages listed: %d", page.Total)
	}
	pub, err := st.List(ctx, q, cms.ListOptions{CollectionID: pages.ID, PublishedOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if pub.Total != 6 {
		t.Fatalf("published pages: %d", pub.Total)
	}
	it, _, err := st.Item(ctx, "c-00", "")
	if err != nil {
		t.Fatal(err)
	}
	var data map[string]any
	json.Unmarshal(it.Data, &data)
	if it.Title != "Item 00 of pages-collection" || it.Status != cms.StatusPublished || it.Slug != "item-00" ||
		strings.Contains(data["content"].(string), "<script>") || !strings.Contains(data["content"].(string), "Page body 0") ||
		it.CreatedAt != condo.FromUnixMS(base) || it.AuthorID != "u-admin" {
		t.Fatalf("c-00: %+v %s", it, it.Data)
	}
	if it, _, err := st.Item(ctx, "c-02", ""); err != nil || it.Slug != "hello-world" {
		t.Fatalf("c-02's slug: %v %v", it, err)
	}
	if it, _, err := st.Item(ctx, "c-03", ""); err != nil || it.AuthorID != "" || it.Status != cms.StatusArchived {
		t.Fatalf("c-03 (author gone): %+v %v", it, err)
	}
	if it, _, err := st.Item(ctx, "c-06", ""); err != nil || it.Status != cms.StatusDraft || it.PublishAt == nil || it.PublishAt.Year() != 2100 {
		t.Fatalf("c-06 (scheduled): %+v %v", it, err)
	}
	if it, _, err := st.Item(ctx, "c-07", ""); err != nil || it.Status != cms.StatusReview {
		t.Fatalf("c-07 (pending): %+v %v", it, err)
	}
	if _, _, err := st.Item(ctx, "c-05", ""); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("c-05 (deleted in SonicJS) is live: %v", err)
	}
	if tr, err := st.TrashedItem(ctx, "c-05"); err != nil || tr.DeletedAt == nil || time.Since(*tr.DeletedAt) > time.Hour {
		t.Fatalf("c-05 in the trash: %+v %v", tr, err)
	}

	// Versions: SonicJS's first draft kept exactly, the latest is the item.
	vers, err := st.Versions(ctx, "c-01")
	if err != nil {
		t.Fatal(err)
	}
	if len(vers) != 2 || vers[1].Version != 1 || vers[1].Title != "Item 01 of news-collection (first draft)" ||
		vers[1].CreatedAt != condo.FromUnixMS(base+60_000) || vers[1].AuthorID != "u-editor" || vers[1].Status != cms.StatusDraft {
		t.Fatalf("c-01 versions: %+v", vers)
	}
	v0, err := st.Versions(ctx, "c-00")
	if err != nil || len(v0) != 2 || v0[0].Version != 2 || v0[0].Title != "Item 00 of pages-collection" || v0[0].Status != cms.StatusPublished {
		t.Fatalf("c-00 versions (current state added): %+v %v", v0, err)
	}
	// An edit continues the numbering.
	ed, err := st.UpdateItem(ctx, pages, "c-00", cms.ItemInput{Title: "Edited", Data: map[string]any{"title": "Edited"}}, "u-admin")
	if err != nil || ed.Version != 3 {
		t.Fatalf("edit after import: %+v %v", ed, err)
	}

	// Workflow history, exact.
	hist, err := st.History(ctx, "c-00")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Action != "created" || hist[0].From != "none" || hist[1].From != "draft" || hist[1].To != "published" ||
		hist[1].Comment != "looks good 0" || hist[1].UserID != "u-editor" || hist[1].CreatedAt != condo.FromUnixMS(base+45_000) {
		t.Fatalf("c-00 history: %+v", hist)
	}

	// Search finds imported text.
	hits, err := st.Search(ctx, "Page body", cms.SearchOptions{})
	if err != nil || len(hits) == 0 {
		t.Fatalf("search: %v %v", hits, err)
	}

	// Media records, their uploads' seconds made milliseconds, and where
	// their bytes are.
	md, err := st.Media(ctx, "m-1")
	if err != nil || md.CreatedAt != condo.FromUnixMS((base/1000+1)*1000) || md.Width != 800 || !slices.Equal(md.Tags, []string{"hero"}) {
		t.Fatalf("m-1: %+v %v", md, err)
	}
	if _, err := st.Media(ctx, "m-4"); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("deleted media imported: %v", err)
	}
	if len(rep.Media) != 4 || rep.Media[1].R2Key != "uploads/photo-1.jpg" || rep.Media[1].PublicURL == "" {
		t.Fatalf("media report: %+v", rep.Media)
	}

	// Users: SonicJS's SHA-256 hashes give no password (reset required);
	// a bcrypt one signs in.
	as := auth.New("acme", h.DB)
	if _, err := as.Authenticate(ctx, "admin@acme.example", "sonicjs!"); condo.ErrorCode(err) != condo.EUNAUTHORIZED {
		t.Fatalf("SonicJS hash accepted: %v", err)
	}
	if u, err := as.Authenticate(ctx, "viewer@acme.example", "viewer-password-1"); err != nil || u.ID != "u-viewer" {
		t.Fatalf("bcrypt user: %v %v", u, err)
	}
	if u, err := as.User(ctx, "u-contrib"); err != nil || u.Role != auth.RoleViewer {
		t.Fatalf("unknown role: %+v %v", u, err)
	}
	if u, err := as.User(ctx, "u-editor"); err != nil || u.Email != "editor@acme.example" {
		t.Fatalf("editor: %+v %v", u, err)
	}
	if _, err := as.User(ctx, "u-dup"); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("duplicate email imported: %v", err)
	}
	want := []string{"admin@acme.example", "editor@acme.example", "author@acme.example", "contrib@acme.example", "oauth@acme.example"}
	if !slices.Equal(rep.ResetRequired, want) {
		t.Fatalf("reset required: %v", rep.ResetRequired)
	}
	// Tokens: listed, revoked; the SonicJS secret does nothing.
	toks, err := as.APITokens(ctx)
	if err != nil || len(toks) != 2 {
		t.Fatalf("tokens: %v %v", toks, err)
	}
	for _, tk := range toks {
		if tk.ExpiresAt == nil || tk.ExpiresAt.After(time.Now()) || tk.Permissions != 0 || !strings.Contains(tk.Name, "revoked") {
			t.Fatalf("token not revoked: %+v", tk)
		}
	}
	if _, _, err := as.CheckAPIToken(ctx, "st_live_0123456789abcdef"); condo.ErrorCode(err) != condo.EUNAUTHORIZED {
		t.Fatalf("SonicJS token: %v", err)
	}
	// Settings, under general.
	g, err := as.Setting(ctx, "general")
	if err != nil || mustJSON(t, json.RawMessage(g)) != `{"appearance":{"theme":"dark"},"maintenanceMode":false,"siteName":"Acme Docs","timezone":"Europe/Amsterdam"}` {
		t.Fatalf("general settings: %s %v", g, err)
	}
	ev, err := as.Events(ctx, auth.EventFilter{Action: "tenant.imported"})
	if err != nil || len(ev) != 1 {
		t.Fatalf("audit: %v %v", ev, err)
	}

	// The report names what was dropped.
	drops := map[string]int{}
	for _, d := range rep.Dropped {
		drops[d.What] += d.Count
		if d.Why == "" {
			t.Errorf("dropped %s without a reason", d.What)
		}
	}
	for what, n := range map[string]int{"users": 1, "media": 1, "content_fields": 2, "user_sessions": 1, "plugins": 1, "workflow_states": 2} {
		if drops[what] != n {
			t.Errorf("dropped %s: %d, want %d (%+v)", what, drops[what], n, rep.Dropped)
		}
	}
}

// TestImportBadInput: a file that is not a SonicJS database, and an id
// that is taken, each fail with one clear error and create nothing.
func TestImportBadInput(t *testing.T) {
	env := newEnv(t)
	env.MustCreate(t, "taken")
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	o := buildFixture(t, filepath.Join(dir, "scratch.sqlite"))
	plain := filepath.Join(dir, "plain.sqlite")
	if _, err := o.Exec("ATTACH ? AS p; CREATE TABLE p.notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO p.notes (body) VALUES ('hi'); DETACH p", plain); err != nil {
		t.Fatal(err)
	}
	dbFile, _ := fixturePaths(t)
	for _, tc := range []struct {
		name, file, id, want string
		code                 string
	}{
		{"binary", write("junk.bin", "\x00\x01\x02 not a database"), "a1", "neither a SQLite database nor SQL text", condo.EINVALID},
		{"text", write("notes.txt", "hello, these are notes\n"), "a2", "neither a SQLite database nor SQL text", condo.EINVALID},
		{"sqlite without SonicJS tables", plain, "a3", "no SonicJS tables", condo.EINVALID},
		{"sql without SonicJS tables", write("plain.sql", "CREATE TABLE notes (id INTEGER, body TEXT);\nINSERT INTO notes VALUES(1,'x');\n"), "a4", "no SonicJS tables", condo.EINVALID},
		{"sql that attaches", write("evil.sql", "CREATE TABLE users (id TEXT);\nATTACH DATABASE '/tmp/x.db' AS x;\n"), "a5", "not ATTACH", condo.EINVALID},
		{"sql that updates", write("upd.sql", "CREATE TABLE users (id TEXT);\nUPDATE users SET id = 'x';\n"), "a6", "not UPDATE", condo.EINVALID},
		{"cut short", write("cut.sql", "CREATE TABLE users (id TEXT);\nINSERT INTO users VALUES('abc"), "a7", "cut short", condo.EINVALID},
		{"missing file", filepath.Join(dir, "nope.sqlite"), "a8", "cannot read", condo.EINVALID},
		{"taken id", dbFile, "taken", "", condo.ECONFLICT},
		{"bad id", dbFile, "Bad ID!", "", condo.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sonicjs.Import(ctx, env.Store, tc.file, sonicjs.Options{ID: tc.id})
			if condo.ErrorCode(err) != tc.code || !strings.Contains(condo.ErrorMessage(err), tc.want) || strings.Contains(condo.ErrorMessage(err), "\n") {
				t.Fatalf("got %v (%s), want %s containing %q", err, condo.ErrorCode(err), tc.code, tc.want)
			}
			// Each refusal is a failed job with its error.
			if jobs, jerr := env.Catalog.LifecycleJobs(ctx, catalog.JobImportSonicJS, "", 1); jerr != nil || len(jobs) != 1 ||
				jobs[0].State != catalog.JobFailed || jobs[0].Error != err.Error() {
				t.Fatalf("job: %+v %v", jobs, jerr)
			}
			if tc.id != "taken" && tc.id != "Bad ID!" {
				if _, err := env.Catalog.Tenant(ctx, tc.id); condo.ErrorCode(err) != condo.ENOTFOUND {
					t.Fatalf("tenant %s exists: %v", tc.id, err)
				}
				if _, err := os.Stat(filepath.Join(env.DataDir, "tenants", tc.id)); !os.IsNotExist(err) {
					t.Fatalf("files of %s: %v", tc.id, err)
				}
			}
			if left, _ := os.ReadDir(filepath.Join(env.DataDir, "staging")); len(left) != 0 {
				t.Fatalf("staging left behind: %v", left)
			}
		})
	}
	// The taken tenant is untouched.
	if tn, err := env.Catalog.Tenant(ctx, "taken"); err != nil || tn.Name != "taken" {
		t.Fatalf("taken: %+v %v", tn, err)
	}
}

// TestImportMediaDir: with a copy of the R2 bucket, media records get
// their bytes, checked as uploads are; a file that is not an allowed type
// is refused and its record kept without it, and a missing one is named.
func TestImportMediaDir(t *testing.T) {
	dbFile, _ := fixturePaths(t)
	r2 := t.TempDir()
	os.MkdirAll(filepath.Join(r2, "uploads"), 0o750)
	var png bytes.Buffer
	if err := pngEncode(&png, 40, 30); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(r2, "uploads", "photo-0.jpg"), png.Bytes(), 0o600)
	os.WriteFile(filepath.Join(r2, "uploads", "photo-1.jpg"), []byte("<html><script>alert(1)</script></html>"), 0o600)
	env := newEnv(t)
	ctx := context.Background()
	rep, err := sonicjs.Import(ctx, env.Store, dbFile, sonicjs.Options{ID: "acme", MediaDir: r2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mapped.Media != 4 || rep.Mapped.MediaFiles != 1 || !rep.Media[0].Copied || rep.Media[1].Copied {
		t.Fatalf("media: %+v %+v", rep.Mapped, rep.Media)
	}
	h, release, err := env.Store.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	st := cms.New("acme", h.DB, env.Store.MediaDir("acme"))
	path, m, err := st.MediaFile(ctx, "m-0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	sum := sha256.Sum256(png.Bytes())
	if err != nil || !bytes.Equal(got, png.Bytes()) || m.MimeType != "image/png" || m.Width != 40 || m.SHA256 != hex.EncodeToString(sum[:]) ||
		m.CreatedAt != condo.FromUnixMS(base/1000*1000) || m.Alt != "a photo" {
		t.Fatalf("m-0: %+v %v", m, err)
	}
	joined := strings.Join(append(rep.Changed, rep.Notes...), "\n")
	if !strings.Contains(joined, "1 media files in --media-dir were refused") || !strings.Contains(joined, "2 media files were not found") {
		t.Fatalf("report: %s", joined)
	}
}

func pngEncode(w io.Writer, width, height int) error {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	return png.Encode(w, img)
}

// An item whose data Condo cannot store even as json (nested past
// SQLite's limit) is left out, named in the report; the rest imports.
func TestImportLeavesOutWhatCannotBeStored(t *testing.T) {
	dir := t.TempDir()
	db := buildFixture(t, filepath.Join(dir, "site.sqlite"))
	deep := strings.Repeat(`{"a":`, 1200) + "1" + strings.Repeat("}", 1200)
	if _, err := db.Exec(`INSERT INTO content (id, collection_id, slug, title, data, status, author_id, created_at, updated_at)
		VALUES ('deep', 'pages-collection', 'deep', 'Deep', ?, 'draft', 'u-admin', ?, ?)`, `{"title":"Deep","nest":`+deep+`}`, base, base); err != nil {
		t.Fatal(err)
	}
	env := newEnv(t)
	rep, err := sonicjs.Import(context.Background(), env.Store, filepath.Join(dir, "site.sqlite"), sonicjs.Options{ID: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range rep.Dropped {
		found = found || d.What == "content" && d.Count == 1 && strings.Contains(d.Why, "nest")
	}
	if rep.Mapped.Content != fixtureItems || !found {
		t.Fatalf("mapped %+v, dropped %+v", rep.Mapped, rep.Dropped)
	}
	// The import is a job that succeeded.
	if jobs, err := env.Catalog.LifecycleJobs(context.Background(), catalog.JobImportSonicJS, "acme", 5); err != nil || len(jobs) != 1 || jobs[0].State != catalog.JobSucceeded {
		t.Fatalf("jobs: %+v %v", jobs, err)
	}
}

// An import stopped part way (its context canceled) leaves no tenant, no
// files and no staging behind.
func TestImportCanceled(t *testing.T) {
	_, sqlFile := fixturePaths(t)
	env := newEnv(t)
	for _, after := range []time.Duration{0, 20 * time.Millisecond, 60 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), after)
		_, err := sonicjs.Import(ctx, env.Store, sqlFile, sonicjs.Options{ID: "acme"})
		cancel()
		if err == nil {
			if _, err := env.Catalog.Tenant(context.Background(), "acme"); err != nil {
				t.Fatalf("import succeeded but no tenant: %v", err)
			}
			return // finished before the deadline: whole
		}
		if _, err := env.Catalog.Tenant(context.Background(), "acme"); condo.ErrorCode(err) != condo.ENOTFOUND {
			t.Fatalf("canceled after %v: tenant %v", after, err)
		}
		if _, err := os.Stat(filepath.Join(env.DataDir, "tenants", "acme")); !os.IsNotExist(err) {
			t.Fatalf("canceled after %v: files %v", after, err)
		}
		if left, _ := os.ReadDir(filepath.Join(env.DataDir, "staging")); len(left) != 0 {
			t.Fatalf("canceled after %v: staging %v", after, left)
		}
	}
}
