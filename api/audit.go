package api

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/metrics"
)

// audit records an event of the request's tenant, by the request's
// principal. A failure to record is logged, not returned: the change it
// describes has happened.
func (s *Server) audit(c echo.Context, category, action, target string, detail any) {
	e := auth.Event{Category: category, Action: action, Target: target, IP: c.RealIP(),
		UserAgent: c.Request().UserAgent(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID), ActorType: "anonymous"}
	if p := principalOf(c); p != nil {
		e.ActorType, e.ActorID, e.ImpersonatorID = p.Kind, p.UserID, p.Impersonator
		if p.TokenID != "" {
			e.ActorID = p.TokenID
		}
	}
	e.Detail, _ = json.Marshal(detail)
	err := s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
		return auth.New(h.TenantID, h.DB).Record(context.WithoutCancel(ctx), e)
	})
	if err != nil {
		logger(c).Error("record audit event", "action", action, "err", err)
	}
}

// sampledEvents are the kinds of security event a client can repeat at
// request rate (any bearer string, any refused route): each tenant,
// client address and kind writes at most one row per
// Config.SecurityEventEvery, and that row's detail counts the ones held
// back since ("suppressed"). Keyed per tenant, so one tenant's flood never
// hides another's events. Failed logins are not sampled (the login
// throttles bound them, and each row names the account tried), nor are
// impersonations (a platform admin's deliberate act).
var sampledEvents = map[string]bool{"invalid_token": true, "cross_tenant_token": true, "permission_denied": true, "refresh_token_reused": true,
	"cross_tenant_baton": true}

// securityEvent records a security event in the tenant's log (detail) and
// the platform's (platformDetail).
func (s *Server) securityEvent(c echo.Context, kind, target string, detail, platformDetail map[string]any) {
	metrics.SecurityEvent(kind, strings.HasPrefix(kind, "cross_tenant_")) // every one, sampled or not
	if sampledEvents[kind] {
		ok, held := s.events.Allow(tenantOf(c).ID + "\x00" + c.RealIP() + "\x00" + kind)
		if !ok {
			return
		}
		if held > 0 {
			detail["suppressed"], platformDetail["suppressed"] = held, held
		}
	}
	s.audit(c, auth.CategorySecurity, kind, target, detail)
	actor := ""
	if p := principalOf(c); p != nil {
		actor = p.actor()
	}
	if target != "" {
		platformDetail["target"] = target
	}
	d, _ := json.Marshal(platformDetail)
	ev := &catalog.SecurityEvent{TenantID: tenantOf(c).ID, Kind: kind, Actor: actor, IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Detail: d}
	if err := s.catalog.RecordSecurityEvent(context.WithoutCancel(c.Request().Context()), ev); err != nil {
		logger(c).Error("record security event", "kind", kind, "err", err)
	}
}
