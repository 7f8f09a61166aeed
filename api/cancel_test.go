package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// recordLog is a slog.Handler that hands every record to a channel.
type recordLog chan slog.Record

func (r recordLog) Enabled(context.Context, slog.Level) bool        { return true }
func (r recordLog) Handle(_ context.Context, rec slog.Record) error { r <- rec.Clone(); return nil }
func (r recordLog) WithAttrs([]slog.Attr) slog.Handler              { return r }
func (r recordLog) WithGroup(string) slog.Handler                   { return r }

// A request its client cancels while the handler works is logged as
// cancelled (499, not an error), even though the handler failed the way
// an interrupted query does.
func TestServer_ClientCancelled(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 2})
	logs := make(recordLog, 100)
	s := New(env.Catalog, env.Store, Config{Logger: slog.New(logs)})
	started := make(chan struct{})
	s.echo.GET("/test/slow", func(c echo.Context) error {
		close(started)
		<-c.Request().Context().Done()
		return fmt.Errorf("list items: %w", c.Request().Context().Err()) // what a cancelled query returns
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/test/slow", nil)
	go func() { <-started; cancel() }()
	if _, err := srv.Client().Do(req); err == nil {
		t.Fatal("the cancelled request got an answer")
	}
	timeout := time.After(30 * time.Second) // only in case the line never comes
	for {
		select {
		case rec := <-logs:
			if rec.Level >= slog.LevelError {
				t.Errorf("logged at %s: %s", rec.Level, rec.Message)
			}
			if rec.Message != "request" {
				continue
			}
			rec.Attrs(func(a slog.Attr) bool {
				if a.Key == "status" && a.Value.Int64() != StatusClientClosedRequest {
					t.Errorf("access log status %d, want %d", a.Value.Int64(), StatusClientClosedRequest)
				}
				return true
			})
			return
		case <-timeout:
			t.Fatal("no access log line for the cancelled request")
		}
	}
}
