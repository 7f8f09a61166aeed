package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/fleet"
)

// platformRoutes registers the platform scope: the login, and behind a
// platform admin token everything else. Middleware is per route, as for
// the tenant routes, so an unknown path stays a plain 404.
func (s *Server) platformRoutes(e *echo.Echo) {
	admin := s.requirePlatformAdmin
	e.POST("/platform/auth/login", s.platformLogin)
	e.Match(readMethods, "/platform/auth/me", with(s.platformMe, admin))
	e.Match(readMethods, "/platform/migrations", with(s.getMigrations, admin))
	e.POST("/platform/migrations/run", with(s.runMigrations, admin))
	e.Match(readMethods, "/platform/migrations/runs/:id", with(s.getMigrationRun, admin))
	s.platformTenantRoutes(e, admin)
	s.platformLifecycleRoutes(e, admin)
	s.platformSecurityRoutes(e, admin)
	s.platformNodeRoutes(e, admin)
	s.platformMoveRoutes(e, admin)
	s.platformStatsRoutes(e, admin)
	s.platformWebhookRoutes(e, admin)
	e.POST("/platform/tenants/:id/impersonate", with(s.impersonate, admin))
}

// errNoJobs answers the migration routes of a server built without jobs
// (Config.Jobs), such as a test's or a benchmark's.
var errNoJobs = condo.ReasonErrorf(condo.EUNAVAILABLE, "jobs_unavailable", "this server runs no background jobs")

// getMigrations serves GET /platform/migrations: the fleet's schema status
// and recent runs, a running one with its progress.
func (s *Server) getMigrations(c echo.Context) error {
	if s.jobs == nil {
		return errNoJobs
	}
	st, err := s.jobs.MigrationStatus(c.Request().Context(), 20)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": st})
}

// getMigrationRun serves GET /platform/migrations/runs/:id.
func (s *Server) getMigrationRun(c echo.Context) error {
	if s.jobs == nil {
		return errNoJobs
	}
	run, err := s.jobs.MigrationRun(c.Request().Context(), c.Param("id"))
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

// runMigrations serves POST /platform/migrations/run: it has the server's
// jobs start a fleet run, through the server's own pool, and answers 202 with the run's
// id at once; GET /platform/migrations shows its progress. 409
// run_in_progress while another run is live, here or in another process.
func (s *Server) runMigrations(c echo.Context) error {
	if s.jobs == nil {
		return errNoJobs
	}
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
	run, err := s.jobs.StartMigration(c.Request().Context(), opt)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/platform/migrations/runs/"+run.ID)
	return c.JSON(http.StatusAccepted, map[string]any{"id": run.ID, "data": run})
}
