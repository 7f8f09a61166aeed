package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// Defaults of Config.BodyTimeout and Config.UploadTimeout.
const (
	DefaultBodyTimeout   = 30 * time.Second
	DefaultUploadTimeout = 10 * time.Minute
)

// bodyDeadline bounds how long a request's body may take to arrive: the
// connection's read deadline is set when the handler starts (the upload
// route gets the longer UploadTimeout) and lifted once the body has been
// read, so a slow handler is never cut off. A client trickling its body
// gets 408 and loses its connection instead of holding it for minutes.
// http.Server's ReadTimeout cannot do this: it is one value for every
// route, uploads included.
func (s *Server) bodyDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		d := s.bodyTimeout
		if isUpload(c) || isImport(c) || isNodePath(r.URL.Path) {
			d = s.uploadTimeout
		}
		rc := http.NewResponseController(c.Response())
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			return next(c) // a writer without deadlines (a test recorder): nothing to bound
		}
		body := &deadlineBody{ReadCloser: r.Body, rc: rc}
		r.Body = body
		err := next(c)
		if body.timedOut.Load() {
			return &echo.HTTPError{Code: http.StatusRequestTimeout, Internal: err,
				Message: fmt.Sprintf("the request body did not arrive within %s", d)}
		}
		return err
	}
}

// deadlineBody is a request body read under a connection read deadline.
type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	lift     sync.Once
	timedOut atomic.Bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		// The whole body is in. net/http now reads the connection in the
		// background to notice a client that leaves, and a deadline
		// passing there would cancel the request's context: lift it.
		b.lift.Do(func() { b.rc.SetReadDeadline(time.Time{}) })
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut.Store(true)
	}
	return n, err
}

// positiveOr is d, or def when d is not positive (a deadline in the past
// would refuse every body).
func positiveOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
