package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's chromium, headless, through chromedp,
// against a real `condo serve` (startServer). Chromium resolves every
// *.localhost name to loopback, so each tenant's admin is reached at its
// own host: http://<id>.localhost:<port>/admin.
//
// Without a browser they skip, except under CI=true, where they fail
// (needReal). CONDO_CHROMIUM names the browser's binary; screenshots go
// to CONDO_SCREENSHOTS (default: artifacts/screenshots at the repository's
// root, which .ci/run keeps).

// chromiumPath finds the browser, "" if none.
func chromiumPath() string {
	if p := os.Getenv("CONDO_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one headless chromium, for one test.
type browser struct {
	dialogs atomic.Int32 // confirmations answered
	t       *testing.T
	alloc   context.Context
	root    context.Context // the first tab, in the default browser context
}

// newBrowser starts chromium (flags that keep it off this machine's closed
// network) and closes it when the test ends.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := chromiumPath()
	if exe == "" {
		needReal(t, "no chromium: apt-get install -y chromium (or set CONDO_CHROMIUM)")
	}
	profile, err := os.MkdirTemp("", "condo-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // as root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
		// Chromium may still write its profile while it exits: removed
		// once it has (not t.TempDir, whose cleanup fails the test then).
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Run(root); err != nil {
		needReal(t, "chromium did not start: "+err.Error())
	}
	return &browser{t: t, alloc: alloc, root: root}
}

// tab opens a tab in the first browser context (cookies shared with
// root's other tabs).
func (b *browser) tab() context.Context {
	ctx, cancel := chromedp.NewContext(b.root)
	b.t.Cleanup(cancel)
	return b.open(ctx)
}

// incognito opens a tab in a new browser context: its own cookies, like a
// second person's browser. It asks for a new window: chromium refuses a
// windowless tab in a new context ("Failed to open new tab - no browser
// is open"), which is what chromedp.WithNewBrowserContext asks for.
func (b *browser) incognito() context.Context {
	t := b.t
	t.Helper()
	var id target.ID
	err := chromedp.Run(b.root, chromedp.ActionFunc(func(ctx context.Context) error {
		exec := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser)
		bc, err := target.CreateBrowserContext().WithDisposeOnDetach(true).Do(exec)
		if err != nil {
			return err
		}
		id, err = target.CreateTarget("about:blank").WithBrowserContextID(bc).WithNewWindow(true).Do(exec)
		return err
	}))
	if err != nil {
		t.Fatalf("open a second browser context: %v", err)
	}
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithTargetID(id))
	t.Cleanup(cancel)
	return b.open(ctx)
}

// open makes the tab of ctx now: chromedp opens a tab at the first Run on
// its context and closes it with the context that Run was given, so that
// must not be browse's short-lived one.
//
// A confirmation dialog (data-confirm-click) is answered OK, as the person
// the test plays would; each is counted in b.dialogs.
func (b *browser) open(ctx context.Context) context.Context {
	if err := chromedp.Run(ctx); err != nil {
		b.t.Fatalf("open a tab: %v", err)
	}
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			b.dialogs.Add(1)
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(true))
		}
	})
	return ctx
}

// browse runs actions in ctx with a deadline, failing the test with where it
// stopped.
func browse(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc, body string
		chromedp.Run(ctx, chromedp.Location(&loc), chromedp.Text("body", &body, chromedp.ByQuery))
		if len(body) > 2000 {
			body = body[:2000]
		}
		t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, body)
	}
}

// adminURL is the URL of path on tenant's host (the console: tenant
// "platform").
func (s *server) adminURL(tenant, path string) string {
	_, port, _ := strings.Cut(s.addr, ":")
	return fmt.Sprintf("http://%s.localhost:%s%s", tenant, port, path)
}

// signIn signs in at the sign-in page of base (/admin or
// /platform/admin) on tenant's host.
func signIn(t *testing.T, ctx context.Context, s *server, tenant, base, email, password string) {
	t.Helper()
	browse(t, ctx, "sign in to "+tenant,
		chromedp.Navigate(s.adminURL(tenant, base+"/login")),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		chromedp.SendKeys("#email", email, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`nav.main-nav`, chromedp.ByQuery),
	)
}

// screenshot writes the page as <name>.png into the screenshots folder.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("CONDO_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var png []byte
	browse(t, ctx, "screenshot "+name, chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// screenshots takes the page at desktop and phone width.
func screenshots(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	screenshot(t, ctx, name+"-desktop")
	browse(t, ctx, "phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	screenshot(t, ctx, name+"-phone")
	browse(t, ctx, "desktop width", chromedp.EmulateViewport(1280, 900))
}

// axeViolation is one rule axe-core found broken.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

// checkAccessible runs axe-core (testdata/browser's npm package) on the
// page and fails on every serious or critical violation of WCAG 2 A/AA.
func checkAccessible(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "browser", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		needReal(t, "axe-core missing: run npm ci in testdata/browser ("+err.Error()+")")
	}
	var out []axeViolation
	// Runtime.evaluate is not subject to the page's CSP, so axe is
	// evaluated into it without loosening the admin's policy.
	browse(t, ctx, "load axe on "+page, chromedp.Evaluate(string(src)+";true", nil))
	browse(t, ctx, "axe "+page,
		chromedp.Evaluate(`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}).then(r => r.violations)`,
			&out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	for _, v := range out {
		if v.Impact == "serious" || v.Impact == "critical" {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, strings.Join(n.Target, " "))
			}
			t.Errorf("axe on %s: %s (%s): %s at %v", page, v.ID, v.Impact, v.Help, where)
		}
	}
}

// httpClient is a cookie-keeping client for form posts outside the
// browser (setting up what a browser test then looks at).
func httpClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// jsString quotes s as a JavaScript string literal, for an expression
// handed to chromedp.Evaluate.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
