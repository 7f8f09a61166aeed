package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAdminBrowser_Signup signs up a new tenant in chromium against
// `condo serve --signup`: the address checked live as it is typed, the
// form sent, the link read from the outbox (condo mail outbox), the site
// created and the browser landing signed in to its admin, starter
// collection in view. Each page gets axe and screenshots.
func TestAdminBrowser_Signup(t *testing.T) {
	data := t.TempDir()
	s := startServerArgs(t, data, []string{"--signup"}, "CONDO_ADMIN_EMAIL=ops@example.com", "CONDO_ADMIN_PASSWORD=correct-horse-battery")
	if code, _, stderr := run(t, "", "tenants", "create", "taken-shop", "--data", data); code != 0 {
		t.Fatalf("tenants create: %s", stderr)
	}
	b := newBrowser(t)
	ctx := b.tab()
	start := time.Now()

	browse(t, ctx, "sign-up page",
		chromedp.Navigate(s.adminURL("platform", "/platform/admin/signup")),
		chromedp.WaitVisible("#subdomain", chromedp.ByQuery))
	checkAccessible(t, ctx, "signup")
	screenshots(t, ctx, "signup-form")

	// Live availability: a taken name, a reserved one, a free one.
	status := func(sub, want string) {
		t.Helper()
		var ok bool
		browse(t, ctx, "type "+sub,
			chromedp.Evaluate(`document.querySelector("#subdomain").value = ""; true`, &ok),
			chromedp.SendKeys("#subdomain", sub, chromedp.ByQuery),
			chromedp.Poll(`(function(){var e=document.querySelector("#subdomain-status [data-status]");`+
				`return !!e && e.getAttribute("data-status")===`+jsString(want)+` && e.textContent.indexOf(`+jsString(sub+".localhost")+`)>=0})()`,
				&ok, chromedp.WithPollingTimeout(10*time.Second)))
	}
	status("taken-shop", "taken")
	status("www", "reserved")
	status("acme-shop", "available")
	checkAccessible(t, ctx, "signup-available")
	screenshots(t, ctx, "signup-available")

	browse(t, ctx, "submit",
		chromedp.SendKeys("#name", "Acme Shop", chromedp.ByQuery),
		chromedp.SendKeys("#email", "owner@example.com", chromedp.ByQuery),
		chromedp.SendKeys("#password", "a long password 1", chromedp.ByQuery),
		chromedp.Click(`#signup-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//h1[contains(., "Check your email")]`, chromedp.BySearch))
	checkAccessible(t, ctx, "signup-sent")
	screenshots(t, ctx, "signup-sent")

	// The mail, as an operator without a mail server reads it.
	code, out, errOut := run(t, "", "mail", "outbox", "--data", data, "--to", "owner@example.com", "--json")
	if code != 0 {
		t.Fatalf("mail outbox: %d %s", code, errOut)
	}
	var outbox struct {
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(out), &outbox); err != nil || len(outbox.Messages) != 1 {
		t.Fatalf("outbox = %s (%v)", out, err)
	}
	link := regexp.MustCompile(`http://platform\.localhost:\d+/platform/admin/signup/verify\?token=[a-z2-7]+`).FindString(outbox.Messages[0].Body)
	if link == "" {
		t.Fatalf("no verification link in %q", outbox.Messages[0].Body)
	}

	browse(t, ctx, "open the link",
		chromedp.Navigate(link),
		chromedp.WaitVisible(`//button[contains(., "Create my site")]`, chromedp.BySearch))
	checkAccessible(t, ctx, "signup-verify")
	screenshots(t, ctx, "signup-verify")

	var loc, body string
	browse(t, ctx, "create the site",
		chromedp.Click(`//button[contains(., "Create my site")]`, chromedp.BySearch),
		chromedp.WaitVisible(`nav.main-nav`, chromedp.ByQuery),
		chromedp.WaitVisible(`#starter-collections`, chromedp.ByQuery),
		chromedp.Location(&loc),
		chromedp.Text("main", &body, chromedp.ByQuery))
	t.Logf("sign-up took %s of the visitor's time in the browser", time.Since(start).Round(time.Millisecond))
	if want := s.adminURL("acme-shop", "/admin/welcome"); loc != want {
		t.Errorf("landed at %s, want %s", loc, want)
	}
	for _, want := range []string{"Welcome to Acme Shop", "Posts", "Collections", "Drafts"} {
		if !strings.Contains(body, want) {
			t.Errorf("welcome page lacks %q: %s", want, body)
		}
	}
	checkAccessible(t, ctx, "signup-welcome")
	screenshots(t, ctx, "signup-welcome")

	// Signed in for real: the dashboard opens without a sign-in.
	browse(t, ctx, "dashboard",
		chromedp.Navigate(s.adminURL("acme-shop", "/admin")),
		chromedp.WaitVisible(`nav.main-nav`, chromedp.ByQuery),
		chromedp.Location(&loc))
	if !strings.HasSuffix(loc, "/admin") {
		t.Errorf("dashboard at %s", loc)
	}
}
