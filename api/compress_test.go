package api_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
)

func decode(t *testing.T, encoding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch encoding {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	default:
		t.Fatalf("unknown encoding %q", encoding)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s: %v", encoding, err)
	}
	return b
}

// JSON and text answers above a kilobyte go out compressed as the client
// asks; small ones, HEAD, ranges and media do not; ETags stay usable.
func TestServer_Compression(t *testing.T) {
	e := newCMS(t, api.Config{ContentCache: -1})
	for i := 0; i < 20; i++ {
		e.create(t, e.editor, `{"title": "Post number `+itoa(i)+` with a title long enough to compress", "status": "published"}`)
	}
	img := pngBytes(t, 64, 64)
	m := e.uploadMedia(t, "tenant-a", e.admin, filePart("photo.png", img)).Data
	const list = "/api/collections/posts/content"
	_, plain := apitest.Send(t, e.Srv.URL, "GET", "tenant-a.localhost", list, "")
	if len(plain) < api.CompressMinSize {
		t.Fatalf("the list is too small to test: %d bytes", len(plain))
	}
	plainRes, _ := apitest.Send(t, e.Srv.URL, "GET", "tenant-a.localhost", list, "")
	plainTag := plainRes.Header.Get("ETag")

	for _, c := range []struct {
		name, method, path, accept string
		header                     []string
		wantStatus                 int
		wantEncoding               string
		want                       []byte // the decoded body, when not nil
	}{
		{"Gzip", "GET", list, "gzip", nil, 200, "gzip", plain},
		{"Zstd", "GET", list, "zstd", nil, 200, "zstd", plain},
		{"BothPrefersZstd", "GET", list, "gzip, deflate, br, zstd", nil, 200, "zstd", plain},
		{"QValues", "GET", list, "zstd;q=0.5, gzip;q=1", nil, 200, "gzip", plain},
		{"Refused", "GET", list, "gzip;q=0", nil, 200, "", plain},
		{"Unsupported", "GET", list, "br", nil, 200, "", plain},
		{"Identity", "GET", list, "identity", nil, 200, "", plain},
		{"Head", "HEAD", list, "gzip", nil, 200, "", nil},
		{"Small", "GET", "/api/tenant", "gzip", nil, 200, "", nil},
		{"OpenAPI", "GET", "/api", "gzip", nil, 200, "gzip", nil},
		{"Media", "GET", m["url"].(string), "gzip", nil, 200, "", img},
		{"MediaRange", "GET", m["url"].(string), "gzip", []string{"Range", "bytes=10-19"}, 206, "", img[10:20]},
		{"NotModifiedPlainTag", "GET", list, "gzip", []string{"If-None-Match", plainTag}, 304, "", nil},
		{"NotModifiedGzipTag", "GET", list, "gzip", []string{"If-None-Match", strings.TrimSuffix(plainTag, `"`) + `-gzip"`}, 304, "", nil},
		{"NotModifiedWeakTag", "GET", list, "zstd", []string{"If-None-Match", "W/" + strings.TrimSuffix(plainTag, `"`) + `-zstd"`}, 304, "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, body := apitest.Send(t, e.Srv.URL, c.method, "tenant-a.localhost", c.path, "", append([]string{"Accept-Encoding", c.accept}, c.header...)...)
			if res.StatusCode != c.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, c.wantStatus)
			}
			if got := res.Header.Get("Content-Encoding"); got != c.wantEncoding {
				t.Fatalf("Content-Encoding %q, want %q", got, c.wantEncoding)
			}
			got := decode(t, c.wantEncoding, body)
			if c.want != nil && !bytes.Equal(got, c.want) {
				t.Errorf("decoded body differs: %d bytes, want %d", len(got), len(c.want))
			}
			if c.wantEncoding != "" {
				if !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "Accept-Encoding") {
					t.Errorf("Vary %q lacks Accept-Encoding", res.Header.Values("Vary"))
				}
				if n := res.Header.Get("Content-Length"); n != "" && n != itoa(len(body)) {
					t.Errorf("Content-Length %s for %d bytes", n, len(body))
				}
				if c.path == list {
					if tag, want := res.Header.Get("ETag"), strings.TrimSuffix(plainTag, `"`)+"-"+c.wantEncoding+`"`; tag != want {
						t.Errorf("ETag %s, want %s", tag, want)
					}
				}
			}
			if strings.HasPrefix(c.path, "/media/") && res.Header.Get("ETag") != `"`+m["sha256"].(string)+`"` {
				t.Errorf("media ETag %q changed", res.Header.Get("ETag"))
			}
		})
	}
}
