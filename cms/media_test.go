package cms_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

const quota = 1 << 30

// newMedia returns the content store of a fresh tenant, with its real
// media folder under the data directory.
func newMedia(tb testing.TB) (*tenantstoretest.Env, *cms.Store) {
	tb.Helper()
	env := tenantstoretest.MustOpen(tb, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(tb, "acme")
	h, release, err := env.Store.Acquire(context.Background(), "acme")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(release)
	return env, cms.New("acme", h.DB, env.Store.MediaDir("acme"))
}

// MustPNG encodes a w×h PNG.
func MustPNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// MustJPEG encodes a w×h JPEG.
func MustJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func upload(st *cms.Store, name string, body []byte) (*cms.Media, error) {
	return st.Upload(context.Background(), cms.Upload{Name: name, Body: bytes.NewReader(body), Quota: quota})
}

func mustUpload(tb testing.TB, st *cms.Store, in cms.Upload) *cms.Media {
	tb.Helper()
	if in.Quota == 0 {
		in.Quota = quota
	}
	m, err := st.Upload(context.Background(), in)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// files lists what the media folder holds.
func files(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestStore_Upload(t *testing.T) {
	_, st := newMedia(t)
	ctx := context.Background()
	for _, c := range []struct {
		name, file, wantType, wantName string
		body                           []byte
		w, h                           int
	}{
		{"PNG", "Logo Final (2).PNG", "image/png", "Logo-Final-2.png", MustPNG(t, 3, 2), 3, 2},
		{"JPEG", "photo.jpeg", "image/jpeg", "photo.jpg", MustJPEG(t, 5, 4), 5, 4},
		{"Text", "notes.md", "text/plain; charset=utf-8", "notes.txt", []byte("hello, world\n"), 0, 0},
		{"CSV", "data.csv", "text/csv; charset=utf-8", "data.csv", []byte("a,b\n1,2\n3,4\n"), 0, 0},
		{"LongText", "long.txt", "text/plain; charset=utf-8", "long.txt", bytes.Repeat([]byte("é"), 5000), 0, 0},
		{"JSON", "x.json", "application/json", "x.json", []byte(`{"a": [1, 2]}`), 0, 0},
		{"PDF", "doc.pdf", "application/pdf", "doc.pdf", []byte("%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"), 0, 0},
		{"SVG", "icon.svg", "image/svg+xml", "icon.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>`), 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := mustUpload(t, st, cms.Upload{Name: c.file, Body: bytes.NewReader(c.body), Folder: "/blog/2024/", Alt: " alt ",
				Tags: []string{"a", " b", "a", ""}})
			sum := sha256.Sum256(c.body)
			if m.MimeType != c.wantType || m.Filename != c.wantName || m.Width != c.w || m.Height != c.h ||
				m.Size != int64(len(c.body)) || m.SHA256 != hex.EncodeToString(sum[:]) || m.OriginalName != c.file {
				t.Fatalf("got %+v", m)
			}
			if m.Folder != "blog/2024" || m.Alt != "alt" || strings.Join(m.Tags, ",") != "a,b" || m.URL != "/media/"+m.ID+"/"+c.wantName {
				t.Fatalf("metadata: %+v", m)
			}
			path, got, err := st.MediaFile(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Dir(path) != st.MediaDir || !strings.HasPrefix(filepath.Base(path), m.ID) {
				t.Fatalf("stored at %s", path)
			}
			if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, c.body) {
				t.Fatalf("file holds %q, %v", b, err)
			}
			if got.SHA256 != m.SHA256 || got.Width != c.w || got.MimeType != c.wantType {
				t.Fatalf("read back %+v", got)
			}
		})
	}
	if fi, err := os.Stat(st.MediaDir); err != nil || fi.Mode().Perm() != 0o750 {
		t.Fatalf("media folder: %v %v", fi, err)
	}
	if got, want := cms.MediaDisposition("image/svg+xml"), "attachment"; got != want {
		t.Fatalf("svg served %s", got)
	}
	if got, want := cms.MediaDisposition("image/png"), "inline"; got != want {
		t.Fatalf("png served %s", got)
	}
}

// TestStore_UploadNames sends hostile file names: none may name a file
// outside the media folder, and every display name is plain.
func TestStore_UploadNames(t *testing.T) {
	env, st := newMedia(t)
	body := MustPNG(t, 1, 1)
	for _, c := range []struct{ name, want string }{
		{"../../etc/passwd", "passwd.png"},
		{"../../../../../../tmp/evil.png", "evil.png"},
		{"/etc/cron.d/job", "job.png"},
		{`..\..\windows\system32\evil.exe`, "evil.png"},
		{"a\x00b.png", "a-b.png"},
		{"photo.php.jpg", "photo-php.png"},
		{"café résumé.png", "cafe-resume.png"},
		{"..／..／fullwidth.png", "fullwidth.png"},
		{"innocent\u202Egnp.exe", "innocent-gnp.png"},
		{"line\r\nbreak.png", "line-break.png"},
		{"....", "file.png"},
		{"", "file.png"},
		{".htaccess", "file.png"},
		{strings.Repeat("x", 300) + ".png", strings.Repeat("x", 80) + ".png"},
		{"\xff\xfe.png", "file.png"},
	} {
		m, err := upload(st, c.name, body)
		if err != nil {
			t.Fatalf("%q: %v", c.name, err)
		}
		if m.Filename != c.want {
			t.Errorf("%q: filename %q, want %q", c.name, m.Filename, c.want)
		}
		if strings.ContainsAny(m.OriginalName, "/\\\x00\r\n\u202E") {
			t.Errorf("%q: original name %q keeps a separator or control character", c.name, m.OriginalName)
		}
	}
	// Everything written is a file directly in the media folder, and the
	// data directory holds nothing else new.
	for _, f := range files(t, st.MediaDir) {
		if fi, err := os.Lstat(filepath.Join(st.MediaDir, f)); err != nil || !fi.Mode().IsRegular() || strings.HasPrefix(f, ".") {
			t.Errorf("media folder holds %s (%v)", f, err)
		}
	}
	filepath.WalkDir(env.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(env.DataDir, path)
		if strings.Contains(rel, "passwd") || strings.Contains(rel, "evil") || strings.Contains(rel, "etc") {
			t.Errorf("found %s", rel)
		}
		return nil
	})
}

func TestStore_UploadRefused(t *testing.T) {
	_, st := newMedia(t)
	ctx := context.Background()
	elf := append([]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00"), make([]byte, 200)...)
	pe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 200)...)
	for _, c := range []struct {
		name   string
		in     cms.Upload
		body   []byte
		reason string
	}{
		{"ELF", cms.Upload{Name: "photo.jpg"}, elf, "unsupported_media_type"},
		{"PE", cms.Upload{Name: "photo.jpg"}, pe, "unsupported_media_type"},
		{"HTML", cms.Upload{Name: "page.png"}, []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), "unsupported_media_type"},
		{"Shell", cms.Upload{Name: "x.txt"}, []byte("#!/bin/sh\nrm -rf /\n"), "unsupported_media_type"},
		{"Empty", cms.Upload{Name: "x.txt"}, nil, "empty_file"},
		{"BrokenImage", cms.Upload{Name: "x.png"}, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...), "invalid_image"},
		{"TooLarge", cms.Upload{Name: "x.txt", MaxSize: 100}, bytes.Repeat([]byte("a"), 101), "file_too_large"},
		{"TooLargeHuge", cms.Upload{Name: "x.png", MaxSize: 5000}, append(MustPNG(t, 1, 1), make([]byte, 1<<20)...), "file_too_large"},
		{"QuotaFull", cms.Upload{Name: "x.txt", Quota: 1}, []byte("ab"), "quota_exceeded"},
		{"QuotaZero", cms.Upload{Name: "x.txt", Quota: -1}, []byte("ab"), "quota_exceeded"},
		{"Folder", cms.Upload{Name: "x.txt", Folder: "a/../b"}, []byte("ab"), "invalid_folder"},
		{"FolderControl", cms.Upload{Name: "x.txt", Folder: "a\x00b"}, []byte("ab"), "invalid_folder"},
		{"Alt", cms.Upload{Name: "x.txt", Alt: strings.Repeat("a", cms.MaxAltLen+1)}, []byte("ab"), "invalid_alt"},
		{"Tags", cms.Upload{Name: "x.txt", Tags: []string{"a\nb"}}, []byte("ab"), "invalid_tags"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			in.Body = bytes.NewReader(c.body)
			if in.Quota == 0 {
				in.Quota = quota
			}
			if in.Quota < 0 {
				in.Quota = 0
			}
			m, err := st.Upload(ctx, in)
			if got := condo.ErrorReason(err); got != c.reason {
				t.Fatalf("got %v %v, want %s", m, err, c.reason)
			}
			if f := files(t, st.MediaDir); len(f) != 0 {
				t.Fatalf("left files behind: %v", f)
			}
		})
	}
	// Exactly the limit fits.
	mustUpload(t, st, cms.Upload{Name: "x.txt", Body: bytes.NewReader(bytes.Repeat([]byte("a"), 100)), MaxSize: 100})
}

// failingReader fails after some bytes, like a client that hangs up.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = 'a'
	}
	r.n -= n
	return n, nil
}

func TestStore_UploadInterrupted(t *testing.T) {
	_, st := newMedia(t)
	ctx := context.Background()
	for _, n := range []int{10, 100_000} {
		_, err := st.Upload(ctx, cms.Upload{Name: "x.txt", Body: &failingReader{n: n}, Quota: quota})
		if got, want := condo.ErrorReason(err), "upload_incomplete"; got != want {
			t.Fatalf("%d bytes: %v, want %s", n, err, want)
		}
	}
	// A coded error from the body (the API's body limit) passes as it is.
	tooBig := condo.ReasonErrorf(condo.EINVALID, "file_too_large", "too large")
	_, err := st.Upload(ctx, cms.Upload{Name: "x.txt", Body: io.MultiReader(strings.NewReader("abc"), errReader{tooBig}), Quota: quota})
	if got, want := condo.ErrorReason(err), "file_too_large"; got != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if f := files(t, st.MediaDir); len(f) != 0 {
		t.Fatalf("left files behind: %v", f)
	}
	if n, _ := st.MediaUsage(ctx); n != 0 {
		t.Fatalf("usage %d", n)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestStore_MediaQuota(t *testing.T) {
	_, st := newMedia(t)
	ctx := context.Background()
	mustUpload(t, st, cms.Upload{Name: "a.txt", Body: strings.NewReader("12345"), Quota: 10})
	mustUpload(t, st, cms.Upload{Name: "b.txt", Body: strings.NewReader("12345"), Quota: 10})
	_, err := st.Upload(ctx, cms.Upload{Name: "c.txt", Body: strings.NewReader("1"), Quota: 10})
	if got, want := condo.ErrorReason(err), "quota_exceeded"; got != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	if n, err := st.MediaUsage(ctx); err != nil || n != 10 {
		t.Fatalf("usage %d %v", n, err)
	}
	if f := files(t, st.MediaDir); len(f) != 2 {
		t.Fatalf("files: %v", f)
	}

	// Concurrent uploads cannot pass the quota together: the check and
	// the insert share one write transaction.
	_, st = newMedia(t)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.Upload(ctx, cms.Upload{Name: "c.txt", Body: strings.NewReader("12345"), Quota: 20}); err == nil {
				ok.Add(1)
			} else if condo.ErrorReason(err) != "quota_exceeded" {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, _ := st.MediaUsage(ctx); ok.Load() != 4 || n != 20 {
		t.Fatalf("%d uploads fit, usage %d", ok.Load(), n)
	}
	if f := files(t, st.MediaDir); len(f) != 4 {
		t.Fatalf("files: %v", f)
	}
}

func TestStore_MediaListUpdateDelete(t *testing.T) {
	_, st := newMedia(t)
	ctx := context.Background()
	logo := mustUpload(t, st, cms.Upload{Name: "logo.png", Body: bytes.NewReader(MustPNG(t, 2, 2)), Folder: "brand", Alt: "Our logo"})
	photo := mustUpload(t, st, cms.Upload{Name: "team.jpg", Body: bytes.NewReader(MustJPEG(t, 2, 2)), Folder: "about"})
	notes := mustUpload(t, st, cms.Upload{Name: "notes_100%.txt", Body: strings.NewReader("text"), Folder: "brand", Tags: []string{"press"}})

	for _, c := range []struct {
		name  string
		f     cms.MediaFilter
		want  []string
		total int
	}{
		{"All", cms.MediaFilter{}, []string{notes.ID, photo.ID, logo.ID}, 3},
		{"Folder", cms.MediaFilter{Folder: "/brand"}, []string{notes.ID, logo.ID}, 2},
		{"Images", cms.MediaFilter{Type: "image/"}, []string{photo.ID, logo.ID}, 2},
		{"ExactType", cms.MediaFilter{Type: "image/png"}, []string{logo.ID}, 1},
		{"QueryAlt", cms.MediaFilter{Query: "LOGO"}, []string{logo.ID}, 1},
		{"QueryTag", cms.MediaFilter{Query: "press"}, []string{notes.ID}, 1},
		{"QueryWildcard", cms.MediaFilter{Query: "100%"}, []string{notes.ID}, 1},
		{"QueryUnderscore", cms.MediaFilter{Query: "_"}, []string{notes.ID}, 1},
		{"Page", cms.MediaFilter{Limit: 1, Offset: 1}, []string{photo.ID}, 3},
		{"None", cms.MediaFilter{Folder: "nope"}, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, total, err := st.MediaList(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if strings.Join(ids, ",") != strings.Join(c.want, ",") || total != c.total {
				t.Fatalf("got %v (%d), want %v (%d)", ids, total, c.want, c.total)
			}
		})
	}

	alt, folder := "New alt", "archive/2023"
	m, err := st.UpdateMedia(ctx, logo.ID, cms.MediaUpdate{Alt: &alt, Folder: &folder, Tags: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Alt != alt || m.Folder != folder || strings.Join(m.Tags, ",") != "x" || m.Caption != "" {
		t.Fatalf("updated: %+v", m)
	}
	if m, err = st.UpdateMedia(ctx, logo.ID, cms.MediaUpdate{Tags: []string{}}); err != nil || len(m.Tags) != 0 || m.Alt != alt {
		t.Fatalf("clear tags: %+v %v", m, err)
	}
	bad := "../etc"
	if _, err := st.UpdateMedia(ctx, logo.ID, cms.MediaUpdate{Folder: &bad}); condo.ErrorReason(err) != "invalid_folder" {
		t.Fatalf("bad folder: %v", err)
	}
	if _, err := st.UpdateMedia(ctx, "nope", cms.MediaUpdate{Alt: &alt}); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("update missing: %v", err)
	}

	path, _, err := st.MediaFile(ctx, logo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMedia(ctx, logo.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file remains: %v", err)
	}
	if ok, err := st.MediaExists(ctx, logo.ID); ok || err != nil {
		t.Fatalf("exists after delete: %v %v", ok, err)
	}
	if err := st.DeleteMedia(ctx, logo.ID); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("second delete: %v", err)
	}
	// A file already gone does not stop the row's deletion.
	path, _, _ = st.MediaFile(ctx, photo.ID)
	os.Remove(path)
	if err := st.DeleteMedia(ctx, photo.ID); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.MediaExists(ctx, notes.ID); !ok {
		t.Fatal("notes gone")
	}
	if n, _ := st.MediaUsage(ctx); n != notes.Size {
		t.Fatalf("usage %d", n)
	}
	if _, err := st.Media(ctx, "../../etc/passwd"); condo.ErrorCode(err) != condo.ENOTFOUND {
		t.Fatalf("media of a path: %v", err)
	}
}
