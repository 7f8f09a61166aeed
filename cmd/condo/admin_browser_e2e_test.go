package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAdminBrowser_SignIn signs a tenant's admin in and out of /admin in
// chromium, checks the dashboard with axe and takes its screenshots.
func TestAdminBrowser_SignIn(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "CONDO_ADMIN_EMAIL=ops@example.com", "CONDO_ADMIN_PASSWORD=correct-horse-battery")
	if code, _, stderr := run(t, "editor-password-1\n", "users", "create", "default", "ed@example.com", "--role", "admin", "--data", data); code != 0 {
		t.Fatalf("users create: %s", stderr)
	}
	b := newBrowser(t)
	ctx := b.tab()
	browse(t, ctx, "login page", chromedp.Navigate(s.adminURL("default", "/admin")), chromedp.WaitVisible("#email", chromedp.ByQuery))
	checkAccessible(t, ctx, "login")
	screenshots(t, ctx, "tenant-login")
	signIn(t, ctx, s, "default", "/admin", "ed@example.com", "editor-password-1")
	var nav string
	browse(t, ctx, "dashboard", chromedp.Text("nav.main-nav", &nav, chromedp.ByQuery))
	if !strings.Contains(nav, "Content") {
		t.Errorf("nav = %q, want the tenant admin's menu", nav)
	}
	checkAccessible(t, ctx, "dashboard")
	screenshots(t, ctx, "tenant-dashboard")
	browse(t, ctx, "sign out", chromedp.Click(`.who button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible("#email", chromedp.ByQuery))
}
