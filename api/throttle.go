package api

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// Login throttling: an account (tenant + email) may fail LoginBurst times
// in a row, then once per LoginEvery; a client IP may try IPBurst logins
// at once, then one per IPEvery, whatever the accounts.
const (
	LoginBurst = 5
	LoginEvery = time.Minute
	IPBurst    = 30
	IPEvery    = 2 * time.Second
)

// throttleKeys name the two buckets a login attempt counts against.
type throttleKeys struct{ account, ip string }

// loginKeys are the throttle keys of a login to tenant ("" for the
// platform) as email from ip.
func loginKeys(tenant, email, ip string) throttleKeys {
	return throttleKeys{account: tenant + "\x00" + strings.ToLower(strings.TrimSpace(email)), ip: ip}
}

// throttled answers 429 with Retry-After while either bucket is empty, and
// otherwise spends one attempt of the IP's.
func (s *Server) throttled(c echo.Context, k throttleKeys) error {
	wait := max(s.loginThrottle.Wait(k.account), s.ipThrottle.Wait(k.ip))
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		return condo.ReasonErrorf(condo.ELIMITED, "too_many_attempts", "too many login attempts: try again in %d seconds", secs)
	}
	s.ipThrottle.Hit(k.ip)
	return nil
}

// loginFailed spends one attempt of the account and records the failure
// (and the lockout, when this failure starts one). On the platform login
// (no tenant) only the platform's log has it.
func (s *Server) loginFailed(c echo.Context, k throttleKeys, email string) {
	locked := s.loginThrottle.Hit(k.account)
	detail := map[string]any{"email": condo.Clip(email)}
	record := func(kind string) {
		if tenantOf(c) != nil {
			s.securityEvent(c, kind, "", detail, map[string]any{"email": condo.Clip(email)})
			return
		}
		d, _ := json.Marshal(detail)
		ev := &catalog.SecurityEvent{Kind: "platform_" + kind, IP: c.RealIP(), UserAgent: c.Request().UserAgent(), Detail: d}
		if err := s.catalog.RecordSecurityEvent(context.WithoutCancel(c.Request().Context()), ev); err != nil {
			logger(c).Error("record security event", "kind", kind, "err", err)
		}
	}
	record("login_failed")
	if locked {
		record("login_locked")
	}
}
