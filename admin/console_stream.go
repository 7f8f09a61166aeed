package admin

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// stream calls method path in process like raw, but writes a 2xx answer
// through w as the API produces it (an archive is not held in memory).
func (cl *client) stream(method, path string, w *streamWriter) error {
	req, err := http.NewRequestWithContext(cl.orig.Context(), method, path, nil)
	if err != nil {
		return fmt.Errorf("api request %s %s: %w", method, path, err)
	}
	req.Host = cl.orig.Host
	req.RemoteAddr = cl.orig.RemoteAddr
	req.TLS = cl.orig.TLS
	for _, h := range []string{"User-Agent", "X-Forwarded-For", "Fly-Client-IP", "X-Real-Ip", "X-Request-Id", "X-Forwarded-Proto"} {
		if v := cl.orig.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	if cl.token != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+cl.token)
	}
	cl.api.ServeHTTP(w, req)
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return nil
}

// streamWriter passes a 2xx answer of the API on to the browser's
// response, with the headers a download needs; any other answer it keeps,
// so the page can show the API's error instead.
type streamWriter struct {
	w       *echo.Response
	header  http.Header
	status  int
	started bool // the answer is going out to the browser
	body    bytes.Buffer
}

// passed are the API's headers a download keeps.
var passed = []string{echo.HeaderContentType, echo.HeaderContentDisposition, echo.HeaderContentLength, echo.HeaderLastModified, "ETag"}

func (s *streamWriter) Header() http.Header { return s.header }

func (s *streamWriter) WriteHeader(status int) {
	if s.status != 0 {
		return
	}
	s.status = status
	if status >= 300 {
		return
	}
	h := s.w.Header()
	for _, k := range passed {
		if v := s.header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	h.Set("X-Content-Type-Options", "nosniff")
	s.started = true
	s.w.WriteHeader(status)
}

func (s *streamWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	if !s.started {
		return s.body.Write(p)
	}
	return s.w.Write(p)
}

// Flush sends what was written so far.
func (s *streamWriter) Flush() {
	if s.started {
		s.w.Flush()
	}
}
