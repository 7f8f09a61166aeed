package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/catalog"
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

// readyz answers 200 while the catalog answers queries and the pool
// serves, with the catalog's Availability. A node on a shared control
// plane (--catalog URL) that cannot reach it, but knows tenants to serve
// (stale-while-unavailable), stays ready: status "degraded" and a
// warning, still 200, because taking every node out of the load balancer
// would turn an outage of the control plane into one of every tenant.
// Knowing none, or with its own catalog file failing, it answers 503.
func (s *Server) readyz(c echo.Context) error {
	if s.store.Closed() {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), catalog.LookupTimeout)
	defer cancel()
	perr := s.catalog.Ping(ctx)
	a := s.catalog.Availability()
	out := map[string]any{"status": "ready", "pool": s.store.Stats(), "catalog": a}
	if s.streams != nil {
		out["streams"] = s.streams.Streams() // open libSQL streams
	}
	if s.backups != nil {
		// Backups lagging past --backup-lag-alert degrade the node but
		// keep it ready: it serves every write, and taking it out of the
		// load balancer would not bring the object store back.
		h := s.backups.Health()
		out["backups"] = h
		if h.Degraded {
			out["status"] = "degraded"
			out["warning"] = fmt.Sprintf("backups lag: %d tenants have writes not in the backup store for over %s (the largest %.0fs)",
				h.Lagging, time.Duration(h.Alert*float64(time.Second)), h.MaxLag)
		}
	}
	if perr != nil {
		if s.catalog.Remote() == "" || a.KnownTenants == 0 {
			logger(c).Error("catalog not ready", "err", perr)
			out["status"] = "catalog unavailable"
			return c.JSON(http.StatusServiceUnavailable, out)
		}
		logger(c).Warn("control plane unreachable: serving known tenants", "err", perr, "known_tenants", a.KnownTenants)
		out["status"] = "degraded"
		out["warning"] = fmt.Sprintf("the control plane is unreachable: serving the %d known tenants from what this node last knew; new tenants and changes are not seen until it is back", a.KnownTenants)
	}
	return c.JSON(http.StatusOK, out)
}
