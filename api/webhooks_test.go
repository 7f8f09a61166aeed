package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/catalog"
)

func TestWebhooks_Lifecycle(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	res := e.Call(t, "tenant-a", "POST", "/api/webhooks", admin,
		`{"url": "https://hooks.example.com/condo?k=v", "events": ["content.created", "content.deleted"], "description": "CI"}`)
	apitest.WantStatus(t, res, http.StatusCreated, "")
	id, secret := res.Data["id"].(string), res.Data["secret"].(string)
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("secret %q: want whsec_ and base64", secret)
	}
	if ids, _ := e.Catalog.WebhookTenants(t.Context()); len(ids) != 1 || ids[0] != "tenant-a" {
		t.Errorf("catalog's webhook tenants = %v, want [tenant-a]", ids)
	}

	// The secret is never shown again.
	for _, path := range []string{"/api/webhooks", "/api/webhooks/" + id} {
		res := e.Call(t, "tenant-a", "GET", path, admin, "")
		apitest.WantStatus(t, res, http.StatusOK, "")
		if b, _ := json.Marshal(res.Raw); strings.Contains(string(b), secret) || strings.Contains(string(b), `"secret"`) {
			t.Errorf("GET %s shows the secret: %s", path, b)
		}
	}

	// A write emits an event to its outbox, in the same transaction.
	e.Call(t, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts"}`)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, `{"title": "Hello"}`), http.StatusCreated, "")
	res = e.Call(t, "tenant-a", "GET", "/api/webhooks/"+id+"/deliveries", admin, "")
	apitest.WantStatus(t, res, http.StatusOK, "")
	list, _ := res.Raw["data"].([]any)
	if len(list) != 1 {
		t.Fatalf("deliveries = %v, want one (content.created; content.updated is not subscribed)", res.Raw)
	}
	d := list[0].(map[string]any)
	if d["event_type"] != "content.created" || d["state"] != "pending" {
		t.Errorf("delivery = %v", d)
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/webhooks/"+id+"/deliveries/"+d["id"].(string)+"/replay", admin, ""), http.StatusAccepted, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/webhooks/"+id+"/deliveries/nope/replay", admin, ""), http.StatusNotFound, "delivery_not_found")

	// Update: events, active, URL.
	res = e.Call(t, "tenant-a", "PATCH", "/api/webhooks/"+id, admin, `{"events": ["*"], "active": false, "url": "https://other.example.com/"}`)
	apitest.WantStatus(t, res, http.StatusOK, "")
	if res.Data["active"] != false || res.Data["url"] != "https://other.example.com/" {
		t.Errorf("updated = %v", res.Data)
	}

	// Delete: gone, with its deliveries.
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/webhooks/"+id, admin, ""), http.StatusNoContent, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/webhooks/"+id+"/deliveries", admin, ""), http.StatusNotFound, "webhook_not_found")
	if ids, _ := e.Catalog.WebhookTenants(t.Context()); len(ids) != 0 {
		t.Errorf("catalog's webhook tenants = %v after the last endpoint went", ids)
	}

	// Only an admin manages webhooks.
	e.User(t, "tenant-a", "ed@example.com", "editor", "editor password 123")
	edTok, _ := e.Login(t, "tenant-a", "ed@example.com", "editor password 123")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/webhooks", edTok, ""), http.StatusForbidden, "")
}

func TestWebhooks_BadInput(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	for _, tc := range []struct{ name, body, reason string }{
		{"bad url", `{"url": "not a url", "events": ["content.created"]}`, "invalid_url"},
		{"ftp", `{"url": "ftp://example.com/", "events": ["content.created"]}`, "invalid_url"},
		{"unknown event", `{"url": "https://example.com/", "events": ["content.exploded"]}`, "unknown_event"},
		{"platform event", `{"url": "https://example.com/", "events": ["tenant.created"]}`, "unknown_event"},
		{"no events", `{"url": "https://example.com/", "events": []}`, "invalid_events"},
		{"loopback", `{"url": "http://127.0.0.1:9/", "events": ["*"]}`, "url_not_allowed"},
		{"private", `{"url": "http://10.0.0.1/", "events": ["*"]}`, "url_not_allowed"},
		{"metadata", `{"url": "http://169.254.169.254/latest/meta-data/", "events": ["*"]}`, "url_not_allowed"},
		{"localhost", `{"url": "http://localhost:8080/", "events": ["*"]}`, "url_not_allowed"},
		{"unknown field", `{"url": "https://example.com/", "events": ["*"], "secret": "mine"}`, ""},
		{"not json", `{"url":`, ""},
	} {
		res := e.Call(t, "tenant-a", "POST", "/api/webhooks", admin, tc.body)
		if res.Status != http.StatusBadRequest || res.Error.Code == "" || res.Error.Message == "" {
			t.Errorf("%s: %d %v, want 400 with a code and a message", tc.name, res.Status, res.Raw)
		}
		if tc.reason != "" && res.Error.Code != tc.reason {
			t.Errorf("%s: code %s, want %s", tc.name, res.Error.Code, tc.reason)
		}
	}
	res := e.Call(t, "tenant-a", "GET", "/api/webhooks", admin, "")
	if list, _ := res.Raw["data"].([]any); len(list) != 0 {
		t.Errorf("bad input stored %v", list)
	}
	apitest.WantStatus(t, e.Call(t, "tenant-a", "PATCH", "/api/webhooks/nope", admin, `{"active": true}`), http.StatusNotFound, "webhook_not_found")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/webhooks/x/deliveries?limit=0", admin, ""), http.StatusBadRequest, "")
}

func TestWebhooks_AllowPrivate(t *testing.T) {
	e := newIdentity(t, api.Config{Webhooks: api.WebhooksConfig{AllowPrivate: true}})
	res := e.Call(t, "tenant-a", "POST", "/api/webhooks", e.AdminToken(t, "tenant-a"), `{"url": "http://127.0.0.1:9/", "events": ["*"]}`)
	apitest.WantStatus(t, res, http.StatusCreated, "")
}

func TestWebhooks_PlanGate(t *testing.T) {
	e := newIdentity(t, api.Config{Webhooks: api.WebhooksConfig{Allowed: func(t *catalog.Tenant) bool { return t.ID != "tenant-b" }}})
	apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/api/webhooks", e.AdminToken(t, "tenant-b"), ""), http.StatusForbidden, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/webhooks", e.AdminToken(t, "tenant-a"), ""), http.StatusOK, "")
}

func TestPlatformWebhooks_LifecycleEvents(t *testing.T) {
	e := newIdentity(t, api.Config{})
	platform := apitest.Do(t, e.Srv, "POST", "localhost", "/platform/auth/login",
		strings.NewReader(`{"email": "`+apitest.AdminEmail+`", "password": "`+apitest.AdminPassword+`"}`)).Raw["token"].(string)
	// A tenant's credentials do not reach them.
	apitest.WantStatus(t, e.Call(t, "localhost", "GET", "/platform/webhooks", e.AdminToken(t, "tenant-a"), ""), http.StatusUnauthorized, "")
	res := e.Call(t, "localhost", "POST", "/platform/webhooks", platform, `{"url": "https://billing.example.com/condo", "events": ["content.created"]}`)
	apitest.WantStatus(t, res, http.StatusBadRequest, "")
	res = e.Call(t, "localhost", "POST", "/platform/webhooks", platform,
		`{"url": "https://billing.example.com/condo", "events": ["tenant.created", "tenant.suspended", "tenant.plan_changed", "tenant.deleted"]}`)
	apitest.WantStatus(t, res, http.StatusCreated, "")
	id := res.Data["id"].(string)

	apitest.WantStatus(t, e.Call(t, "localhost", "POST", "/platform/tenants", platform, `{"id": "newco"}`), http.StatusCreated, "")
	apitest.WantStatus(t, e.Call(t, "localhost", "POST", "/platform/tenants/newco/suspend", platform, ""), http.StatusOK, "")
	apitest.WantStatus(t, e.Call(t, "localhost", "PATCH", "/platform/tenants/newco", platform, `{"plan": "pro"}`), http.StatusOK, "")
	res = e.Call(t, "localhost", "GET", "/platform/webhooks/"+id+"/deliveries", platform, "")
	apitest.WantStatus(t, res, http.StatusOK, "")
	var types []string
	for _, d := range res.Raw["data"].([]any) {
		types = append(types, d.(map[string]any)["event_type"].(string))
	}
	if got, want := strings.Join(types, ","), "tenant.plan_changed,tenant.suspended,tenant.created"; got != want {
		t.Errorf("platform deliveries (newest first) = %s, want %s", got, want)
	}
}
