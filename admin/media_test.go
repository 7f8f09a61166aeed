package admin_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/condohq/condo/api/apitest"
)

// pngOf is a w×h PNG.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, 0, color.RGBA{200, 30, 30, 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// multipartBody is a form with fields (name, value pairs) and one file.
func multipartBody(t *testing.T, filename string, data []byte, fields ...string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		mw.WriteField(fields[i], fields[i+1])
	}
	fw, _ := mw.CreateFormFile("file", filename)
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

// send is b.do with extra headers (name, value pairs).
func (b *browser) send(method, path, ctype string, body io.Reader, header ...string) page {
	b.t.Helper()
	req, err := http.NewRequest(method, b.env.Srv.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Host = b.host
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(raw)}
}

// apiMedia is one file as the JSON API lists it.
type apiMedia struct {
	ID       string `json:"id"`
	Filename string `json:"filename"`
	Alt      string `json:"alt"`
	Folder   string `json:"folder"`
	URL      string `json:"url"`
	Width    int    `json:"width"`
}

// listMedia reads tenant's media through the JSON API as its admin.
func listMedia(t *testing.T, env *apitest.Env, tenant string) []apiMedia {
	t.Helper()
	_, body := env.Fetch(t, tenant, "GET", "/api/media", "Authorization", "Bearer "+env.AdminToken(t, tenant))
	var out struct {
		Data []apiMedia `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("GET /api/media: %v %s", err, body)
	}
	return out.Data
}

func findMedia(list []apiMedia, filename string) *apiMedia {
	for i := range list {
		if list[i].Filename == filename {
			return &list[i]
		}
	}
	return nil
}

func TestAdminMedia_Library(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	b.get("/admin/media")

	t.Run("UploadForm", func(t *testing.T) {
		// No Sec-Fetch-Site: the CSRF check parses the form, and the parsed
		// form is passed on.
		ctype, body := multipartBody(t, "red square.png", pngOf(t, 8, 6), "_csrf", b.csrf, "alt", "A red square", "folder", "/pics")
		p := b.send(http.MethodPost, "/admin/media/upload", ctype, body)
		if p.Status != http.StatusSeeOther || p.Location != "/admin/media" {
			t.Fatalf("got %d %q: %s", p.Status, p.Location, p.Body)
		}
		m := findMedia(listMedia(t, env, "tenant-a"), "red-square.png")
		if m == nil || m.Alt != "A red square" || m.Folder != "pics" || m.Width != 8 {
			t.Fatalf("uploaded media = %+v", m)
		}
	})
	t.Run("UploadStreamed", func(t *testing.T) {
		// A browser's request (Sec-Fetch-Site) is streamed through; media.js
		// asks for JSON.
		ctype, body := multipartBody(t, "blue.png", pngOf(t, 4, 4), "alt", "Blue")
		p := b.send(http.MethodPost, "/admin/media/upload", ctype, body, "Sec-Fetch-Site", "same-origin", "Accept", "application/json")
		var out struct {
			Data apiMedia `json:"data"`
		}
		if p.Status != http.StatusCreated || json.Unmarshal([]byte(p.Body), &out) != nil || out.Data.Filename != "blue.png" || out.Data.Alt != "Blue" {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
	})
	t.Run("UploadOverBodyLimit", func(t *testing.T) {
		// Over the server's 4 MB body limit, under the plan's file size:
		// the upload route is exempt like POST /api/media.
		big := bytes.Repeat([]byte("condo media line of text\n"), 5<<20/25)
		ctype, body := multipartBody(t, "big.txt", big)
		p := b.send(http.MethodPost, "/admin/media/upload", ctype, body, "Sec-Fetch-Site", "same-origin", "Accept", "application/json")
		if p.Status != http.StatusCreated {
			t.Fatalf("got %d: %.300s", p.Status, p.Body)
		}
	})
	t.Run("UploadRefused", func(t *testing.T) {
		ctype, body := multipartBody(t, "page.html", []byte("<!doctype html><html><script>alert(1)</script></html>"))
		p := b.send(http.MethodPost, "/admin/media/upload", ctype, body, "Sec-Fetch-Site", "same-origin")
		if p.Status != http.StatusUnsupportedMediaType || !strings.Contains(p.Body, `role="alert"`) {
			t.Fatalf("got %d, want 415 with the API's message: %s", p.Status, p.Body)
		}
		ctype, body = multipartBody(t, "page.html", []byte("<!doctype html><html></html>"))
		p = b.send(http.MethodPost, "/admin/media/upload", ctype, body, "Sec-Fetch-Site", "same-origin", "Accept", "application/json")
		var out struct {
			Error struct{ Code string } `json:"error"`
		}
		if p.Status != http.StatusUnsupportedMediaType || json.Unmarshal([]byte(p.Body), &out) != nil || out.Error.Code != "unsupported_media_type" {
			t.Fatalf("JSON refusal: %d %s", p.Status, p.Body)
		}
	})
	t.Run("UploadWithoutCSRF", func(t *testing.T) {
		ctype, body := multipartBody(t, "x.png", pngOf(t, 1, 1))
		if p := b.send(http.MethodPost, "/admin/media/upload", ctype, body); p.Status != http.StatusForbidden {
			t.Fatalf("got %d, want 403", p.Status)
		}
		ctype, body = multipartBody(t, "x.png", pngOf(t, 1, 1))
		if p := b.send(http.MethodPost, "/admin/media/upload", ctype, body, "Sec-Fetch-Site", "cross-site"); p.Status != http.StatusForbidden {
			t.Fatalf("cross-site: got %d, want 403", p.Status)
		}
	})

	square := findMedia(listMedia(t, env, "tenant-a"), "red-square.png")
	if square == nil {
		t.Fatal("no red-square.png")
	}
	t.Run("GridShowsThumbnails", func(t *testing.T) {
		p := b.get("/admin/media")
		if p.Status != http.StatusOK || !strings.Contains(p.Body, `src="`+square.URL+`?thumb=1"`) || !strings.Contains(p.Body, `alt="A red square"`) {
			t.Fatalf("got %d, want the thumbnail of %s: %s", p.Status, square.URL, p.Body)
		}
		res, _ := env.Fetch(t, "tenant-a", "GET", square.URL+"?thumb=1")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("thumbnail: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
	})
	t.Run("Search", func(t *testing.T) {
		if p := b.get("/admin/media?q=square"); !strings.Contains(p.Body, square.URL) || strings.Contains(p.Body, "blue.png") {
			t.Fatalf("q=square: %s", p.Body)
		}
		if p := b.get("/admin/media?q=nothing-like-it"); strings.Contains(p.Body, square.URL) || !strings.Contains(p.Body, "No file matches") {
			t.Fatalf("q=nothing: %s", p.Body)
		}
		if p := b.get("/admin/media?type=application/pdf"); strings.Contains(p.Body, square.URL) {
			t.Fatalf("type=pdf shows an image: %s", p.Body)
		}
		p := b.send(http.MethodGet, "/admin/media?q=square", "", nil, "HX-Request", "true", "HX-Target", "media-results")
		if p.Status != http.StatusOK || strings.Contains(p.Body, "<html") || !strings.Contains(p.Body, `id="media-results"`) {
			t.Fatalf("htmx search: %d %s", p.Status, p.Body)
		}
	})
	t.Run("EditMetadata", func(t *testing.T) {
		if p := b.get("/admin/media/" + square.ID); p.Status != http.StatusOK || !strings.Contains(p.Body, "8 × 6 pixels") {
			t.Fatalf("detail: %d %s", p.Status, p.Body)
		}
		p := b.post("/admin/media/"+square.ID, url.Values{"alt": {"A small red square"}, "caption": {"c"}, "folder": {"/pics"}, "tags": {"red, shapes"}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", p.Status, p.Body)
		}
		if m := findMedia(listMedia(t, env, "tenant-a"), "red-square.png"); m.Alt != "A small red square" {
			t.Fatalf("alt = %q", m.Alt)
		}
		p = b.post("/admin/media/"+square.ID, url.Values{"alt": {"x"}, "folder": {"../../etc"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `role="alert"`) {
			t.Fatalf("bad folder: %d %s", p.Status, p.Body)
		}
	})
	t.Run("CrossTenant", func(t *testing.T) {
		bb := signedIn(t, env, "tenant-b")
		bb.get("/admin/media")
		ctype, body := multipartBody(t, "bravo.png", pngOf(t, 2, 2), "_csrf", bb.csrf)
		if p := bb.send(http.MethodPost, "/admin/media/upload", ctype, body); p.Status != http.StatusSeeOther {
			t.Fatalf("B's upload: %d %s", p.Status, p.Body)
		}
		bravo := findMedia(listMedia(t, env, "tenant-b"), "bravo.png")
		if p := b.get("/admin/media"); strings.Contains(p.Body, bravo.ID) {
			t.Fatal("A's grid shows B's file")
		}
		if p := b.get("/admin/media/" + bravo.ID); p.Status != http.StatusNotFound {
			t.Fatalf("A reads B's file page: %d", p.Status)
		}
		if p := b.post("/admin/media/"+bravo.ID, url.Values{"alt": {"hacked"}}); p.Status != http.StatusNotFound {
			t.Fatalf("A edits B's file: %d", p.Status)
		}
		if p := b.post("/admin/media/"+bravo.ID+"/delete", url.Values{}); p.Status != http.StatusNotFound {
			t.Fatalf("A deletes B's file: %d", p.Status)
		}
		if m := findMedia(listMedia(t, env, "tenant-b"), "bravo.png"); m == nil || m.Alt != "" {
			t.Fatalf("B's file changed: %+v", m)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if p := b.post("/admin/media/"+square.ID+"/delete", url.Values{}); p.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", p.Status, p.Body)
		}
		if m := findMedia(listMedia(t, env, "tenant-a"), "red-square.png"); m != nil {
			t.Fatal("still listed")
		}
	})
	t.Run("ViewerCannotUpload", func(t *testing.T) {
		env.User(t, "tenant-a", "viewer@example.com", "viewer", "viewer password 1")
		v := newBrowser(t, env, "tenant-a.localhost")
		v.signIn("/admin", "viewer@example.com", "viewer password 1")
		p := v.get("/admin/media")
		if p.Status != http.StatusOK || strings.Contains(p.Body, `id="upload-form"`) {
			t.Fatalf("viewer's library: %d, upload form shown: %v", p.Status, strings.Contains(p.Body, "upload-form"))
		}
		ctype, body := multipartBody(t, "v.png", pngOf(t, 1, 1))
		if p := v.send(http.MethodPost, "/admin/media/upload", ctype, body, "Sec-Fetch-Site", "same-origin"); p.Status != http.StatusForbidden {
			t.Fatalf("viewer's upload: %d", p.Status)
		}
	})
}
