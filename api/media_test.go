package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/plans"
)

// formPart is one part of a multipart form: a file when filename is set.
type formPart struct {
	name, filename string
	body           []byte
	disposition    string // a raw Content-Disposition, to send what a writer would not
}

func field(name, value string) formPart { return formPart{name: name, body: []byte(value)} }

func filePart(filename string, body []byte) formPart {
	return formPart{name: "file", filename: filename, body: body}
}

// uploadMedia posts a multipart form to POST /api/media.
func (e *idEnv) uploadMedia(t testing.TB, tenant, token string, parts ...formPart) apitest.Response {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var pw io.Writer
		var err error
		switch {
		case p.disposition != "":
			pw, err = w.CreatePart(textproto.MIMEHeader{"Content-Disposition": {p.disposition}})
		case p.filename != "" || p.name == "file":
			pw, err = w.CreateFormFile(p.name, p.filename)
		default:
			pw, err = w.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.body)
	}
	w.Close()
	return e.Call(t, tenant, "POST", "/api/media", token, b.String(), "Content-Type", w.FormDataContentType())
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// mediaFiles lists a tenant's media folder.
func (e *idEnv) mediaFiles(t testing.TB, tenant string) []string {
	t.Helper()
	ents, err := os.ReadDir(e.Store.MediaDir(tenant))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, f := range ents {
		out = append(out, f.Name())
	}
	return out
}

func TestMedia_Upload(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	e.User(t, "tenant-a", "viewer@example.com", auth.RoleViewer, "viewer password")
	viewer, _ := e.Login(t, "tenant-a", "viewer@example.com", "viewer password")
	elf := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), make([]byte, 500)...)
	pe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 500)...)

	for _, c := range []struct {
		name       string
		token      string
		parts      []formPart
		wantStatus int
		wantCode   string
		want       map[string]any // fields of data
	}{
		{"PNG", admin, []formPart{field("folder", "blog"), field("alt", "A square"), field("tags", "x,y"), filePart("square.png", pngBytes(t, 3, 2))},
			201, "", map[string]any{"mime_type": "image/png", "width": 3.0, "height": 2.0, "filename": "square.png", "folder": "blog", "alt": "A square"}},
		{"JPEGFieldsAfter", admin, []formPart{filePart("Photo 1.JPG", jpegBytes(t, 5, 4)), field("alt", "after"), field("caption", "c")},
			201, "", map[string]any{"mime_type": "image/jpeg", "width": 5.0, "height": 4.0, "filename": "Photo-1.jpg", "alt": "after", "caption": "c"}},
		{"Traversal", admin, []formPart{filePart("../../etc/passwd", pngBytes(t, 1, 1))}, 201, "", map[string]any{"filename": "passwd.png"}},
		{"Absolute", admin, []formPart{filePart("/var/www/html/shell.png", pngBytes(t, 1, 1))}, 201, "", map[string]any{"filename": "shell.png"}},
		{"Backslash", admin, []formPart{filePart(`..\..\Windows\evil.png`, pngBytes(t, 1, 1))}, 201, "", map[string]any{"filename": "evil.png"}},
		{"NULRaw", admin, []formPart{filePart("a\x00.png", pngBytes(t, 1, 1))}, 400, "invalid_form", nil},
		{"NULEncoded", admin, []formPart{{name: "file", body: pngBytes(t, 1, 1),
			disposition: `form-data; name="file"; filename*=UTF-8''..%2F..%2Fa%00b%E2%80%AE.png`}}, 201, "", map[string]any{"filename": "a-b.png"}},
		{"ELFAsJPEG", admin, []formPart{filePart("photo.jpg", elf)}, 415, "unsupported_media_type", nil},
		{"PEAsJPEG", admin, []formPart{filePart("photo.jpg", pe)}, 415, "unsupported_media_type", nil},
		{"HTML", admin, []formPart{filePart("page.txt", []byte("<html><body><script>alert(1)</script></body></html>"))}, 415, "unsupported_media_type", nil},
		{"BadFieldAfterFile", admin, []formPart{filePart("x.png", pngBytes(t, 1, 1)), field("folder", "../x")}, 400, "invalid_folder", nil},
		{"UnknownField", admin, []formPart{field("owner", "me"), filePart("x.png", pngBytes(t, 1, 1))}, 400, "invalid_form", nil},
		{"TwoFiles", admin, []formPart{filePart("x.png", pngBytes(t, 1, 1)), filePart("y.png", pngBytes(t, 1, 1))}, 400, "invalid_form", nil},
		{"NoFile", admin, []formPart{field("alt", "x")}, 400, "missing_file", nil},
		{"Empty", admin, []formPart{filePart("x.txt", nil)}, 400, "empty_file", nil},
		{"Viewer", viewer, []formPart{filePart("x.png", pngBytes(t, 1, 1))}, 403, "permission_denied", nil},
		{"Anonymous", "", []formPart{filePart("x.png", pngBytes(t, 1, 1))}, 401, "missing_token", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.mediaFiles(t, "tenant-a")
			res := e.uploadMedia(t, "tenant-a", c.token, c.parts...)
			apitest.WantStatus(t, res, c.wantStatus, c.wantCode)
			if c.wantStatus != 201 {
				if after := e.mediaFiles(t, "tenant-a"); len(after) != len(before) {
					t.Fatalf("a refused upload left files: %v", after)
				}
				return
			}
			for k, v := range c.want {
				if res.Data[k] != v {
					t.Errorf("%s = %v, want %v", k, res.Data[k], v)
				}
			}
			id := res.Data["id"].(string)
			ext := filepath.Ext(res.Data["filename"].(string))
			if _, err := os.Stat(filepath.Join(e.Store.MediaDir("tenant-a"), id+ext)); err != nil {
				t.Fatalf("stored file: %v", err)
			}
			if got := e.Events(t, "tenant-a", "media.uploaded"); len(got) == 0 || got[0].Target != id {
				t.Fatalf("audit: %+v", got)
			}
		})
	}
	// Nothing was written outside the tenant's media folder.
	mediaDir := e.Store.MediaDir("tenant-a")
	filepath.WalkDir(e.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(filepath.Base(path), "0") && filepath.Dir(path) != mediaDir {
			t.Errorf("media written to %s", path)
		}
		if err == nil && (strings.Contains(path, "passwd") || strings.Contains(path, "evil") || strings.Contains(path, "shell")) {
			t.Errorf("found %s", path)
		}
		return nil
	})
	if tags := e.Call(t, "tenant-a", "GET", "/api/media?folder=blog", admin, "").Raw["data"].([]any)[0].(map[string]any)["tags"]; len(tags.([]any)) != 2 {
		t.Fatalf("tags: %v", tags)
	}
}

func TestMedia_Limits(t *testing.T) {
	e := newIdentity(t, api.Config{})
	ctx := context.Background()
	admin := e.AdminToken(t, "tenant-a")

	// The free plan's largest file is plans.Builtin().For("free").MediaFileSize, far
	// above the server's 4M body limit, which uploads skip.
	max := plans.Builtin().For("free").MediaFileSize
	res := e.uploadMedia(t, "tenant-a", admin, filePart("big.txt", bytes.Repeat([]byte("a"), int(max))))
	apitest.WantStatus(t, res, 201, "")
	res = e.uploadMedia(t, "tenant-a", admin, filePart("bigger.txt", bytes.Repeat([]byte("a"), int(max)+1)))
	apitest.WantStatus(t, res, 413, "file_too_large")
	// Other routes keep the body limit.
	res = e.Call(t, "tenant-a", "PATCH", "/api/settings", admin, strings.Repeat(" ", 5<<20)+"{}")
	apitest.WantStatus(t, res, 413, "")

	// The quota counts the database and the media (see plans_test.go).
	quota := storageUsage(t, e.Env, "tenant-a").Total() + 100
	if _, err := e.Catalog.UpdateTenant(ctx, "tenant-a", catalog.TenantUpdate{StorageQuota: &quota}); err != nil {
		t.Fatal(err)
	}
	apitest.WantStatus(t, e.uploadMedia(t, "tenant-a", admin, filePart("a.txt", bytes.Repeat([]byte("a"), 100))), 201, "")
	apitest.WantStatus(t, e.uploadMedia(t, "tenant-a", admin, filePart("b.txt", []byte("b"))), 413, "quota_exceeded")
	if got := e.mediaFiles(t, "tenant-a"); len(got) != 2 {
		t.Fatalf("files: %v", got)
	}
}

func TestMedia_Serve(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	img := pngBytes(t, 4, 4)
	m := e.uploadMedia(t, "tenant-a", admin, filePart("logo.png", img)).Data
	svg := e.uploadMedia(t, "tenant-a", admin, filePart("icon.svg",
		[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))).Data
	url := m["url"].(string)
	etag := `"` + m["sha256"].(string) + `"`

	for _, c := range []struct {
		name, method, path string
		header             []string
		wantStatus         int
		wantBody           []byte
		wantHeader         map[string]string
	}{
		{"Anonymous", "GET", url, nil, 200, img, map[string]string{"Content-Type": "image/png", "ETag": etag,
			"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=31536000, immutable",
			"Content-Disposition": `inline; filename=logo.png`}},
		{"Head", "HEAD", url, nil, 200, nil, map[string]string{"Content-Type": "image/png", "ETag": etag}},
		{"NotModified", "GET", url, []string{"If-None-Match", etag}, 304, nil, nil},
		{"Range", "GET", url, []string{"Range", "bytes=0-3"}, 206, img[:4], map[string]string{"Content-Range": "bytes 0-3/" + itoa(len(img))}},
		{"WithToken", "GET", url, []string{"Authorization", "Bearer " + admin}, 200, img, nil},
		{"WrongName", "GET", "/media/" + m["id"].(string) + "/other.png", nil, 404, nil, nil},
		{"UnknownID", "GET", "/media/nope/logo.png", nil, 404, nil, nil},
		{"Traversal", "GET", "/media/" + m["id"].(string) + "/..%2f..%2ftenant.db", nil, 404, nil, nil},
		{"SVG", "GET", svg["url"].(string), nil, 200, nil, map[string]string{"Content-Type": "image/svg+xml",
			"Content-Disposition": "attachment; filename=icon.svg", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, body := e.Fetch(t, "tenant-a", c.method, c.path, c.header...)
			if res.StatusCode != c.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.wantStatus, body)
			}
			if c.wantBody != nil && !bytes.Equal(body, c.wantBody) {
				t.Fatalf("body %q", body)
			}
			for k, v := range c.wantHeader {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
		})
	}
	// Another tenant's host does not serve it.
	if res, _ := e.Fetch(t, "tenant-b", "GET", url); res.StatusCode != 404 {
		t.Fatalf("served on tenant-b: %d", res.StatusCode)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestMedia_Manage(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	e.User(t, "tenant-a", "author@example.com", auth.RoleAuthor, "author password")
	author, _ := e.Login(t, "tenant-a", "author@example.com", "author password")
	e.User(t, "tenant-a", "viewer@example.com", auth.RoleViewer, "viewer password")
	viewer, _ := e.Login(t, "tenant-a", "viewer@example.com", "viewer password")

	logo := e.uploadMedia(t, "tenant-a", admin, field("folder", "brand"), filePart("logo.png", pngBytes(t, 2, 2))).Data
	notes := e.uploadMedia(t, "tenant-a", admin, field("alt", "Meeting notes"), filePart("notes.txt", []byte("notes"))).Data
	own := e.uploadMedia(t, "tenant-a", author, filePart("mine.txt", []byte("mine"))).Data
	ids := func(res apitest.Response) string {
		var out []string
		for _, d := range res.Raw["data"].([]any) {
			out = append(out, d.(map[string]any)["id"].(string))
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		query, want string
		total       float64
	}{
		{"", own["id"].(string) + "," + notes["id"].(string) + "," + logo["id"].(string), 3},
		{"?folder=brand", logo["id"].(string), 1},
		{"?type=image/", logo["id"].(string), 1},
		{"?type=text/", own["id"].(string) + "," + notes["id"].(string), 2},
		{"?q=meeting", notes["id"].(string), 1},
		{"?limit=1&offset=1", notes["id"].(string), 3},
	} {
		res := e.Call(t, "tenant-a", "GET", "/api/media"+c.query, viewer, "")
		apitest.WantStatus(t, res, 200, "")
		if got := ids(res); got != c.want || res.Raw["meta"].(map[string]any)["total"] != c.total {
			t.Errorf("%s: %s %v, want %s", c.query, got, res.Raw["meta"], c.want)
		}
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/media?limit=0", viewer, ""), 400, "invalid_limit")
	got := e.Call(t, "tenant-a", "GET", "/api/media/"+logo["id"].(string), viewer, "")
	apitest.WantStatus(t, got, 200, "")
	if got.Data["filename"] != "logo.png" {
		t.Fatalf("get: %v", got.Raw)
	}

	path := "/api/media/" + logo["id"].(string)
	for _, c := range []struct {
		name, token, path, body string
		wantStatus              int
		wantCode                string
	}{
		{"Admin", admin, path, `{"alt": "Logo", "caption": "The logo", "folder": "brand/2024", "tags": ["a", "b"]}`, 200, ""},
		{"ClearTags", admin, path, `{"tags": []}`, 200, ""},
		{"BadFolder", admin, path, `{"folder": "../../x"}`, 400, "invalid_folder"},
		{"UnknownField", admin, path, `{"filename": "x.exe"}`, 400, ""},
		{"Viewer", viewer, path, `{"alt": "x"}`, 403, "permission_denied"},
		{"AuthorOthers", author, path, `{"alt": "x"}`, 403, "permission_denied"},
		{"AuthorOwn", author, "/api/media/" + own["id"].(string), `{"alt": "mine"}`, 200, ""},
		{"Missing", admin, "/api/media/nope", `{"alt": "x"}`, 404, "media_not_found"},
	} {
		t.Run("Patch"+c.name, func(t *testing.T) {
			res := e.Call(t, "tenant-a", "PATCH", c.path, c.token, c.body, "Content-Type", "application/json")
			apitest.WantStatus(t, res, c.wantStatus, c.wantCode)
		})
	}
	got = e.Call(t, "tenant-a", "GET", path, admin, "")
	if got.Data["alt"] != "Logo" || got.Data["folder"] != "brand/2024" || got.Data["caption"] != "The logo" || len(got.Data["tags"].([]any)) != 0 {
		t.Fatalf("after patch: %v", got.Raw)
	}
	if ev := e.Events(t, "tenant-a", "media.updated"); len(ev) != 3 {
		t.Fatalf("media.updated events: %d", len(ev))
	}

	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", path, author, ""), 403, "permission_denied")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", path, admin, ""), 204, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", path, admin, ""), 404, "media_not_found")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", path, admin, ""), 404, "media_not_found")
	if res, _ := e.Fetch(t, "tenant-a", "GET", logo["url"].(string)); res.StatusCode != 404 {
		t.Fatalf("deleted file served: %d", res.StatusCode)
	}
	for _, f := range e.mediaFiles(t, "tenant-a") {
		if strings.HasPrefix(f, logo["id"].(string)) {
			t.Fatalf("file remains: %s", f)
		}
	}
	if ev := e.Events(t, "tenant-a", "media.deleted"); len(ev) != 1 || ev[0].Target != logo["id"] {
		t.Fatalf("media.deleted events: %+v", ev)
	}
}

// TestMedia_OtherTenant: tenant B's media is out of reach of A's users by
// its id, on A's host and on B's.
func TestMedia_OtherTenant(t *testing.T) {
	e := newIdentity(t, api.Config{})
	a, b := e.AdminToken(t, "tenant-a"), e.AdminToken(t, "tenant-b")
	m := e.uploadMedia(t, "tenant-b", b, field("alt", "bravo secret"), filePart("bravo.png", pngBytes(t, 1, 1))).Data
	id := m["id"].(string)
	for _, c := range []struct {
		method, body string
	}{{"GET", ""}, {"PATCH", `{"alt": "pwned"}`}, {"DELETE", ""}} {
		res := e.Call(t, "tenant-a", c.method, "/api/media/"+id, a, c.body, "Content-Type", "application/json")
		apitest.WantStatus(t, res, 404, "media_not_found")
		res = e.Call(t, "tenant-b", c.method, "/api/media/"+id, a, c.body, "Content-Type", "application/json")
		apitest.WantStatus(t, res, 401, "")
	}
	if res, _ := e.Fetch(t, "tenant-a", "GET", m["url"].(string)); res.StatusCode != 404 {
		t.Fatalf("served on A: %d", res.StatusCode)
	}
	if list := e.Call(t, "tenant-a", "GET", "/api/media", a, ""); len(list.Raw["data"].([]any)) != 0 {
		t.Fatalf("A lists B's media: %v", list.Raw)
	}
	got := e.Call(t, "tenant-b", "GET", "/api/media/"+id, b, "")
	if got.Data["alt"] != "bravo secret" {
		t.Fatalf("B's media changed: %v", got.Raw)
	}
	if res, _ := e.Fetch(t, "tenant-b", "GET", m["url"].(string)); res.StatusCode != 200 {
		t.Fatalf("B's file: %d", res.StatusCode)
	}
}
