package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// Limits of the platform tenant API.
const (
	// DefaultTenantPage and MaxTenantPage bound GET /platform/tenants?limit.
	DefaultTenantPage = 50
	MaxTenantPage     = 1000

	maxTenantBody  = 64 << 10 // room for the largest branding, escaped
	maxTenantQuery = 200      // bytes of ?q, as long as a tenant name
)

// platformTenantRoutes registers the platform's tenant and domain routes.
func (s *Server) platformTenantRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {
	e.Match(readMethods, "/platform/tenants", with(s.listTenants, admin))
	e.POST("/platform/tenants", with(s.createTenant, admin))
	e.Match(readMethods, "/platform/tenants/:id", with(s.getPlatformTenant, admin))
	e.PATCH("/platform/tenants/:id", with(s.updateTenant, admin))
	e.Match(readMethods, "/platform/plans", with(s.getPlans, admin))
	e.POST("/platform/tenants/:id/suspend", with(s.suspendTenant, admin))
	e.POST("/platform/tenants/:id/resume", with(s.resumeTenant, admin))
	e.Match(readMethods, "/platform/tenants/:id/domains", with(s.listDomains, admin))
	e.POST("/platform/tenants/:id/domains", with(s.addDomain, admin))
	e.DELETE("/platform/tenants/:id/domains/:domain", with(s.removeDomain, admin))
}

// listTenants serves GET /platform/tenants?q=&status=&plan=&region=
// &schema_version=&limit=&offset=: {"data": [tenant...], "meta": {total,
// limit, offset}}, ordered by id. With include=usage each tenant carries
// "usage": {last_active, bytes_stored}, its latest gauges.
func (s *Server) listTenants(c echo.Context) error {
	q := c.QueryParams()
	f := catalog.TenantFilter{Status: q.Get("status"), Query: q.Get("q"), Plan: q.Get("plan"), Region: q.Get("region"), Limit: DefaultTenantPage}
	if len(f.Query) > maxTenantQuery || !utf8.ValidString(f.Query) {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_query", "q is at most %d bytes of valid UTF-8", maxTenantQuery)
	}
	if len(f.Plan) > maxTenantQuery || len(f.Region) > maxTenantQuery {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_query", "plan and region are at most %d bytes", maxTenantQuery)
	}
	include := q.Get("include")
	if include != "" && include != "usage" {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_include", "include is usage or absent")
	}
	var err error
	if q.Get("schema_version") != "" {
		v, err := condo.IntParam(q, "schema_version", 0, 0, math.MaxInt32)
		if err != nil {
			return err
		}
		sv := uint(v)
		f.SchemaVersion = &sv
	}
	if f.Limit, err = condo.IntParam(c.QueryParams(), "limit", DefaultTenantPage, 1, MaxTenantPage); err != nil {
		return err
	}
	if f.Offset, err = condo.IntParam(c.QueryParams(), "offset", 0, 0, math.MaxInt32); err != nil {
		return err
	}
	list, total, err := s.catalog.Tenants(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*catalog.Tenant{}
	}
	meta := map[string]int{"total": total, "limit": f.Limit, "offset": f.Offset}
	if include == "" {
		return c.JSON(http.StatusOK, map[string]any{"data": list, "meta": meta})
	}
	withUsage, err := s.withLatestUsage(c.Request().Context(), list)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": withUsage, "meta": meta})
}

// tenantWithUsage is a listed tenant with its latest gauges
// (?include=usage).
type tenantWithUsage struct {
	*catalog.Tenant
	Usage catalog.UsageLatest `json:"usage"`
}

// withLatestUsage adds each tenant's latest gauges to list, in one
// catalog query, with what this node has not flushed yet.
func (s *Server) withLatestUsage(ctx context.Context, list []*catalog.Tenant) ([]tenantWithUsage, error) {
	ids := make([]string, len(list))
	for i, t := range list {
		ids[i] = t.ID
	}
	latest, err := s.catalog.LatestUsage(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]tenantWithUsage, len(list))
	for i, t := range list {
		u := latest[t.ID]
		if s.usage != nil {
			if d, ok := s.usage.Pending(t.ID); ok && !d.LastActive.IsZero() && (u.LastActive == nil || d.LastActive.After(*u.LastActive)) {
				last := d.LastActive.UTC()
				u.LastActive = &last
			}
		}
		out[i] = tenantWithUsage{t, u}
	}
	return out, nil
}

// newTenantRequest is the body of POST /platform/tenants.
type newTenantRequest struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Plan   string `json:"plan"`
	Region string `json:"region"`
	// Residency names a residency set the home region must be in.
	Residency string   `json:"residency"`
	Domains   []string `json:"domains"`
	// Location, when set, is the libSQL URL holding the tenant's database
	// (a remote location), opened with LocationToken. The token is
	// stored in the catalog and never answered.
	Location      string `json:"location"`
	LocationToken string `json:"location_token"`
}

// createTenant serves POST /platform/tenants: it records the tenant and
// provisions its database, and answers 201 with the tenant. 409
// tenant_exists or domain_taken; 400 unknown_residency, region_required or
// residency_violation when the home region (given, else this node's) is
// not in the residency set; 400 invalid_location, 503 tenant_unavailable
// when a location is given that is not a libSQL URL or does not answer.
func (s *Server) createTenant(c echo.Context) error {
	var in newTenantRequest
	b, err := readTenantBody(c)
	if err != nil {
		return err
	}
	if err := decodeJSON(b, &in); err != nil {
		return err
	}
	// A tenant's database is written where it is created, so one homed in
	// another region is created by a node there: the request goes on once,
	// like a tenant's own (a request that was forwarded already is served
	// here, and a region that is still not this node's is then refused).
	if s.elsewhere(c, in.Region) {
		if err := catalog.ValidateRegion(in.Region); err != nil {
			return err
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(b))
		c.Request().ContentLength = int64(len(b))
		return s.forward(c, in.Region, in.ID, "")
	}
	t, err := s.store.Create(c.Request().Context(), catalog.NewTenant{
		ID: in.ID, Name: in.Name, Plan: in.Plan, Region: in.Region, Residency: in.Residency, Domains: in.Domains,
		Location: in.Location, LocationToken: in.LocationToken})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/platform/tenants/"+t.ID)
	return c.JSON(http.StatusCreated, map[string]any{"data": t})
}

// getPlatformTenant serves GET /platform/tenants/:id: the tenant with its
// domains.
func (s *Server) getPlatformTenant(c echo.Context) error {
	t, err := s.catalog.Tenant(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if s.backups != nil { // its replication as this node sees it (platform_backups.go)
		st := s.backups.Status(t.ID)
		return c.JSON(http.StatusOK, map[string]any{"data": tenantWithBackup{t, &st}})
	}
	return c.JSON(http.StatusOK, map[string]any{"data": t})
}

// tenantPatch is the body of PATCH /platform/tenants/:id; absent fields
// stay as they are.
type tenantPatch struct {
	Name         *string         `json:"name"`
	Plan         *string         `json:"plan"`
	StorageQuota *int64          `json:"storage_quota"`
	UserLimit    *int64          `json:"user_limit"`
	Branding     json.RawMessage `json:"branding"`
	// Region and Residency are read only to refuse a change: a tenant's
	// home changes by a move, which copies its data there.
	Region    *string `json:"region"`
	Residency *string `json:"residency"`
}

// updateTenant serves PATCH /platform/tenants/:id. A new plan brings its
// limits unless the same request sets them; an unknown plan is 400
// invalid_plan. A change of plan or quota answers the tenant's usage
// beside it, and a warning when the new quota is passed already (a
// downgrade is allowed: it blocks growth only). It takes effect on this
// node's next request (the catalog purges its resolution cache) and on
// the others' within the catalog's cache TTL (--resolve-ttl).
func (s *Server) updateTenant(c echo.Context) error {
	var in tenantPatch
	if err := decodeTenantBody(c, &in); err != nil {
		return err
	}
	if in.Region != nil || in.Residency != nil {
		if err := s.refusePlacementChange(c, in.Region, in.Residency); err != nil {
			return err
		}
	}
	t, err := s.catalog.UpdateTenant(c.Request().Context(), c.Param("id"), catalog.TenantUpdate{
		Name: in.Name, Plan: in.Plan, StorageQuota: in.StorageQuota, UserLimit: in.UserLimit, Branding: in.Branding})
	if err != nil {
		return err
	}
	out := map[string]any{"data": t}
	if in.Plan != nil {
		s.plugins.Invalidate(t.ID) // the plan decides which of its plugins run
	}
	if in.Plan != nil || in.StorageQuota != nil {
		r := s.reportPlan(c.Request().Context(), t)
		if r.Usage != nil {
			out["usage"] = r.Usage
		}
		if r.Warning != "" {
			out["warning"] = r.Warning
		}
	}
	return c.JSON(http.StatusOK, out)
}

// refusePlacementChange refuses a PATCH that would change a tenant's home
// region or residency (409 region_immutable): the same values are
// accepted, so a client may send back the tenant it read.
func (s *Server) refusePlacementChange(c echo.Context, region, residency *string) error {
	t, err := s.catalog.Tenant(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if region != nil && *region != t.Region {
		return condo.ReasonErrorf(condo.ECONFLICT, "region_immutable",
			"a tenant's home region changes only by a move (condo tenants move %s --region R), not by PATCH", t.ID)
	}
	if residency != nil && *residency != t.Residency {
		return condo.ReasonErrorf(condo.ECONFLICT, "region_immutable", "a tenant's residency is set when it is created and cannot be changed by PATCH")
	}
	return nil
}

// suspendTenant serves POST /platform/tenants/:id/suspend: its hosts
// answer 403 tenant_suspended until it is resumed.
func (s *Server) suspendTenant(c echo.Context) error {
	t, err := s.catalog.SetStatus(c.Request().Context(), c.Param("id"), catalog.StatusSuspended)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": t})
}

// resumeTenant serves POST /platform/tenants/:id/resume. An archived
// tenant is refused (409 tenant_archived): its files were moved away, and
// only a restore brings them back.
func (s *Server) resumeTenant(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.catalog.Tenant(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if t.Status == catalog.StatusArchived {
		return condo.ReasonErrorf(condo.ECONFLICT, "tenant_archived", "tenant %q is archived: restore it instead", t.ID)
	}
	if t, err = s.catalog.SetStatus(ctx, t.ID, catalog.StatusActive); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": t})
}

// listDomains serves GET /platform/tenants/:id/domains, primary first.
func (s *Server) listDomains(c echo.Context) error {
	t, err := s.catalog.Tenant(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": t.Domains})
}

// addDomain serves POST /platform/tenants/:id/domains {domain, primary}:
// 201 with the domain; 409 domain_taken when any tenant has it already.
func (s *Server) addDomain(c echo.Context) error {
	var in struct {
		Domain  string `json:"domain"`
		Primary bool   `json:"primary"`
	}
	if err := decodeTenantBody(c, &in); err != nil {
		return err
	}
	d, err := s.catalog.AddDomain(c.Request().Context(), c.Param("id"), in.Domain, in.Primary)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"data": d})
}

// removeDomain serves DELETE /platform/tenants/:id/domains/:domain and
// answers with the removed domain. A domain of another tenant is not this
// tenant's to remove: 404, as if it did not exist.
func (s *Server) removeDomain(c echo.Context) error {
	ctx := c.Request().Context()
	id, domain := c.Param("id"), c.Param("domain")
	if err := condo.ValidateDomain(domain); err != nil {
		return err
	}
	t, err := s.catalog.Tenant(ctx, id)
	if err != nil {
		return err
	}
	if !hasDomain(t, domain) {
		return condo.ReasonErrorf(condo.ENOTFOUND, "domain_not_found", "tenant %s has no domain %s", id, domain)
	}
	d, err := s.catalog.RemoveDomain(ctx, domain)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": d})
}

func hasDomain(t *catalog.Tenant, domain string) bool {
	for _, d := range t.Domains {
		if d.Domain == domain {
			return true
		}
	}
	return false
}

// decodeTenantBody is decodeStrict for bodies of at most maxTenantBody
// bytes.
func decodeTenantBody(c echo.Context, v any) error {
	b, err := readTenantBody(c)
	if err != nil {
		return err
	}
	return decodeJSON(b, v)
}

// readTenantBody reads a tenant request's body, at most maxTenantBody.
func readTenantBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, maxTenantBody+1))
	if err != nil {
		return nil, err // the server's body limit answers 413 itself
	}
	if len(b) > maxTenantBody {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the body may be at most 64 KiB")
	}
	return b, nil
}
