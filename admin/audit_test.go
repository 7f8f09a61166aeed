package admin_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
)

var auditRow = regexp.MustCompile(`(?s)<tbody>(.*)</tbody>`)
var olderLink = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

func rows(p page) int {
	m := auditRow.FindStringSubmatch(p.Body)
	if m == nil {
		return 0
	}
	return strings.Count(m[1], "<tr>")
}

func TestAdminAudit_FiltersAndPages(t *testing.T) {
	env := newEnv(t)
	admin := env.AdminToken(t, "tenant-a")
	for i := 0; i < 55; i++ {
		apitest.WantStatus(t, env.Call(t, "tenant-a", "PUT", "/api/settings", admin, fmt.Sprintf(`{"general": {"n": %d}}`, i)), 200, "")
	}
	apitest.WantStatus(t, env.Call(t, "tenant-a", "POST", "/api/tokens", admin, `{"name": "alpha-token"}`), 201, "")
	apitest.WantStatus(t, env.Call(t, "tenant-b", "POST", "/api/tokens", env.AdminToken(t, "tenant-b"), `{"name": "bravo-token-name"}`), 201, "")
	b := signedIn(t, env, "tenant-a")

	p := b.get("/admin/audit")
	if p.Status != http.StatusOK || rows(p) != 50 || olderLink.FindStringSubmatch(p.Body) == nil {
		t.Fatalf("first page: %d, %d rows: %s", p.Status, rows(p), p.Body)
	}
	if strings.Contains(p.Body, "bravo-token-name") {
		t.Fatal("tenant-a's audit log shows tenant-b's event")
	}
	next := html.UnescapeString(olderLink.FindStringSubmatch(p.Body)[1])
	p2 := b.get(next)
	if p2.Status != http.StatusOK || rows(p2) == 0 || !strings.Contains(p2.Body, `href="/admin/audit">Newest</a>`) {
		t.Fatalf("second page %s: %d, %d rows", next, p2.Status, rows(p2))
	}

	p = b.get("/admin/audit?action=token.created")
	if rows(p) != 1 || !strings.Contains(p.Body, "alpha-token") {
		t.Fatalf("by action: %d rows: %s", rows(p), p.Body)
	}
	me := env.Call(t, "tenant-a", "GET", "/auth/me", admin, "")
	uid := me.Data["user"].(map[string]any)["id"].(string)
	if p := b.get("/admin/audit?action=token.created&actor=" + url.QueryEscape(uid)); rows(p) != 1 || !strings.Contains(p.Body, "admin@example.com") {
		t.Fatalf("by actor: %d rows", rows(p))
	}
	if p := b.get("/admin/audit?actor=nobody"); rows(p) != 0 {
		t.Fatalf("by another actor: %d rows", rows(p))
	}
	today := time.Now().UTC().Format(time.DateOnly)
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	if p := b.get("/admin/audit?action=token.created&since=" + today + "&until=" + today); rows(p) != 1 {
		t.Fatalf("today: %d rows", rows(p))
	}
	if p := b.get("/admin/audit?action=token.created&since=" + tomorrow); rows(p) != 0 {
		t.Fatalf("from tomorrow: %d rows", rows(p))
	}
	if p := b.get("/admin/audit?since=yesterday"); p.Status != http.StatusBadRequest {
		t.Fatalf("a bad date: %d", p.Status)
	}
}

func TestAdminAudit_EditorCannotRead(t *testing.T) {
	env := newEnv(t)
	env.User(t, "tenant-a", "ed@example.com", auth.RoleEditor, "ed's password 1")
	ed := newBrowser(t, env, "tenant-a.localhost")
	ed.signIn("/admin", "ed@example.com", "ed's password 1")
	if p := ed.get("/admin/audit"); p.Status != http.StatusForbidden {
		t.Fatalf("editor: %d", p.Status)
	}
}
