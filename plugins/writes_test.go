package plugins_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/plugins"
)

// recorder records every content hook with the write's op and statuses,
// and refuses two writes: publishing an item titled "embargo..." (after
// writing to the item in the transaction, which must be rolled back) and
// purging one titled "...forever".
func recorder(c *calls) *plugins.Plugin {
	return &plugins.Plugin{
		Name: "recorder",
		BeforeSave: func(ctx context.Context, _ plugins.Settings, ev *cms.SaveEvent) error {
			c.add(ev.Tenant, fmt.Sprintf("%s %s %s>%s", plugins.HookBeforeSave, ev.Op, ev.FromStatus, ev.Status))
			if ev.Op == cms.OpTransition && ev.Status == cms.StatusPublished && strings.HasPrefix(ev.Title, "embargo") {
				if _, err := ev.DB.ExecTx(ctx, ev.Tx, "UPDATE content SET title = 'tampered' WHERE id = ?", ev.ItemID); err != nil {
					return err
				}
				return cms.ValidationFailed(cms.FieldErrors{"status": "embargoed until legal says so"})
			}
			return nil
		},
		AfterSave: func(_ context.Context, _ plugins.Settings, ev *cms.SaveEvent) error {
			c.add(ev.Tenant, fmt.Sprintf("%s %s %s>%s", plugins.HookAfterSave, ev.Op, ev.FromStatus, ev.Item.Status))
			return nil
		},
		BeforeDelete: func(_ context.Context, _ plugins.Settings, ev *cms.DeleteEvent) error {
			c.add(ev.Tenant, fmt.Sprintf("%s %s", plugins.HookBeforeDelete, ev.Op))
			if ev.Op == cms.OpPurge && strings.HasSuffix(ev.Item.Title, "forever") {
				return cms.ValidationFailed(cms.FieldErrors{"title": "kept forever"})
			}
			return nil
		},
		AfterDelete: func(_ context.Context, _ plugins.Settings, ev *cms.DeleteEvent) error {
			c.add(ev.Tenant, fmt.Sprintf("%s %s", plugins.HookAfterDelete, ev.Op))
			return nil
		},
	}
}

func (e *env) create(t *testing.T, tenant, body string) string {
	t.Helper()
	return e.must(t, e.call(t, tenant, "POST", "/api/collections/notes/content", body), 201)["id"].(string)
}

func (e *env) item(t *testing.T, tenant, id string) map[string]any {
	t.Helper()
	return e.must(t, e.call(t, tenant, "GET", "/api/content/"+id, ""), 200)
}

// endpoint adds a webhook endpoint of every event to the tenant.
func (e *env) endpoint(t *testing.T, tenant string) string {
	t.Helper()
	return e.must(t, e.call(t, tenant, "POST", "/api/webhooks", `{"url": "https://hooks.example.com/condo", "events": ["*"]}`), 201)["id"].(string)
}

// events lists the event types an endpoint's outbox holds, sorted.
func (e *env) events(t *testing.T, tenant, endpoint string) []string {
	t.Helper()
	res := e.call(t, tenant, "GET", "/api/webhooks/"+endpoint+"/deliveries?limit=200", "")
	apitest.WantStatus(t, res, 200, "")
	var out []string
	for _, d := range res.Raw["data"].([]any) {
		out = append(out, d.(map[string]any)["event_type"].(string))
	}
	slices.Sort(out)
	return out
}

func (e *env) history(t *testing.T, tenant, id string) []any {
	t.Helper()
	res := e.call(t, tenant, "GET", "/api/content/"+id+"/history", "")
	apitest.WantStatus(t, res, 200, "")
	return res.Raw["data"].([]any)
}

// Every content write through the API runs its hooks, in the documented
// order, for the tenant that enabled the plugin only; and reports the
// webhook events its op stands for, plugin or not.
func TestRunner_HooksFireOnEveryContentWrite(t *testing.T) {
	c := &calls{}
	e := newEnv(t, recorder(c))
	e.enable(t, "tenant-a", "recorder", "")
	endpoints := map[string]string{}
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		endpoints[tenant] = e.endpoint(t, tenant)
		e.collection(t, tenant, "notes", `"title": {"type": "string"}`)
		id := e.create(t, tenant, `{"title": "one"}`)
		e.must(t, e.call(t, tenant, "PATCH", "/api/content/"+id, `{"title": "one, edited"}`), 200)
		for _, to := range []string{"review", "published", "draft"} { // submit, publish, unpublish
			e.must(t, e.call(t, tenant, "POST", "/api/content/"+id+"/transition", `{"to": "`+to+`"}`), 200)
		}
		apitest.WantStatus(t, e.call(t, tenant, "DELETE", "/api/content/"+id, ""), 204, "")
		e.must(t, e.call(t, tenant, "POST", "/api/trash/"+id+"/restore", ""), 200)
		apitest.WantStatus(t, e.call(t, tenant, "DELETE", "/api/content/"+id, ""), 204, "")
		apitest.WantStatus(t, e.call(t, tenant, "DELETE", "/api/trash/"+id, ""), 204, "")
	}
	want := []string{
		"content.beforeSave create >draft", "content.afterSave create >draft",
		"content.beforeSave update draft>draft", "content.afterSave update draft>draft",
		"content.beforeSave transition draft>review", "content.afterSave transition draft>review",
		"content.beforeSave transition review>published", "content.afterSave transition review>published",
		"content.beforeSave transition published>draft", "content.afterSave transition published>draft",
		"content.beforeDelete trash", "content.afterDelete trash",
		"content.beforeSave restore draft>draft", "content.afterSave restore draft>draft",
		"content.beforeDelete trash", "content.afterDelete trash",
		"content.beforeDelete purge", "content.afterDelete purge",
	}
	if got := c.of("tenant-a"); !slices.Equal(got, want) {
		t.Errorf("tenant-a's hooks:\n got %q\nwant %q", got, want)
	}
	if got := c.of("tenant-b"); len(got) != 0 {
		t.Errorf("tenant-b, which did not enable the plugin, ran %q", got)
	}
	// create, update, submit (updated), publish, unpublish, trash,
	// restore, trash; the purge reports nothing more.
	events := []string{"content.created", "content.deleted", "content.deleted", "content.published", "content.restored",
		"content.unpublished", "content.updated", "content.updated"}
	for tenant, id := range endpoints {
		if got := e.events(t, tenant, id); !slices.Equal(got, events) {
			t.Errorf("%s's webhook events:\n got %q\nwant %q", tenant, got, events)
		}
	}
}

// A before-hook refusing a publish, or a purge, writes nothing: not the
// move, not its version or history, not what the hook itself wrote.
func TestRunner_BeforeHookRefusingAPublishWritesNothing(t *testing.T) {
	c := &calls{}
	e := newEnv(t, recorder(c))
	e.enable(t, "tenant-a", "recorder", "")
	e.collection(t, "tenant-a", "notes", `"title": {"type": "string"}`)
	endpoint := e.endpoint(t, "tenant-a")
	id := e.create(t, "tenant-a", `{"title": "embargo: results"}`)
	c.reset()

	res := e.call(t, "tenant-a", "POST", "/api/content/"+id+"/transition", `{"to": "published"}`)
	apitest.WantStatus(t, res, 400, "validation_failed")
	if got := fields(res)["status"]; got != "embargoed until legal says so" {
		t.Errorf("fields = %v", fields(res))
	}
	it := e.item(t, "tenant-a", id)
	if it["status"] != "draft" || it["version"] != float64(1) || it["title"] != "embargo: results" || it["published_at"] != nil {
		t.Errorf("after a refused publish: %v", it)
	}
	if h := e.history(t, "tenant-a", id); len(h) != 0 {
		t.Errorf("history after a refused publish: %v", h)
	}
	if got := c.of("tenant-a"); !slices.Equal(got, []string{"content.beforeSave transition draft>published"}) {
		t.Errorf("hooks of a refused publish: %q (no after-save)", got)
	}
	if got := e.events(t, "tenant-a", endpoint); !slices.Equal(got, []string{"content.created"}) {
		t.Errorf("webhook events after a refused publish: %q", got)
	}
	// Other moves of the item are not refused.
	e.must(t, e.call(t, "tenant-a", "POST", "/api/content/"+id+"/transition", `{"to": "review"}`), 200)

	// A refused purge: the item stays in the trash.
	keep := e.create(t, "tenant-a", `{"title": "kept forever"}`)
	apitest.WantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/content/"+keep, ""), 204, "")
	apitest.WantStatus(t, e.call(t, "tenant-a", "DELETE", "/api/trash/"+keep, ""), 400, "validation_failed")
	e.must(t, e.call(t, "tenant-a", "POST", "/api/trash/"+keep+"/restore", ""), 200)
}

// The scheduler's writes run the hooks too: timed publishing and
// unpublishing (transitions) and the trash's retention purge (expire).
// A scheduled publish a hook refuses is cancelled, not retried: the item
// stays a draft, its publish_at is cleared and its history says why.
func TestRunner_HooksFireForScheduledWrites(t *testing.T) {
	ctx := context.Background()
	c := &calls{}
	e := newEnv(t, recorder(c))
	e.enable(t, "tenant-a", "recorder", "")
	start := time.Now().UTC()
	publish, unpublish := start.Add(time.Hour), start.Add(2*time.Hour)
	at := func(t time.Time) string { return t.Format(time.RFC3339Nano) }
	ids := map[string][3]string{}
	endpoint := e.endpoint(t, "tenant-a")
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		e.collection(t, tenant, "notes", `"title": {"type": "string"}`)
		timed := e.create(t, tenant, fmt.Sprintf(`{"title": "timed", "publish_at": %q, "unpublish_at": %q}`, at(publish), at(unpublish)))
		embargo := e.create(t, tenant, fmt.Sprintf(`{"title": "embargo: timed", "publish_at": %q}`, at(publish)))
		old := e.create(t, tenant, `{"title": "old"}`)
		apitest.WantStatus(t, e.call(t, tenant, "DELETE", "/api/content/"+old, ""), 204, "")
		ids[tenant] = [3]string{timed, embargo, old}
	}
	c.reset()
	sc := &cms.Scheduler{Catalog: e.Catalog, Store: e.Store, Cache: e.content}
	pass := func(now time.Time, wantChanged int, want ...string) {
		t.Helper()
		if n := sc.Pass(ctx, now); n != wantChanged {
			t.Errorf("pass at %s changed %d, want %d", now.Sub(start).Round(time.Minute), n, wantChanged)
		}
		got := c.of("tenant-a")
		c.reset()
		// Within a pass the order of items is the database's: compare
		// sorted, and the before-hooks all ran before the after-hooks.
		sorted := slices.Clone(got)
		slices.Sort(sorted)
		slices.Sort(want)
		if !slices.Equal(sorted, want) {
			t.Errorf("tenant-a's hooks at %s:\n got %q\nwant %q", now.Sub(start).Round(time.Minute), got, want)
		}
		firstAfter := slices.IndexFunc(got, func(s string) bool { return strings.Contains(s, ".after") })
		for i, s := range got {
			if firstAfter >= 0 && i > firstAfter && strings.Contains(s, ".before") {
				t.Errorf("a before-hook ran after an after-hook in one pass: %q", got)
			}
		}
	}
	// Both tenants: timed is published, embargo's schedule in A is
	// cancelled (in B it is published: no plugin there).
	pass(publish.Add(time.Second), 4,
		"content.beforeSave transition draft>published", "content.beforeSave transition draft>published",
		"content.afterSave transition draft>published")
	pass(unpublish.Add(time.Second), 2,
		"content.beforeSave transition published>archived", "content.afterSave transition published>archived")
	pass(start.Add(cms.TrashRetention+time.Minute), 2, "content.beforeDelete expire", "content.afterDelete expire")
	if got := c.of("tenant-b"); len(got) != 0 {
		t.Errorf("tenant-b ran %q", got)
	}

	a, b := ids["tenant-a"], ids["tenant-b"]
	if it := e.item(t, "tenant-a", a[0]); it["status"] != "archived" {
		t.Errorf("A's timed item: %v", it["status"])
	}
	emb := e.item(t, "tenant-a", a[1])
	// Cancelling the schedule is a change of its own: version 2.
	if emb["status"] != "draft" || emb["publish_at"] != nil || emb["title"] != "embargo: timed" || emb["version"] != float64(2) {
		t.Errorf("A's refused item: %v", emb)
	}
	h := e.history(t, "tenant-a", a[1])
	if len(h) != 1 || h[0].(map[string]any)["action"] != "scheduled_publish_refused" ||
		!strings.Contains(h[0].(map[string]any)["comment"].(string), "status: embargoed until legal says so") {
		t.Errorf("A's refused item's history: %v", h)
	}
	if it := e.item(t, "tenant-b", b[1]); it["status"] != "published" {
		t.Errorf("B's embargo item (no plugin): %v", it["status"])
	}
	for _, tenant := range []string{"tenant-a", "tenant-b"} {
		apitest.WantStatus(t, e.call(t, tenant, "POST", "/api/trash/"+ids[tenant][2]+"/restore", ""), 404, "content_not_found")
	}
	// The scheduler's writes report their events as the API's do; the
	// cancelled schedule is an update, the expiry nothing.
	want := []string{"content.created", "content.created", "content.created", "content.deleted", "content.published",
		"content.unpublished", "content.updated"}
	if got := e.events(t, "tenant-a", endpoint); !slices.Equal(got, want) {
		t.Errorf("A's webhook events:\n got %q\nwant %q", got, want)
	}
}

// A hook that fails (panics, or outlives its timeout) during a scheduled
// publish leaves that item as it was, schedule included; the tenant's
// other due items move, and the scheduler tries the tenant again a minute
// later, not at once. The hook left running past its timeout finds the
// transaction gone: what it writes late is never committed.
func TestRunner_FailingHookInAScheduledWrite(t *testing.T) {
	ctx := context.Background()
	crash := &plugins.Plugin{Name: "crash",
		BeforeSave: func(_ context.Context, _ plugins.Settings, ev *cms.SaveEvent) error {
			if ev.Op == cms.OpTransition && ev.Title == "crash" {
				panic("crash's bug")
			}
			return nil
		},
	}
	// "slow" (due first) outlives its timeout; "fine" (due after it)
	// then lets it write, and waits for that write: were the pass's
	// transaction still open, the late write would land in it.
	release, late := make(chan struct{}), make(chan error, 1)
	var once sync.Once
	lateErr := errors.New("the late write never ran")
	slow := &plugins.Plugin{Name: "slow", Timeout: 300 * time.Millisecond,
		BeforeSave: func(_ context.Context, _ plugins.Settings, ev *cms.SaveEvent) error {
			if ev.Op != cms.OpTransition {
				return nil
			}
			switch ev.Title {
			case "slow":
				<-release // ignores its context
				_, err := ev.DB.ExecTx(context.Background(), ev.Tx, "UPDATE content SET title = 'written late' WHERE id = ?", ev.ItemID)
				late <- err
			case "fine":
				once.Do(func() { close(release); lateErr = <-late })
			}
			return nil
		},
	}
	e := newEnv(t, crash, slow)
	e.enable(t, "tenant-a", "crash", "")
	e.enable(t, "tenant-a", "slow", "")
	e.collection(t, "tenant-a", "notes", `"title": {"type": "string"}`)
	start := time.Now().UTC()
	publish := start.Add(time.Hour)
	body := func(title string) string {
		return fmt.Sprintf(`{"title": %q, "publish_at": %q}`, title, publish.Format(time.RFC3339Nano))
	}
	stuck := e.create(t, "tenant-a", fmt.Sprintf(`{"title": "slow", "publish_at": %q}`, publish.Add(-time.Minute).Format(time.RFC3339Nano)))
	bad, good := e.create(t, "tenant-a", body("crash")), e.create(t, "tenant-a", body("fine"))
	sc := &cms.Scheduler{Catalog: e.Catalog, Store: e.Store, Cache: e.content}
	now := publish.Add(time.Second)
	if n := sc.Pass(ctx, now); n != 1 {
		t.Errorf("pass changed %d, want 1", n)
	}
	if it := e.item(t, "tenant-a", good); it["status"] != "published" {
		t.Errorf("the other item: %v", it["status"])
	}
	if lateErr == nil {
		t.Error("the hook left past its timeout wrote into the pass's transaction")
	}
	for _, id := range []string{bad, stuck} {
		if it := e.item(t, "tenant-a", id); it["status"] != "draft" || it["publish_at"] == nil || it["version"] != float64(1) || it["title"] == "written late" {
			t.Errorf("an item whose hook failed: %v", it)
		}
	}
	due := func(at time.Time) bool {
		list, err := e.Catalog.DueTenants(ctx, at, 10)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(list, func(d catalog.Due) bool { return d.TenantID == "tenant-a" })
	}
	if due(now.Add(cms.RetryAfter-time.Second)) || !due(now.Add(cms.RetryAfter+time.Second)) {
		t.Error("the tenant is not retried a minute later")
	}
	if !strings.Contains(e.hooks.String(), "crash's bug") {
		t.Error("the panic is not in the log")
	}
}
