package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
)

// GET /api/usage is a tenant admin's own view of its storage, items and
// requests: the tenant's alone, and only with settings.read.
func TestTenantUsage(t *testing.T) {
	e := newStatsEnv(t)
	admin := e.AdminToken(t, "tenant-a")
	e.User(t, "tenant-a", "viewer@example.com", "viewer", "viewer password")
	viewer, _ := e.Login(t, "tenant-a", "viewer@example.com", "viewer password")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections", admin, `{"name": "posts"}`), 201, "")
	for _, body := range []string{`{"title": "one"}`, `{"title": "two"}`, `{"title": "three", "status": "published"}`} {
		apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, body), 201, "")
	}
	trashed := e.Call(t, "tenant-a", "POST", "/api/collections/posts/content", admin, `{"title": "gone"}`)
	apitest.WantStatus(t, e.Call(t, "tenant-a", "DELETE", "/api/content/"+trashed.Data["id"].(string), admin, ""), 204, "")

	usage := func(tenant, token string) (apitest.Response, api.TenantUsage) {
		t.Helper()
		r := e.Call(t, tenant, "GET", "/api/usage", token, "")
		var out struct{ Data api.TenantUsage }
		if r.Status == 200 {
			b, _ := json.Marshal(r.Raw)
			if err := json.Unmarshal(b, &out); err != nil {
				t.Fatal(err)
			}
		}
		return r, out.Data
	}

	r, got := usage("tenant-a", admin)
	apitest.WantStatus(t, r, 200, "")
	if got.Items["draft"] != 2 || got.Items["published"] != 1 || got.Items["review"] != 0 || got.Items["archived"] != 0 {
		t.Errorf("items = %v, want 2 drafts and 1 published (the trash left out)", got.Items)
	}
	ten, err := e.Catalog.Tenant(context.Background(), "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Storage.Quota != ten.StorageQuota || got.Storage.Database <= 0 || got.Storage.Total != got.Storage.Database+got.Storage.Media {
		t.Errorf("storage = %+v, quota want %d", got.Storage, ten.StorageQuota)
	}
	if got.Plan != ten.Plan {
		t.Errorf("plan = %q, want %q", got.Plan, ten.Plan)
	}
	if len(got.Days) != api.UsageDays {
		t.Fatalf("%d days, want %d", len(got.Days), api.UsageDays)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	if last := got.Days[len(got.Days)-1]; last.Day != today || last.Requests == 0 {
		t.Errorf("today = %+v, want %s with the requests above (not flushed yet)", last, today)
	}
	if first := got.Days[0]; first.Day != time.Now().UTC().AddDate(0, 0, -6).Format(time.DateOnly) || first.Requests != 0 {
		t.Errorf("first day = %+v", first)
	}

	// B's usage is B's: none of A's items.
	r, b := usage("tenant-b", e.AdminToken(t, "tenant-b"))
	apitest.WantStatus(t, r, 200, "")
	if b.Items["draft"] != 0 || b.Items["published"] != 0 {
		t.Errorf("B's items = %v", b.Items)
	}
	// A's token on B's host is no credential there.
	r, _ = usage("tenant-b", admin)
	apitest.WantStatus(t, r, 401, "")
	r, _ = usage("tenant-a", viewer)
	apitest.WantStatus(t, r, 403, "permission_denied")
	r, _ = usage("tenant-a", "")
	apitest.WantStatus(t, r, 401, "missing_token")
}
