package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// compress picks by type and leaves answers already encoded alone.
func TestCompress_Types(t *testing.T) {
	body := bytes.Repeat([]byte(`{"k": "a value that repeats"} `), 100)
	for _, c := range []struct {
		contentType, encoding string
		want                  string // the answer's Content-Encoding
	}{
		{"application/json", "", "gzip"},
		{"application/json; charset=utf-8", "", "gzip"},
		{"application/problem+json", "", "gzip"},
		{"text/plain; charset=utf-8", "", "gzip"},
		{"text/csv", "", "gzip"},
		{"image/svg+xml", "", "gzip"},
		{"application/json", "br", "br"}, // already encoded by the handler
		{"image/png", "", ""},
		{"image/jpeg", "", ""},
		{"image/webp", "", ""},
		{"video/mp4", "", ""},
		{"audio/mpeg", "", ""},
		{"application/zip", "", ""},
		{"application/gzip", "", ""},
		{"application/pdf", "", ""},
		{"application/octet-stream", "", ""},
	} {
		h := compress(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", c.contentType)
			if c.encoding != "" {
				w.Header().Set("Content-Encoding", c.encoding)
			}
			w.Write(body)
		}))
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get("Content-Encoding"); got != c.want {
			t.Errorf("%q (encoded %q): Content-Encoding %q, want %q", c.contentType, c.encoding, got, c.want)
		}
		if c.want == "" && !bytes.Equal(rec.Body.Bytes(), body) {
			t.Errorf("%q: the body changed", c.contentType)
		}
	}
}

func TestStripETagSuffixes(t *testing.T) {
	for in, want := range map[string]string{
		`"abc"`:                     `"abc"`,
		`"abc-gzip"`:                `"abc"`,
		`W/"abc-zstd"`:              `W/"abc"`,
		`"a-gzip", "b", W/"c-zstd"`: `"a", "b", W/"c"`,
		`*`:                         `*`,
	} {
		if got := stripETagSuffixes(in); got != want {
			t.Errorf("stripETagSuffixes(%s) = %s, want %s", in, got, want)
		}
	}
}
