package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
)

// newEventsEnv is an identity server whose sampled security events stay
// held back for an hour, so what a test counts never depends on how fast
// it runs.
func newEventsEnv(t *testing.T) *idEnv {
	return newIdentity(t, api.Config{SecurityEventEvery: time.Hour})
}

// bothEvents are a tenant's events of one action, and the platform's of
// that kind for that tenant.
func (e *idEnv) bothEvents(t *testing.T, tenant, kind string) ([]auth.Event, []catalog.SecurityEvent) {
	t.Helper()
	var platform []catalog.SecurityEvent
	for _, ev := range e.PlatformEvents(t, kind) {
		if ev.TenantID == tenant {
			platform = append(platform, ev)
		}
	}
	return e.Events(t, tenant, kind), platform
}

func (e *idEnv) readToken(t *testing.T, tenant string) string {
	t.Helper()
	res := e.Call(t, tenant, "POST", "/api/tokens", e.AdminToken(t, tenant), `{"name": "reader", "read_only": true}`)
	apitest.WantStatus(t, res, 201, "")
	return res.Data["token"].(string)
}

func TestSecurityEvents_Verified(t *testing.T) {
	t.Run("LookalikeTokenIsInvalidNotCrossTenant", func(t *testing.T) {
		e := newEventsEnv(t)
		for range 100 {
			apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/api/users", "condo_tenant-a_anything", ""), 401, "invalid_token")
		}
		if local, platform := e.bothEvents(t, "tenant-b", "cross_tenant_token"); len(local)+len(platform) != 0 {
			t.Errorf("a token that only looks like tenant-a's blamed tenant-a: %+v %+v", local, platform)
		}
		local, platform := e.bothEvents(t, "tenant-b", "invalid_token")
		if len(local) != 1 || len(platform) != 1 {
			t.Errorf("100 forged tokens wrote %d tenant and %d platform rows, want 1 each", len(local), len(platform))
		}
	})
	t.Run("RealTokenOfAnotherTenant", func(t *testing.T) {
		e := newEventsEnv(t)
		tok := e.readToken(t, "tenant-a")
		for range 100 {
			apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/api/users", tok, ""), 401, "invalid_token")
		}
		local, platform := e.bothEvents(t, "tenant-b", "cross_tenant_token")
		if len(local) != 1 || len(platform) != 1 {
			t.Fatalf("100 presentations wrote %d tenant and %d platform rows, want 1 each", len(local), len(platform))
		}
		var d map[string]any
		if err := json.Unmarshal(platform[0].Detail, &d); err != nil || d["token_tenant"] != "tenant-a" || d["credential"] != "api_token" {
			t.Errorf("platform detail = %s", platform[0].Detail)
		}
		if strings.Contains(string(local[0].Detail), "tenant-a") {
			t.Errorf("tenant-b's own log names the other tenant: %s", local[0].Detail)
		}
		if local, platform := e.bothEvents(t, "tenant-b", "invalid_token"); len(local)+len(platform) != 0 {
			t.Errorf("a cross-tenant token was also recorded as invalid: %+v %+v", local, platform)
		}
		// Presenting it to tenant-b is not a use of it in tenant-a.
		list := e.Call(t, "tenant-a", "GET", "/api/tokens", e.AdminToken(t, "tenant-a"), "")
		if used := list.Raw["data"].([]any)[0].(map[string]any)["last_used_at"]; used != nil {
			t.Errorf("last_used_at = %v after presentations on another tenant", used)
		}
	})
	t.Run("RevokedTokenOfAnotherTenant", func(t *testing.T) {
		e := newEventsEnv(t)
		admin := e.AdminToken(t, "tenant-a")
		res := e.Call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "gone", "read_only": true}`)
		apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/tokens/"+res.Data["id"].(string), admin, ""), 204, "")
		apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/api/users", res.Data["token"].(string), ""), 401, "invalid_token")
		if local, platform := e.bothEvents(t, "tenant-b", "cross_tenant_token"); len(local)+len(platform) != 0 {
			t.Errorf("a revoked token blamed its tenant: %+v %+v", local, platform)
		}
	})
	t.Run("TokenOfAnotherTenantByPath", func(t *testing.T) {
		// /_condo/tenants/<id> names tenant-b whatever the host: tenant-a's
		// token there is refused and recorded like on tenant-b's host.
		e := newEventsEnv(t)
		tok := e.readToken(t, "tenant-a")
		for _, host := range []string{"tenant-a", "localhost"} {
			res := e.Call(t, host, "POST", api.TenantPathPrefix+"tenant-b/v2/pipeline", tok, `{"requests": []}`)
			if res.Status != 401 {
				t.Errorf("tenant-a's token at %stenant-b on %s: %d, want 401", api.TenantPathPrefix, host, res.Status)
			}
		}
		if local, platform := e.bothEvents(t, "tenant-b", "cross_tenant_token"); len(local) != 1 || len(platform) != 1 {
			t.Errorf("cross-tenant token by path: %d tenant and %d platform rows, want 1 each", len(local), len(platform))
		}
		res := e.Call(t, "localhost", "POST", api.TenantPathPrefix+"Not_A_Tenant/v2/pipeline", tok, `{"requests": []}`)
		if res.Status != 400 {
			t.Errorf("an invalid tenant id in the path: %d, want 400", res.Status)
		}
	})
	t.Run("JWTOfAnotherTenant", func(t *testing.T) {
		e := newEventsEnv(t)
		tok := e.AdminToken(t, "tenant-a")
		for range 10 {
			apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/auth/me", tok, ""), 401, "invalid_token")
		}
		if local, platform := e.bothEvents(t, "tenant-b", "cross_tenant_token"); len(local) != 1 || len(platform) != 1 {
			t.Errorf("cross-tenant JWT: %d tenant and %d platform rows, want 1 each", len(local), len(platform))
		}
	})
}

func TestSecurityEvents_PerTenant(t *testing.T) {
	e := newEventsEnv(t)
	// The same client floods tenant-a first: tenant-b's events still count.
	for range 20 {
		e.Call(t, "tenant-a", "GET", "/auth/me", "not.a.token", "")
	}
	apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/auth/me", "not.a.token", ""), 401, "invalid_token")
	for _, id := range []string{"tenant-a", "tenant-b"} {
		if local, platform := e.bothEvents(t, id, "invalid_token"); len(local) != 1 || len(platform) != 1 {
			t.Errorf("%s: %d tenant and %d platform rows, want 1 each", id, len(local), len(platform))
		}
	}
	// Kinds are apart too: a flood of invalid tokens does not hide a
	// permission denial.
	reader := e.readToken(t, "tenant-b")
	apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/api/tokens", reader, ""), 403, "permission_denied")
	if local, platform := e.bothEvents(t, "tenant-b", "permission_denied"); len(local) != 1 || len(platform) != 1 {
		t.Errorf("permission_denied: %d tenant and %d platform rows, want 1 each", len(local), len(platform))
	}
}

func TestSecurityEvents_ClippedFields(t *testing.T) {
	e := newEventsEnv(t)
	huge := strings.Repeat("A", 1_000_000)
	tok := e.readToken(t, "tenant-a")
	apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/api/users", tok, "", "User-Agent", huge), 401, "invalid_token")
	local, platform := e.bothEvents(t, "tenant-b", "cross_tenant_token")
	if len(local) != 1 || len(platform) != 1 {
		t.Fatalf("%d tenant and %d platform rows, want 1 each", len(local), len(platform))
	}
	limit := condo.MaxStoredText + len("...")
	for where, ua := range map[string]string{"tenant audit log": local[0].UserAgent, "catalog": platform[0].UserAgent} {
		if len(ua) > limit || !strings.HasPrefix(ua, "AAAA") {
			t.Errorf("%s keeps a User-Agent of %d bytes, want at most %d", where, len(ua), limit)
		}
	}
}
