package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestAdminBrowser_Config drives the configuration pages in chromium: a
// token shown once, a plugin enabled, branding previewed live and then
// worn by the admin (and not by another tenant's), a webhook's secret,
// the audit log, closing the account; axe and screenshots on each page.
func TestAdminBrowser_Config(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "CONDO_ADMIN_EMAIL=ops@example.com", "CONDO_ADMIN_PASSWORD=correct-horse-battery")
	for _, c := range [][]string{
		{"tenants", "create", "beta", "--name", "Beta Works"},
		{"users", "create", "default", "ada@example.com", "--role", "admin"},
		{"users", "create", "beta", "bob@example.com", "--role", "admin"},
	} {
		if code, _, stderr := run(t, "admin-password-1\n", append(c, "--data", data)...); code != 0 {
			t.Fatalf("%v: %s", c, stderr)
		}
	}
	b := newBrowser(t)
	ctx := b.tab()
	signIn(t, ctx, s, "default", "/admin", "ada@example.com", "admin-password-1")

	// Tokens: made, shown once with a copy button, then never again.
	var secret string
	browse(t, ctx, "tokens page", chromedp.Navigate(s.adminURL("default", "/admin/tokens")), chromedp.WaitVisible("#token-name", chromedp.ByQuery))
	checkAccessible(t, ctx, "tokens")
	browse(t, ctx, "create a token",
		chromedp.SendKeys("#token-name", "deploy", chromedp.ByQuery),
		chromedp.Click("#access-sql-write", chromedp.ByQuery),
		chromedp.Click(`#token-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#new-token", chromedp.ByQuery),
		chromedp.Text("#new-token", &secret, chromedp.ByQuery),
		chromedp.WaitVisible(`button[data-copy="#new-token"]`, chromedp.ByQuery),
	)
	if !strings.HasPrefix(secret, "condo_default_") {
		t.Fatalf("token shown = %q", secret)
	}
	checkAccessible(t, ctx, "tokens (created)")
	screenshots(t, ctx, "tenant-tokens")
	var again bool
	browse(t, ctx, "tokens page again", chromedp.Navigate(s.adminURL("default", "/admin/tokens")), chromedp.WaitVisible("#tokens-table", chromedp.ByQuery),
		chromedp.Evaluate(`document.body.innerText.includes(`+jsString(secret)+`) || document.querySelector("#new-token") !== null`, &again))
	if again {
		t.Error("the token is shown a second time")
	}

	// Plugins: enable one. Reached through the menu (htmx swaps the body
	// only): the page still has its stylesheet.
	browse(t, ctx, "plugins page", chromedp.Click(`nav.main-nav a[href="/admin/plugins"]`, chromedp.ByQuery), chromedp.WaitVisible("#plugins", chromedp.ByQuery),
		chromedp.Poll(`getComputedStyle(document.querySelector("#plugins")).display === "grid"`, nil, chromedp.WithPollingTimeout(5*time.Second)))
	checkAccessible(t, ctx, "plugins")
	browse(t, ctx, "enable reading-time",
		chromedp.Click(`button[aria-label="Enable reading-time"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`button[aria-label="Disable reading-time"]`, chromedp.ByQuery),
	)
	screenshots(t, ctx, "tenant-plugins")
	browse(t, ctx, "plugin settings", chromedp.Navigate(s.adminURL("default", "/admin/plugins/reading-time")), chromedp.WaitVisible("#plugin-form", chromedp.ByQuery))
	checkAccessible(t, ctx, "plugin settings")
	screenshots(t, ctx, "tenant-plugin-settings")

	// Settings: the preview follows the form as it is typed; saved, the
	// admin wears the colours.
	browse(t, ctx, "settings page", chromedp.Navigate(s.adminURL("default", "/admin/settings")), chromedp.WaitVisible("#branding-form", chromedp.ByQuery))
	checkAccessible(t, ctx, "settings")
	browse(t, ctx, "type a brand",
		chromedp.SendKeys("#brand_name", "Default Daily", chromedp.ByQuery),
		chromedp.SendKeys("#primary_color", "#b91c1c", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("#brand-preview link[rel=stylesheet]").href.includes("primary=%23b91c1c")`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Poll(`getComputedStyle(document.querySelector(".brand-preview .preview-top")).backgroundColor === "rgb(185, 28, 28)"`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	)
	var name, header string
	browse(t, ctx, "preview", chromedp.Text(".brand-preview .preview-name", &name, chromedp.ByQuery),
		chromedp.Evaluate(`getComputedStyle(document.querySelector("header.top")).backgroundColor`, &header))
	if name != "Default Daily" || header == "rgb(185, 28, 28)" {
		t.Errorf("preview name %q, header %s: the preview must show the name and leave the page's colours alone", name, header)
	}
	screenshots(t, ctx, "tenant-settings")
	browse(t, ctx, "save the brand",
		chromedp.Click(`#branding-form button[type=submit]:not([formaction])`, chromedp.ByQuery),
		chromedp.WaitVisible(`p.flash`, chromedp.ByQuery),
		chromedp.Poll(`getComputedStyle(document.querySelector("header.top")).backgroundColor === "rgb(185, 28, 28)"`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	)
	var brand string
	browse(t, ctx, "brand name", chromedp.Text("header.top .brand", &brand, chromedp.ByQuery))
	if !strings.Contains(brand, "Default Daily") {
		t.Errorf("header brand = %q", brand)
	}
	checkAccessible(t, ctx, "settings (branded)")

	// Another tenant is another product. Its host has cookies of its own,
	// so a tab of the same browser is a stranger there. (b.incognito()
	// fails on this chromium: "Failed to open new tab - no browser is
	// open".) The tab is closed after, and the first brought to the
	// front: a background tab paints no frame to screenshot.
	other, closeOther := chromedp.NewContext(b.root)
	defer closeOther()
	if err := chromedp.Run(other); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	signIn(t, other, s, "beta", "/admin", "bob@example.com", "admin-password-1")
	var otherHeader, otherBrand string
	browse(t, other, "beta's admin", chromedp.Evaluate(`getComputedStyle(document.querySelector("header.top")).backgroundColor`, &otherHeader),
		chromedp.Text("header.top .brand", &otherBrand, chromedp.ByQuery))
	if otherHeader == "rgb(185, 28, 28)" || !strings.Contains(otherBrand, "Beta Works") {
		t.Errorf("beta's admin: header %s, brand %q: it wears default's branding", otherHeader, otherBrand)
	}
	closeOther()
	browse(t, ctx, "back to default's tab", page.BringToFront())

	// Webhooks: the secret shown once.
	browse(t, ctx, "webhooks page", chromedp.Navigate(s.adminURL("default", "/admin/webhooks")), chromedp.WaitVisible("#webhook-form", chromedp.ByQuery))
	browse(t, ctx, "add an endpoint",
		chromedp.SendKeys("#webhook-url", "https://hooks.example.com/condo", chromedp.ByQuery),
		chromedp.Click(`#event-user\.created`, chromedp.ByQuery),
		chromedp.Click(`#webhook-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#new-secret", chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "webhooks")
	screenshots(t, ctx, "tenant-webhooks")
	browse(t, ctx, "a webhook's deliveries", chromedp.Click(`#webhooks-table a.button`, chromedp.ByQuery), chromedp.WaitReady("#webhook-edit-form", chromedp.ByQuery))
	checkAccessible(t, ctx, "webhook deliveries")

	// The audit log has what was just done.
	var audit string
	browse(t, ctx, "audit page", chromedp.Navigate(s.adminURL("default", "/admin/audit")), chromedp.WaitVisible("#audit-table", chromedp.ByQuery),
		chromedp.Text("#audit-table", &audit, chromedp.ByQuery))
	for _, want := range []string{"token.created", "plugin.configured", "settings.updated", "webhook.created"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log has no %s", want)
		}
	}
	checkAccessible(t, ctx, "audit")
	screenshots(t, ctx, "tenant-audit")

	browse(t, ctx, "close page", chromedp.Navigate(s.adminURL("default", "/admin/account/close")), chromedp.WaitVisible("#close-form", chromedp.ByQuery))
	checkAccessible(t, ctx, "account close")
	screenshots(t, ctx, "tenant-account-close")
	// Closed: the goodbye page, then the site is gone.
	browse(t, ctx, "close the account",
		chromedp.SendKeys("#confirm", "default", chromedp.ByQuery),
		chromedp.Click("#close-button", chromedp.ByQuery),
		chromedp.WaitVisible("#goodbye", chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "goodbye")
	screenshot(t, ctx, "tenant-goodbye-desktop")
	var body string
	browse(t, ctx, "the admin after closing", chromedp.Navigate(s.adminURL("default", "/admin")),
		chromedp.Text("body", &body, chromedp.ByQuery))
	if strings.Contains(body, "Dashboard") || !strings.Contains(body, "deleted") {
		t.Errorf("default's admin after closing: %s", body)
	}
}
