package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/condohq/condo/migrations/migrationstest"
)

// consoleAPI calls the JSON API of s on host with token: what a browser
// test sets up outside the browser.
func consoleAPI(t *testing.T, s *server, method, host, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.addr+path, strings.NewReader(body))
	req.Host = host
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return res.StatusCode, out
}

// brandTenant gives tenant id its branding through PUT /api/settings, as
// an admin of it (an impersonation token of the platform admin).
func brandTenant(t *testing.T, s *server, platform, id, branding string) {
	t.Helper()
	code, out := consoleAPI(t, s, "POST", "platform.localhost", "/platform/tenants/"+id+"/impersonate", platform, `{"reason": "set up the browser test"}`)
	tok, _ := out["data"].(map[string]any)["token"].(string)
	if code != 200 || tok == "" {
		t.Fatalf("impersonate %s: %d %v", id, code, out)
	}
	if code, out := consoleAPI(t, s, "PUT", id+".localhost", "/api/settings", tok, `{"branding": `+branding+`}`); code != 200 {
		t.Fatalf("brand %s: %d %v", id, code, out)
	}
}

// computed is a CSS property of the first element sel matches.
func computed(t *testing.T, ctx context.Context, sel, prop string) string {
	t.Helper()
	var v string
	browse(t, ctx, "style of "+sel, chromedp.Evaluate(fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).getPropertyValue(%q)`, sel, prop), &v))
	return v
}

// TestAdminBrowser_Console signs in to the platform console, creates two
// tenants there, brands them differently and sees each one's branding as
// it switches between them, impersonates one's admin (the banner shows,
// in its colours) and ends it, watches a fleet migration run to the end,
// and runs axe and takes screenshots on the console's main pages.
func TestAdminBrowser_Console(t *testing.T) {
	data := t.TempDir()
	const email, password = "ops@example.com", "correct-horse-battery"
	t.Setenv("CONDO_ADMIN_EMAIL", email)
	t.Setenv("CONDO_ADMIN_PASSWORD", password)
	if code, _, stderr := run(t, "", "init", "--data", data); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	// Tenants at the embedded schema; the server's set has one more
	// (slow) step, so the fleet run started below has work to show.
	provision(t, data, 6)
	// Usage is flushed every second, so the usage charts have data.
	s := startServerArgs(t, data, []string{"--usage-flush-interval", "1s"}, "CONDO_ADMIN_EMAIL="+email, "CONDO_ADMIN_PASSWORD="+password,
		EnvTenantMigrations+"="+migrationstest.Dir(t, "slow"))
	b := newBrowser(t)
	ctx := b.tab()
	browse(t, ctx, "console sign-in page", chromedp.Navigate(s.adminURL("platform", "/platform/admin")), chromedp.WaitVisible("#email", chromedp.ByQuery))
	checkAccessible(t, ctx, "console login")
	signIn(t, ctx, s, "platform", "/platform/admin", email, password)
	checkAccessible(t, ctx, "console tenants")

	// Two tenants, created in the console.
	for _, tn := range []struct{ id, name string }{{"alpha", "Alpha Books"}, {"beta", "Beta Garden"}} {
		browse(t, ctx, "create "+tn.id,
			chromedp.Navigate(s.adminURL("platform", "/platform/admin/tenants/new")),
			chromedp.WaitVisible("#id", chromedp.ByQuery),
			chromedp.SendKeys("#id", tn.id, chromedp.ByQuery),
			chromedp.SendKeys("#name", tn.name, chromedp.ByQuery),
			chromedp.Click(`#main form button[type=submit]`, chromedp.ByQuery),
			chromedp.WaitVisible("#tenant-status", chromedp.ByQuery),
		)
	}
	var flash string
	browse(t, ctx, "created", chromedp.Text(".flash", &flash, chromedp.ByQuery))
	if !strings.Contains(flash, "beta created") {
		t.Errorf("flash = %q", flash)
	}

	code, out := consoleAPI(t, s, "POST", "platform.localhost", "/platform/auth/login", "", fmt.Sprintf(`{"email": %q, "password": %q}`, email, password))
	platform, _ := out["token"].(string)
	if code != 200 || platform == "" {
		t.Fatalf("platform login: %d %v", code, out)
	}
	brandTenant(t, s, platform, "alpha", `{"name": "Alpha Books", "primary_color": "#7b1fa2", "accent_color": "#c2185b"}`)
	brandTenant(t, s, platform, "beta", `{"name": "Beta Garden", "primary_color": "#0b6e4f", "accent_color": "#8a5a00"}`)

	// Switch between them from the list: each page previews its own
	// colours.
	want := map[string]string{"alpha": "rgb(123, 31, 162)", "beta": "rgb(11, 110, 79)"}
	for _, id := range []string{"alpha", "beta", "alpha"} {
		var name string
		browse(t, ctx, "find "+id+" in the list",
			chromedp.Navigate(s.adminURL("platform", "/platform/admin?q="+id)),
			chromedp.WaitVisible(`#tenant-results a[href="/platform/admin/tenants/`+id+`"]`, chromedp.ByQuery),
		)
		if got := computed(t, ctx, ".brand-"+id+" .swatch-brand", "background-color"); got != want[id] {
			t.Errorf("%s's swatch in the list is %s, want %s", id, got, want[id])
		}
		browse(t, ctx, "open "+id+" from the list",
			chromedp.Click(`#tenant-results a[href="/platform/admin/tenants/`+id+`"]`, chromedp.ByQuery),
			chromedp.WaitVisible(`#brand-preview[data-tenant="`+id+`"]`, chromedp.ByQuery),
			chromedp.Text(".preview-name", &name, chromedp.ByQuery),
		)
		if got := computed(t, ctx, ".preview-top", "background-color"); got != want[id] {
			t.Errorf("%s's preview header is %s, want %s", id, got, want[id])
		}
		if got := computed(t, ctx, ".swatch-brand", "background-color"); got != want[id] {
			t.Errorf("%s's swatch is %s, want %s", id, got, want[id])
		}
		if !strings.HasSuffix(name, map[string]string{"alpha": "Alpha Books", "beta": "Beta Garden"}[id]) {
			t.Errorf("%s's preview is named %q", id, name)
		}
	}
	checkAccessible(t, ctx, "console tenant")
	screenshots(t, ctx, "console-tenant")

	// Search as you type narrows the list (htmx), the URL following it.
	var rows int
	browse(t, ctx, "search as you type",
		chromedp.Navigate(s.adminURL("platform", "/platform/admin")),
		chromedp.WaitVisible("#q", chromedp.ByQuery),
		chromedp.SendKeys("#q", "bet", chromedp.ByQuery),
		chromedp.Poll(`document.querySelectorAll("#tenant-results tbody tr").length === 1`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate(`document.querySelectorAll("#tenant-results tbody tr").length`, &rows),
	)
	if rows != 1 {
		t.Errorf("%d rows after searching", rows)
	}
	browse(t, ctx, "clear the search", chromedp.Navigate(s.adminURL("platform", "/platform/admin")), chromedp.WaitVisible("#tenant-results", chromedp.ByQuery))
	screenshots(t, ctx, "console-tenants")

	// Impersonate alpha's admin: its admin opens, in its colours, with the
	// banner; ending it signs out there.
	var loc, banner string
	browse(t, ctx, "impersonate alpha",
		chromedp.Navigate(s.adminURL("platform", "/platform/admin/tenants/alpha")),
		chromedp.WaitVisible("#reason", chromedp.ByQuery),
		chromedp.SendKeys("#reason", "browser test: check the banner", chromedp.ByQuery),
		chromedp.Click(`form[action="/platform/admin/tenants/alpha/impersonate"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#handover", chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "console impersonation hand-over")
	browse(t, ctx, "hand over",
		chromedp.Click("#handover button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#impersonation-banner", chromedp.ByQuery),
		chromedp.Location(&loc),
		chromedp.Text("#impersonation-banner", &banner, chromedp.ByQuery),
	)
	if !strings.HasPrefix(loc, s.adminURL("alpha", "/admin")) || !strings.Contains(banner, "Alpha Books") || !strings.Contains(banner, "End impersonation") {
		t.Errorf("after the hand-over: at %s, banner %q", loc, banner)
	}
	if got := computed(t, ctx, "header.top", "background-color"); got != want["alpha"] {
		t.Errorf("alpha's admin header is %s, want %s", got, want["alpha"])
	}
	screenshots(t, ctx, "console-impersonating")
	browse(t, ctx, "end impersonation",
		chromedp.Click("#impersonation-banner button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		chromedp.Location(&loc),
	)
	if !strings.HasPrefix(loc, s.adminURL("alpha", "/admin/login")) {
		t.Errorf("after ending it: at %s", loc)
	}
	var events string
	browse(t, ctx, "security events",
		chromedp.Navigate(s.adminURL("platform", "/platform/admin/security?tenant=alpha&kind=impersonation")),
		chromedp.WaitVisible("#security-events", chromedp.ByQuery),
		chromedp.Text("#security-events", &events, chromedp.ByQuery),
	)
	if !strings.Contains(events, "browser test: check the banner") {
		t.Errorf("security events = %q", events)
	}
	checkAccessible(t, ctx, "console security")
	screenshots(t, ctx, "console-security")

	// A fleet migration, started in the console, one tenant at a time:
	// the progress fragment polls until the run is done.
	browse(t, ctx, "start a fleet migration",
		chromedp.Navigate(s.adminURL("platform", "/platform/admin/migrations")),
		chromedp.WaitVisible("#run-concurrency", chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "console migrations")
	screenshots(t, ctx, "console-migrations")
	browse(t, ctx, "start the run",
		chromedp.SendKeys("#run-concurrency", "1", chromedp.ByQuery),
		chromedp.SendKeys("#run-canary", "0", chromedp.ByQuery),
		chromedp.Click(`form[action="/platform/admin/migrations/run"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#run-progress", chromedp.ByQuery),
	)
	seen := map[string]bool{}
	var done, total string
	deadline := time.Now().Add(60 * time.Second)
	for {
		// One read of the three: htmx replaces the fragment every second.
		var got []string
		browse(t, ctx, "read the progress", chromedp.Evaluate(
			`["#run-state", "#run-done", "#run-total"].map(s => (document.querySelector(s) || {}).textContent || "")`, &got))
		state := got[0]
		done, total = got[1], got[2]
		if state == "running" && !seen["running"] {
			checkAccessible(t, ctx, "console migration run")
			screenshots(t, ctx, "console-migration-running")
		}
		seen[state+" "+done] = true
		seen[state] = true
		if state != "running" || time.Now().After(deadline) {
			if state != "succeeded" {
				t.Fatalf("the run ended %s at %s of %s", state, done, total)
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n, _ := strconv.Atoi(total); done != total || n < 6 {
		t.Errorf("run done %s of %s, want all of at least 6 tenants", done, total)
	}
	t.Logf("progress seen: %v", seen)
	if os.Getenv("CI") == "" && !seen["running"] {
		t.Logf("the run finished before the page first showed it running")
	}

	// The rest of the console's pages.
	for _, pg := range []struct{ path, name, wait string }{
		{"/platform/admin/nodes", "console-nodes", "h1"},
		{"/platform/admin/jobs?kind=migration", "console-jobs", "h1"},
		{"/platform/admin/backups", "console-backups", "h1"},
		{"/platform/admin/usage", "console-usage", "svg.console-chart rect.bar"},
		{"/platform/admin/tenants/new", "console-new-tenant", "#id"},
	} {
		browse(t, ctx, pg.name, chromedp.Navigate(s.adminURL("platform", pg.path)), chromedp.WaitVisible(pg.wait, chromedp.ByQuery))
		checkAccessible(t, ctx, pg.name)
		screenshots(t, ctx, pg.name)
	}
	// The fleet's requests of this test, drawn.
	var sum string
	browse(t, ctx, "usage summary", chromedp.Navigate(s.adminURL("platform", "/platform/admin/usage")), chromedp.Text("#chart-requests-sum", &sum, chromedp.ByQuery))
	if strings.HasPrefix(sum, "0 in all") {
		t.Errorf("usage chart: %q, want this test's requests", sum)
	}
}
