package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/admin"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/metrics"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/webhooks"
)

// Plans: the limits of a tenant's plan hold on its hosts. The plan's
// name travels with the resolved tenant (the catalog's resolution cache),
// its limits are this node's plan definitions (Config of the catalog):
// every node of a fleet reads the same plans file.

// planOf returns the plan the request's tenant is held to.
func (s *Server) planOf(c echo.Context) *plans.Plan { return s.plans.For(tenantOf(c).Plan) }

// limitRate spends one request of the tenant's token bucket, and answers
// 429 rate_limited with Retry-After when it is empty. Buckets are per
// tenant and per node.
func (s *Server) limitRate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if admin.Internal(c.Response().Writer) {
			return next(c) // its page spent the request
		}
		t := tenantOf(c)
		ok, wait := s.limiters.Allow(t.ID, s.plans.For(t.Plan), s.now())
		if ok {
			return next(c)
		}
		metrics.RateLimited.Inc()
		secs := int((wait + time.Second - 1) / time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return condo.ReasonErrorf(condo.ELIMITED, "rate_limited",
			"tenant %s is over its plan's %g requests per second: retry in %d s", t.ID, s.plans.For(t.Plan).RequestsPerSecond, secs)
	}
}

// quotaRoute reports the tenant routes whose writes the storage quota
// guards: the CMS's (collections, content, the trash's restores). Media
// uploads check the quota themselves (with the file's size), the libSQL
// endpoint through max_page_count; DELETE frees space and always passes.
func quotaRoute(method, path string) bool {
	if method != http.MethodPost && method != http.MethodPut && method != http.MethodPatch {
		return false
	}
	return strings.HasPrefix(path, "/api/collections") || strings.HasPrefix(path, "/api/content") || strings.HasPrefix(path, "/api/trash")
}

// storageQuota refuses a CMS write that would take the tenant past its
// storage quota: 413 quota_exceeded naming the quota and the usage,
// before the handler runs, so nothing changes. The write's growth is
// estimated by its body's length (at least one byte): a write passes
// when usage + body <= quota. SQLite grows the file by pages, so a write
// that passes may leave usage a few pages past the quota; the next one
// is refused. Reads are never refused, and nor is a write to a tenant
// at a remote location (its size is its host's to cap).
func (s *Server) storageQuota(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		t := tenantOf(c)
		adding := max(c.Request().ContentLength, 1)
		err := s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
			if h.Remote() {
				return nil
			}
			u, err := plans.ReadUsage(ctx, h.Reader())
			if err != nil {
				return err
			}
			if u.Total()+adding > t.StorageQuota {
				metrics.QuotaRejections.WithLabelValues("storage").Inc()
				s.quotaEvent(ctx, t, u)
				return plans.QuotaExceeded(t.StorageQuota, u, adding)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return next(c)
	}
}

// storageUsage measures the request's tenant's storage (zero for a
// tenant at a remote location).
func (s *Server) storageUsage(c echo.Context) (plans.Usage, error) {
	var u plans.Usage
	err := s.withTenantDB(c, func(ctx context.Context, h tenantHandle) (err error) {
		if !h.Remote() {
			u, err = plans.ReadUsage(ctx, h.Reader())
		}
		return err
	})
	return u, err
}

// countLimit refuses creating one more of what (n of which exist) past
// the plan's limit, counting the refusal under kind.
func countLimit(p *plans.Plan, kind, what string, n, limit int64) error {
	if plans.Within(n+1, limit) {
		return nil
	}
	metrics.QuotaRejections.WithLabelValues(kind).Inc()
	return plans.LimitReached(what, limit, p.Name)
}

// requireFeature refuses a route the tenant's plan does not include (403
// plan_feature_unavailable).
func (s *Server) requireFeature(f plans.Feature) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if p := s.planOf(c); !p.Allows(f) {
				return plans.NotAllowed(f, p.Name)
			}
			return next(c)
		}
	}
}

// getPlans serves GET /platform/plans: the plans tenants may be on.
func (s *Server) getPlans(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"data": s.plans.All()})
}

// planReport is what a change of a tenant's plan or limits answers with
// beside the tenant: its usage, and a warning when the new quota is
// already passed (a downgrade is allowed: it blocks growth only).
type planReport struct {
	Usage   *plans.Usage `json:"usage,omitempty"`
	Warning string       `json:"warning,omitempty"`
}

// reportPlan measures t's usage against its (new) limits. A tenant whose
// database is not here (archived, at a remote location, homed in another
// region) or cannot be opened gets no report rather than a failed
// change: the change is made already.
func (s *Server) reportPlan(ctx context.Context, t *catalog.Tenant) planReport {
	homedElsewhere := s.router != nil && t.Region != "" && t.Region != s.router.Region
	if t.Status != catalog.StatusActive || t.Location != "" || homedElsewhere {
		return planReport{}
	}
	h, release, err := s.store.AcquireTenant(ctx, t)
	if err != nil {
		return planReport{}
	}
	defer release()
	u, err := plans.ReadUsage(ctx, h.Reader())
	if err != nil {
		return planReport{}
	}
	return newPlanReport(t, u)
}

// newPlanReport words usage u of tenant t against its storage quota.
func newPlanReport(t *catalog.Tenant, u plans.Usage) planReport {
	r := planReport{Usage: &u}
	if u.Total() > t.StorageQuota {
		r.Warning = fmt.Sprintf("tenant %s uses %s, more than its storage quota of %s: reads and deletes keep working, writes that add data are refused until usage is under the quota",
			t.ID, plans.FormatSize(u.Total()), plans.FormatSize(t.StorageQuota))
	}
	return r
}

// quotaEventEvery is how often a tenant refused for its storage quota
// raises tenant.quota_exceeded: billing wants to know, not once a write.
const quotaEventEvery = time.Hour

// quotaEvent emits the platform's tenant.quota_exceeded for t, at most
// once per quotaEventEvery per tenant and node. A failure to record it is
// logged: the refusal itself stands either way.
func (s *Server) quotaEvent(ctx context.Context, t *catalog.Tenant, u plans.Usage) {
	now := s.now()
	if last, ok := s.quotaEvents.Load(t.ID); ok && now.Sub(last.(time.Time)) < quotaEventEvery {
		return
	}
	s.quotaEvents.Store(t.ID, now)
	data := map[string]any{"tenant": t.ID, "plan": t.Plan, "storage_quota": t.StorageQuota, "storage_used": u.Total()}
	if err := s.catalog.EmitPlatformEvent(ctx, webhooks.TenantQuotaExceeded, data); err != nil {
		s.logger.Error("record tenant.quota_exceeded", "tenant", t.ID, "err", err)
	}
}
