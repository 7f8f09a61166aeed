package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/webhooks"
)

// WebhooksConfig configures the webhook routes.
type WebhooksConfig struct {
	// AllowPrivate accepts endpoint URLs that name loopback, private or
	// link-local addresses (--webhooks-allow-private).
	AllowPrivate bool
	// Allowed reports whether a tenant may have webhooks; nil: its plan
	// decides (plans.Webhooks).
	Allowed func(t *catalog.Tenant) bool
}

// webhookRoutes registers a tenant's webhook endpoints: an admin's
// (settings.update), since an endpoint receives every change of the
// tenant's content and users.
func (s *Server) webhookRoutes() {
	const perm = auth.SettingsUpdate
	s.tenantRoute(http.MethodGet, "/api/webhooks", s.listWebhooks, perm)
	s.tenantRoute(http.MethodPost, "/api/webhooks", s.createWebhook, perm)
	s.tenantRoute(http.MethodGet, "/api/webhooks/:id", s.getWebhook, perm)
	s.tenantRoute(http.MethodPatch, "/api/webhooks/:id", s.updateWebhook, perm)
	s.tenantRoute(http.MethodDelete, "/api/webhooks/:id", s.deleteWebhook, perm)
	s.tenantRoute(http.MethodGet, "/api/webhooks/:id/deliveries", s.listWebhookDeliveries, perm)
	s.tenantRoute(http.MethodPost, "/api/webhooks/:id/deliveries/:delivery/replay", s.replayWebhookDelivery, perm)
}

// platformWebhookRoutes registers the platform's endpoints (lifecycle and
// billing events), kept in the catalog.
func (s *Server) platformWebhookRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {
	e.Match(readMethods, "/platform/webhooks", with(s.listWebhooks, admin))
	e.POST("/platform/webhooks", with(s.createWebhook, admin))
	e.Match(readMethods, "/platform/webhooks/:id", with(s.getWebhook, admin))
	e.PATCH("/platform/webhooks/:id", with(s.updateWebhook, admin))
	e.DELETE("/platform/webhooks/:id", with(s.deleteWebhook, admin))
	e.Match(readMethods, "/platform/webhooks/:id/deliveries", with(s.listWebhookDeliveries, admin))
	e.POST("/platform/webhooks/:id/deliveries/:delivery/replay", with(s.replayWebhookDelivery, admin))
}

// withEndpoints runs fn on the request's endpoints: the tenant's (its own
// database, and nobody else's) or, on a platform route, the catalog's.
// key is what webhooks.Wake names them by.
func (s *Server) withEndpoints(c echo.Context, fn func(ctx context.Context, e webhooks.Endpoints, key string) error) error {
	t := tenantOf(c)
	if t == nil {
		return fn(c.Request().Context(), s.catalog.PlatformWebhooks(s.webhooks.AllowPrivate), webhooks.PlatformKey)
	}
	if !s.webhooks.Allowed(t) {
		return condo.ReasonErrorf(condo.EFORBIDDEN, "plan_feature", "this tenant's plan does not include webhooks")
	}
	return s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
		return fn(ctx, webhooks.Endpoints{DB: h.DB, Scope: webhooks.Tenant, AllowPrivate: s.webhooks.AllowPrivate}, t.ID)
	})
}

// auditWebhook records a change of an endpoint where its scope keeps its
// audit: the tenant's log or the platform's.
func (s *Server) auditWebhook(c echo.Context, action, id string, detail any) {
	if tenantOf(c) == nil {
		s.catalog.RecordAudit(c.Request().Context(), action, "", id, detail)
		return
	}
	s.audit(c, auth.CategoryAudit, action, id, detail)
}

func (s *Server) listWebhooks(c echo.Context) error {
	var out []*webhooks.Endpoint
	err := s.withEndpoints(c, func(ctx context.Context, e webhooks.Endpoints, _ string) (err error) {
		out, err = e.List(ctx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// createWebhook serves POST /api/webhooks: {url, events, active,
// description}. The signing secret is in the answer once and never again.
func (s *Server) createWebhook(c echo.Context) error {
	var in webhooks.EndpointInput
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	var ep *webhooks.Endpoint
	var secret string
	err := s.withEndpoints(c, func(ctx context.Context, e webhooks.Endpoints, key string) (err error) {
		if key != webhooks.PlatformKey { // the plan caps a tenant's endpoints
			have, err := e.List(ctx)
			if err != nil {
				return err
			}
			p := s.planOf(c)
			if err := countLimit(p, "webhooks", "webhook endpoints", int64(len(have)), p.Webhooks); err != nil {
				return err
			}
		}
		if ep, secret, err = e.Create(ctx, in); err != nil {
			return err
		}
		if key != webhooks.PlatformKey {
			// Where the worker looks after a restart; the tenant's writes
			// wake it from now on.
			if err := s.catalog.SetWebhookTenant(ctx, key, true); err != nil {
				return err
			}
		}
		webhooks.Enable(key)
		return nil
	})
	if err != nil {
		return err
	}
	s.auditWebhook(c, "webhook.created", ep.ID, map[string]any{"url_host": urlHost(ep.URL), "events": ep.Events})
	return c.JSON(http.StatusCreated, map[string]any{"data": struct {
		*webhooks.Endpoint
		Secret string `json:"secret"`
	}{ep, secret}})
}

func (s *Server) getWebhook(c echo.Context) error {
	var ep *webhooks.Endpoint
	err := s.withEndpoints(c, func(ctx context.Context, e webhooks.Endpoints, _ string) (err error) {
		ep, err = e.Get(ctx, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": ep})
}

// updateWebhook serves PATCH /api/webhooks/:id: the fields given change.
func (s *Server) updateWebhook(c echo.Context) error {
	var in webhooks.EndpointInput
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	var ep *webhooks.Endpoint
	err := s.withEndpoints(c, func(ctx context.Context, e webhooks.Endpoints, key string) (err error) {
		if ep, err = e.Update(ctx, c.Param("id"), in); err == nil {
			webhooks.Enable(key) // reactivated: its pending deliveries resume
		}
		return err
	})
	if err != nil {
		return err
	}
	s.auditWebhook(c, "webhook.updated", ep.ID, map[string]any{"url_host": urlHost(ep.URL), "events": ep.Events, "active": ep.Active})
	return c.JSON(http.StatusOK, map[string]any{"data": ep})
}

// deleteWebhook serves DELETE /api/webhooks/:id: the endpoint and its
// deliveries, pending ones included, are gone.
func (s *Server) deleteWebhook(c echo.Context) error {
	id := c.Param("id")
	err := s.withEndpoints(c, func(ctx context.Context, e webhooks.Endpoints, key string) error {
		left, err := e.Delete(ctx, id)
		if err != nil {
			return err
		}
		if left == 0 && key != webhooks.PlatformKey {
			return s.catalog.SetWebhookTenant(ctx, key, false)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.auditWebhook(c, "webhook.deleted", id, nil)
	return c.NoContent(http.StatusNoContent)
}

// listWebhookDeliveries serves GET /api/webhooks/:id/deliveries?limit=:
// the newest deliveries with their attempts.
func (s *Server) listWebhookDeliveries(c echo.Context) error {
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_limit", "limit is 1 to 200")
		}
		limit = n
	}
	var out []*webhooks.Delivery
	err := s.withEndpoints(c, func(ctx context.Context, e webhooks.Endpoints, _ string) (err error) {
		out, err = e.Deliveries(ctx, c.Param("id"), limit)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// replayWebhookDelivery serves POST
// /api/webhooks/:id/deliveries/:delivery/replay: sent again now, with
// the same webhook-id.
func (s *Server) replayWebhookDelivery(c echo.Context) error {
	var d *webhooks.Delivery
	err := s.withEndpoints(c, func(ctx context.Context, e webhooks.Endpoints, key string) (err error) {
		if d, err = e.Replay(ctx, c.Param("id"), c.Param("delivery")); err == nil {
			webhooks.Enable(key)
		}
		return err
	})
	if err != nil {
		return err
	}
	s.auditWebhook(c, "webhook.replayed", d.WebhookID, map[string]any{"delivery": d.ID, "event": d.EventID})
	return c.JSON(http.StatusAccepted, map[string]any{"data": d})
}

// urlHost is what the audit keeps of an endpoint's URL: its query may
// hold a secret of the receiver's.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
