package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/condohq/condo/api/apitest"
)

var newSecretField = regexp.MustCompile(`id="new-secret">([^<]+)<`)

// endpoints lists a tenant's webhook endpoints through the API.
func endpoints(t *testing.T, env *apitest.Env, tenant string) []map[string]any {
	t.Helper()
	res := env.Call(t, tenant, "GET", "/api/webhooks", env.AdminToken(t, tenant), "")
	apitest.WantStatus(t, res, 200, "")
	var out []map[string]any
	for _, v := range res.Raw["data"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func TestAdminWebhooks_CreateDeliverReplayDelete(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	if p := b.get("/admin/webhooks"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="webhook-form"`) {
		t.Fatalf("webhooks page: %d %s", p.Status, p.Body)
	}
	p := b.post("/admin/webhooks", url.Values{"url": {"https://hooks.alpha.example/condo"}, "events": {"user.created", "content.published"}, "description": {"CRM"}})
	m := newSecretField.FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil || !strings.Contains(p.Body, `data-copy="#new-secret"`) {
		t.Fatalf("create: %d %s", p.Status, p.Body)
	}
	eps := endpoints(t, env, "tenant-a")
	if len(eps) != 1 || eps[0]["url"] != "https://hooks.alpha.example/condo" || eps[0]["description"] != "CRM" {
		t.Fatalf("endpoints = %v", eps)
	}
	id := eps[0]["id"].(string)
	if p := b.get("/admin/webhooks"); strings.Contains(p.Body, m[1]) {
		t.Fatal("the list shows the secret again")
	}

	// An event makes a delivery; the endpoint's page lists it.
	apitest.WantStatus(t, env.Call(t, "tenant-a", "POST", "/api/users", env.AdminToken(t, "tenant-a"),
		`{"email": "new@example.com", "password": "new user's password 1", "role": "viewer"}`), 201, "")
	// The delivery is written in the transaction of the change it reports.
	page := b.get("/admin/webhooks/" + id)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "user.created") || !strings.Contains(page.Body, `id="delivery-`) {
		t.Fatalf("deliveries page: %d %s", page.Status, page.Body)
	}
	res := env.Call(t, "tenant-a", "GET", "/api/webhooks/"+id+"/deliveries", env.AdminToken(t, "tenant-a"), "")
	delivery := res.Raw["data"].([]any)[0].(map[string]any)["id"].(string)
	p = b.post("/admin/webhooks/"+id+"/deliveries/"+delivery+"/replay", url.Values{})
	if p.Status != http.StatusSeeOther || p.Location != "/admin/webhooks/"+id {
		t.Fatalf("replay: %d %q %s", p.Status, p.Location, p.Body)
	}
	if p := b.post("/admin/webhooks/"+id, url.Values{"url": {"not a url"}, "events": {"*"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `value="not a url"`) {
		t.Fatalf("edit with a bad URL: %d %s", p.Status, p.Body)
	}
	if p := b.post("/admin/webhooks/"+id, url.Values{"url": {"https://hooks.alpha.example/v2"}, "events": {"*"}, "description": {"CRM v2"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", p.Status, p.Body)
	}
	if eps := endpoints(t, env, "tenant-a"); eps[0]["url"] != "https://hooks.alpha.example/v2" || eps[0]["description"] != "CRM v2" || eps[0]["events"].([]any)[0] != "*" {
		t.Fatalf("after editing: %v", eps[0])
	}
	if p := b.post("/admin/webhooks/"+id+"/active", url.Values{"active": {"false"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("pause: %d", p.Status)
	}
	if eps := endpoints(t, env, "tenant-a"); eps[0]["active"] != false {
		t.Fatalf("after pausing: %v", eps[0])
	}
	if p := b.post("/admin/webhooks/"+id+"/delete", url.Values{}); p.Status != http.StatusSeeOther || p.Location != "/admin/webhooks" {
		t.Fatalf("delete: %d %q", p.Status, p.Location)
	}
	if eps := endpoints(t, env, "tenant-a"); len(eps) != 0 {
		t.Fatalf("after deleting: %v", eps)
	}
}

func TestAdminWebhooks_Refusals(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	t.Run("BadURL", func(t *testing.T) {
		p := b.post("/admin/webhooks", url.Values{"url": {"ftp://nowhere"}, "events": {"*"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `role="alert"`) || !strings.Contains(p.Body, `value="ftp://nowhere"`) {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
	})
	t.Run("CrossTenant", func(t *testing.T) {
		res := env.Call(t, "tenant-b", "POST", "/api/webhooks", env.AdminToken(t, "tenant-b"), `{"url": "https://hooks.bravo.example/secret-path", "events": ["*"]}`)
		apitest.WantStatus(t, res, 201, "")
		bid := res.Data["id"].(string)
		if p := b.get("/admin/webhooks"); strings.Contains(p.Body, "bravo.example") {
			t.Fatal("tenant-a's page lists tenant-b's endpoint")
		}
		if p := b.get("/admin/webhooks/" + bid); p.Status != http.StatusNotFound || strings.Contains(p.Body, "bravo.example") {
			t.Fatalf("tenant-a reading tenant-b's endpoint: %d", p.Status)
		}
		if p := b.post("/admin/webhooks/"+bid, url.Values{"url": {"https://evil.example/"}, "events": {"*"}}); p.Status != http.StatusNotFound {
			t.Fatalf("tenant-a editing tenant-b's endpoint: %d", p.Status)
		}
		if p := b.post("/admin/webhooks/"+bid+"/delete", url.Values{}); p.Status != http.StatusNotFound {
			t.Fatalf("tenant-a deleting tenant-b's endpoint: %d", p.Status)
		}
		if eps := endpoints(t, env, "tenant-b"); len(eps) != 1 || eps[0]["url"] != "https://hooks.bravo.example/secret-path" {
			t.Fatalf("tenant-b's endpoints: %v", eps)
		}
	})
}
