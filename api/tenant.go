package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/tenantstore"
)

type tenantHandle = *tenantstore.Handle

// publicTenant is what anyone may learn about the tenant a host serves.
type publicTenant struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	Branding      json.RawMessage `json:"branding"`
	PrimaryDomain string          `json:"primary_domain,omitempty"`
	SchemaVersion uint            `json:"schema_version"`
}

// getTenant serves GET /api/tenant: the resolved tenant's public fields,
// with the schema version read from its own database (which proves the
// database is open and current).
func (s *Server) getTenant(c echo.Context) error {
	t := tenantOf(c)
	out := publicTenant{ID: t.ID, Name: t.Name, Branding: t.Branding}
	if len(t.Domains) > 0 && t.Domains[0].Primary {
		out.PrimaryDomain = t.Domains[0].Domain
	}
	err := s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
		v, _, err := migrations.Version(ctx, h.Reader())
		out.SchemaVersion = v
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// healthz answers while the process runs.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 while the catalog answers queries and the pool serves.
func (s *Server) readyz(c echo.Context) error {
	if err := s.catalog.Ping(c.Request().Context()); err != nil {
		logger(c).Error("catalog not ready", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "catalog unavailable"})
	}
	if s.store.Closed() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
	}
	out := map[string]any{"status": "ready", "pool": s.store.Stats()}
	if s.streams != nil {
		out["streams"] = s.streams.Streams() // open libSQL streams
	}
	return c.JSON(http.StatusOK, out)
}
