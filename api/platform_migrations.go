package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/fleet"
)

// platformRoutes registers the platform scope: the login, and behind a
// platform admin token everything else. Middleware is per route, as for
// the tenant routes, so an unknown path stays a plain 404.
func (s *Server) platformRoutes(e *echo.Echo) {
	admin := s.requirePlatformAdmin
	e.POST("/platform/auth/login", s.platformLogin)
	e.Match(readMethods, "/platform/migrations", s.getMigrations, admin)
	e.POST("/platform/migrations/run", s.runMigrations, admin)
	e.Match(readMethods, "/platform/migrations/runs/:id", s.getMigrationRun, admin)
	s.platformTenantRoutes(e, admin)
	s.platformSecurityRoutes(e, admin)
	e.POST("/platform/tenants/:id/impersonate", s.impersonate, admin)
}

// getMigrations serves GET /platform/migrations: the fleet's schema status
// and recent runs, a running one with its progress.
func (s *Server) getMigrations(c echo.Context) error {
	st, err := s.runs.runner.Status(c.Request().Context(), 20)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": st})
}

// getMigrationRun serves GET /platform/migrations/runs/:id.
func (s *Server) getMigrationRun(c echo.Context) error {
	run, err := s.runs.runner.Lookup(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": run})
}

// runRequest is the body of POST /platform/migrations/run; absent fields
// take the defaults of `condo migrate up`.
type runRequest struct {
	Direction   string `json:"direction"`
	To          *int64 `json:"to"`
	Concurrency *int   `json:"concurrency"`
	Canary      *int   `json:"canary"`
	MaxFailures *int   `json:"max_failures"`
}

// runMigrations serves POST /platform/migrations/run: it starts a fleet
// run in this server, through its own pool, and answers 202 with the run's
// id at once; GET /platform/migrations shows its progress. 409
// run_in_progress while another run is live, here or in another process.
func (s *Server) runMigrations(c echo.Context) error {
	var in runRequest
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	opt := fleet.DefaultOptions()
	if in.Direction != "" {
		opt.Direction = in.Direction
	}
	if in.To != nil {
		if *in.To < 0 || *in.To > 1<<31 {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_version", "to: %d is not a version", *in.To)
		}
		opt.Target = uint(*in.To)
	} else if opt.Direction == fleet.Down {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_version", "going down needs to: the version to go back to")
	}
	if in.Concurrency != nil {
		if *in.Concurrency < 1 {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_concurrency", "concurrency must be at least 1")
		}
		opt.Concurrency = *in.Concurrency
	}
	if in.Canary != nil {
		opt.Canary = *in.Canary
	}
	if in.MaxFailures != nil {
		opt.MaxFailures = *in.MaxFailures
	}
	run, err := s.runs.start(c.Request().Context(), opt)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/platform/migrations/runs/"+run.ID)
	return c.JSON(http.StatusAccepted, map[string]any{"id": run.ID, "data": run})
}

// migrationRuns runs the server's fleet migrations, one at a time, each in
// a goroutine it owns; close stops the live one.
type migrationRuns struct {
	runner *fleet.Runner
	logger *slog.Logger

	mu     sync.Mutex // guards the fields below
	cancel context.CancelFunc
	done   chan struct{} // closed when the live run's goroutine returns
	closed bool
}

// start begins a run and executes it in the background.
//
// Errors: EINVALID for bad options; ECONFLICT (run_in_progress) while a
// run is live; EUNAVAILABLE once the server is shutting down.
func (m *migrationRuns) start(ctx context.Context, opt fleet.Options) (catalog.MigrationRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return catalog.MigrationRun{}, condo.ReasonErrorf(condo.EUNAVAILABLE, "shutting_down", "the server is shutting down")
	}
	if m.done != nil {
		select {
		case <-m.done:
		default:
			return catalog.MigrationRun{}, condo.ReasonErrorf(condo.ECONFLICT, "run_in_progress",
				"a migration run is in progress in this server: wait for it to finish")
		}
	}
	run, err := m.runner.Start(ctx, opt) // also refuses while another process runs one
	if err != nil {
		return catalog.MigrationRun{}, err
	}
	rctx, cancel := context.WithCancel(context.Background()) // outlives the request
	done := make(chan struct{})
	m.cancel, m.done = cancel, done
	go func() {
		defer close(done)
		defer cancel()
		rep, err := run.Execute(rctx)
		if err != nil {
			m.logger.Error("migration run failed", "run", run.ID(), "err", err)
		} else if !rep.OK() {
			m.logger.Warn("migration run did not succeed", "run", rep.ID, "status", rep.Status, "err", rep.Error)
		}
	}()
	return run.Record(), nil
}

// close stops the live run, if any (its in-flight tenants roll back and the
// run is recorded as interrupted), and waits for it until ctx ends.
func (m *migrationRuns) close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	cancel, done := m.cancel, m.done
	m.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
