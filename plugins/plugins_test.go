package plugins_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/metrics"
	"github.com/condohq/condo/plugins"
	"github.com/condohq/condo/plugins/shipped"
)

// calls records which hooks ran for which tenant.
type calls struct {
	mu   sync.Mutex
	seen []string // "tenant hook"
}

func (c *calls) add(tenant, hook string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, tenant+" "+hook)
}

// of lists what ran for tenant, in order.
func (c *calls) of(tenant string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.seen {
		if rest, ok := strings.CutPrefix(s, tenant+" "); ok {
			out = append(out, rest)
		}
	}
	return out
}

// reset forgets what ran.
func (c *calls) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = nil
}

func (c *calls) count(tenant, hook string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.seen {
		if s == tenant+" "+hook {
			n++
		}
	}
	return n
}

// probe stamps every save with its tenant's setting and records every
// hook it sees.
func probe(c *calls) *plugins.Plugin {
	return &plugins.Plugin{
		Name:     "probe",
		Settings: []byte(`{"type": "object", "properties": {"stamp": {"type": "string", "default": "stamped"}}}`),
		BeforeSave: func(_ context.Context, s plugins.Settings, ev *cms.SaveEvent) error {
			c.add(ev.Tenant, plugins.HookBeforeSave)
			if strings.Contains(ev.Title, "forbidden") {
				return cms.ValidationFailed(cms.FieldErrors{"title": "the probe refuses forbidden titles"})
			}
			if _, ok := ev.Collection.Schema.Lookup("stamp"); ok {
				ev.Data["stamp"] = s.String("stamp", "")
			}
			return nil
		},
		AfterSave: func(_ context.Context, _ plugins.Settings, ev *cms.SaveEvent) error {
			c.add(ev.Tenant, plugins.HookAfterSave)
			return errors.New("after-save failures are logged, never the write's")
		},
		BeforeDelete: func(_ context.Context, _ plugins.Settings, ev *cms.DeleteEvent) error {
			c.add(ev.Tenant, plugins.HookBeforeDelete)
			if strings.Contains(ev.Item.Title, "keep") {
				return cms.ValidationFailed(cms.FieldErrors{"title": "the probe keeps this one"})
			}
			return nil
		},
		AfterUpload: func(_ context.Context, _ plugins.Settings, ev *cms.MediaEvent) error {
			c.add(ev.Tenant, plugins.HookAfterUpload)
			return nil
		},
		AfterLogin: func(_ context.Context, _ plugins.Settings, ev *plugins.LoginEvent) error {
			c.add(ev.Tenant, plugins.HookAfterLogin)
			return nil
		},
		Routes: []plugins.Route{{Method: http.MethodGet, Path: "/hello", Perm: "content.read", Handler: func(r *plugins.Request) error {
			return r.JSON(http.StatusOK, map[string]any{"data": map[string]any{"tenant": r.Tenant, "stamp": r.Settings.String("stamp", "")}})
		}}},
		Middleware: func(next plugins.Handler) plugins.Handler {
			return func(r *plugins.Request) error {
				c.add(r.Tenant, plugins.HookRequest)
				r.W.Header().Set("X-Probe", "1")
				return next(r)
			}
		},
	}
}

// env serves the shipped plugins and extra ones over real HTTP, on real
// tenant files, with tenants tenant-a and tenant-b.
type env struct {
	*apitest.Env
	runner  *plugins.Runner
	content *cms.Cache         // the server's content cache, whose stores run the runner
	hooks   *apitest.LogBuffer // the runner's log
	admin   map[string]string
}

func newEnv(t *testing.T, extra ...*plugins.Plugin) *env {
	t.Helper()
	reg := shipped.Registry()
	for _, p := range extra {
		if err := reg.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	hooks := &apitest.LogBuffer{}
	runner := plugins.NewRunner(reg, plugins.Config{Logger: slog.New(slog.NewJSONHandler(hooks, nil))})
	content := cms.NewCache(100, time.Minute, nil)
	e := &env{Env: apitest.New(t, api.Config{Plugins: runner, Content: content, IPLoginBurst: 1000}), runner: runner, content: content, hooks: hooks, admin: map[string]string{}}
	for _, id := range []string{"tenant-a", "tenant-b"} {
		e.admin[id] = e.AdminToken(t, id)
	}
	return e
}

// call is Call with the tenant's admin token.
func (e *env) call(t *testing.T, tenant, method, path, body string) apitest.Response {
	t.Helper()
	return e.Call(t, tenant, method, path, e.admin[tenant], body)
}

func (e *env) must(t *testing.T, res apitest.Response, status int) map[string]any {
	t.Helper()
	apitest.WantStatus(t, res, status, "")
	return res.Data
}

func (e *env) collection(t *testing.T, tenant, name, properties string) {
	t.Helper()
	e.must(t, e.call(t, tenant, "POST", "/api/collections", fmt.Sprintf(`{"name": %q, "schema": {"type": "object", "properties": {%s}}}`, name, properties)), 201)
}

func (e *env) enable(t *testing.T, tenant, plugin, settings string) {
	t.Helper()
	body := `{"enabled": true}`
	if settings != "" {
		body = `{"enabled": true, "settings": ` + settings + `}`
	}
	e.must(t, e.call(t, tenant, "PUT", "/api/plugins/"+plugin, body), 200)
}

// count is how many live items a collection holds, drafts included.
func (e *env) count(t *testing.T, tenant, collection string) int {
	t.Helper()
	res := e.call(t, tenant, "GET", "/api/collections/"+collection+"/content?limit=100", "")
	apitest.WantStatus(t, res, 200, "")
	return len(res.Raw["data"].([]any))
}

func fields(res apitest.Response) map[string]any {
	e, _ := res.Raw["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

func upload(t *testing.T, e *env, tenant string) apitest.Response {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, err := w.CreateFormFile("file", "note.txt")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write([]byte("a note for the probe\n"))
	w.Close()
	return e.Call(t, tenant, "POST", "/api/media", e.admin[tenant], b.String(), "Content-Type", w.FormDataContentType())
}

func TestRunner_HooksFireForTheEnablingTenantOnly(t *testing.T) {
	c := &calls{}
	e := newEnv(t, probe(c))
	e.enable(t, "tenant-a", "probe", `{"stamp": "alpha"}`)
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		e.collection(t, tenant, "notes", `"title": {"type": "string"}, "stamp": {"type": "string"}`)
	}
	a := e.must(t, e.call(t, "tenant-a", "POST", "/api/collections/notes/content", `{"title": "one"}`), 201)
	b := e.must(t, e.call(t, "tenant-b", "POST", "/api/collections/notes/content", `{"title": "one"}`), 201)
	if got := a["data"].(map[string]any)["stamp"]; got != "alpha" {
		t.Errorf("A's item stamp = %v, want alpha", got)
	}
	if got, ok := b["data"].(map[string]any)["stamp"]; ok {
		t.Errorf("B's item was stamped %v: the probe runs for A only", got)
	}
	e.must(t, e.call(t, "tenant-a", "PATCH", "/api/content/"+a["id"].(string), `{"title": "one, edited"}`), 200)
	e.must(t, e.call(t, "tenant-b", "PATCH", "/api/content/"+b["id"].(string), `{"title": "one, edited"}`), 200)
	e.call(t, "tenant-a", "DELETE", "/api/content/"+a["id"].(string), "")
	e.call(t, "tenant-b", "DELETE", "/api/content/"+b["id"].(string), "")
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		e.must(t, upload(t, e, tenant), 201)
		e.AdminToken(t, tenant)
		e.Call(t, tenant, "GET", "/api/plugins/probe/hello", e.admin[tenant], "")
	}
	for hook, want := range map[string]int{plugins.HookBeforeSave: 2, plugins.HookAfterSave: 2, plugins.HookBeforeDelete: 1,
		plugins.HookAfterUpload: 1, plugins.HookAfterLogin: 1, plugins.HookRequest: 1} {
		if got := c.count("tenant-a", hook); got != want {
			t.Errorf("tenant-a %s ran %d times, want %d", hook, got, want)
		}
		if got := c.count("tenant-b", hook); got != 0 {
			t.Errorf("tenant-b %s ran %d times, want none (it did not enable the probe)", hook, got)
		}
	}

	// The probe's route: for A (its settings), 404 for B.
	hello := e.must(t, e.call(t, "tenant-a", "GET", "/api/plugins/probe/hello", ""), 200)
	if hello["tenant"] != "tenant-a" || hello["stamp"] != "alpha" {
		t.Errorf("A's probe route: %v", hello)
	}
	apitest.WantStatus(t, e.call(t, "tenant-b", "GET", "/api/plugins/probe/hello", ""), 404, "plugin_not_enabled")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/plugins/probe/hello", "", ""), 401, "missing_token")

	// Disabled: it stops at once (the cache is invalidated), settings kept.
	e.must(t, e.call(t, "tenant-a", "PUT", "/api/plugins/probe", `{"enabled": false}`), 200)
	again := e.must(t, e.call(t, "tenant-a", "POST", "/api/collections/notes/content", `{"title": "two"}`), 201)
	if got, ok := again["data"].(map[string]any)["stamp"]; ok {
		t.Errorf("stamped %v after the probe was disabled", got)
	}
	st := e.must(t, e.call(t, "tenant-a", "GET", "/api/plugins/probe", ""), 200)
	if st["enabled"] != false || st["settings"].(map[string]any)["stamp"] != "alpha" {
		t.Errorf("after disable: %v", st)
	}
}

func TestRunner_BeforeHookRefusalWritesNothing(t *testing.T) {
	c := &calls{}
	e := newEnv(t, probe(c))
	e.enable(t, "tenant-a", "probe", "")
	e.collection(t, "tenant-a", "notes", `"title": {"type": "string"}`)

	res := e.call(t, "tenant-a", "POST", "/api/collections/notes/content", `{"title": "a forbidden note"}`)
	apitest.WantStatus(t, res, 400, "validation_failed")
	if got := fields(res)["title"]; got != "the probe refuses forbidden titles" {
		t.Errorf("fields = %v", fields(res))
	}
	if n := e.count(t, "tenant-a", "notes"); n != 0 {
		t.Errorf("%d items after a refused create, want 0", n)
	}
	if n := c.count("tenant-a", plugins.HookAfterSave); n != 0 {
		t.Errorf("after-save ran %d times for a refused save", n)
	}

	// An edit refused: the item stays as it was, no new version.
	it := e.must(t, e.call(t, "tenant-a", "POST", "/api/collections/notes/content", `{"title": "fine"}`), 201)
	id := it["id"].(string)
	apitest.WantStatus(t, e.call(t, "tenant-a", "PUT", "/api/content/"+id, `{"title": "now forbidden"}`), 400, "validation_failed")
	got := e.must(t, e.call(t, "tenant-a", "GET", "/api/content/"+id, ""), 200)
	if got["title"] != "fine" || got["version"] != float64(1) {
		t.Errorf("after a refused edit: title %v version %v", got["title"], got["version"])
	}

	// A delete refused: the item stays live.
	keep := e.must(t, e.call(t, "tenant-a", "POST", "/api/collections/notes/content", `{"title": "keep me"}`), 201)
	apitest.WantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/content/"+keep["id"].(string), ""), 400, "validation_failed")
	e.must(t, e.call(t, "tenant-a", "GET", "/api/content/"+keep["id"].(string), ""), 200)
}

func TestRunner_PanickingHookIsIsolated(t *testing.T) {
	boom := &plugins.Plugin{Name: "boom",
		BeforeSave: func(context.Context, plugins.Settings, *cms.SaveEvent) error { panic("boom's bug") },
		AfterSave:  func(context.Context, plugins.Settings, *cms.SaveEvent) error { panic("boom's other bug") },
	}
	panicAfter := &plugins.Plugin{Name: "boom-after",
		AfterSave: func(context.Context, plugins.Settings, *cms.SaveEvent) error { panic("after the commit") },
	}
	e := newEnv(t, boom, panicAfter)
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		e.collection(t, tenant, "notes", `"title": {"type": "string"}`)
	}
	e.enable(t, "tenant-a", "boom", "")
	e.enable(t, "tenant-b", "boom-after", "")

	var wg sync.WaitGroup
	results := make([]apitest.Response, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenant := []string{"tenant-a", "tenant-b"}[i%2]
			results[i] = e.call(t, tenant, "POST", "/api/collections/notes/content", fmt.Sprintf(`{"title": "note %d"}`, i))
		}()
	}
	wg.Wait()
	for i, res := range results {
		if i%2 == 0 {
			apitest.WantStatus(t, res, 500, "plugin_failed")
			if !strings.Contains(res.Error.Message, "plugin boom failed in content.beforeSave (it panicked)") || strings.Contains(res.Error.Message, "bug") {
				t.Errorf("message: %q", res.Error.Message)
			}
		} else {
			apitest.WantStatus(t, res, 201, "") // an after-hook's panic is logged, the write stands
		}
	}
	if n := e.count(t, "tenant-a", "notes"); n != 0 {
		t.Errorf("tenant-a has %d items after panicking saves, want 0", n)
	}
	if n := e.count(t, "tenant-b", "notes"); n != 4 {
		t.Errorf("tenant-b has %d items, want 4", n)
	}
	// Later requests of A work: reads, and writes once boom is off.
	e.must(t, e.call(t, "tenant-a", "GET", "/api/collections/notes", ""), 200)
	e.must(t, e.call(t, "tenant-a", "PUT", "/api/plugins/boom", `{"enabled": false}`), 200)
	e.must(t, e.call(t, "tenant-a", "POST", "/api/collections/notes/content", `{"title": "after"}`), 201)
	if n := testutil.ToFloat64(metrics.PluginFailures.WithLabelValues("boom", plugins.HookBeforeSave, "panic")); n < 4 {
		t.Errorf("condo_plugin_failures_total for boom's panics = %v, want at least 4", n)
	}
	if log := e.hooks.String(); !strings.Contains(log, "boom's bug") || !strings.Contains(log, "after the commit") {
		t.Error("the panic is not in the server log")
	}
}

func TestRunner_SlowHookTimesOut(t *testing.T) {
	release := make(chan struct{})
	slow := &plugins.Plugin{Name: "slow", Timeout: 20e6, // 20 ms
		// Ignores its context: the request must not wait for it.
		BeforeSave: func(context.Context, plugins.Settings, *cms.SaveEvent) error { <-release; return nil },
	}
	slowAfter := &plugins.Plugin{Name: "slow-after", Timeout: 20e6,
		AfterSave: func(ctx context.Context, _ plugins.Settings, _ *cms.SaveEvent) error { <-ctx.Done(); return ctx.Err() },
	}
	e := newEnv(t, slow, slowAfter)
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		e.collection(t, tenant, "notes", `"title": {"type": "string"}`)
	}
	e.enable(t, "tenant-a", "slow", "")
	e.enable(t, "tenant-b", "slow-after", "")

	res := e.call(t, "tenant-a", "POST", "/api/collections/notes/content", `{"title": "waits"}`)
	apitest.WantStatus(t, res, 500, "plugin_failed")
	if !strings.Contains(res.Error.Message, "plugin slow failed in content.beforeSave (it did not finish within 20ms)") {
		t.Errorf("message: %q", res.Error.Message)
	}
	e.must(t, e.call(t, "tenant-b", "POST", "/api/collections/notes/content", `{"title": "after-hook times out"}`), 201)
	close(release)
	if err := e.runner.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "tenant-a", "notes"); n != 0 {
		t.Errorf("tenant-a has %d items after a timed-out save, want 0", n)
	}
	if n := e.count(t, "tenant-b", "notes"); n != 1 {
		t.Errorf("tenant-b has %d items, want 1", n)
	}
	if log := e.hooks.String(); !strings.Contains(log, `"plugin":"slow-after"`) || !strings.Contains(log, "did not finish within 20ms") {
		t.Errorf("the after-hook's timeout is not logged: %s", log)
	}
}

func TestConfigure_Settings(t *testing.T) {
	e := newEnv(t)
	e.User(t, "tenant-a", "ed@example.com", "editor", "editor password 1")
	e.User(t, "tenant-a", "au@example.com", "author", "author password 1")
	edTok, _ := e.Login(t, "tenant-a", "ed@example.com", "editor password 1")
	auTok, _ := e.Login(t, "tenant-a", "au@example.com", "author password 1")
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		code, field                     string
	}{
		{"below minimum", "PUT", "/api/plugins/seo", "admin", `{"settings": {"title_max": 5}}`, 400, "validation_failed", "title_max"},
		{"wrong type", "PUT", "/api/plugins/seo", "admin", `{"settings": {"slug_max": "long"}}`, 400, "validation_failed", "slug_max"},
		{"unknown setting", "PUT", "/api/plugins/seo", "admin", `{"settings": {"colour": "red"}}`, 400, "validation_failed", "colour"},
		{"form without collection", "PUT", "/api/plugins/forms", "admin", `{"enabled": true, "settings": {"forms": [{"name": "contact"}]}}`, 400, "validation_failed", "forms[0].collection"},
		{"not an object", "PUT", "/api/plugins/seo", "admin", `{"settings": "x"}`, 400, "invalid_settings", ""},
		{"nothing to change", "PUT", "/api/plugins/seo", "admin", `{}`, 400, "invalid_body", ""},
		{"not JSON", "PUT", "/api/plugins/seo", "admin", `{"enabled":`, 400, "", ""},
		{"unknown plugin", "PUT", "/api/plugins/nope", "admin", `{"enabled": true}`, 404, "plugin_not_found", ""},
		{"anonymous", "GET", "/api/plugins", "", ``, 401, "missing_token", ""},
		{"author reads", "GET", "/api/plugins", "author", ``, 403, "permission_denied", ""},
		{"editor changes", "PUT", "/api/plugins/seo", "editor", `{"enabled": true}`, 403, "permission_denied", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := map[string]string{"admin": e.admin["tenant-a"], "editor": edTok, "author": auTok}[tc.token]
			res := e.Call(t, "tenant-a", tc.method, tc.path, tok, tc.body)
			apitest.WantStatus(t, res, tc.status, tc.code)
			if tc.field != "" && fields(res)[tc.field] == nil {
				t.Errorf("no error for %s: %v", tc.field, res.Raw)
			}
		})
	}
	// Nothing was stored by the refusals; defaults fill in on a good one.
	list := e.call(t, "tenant-a", "GET", "/api/plugins", "")
	apitest.WantStatus(t, list, 200, "")
	for _, p := range list.Raw["data"].([]any) {
		p := p.(map[string]any)
		if p["enabled"] != false || len(p["settings"].(map[string]any)) != 0 {
			t.Errorf("%s changed by refused requests: %v", p["name"], p)
		}
	}
	st := e.must(t, e.call(t, "tenant-a", "PUT", "/api/plugins/seo", `{"enabled": true, "settings": {"title_max": 70}}`), 200)
	if s := st["settings"].(map[string]any); s["title_max"] != float64(70) || s["slug_max"] != float64(80) || st["enabled"] != true {
		t.Errorf("stored settings: %v", st)
	}
}
