package admin_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// statValue reads the count the dashboard shows for status.
func statValue(t *testing.T, body, status string) string {
	t.Helper()
	m := regexp.MustCompile(`<span class="badge ` + status + `">` + status + `</span></span><span class="stat-value">(\d+)</span>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no count of %s on the dashboard: %s", status, body)
	}
	return m[1]
}

func TestAdminDashboard_Overview(t *testing.T) {
	env := newEnv(t)
	admin := env.AdminToken(t, "tenant-a")
	must := func(tenant, token, method, path, body string, status int) map[string]any {
		t.Helper()
		res := env.Call(t, tenant, method, path, token, body)
		if res.Status != status {
			t.Fatalf("%s %s: %d %v", method, path, res.Status, res.Raw)
		}
		return res.Data
	}
	must("tenant-a", admin, "POST", "/api/collections", `{"name": "posts"}`, 201)
	must("tenant-a", admin, "POST", "/api/collections/posts/content", `{"title": "one"}`, 201)
	must("tenant-a", admin, "POST", "/api/collections/posts/content", `{"title": "two"}`, 201)
	must("tenant-a", admin, "POST", "/api/collections/posts/content", `{"title": "three", "status": "published"}`, 201)
	bAdmin := env.AdminToken(t, "tenant-b")
	must("tenant-b", bAdmin, "POST", "/api/collections", `{"name": "bravo_secret_things"}`, 201)
	must("tenant-b", bAdmin, "POST", "/api/collections/bravo_secret_things/content", `{"title": "b"}`, 201)

	b := signedIn(t, env, "tenant-a")
	p := b.get("/admin")
	if p.Status != http.StatusOK {
		t.Fatalf("got %d: %s", p.Status, p.Body)
	}
	t.Run("ItemsByStatus", func(t *testing.T) {
		for status, want := range map[string]string{"draft": "2", "published": "1", "review": "0", "archived": "0"} {
			if got := statValue(t, p.Body, status); got != want {
				t.Errorf("%s = %s, want %s", status, got, want)
			}
		}
	})
	t.Run("Storage", func(t *testing.T) {
		if !strings.Contains(p.Body, `id="storage-meter"`) || !regexp.MustCompile(`Used: \d+% of the plan's quota`).MatchString(p.Body) {
			t.Fatalf("no storage against the quota: %s", p.Body)
		}
	})
	t.Run("RequestsChart", func(t *testing.T) {
		svg := p.Body[strings.Index(p.Body, "<svg"):]
		svg = svg[:strings.Index(svg, "</svg>")]
		if n := strings.Count(svg, `<rect class="bar"`); n != 7 {
			t.Errorf("%d bars, want 7 (one a day)", n)
		}
		if strings.Contains(p.Body, "style=") {
			t.Error("the page has a style attribute (the CSP refuses it)")
		}
	})
	t.Run("RecentActivity", func(t *testing.T) {
		if !strings.Contains(p.Body, "<code>content.created</code>") && !strings.Contains(p.Body, "<code>collection.created</code>") {
			t.Fatalf("no recent activity: %s", p.Body)
		}
	})
	t.Run("CrossTenant", func(t *testing.T) {
		if strings.Contains(p.Body, "bravo_secret_things") {
			t.Fatal("A's dashboard shows B's activity")
		}
		bb := signedIn(t, env, "tenant-b")
		pb := bb.get("/admin")
		if got := statValue(t, pb.Body, "draft"); got != "1" {
			t.Errorf("B's drafts = %s, want 1", got)
		}
	})
	t.Run("Viewer", func(t *testing.T) {
		env.User(t, "tenant-a", "viewer@example.com", "viewer", "viewer password 1")
		v := newBrowser(t, env, "tenant-a.localhost")
		v.signIn("/admin", "viewer@example.com", "viewer password 1")
		pv := v.get("/admin")
		if pv.Status != http.StatusOK || strings.Contains(pv.Body, "storage-meter") || strings.Contains(pv.Body, "Recent activity") {
			t.Fatalf("viewer's dashboard: %d %s", pv.Status, pv.Body)
		}
	})
}
