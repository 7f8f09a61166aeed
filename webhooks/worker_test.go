package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
	"github.com/condohq/condo/webhooks"
)

// opener is what serve gives the worker: tenants through the pool.
type opener struct{ store *tenantstore.Store }

func (o opener) OpenTenant(ctx context.Context, id string) (condo.DB, func(), error) {
	h, release, err := o.store.Acquire(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return h.DB, release, nil
}

// received is one request a receiver got.
type received struct {
	id, timestamp, signature string
	body                     []byte
	status                   int
}

// receiver is a real HTTP endpoint that answers 500 to its first fail
// requests, then 200.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex // guards got and fail
	got  []received
	fail int
	seen chan struct{} // a value per request
}

func newReceiver(t *testing.T, fail int) *receiver {
	r := &receiver{fail: fail, seen: make(chan struct{}, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		status := http.StatusOK
		if r.fail > 0 {
			r.fail--
			status = http.StatusInternalServerError
		}
		r.got = append(r.got, received{req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body, status})
		r.mu.Unlock()
		w.WriteHeader(status)
		r.seen <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// wait waits for n more requests, failing the test after a generous
// deadline (a hang, not a timing assertion).
func (r *receiver) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.seen:
		case <-time.After(30 * time.Second):
			t.Fatalf("the receiver got %d requests, want %d more", len(r.requests()), n)
		}
	}
}

// verify checks a request's signature the way a receiver would, with its
// own HMAC computation (not webhooks.Sign).
func verify(t *testing.T, secret string, r received) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.id + "." + r.timestamp + "." + string(r.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(r.signature), []byte(want)) {
		t.Errorf("webhook-signature = %q, want %q", r.signature, want)
	}
}

// start runs a worker until the test ends.
func start(t *testing.T, env *tenantstoretest.Env, allowPrivate bool) {
	w := webhooks.NewWorker(webhooks.Config{Tenants: opener{env.Store}, Known: env.Catalog.WebhookTenants,
		Platform: env.Catalog.WebhookDB(), AllowPrivate: allowPrivate, FirstRetry: 20 * time.Millisecond, Timeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(tlog{t}, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// endpoints returns tenant id's endpoints (open for the test's life).
func endpoints(t *testing.T, env *tenantstoretest.Env, id string) webhooks.Endpoints {
	h, release, err := env.Store.Acquire(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return webhooks.Endpoints{DB: h.DB, Scope: webhooks.Tenant, AllowPrivate: true}
}

func ptr[T any](v T) *T { return &v }

// item creates a collection's item in tenant id through cms, the real
// write path that emits content.created.
func item(t *testing.T, env *tenantstoretest.Env, id string) *cms.Item {
	ctx := context.Background()
	h, release, err := env.Store.Acquire(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	st := cms.New(id, h.DB, t.TempDir())
	col, err := st.Collection(ctx, "posts")
	if err != nil {
		col, err = st.CreateCollection(ctx, cms.NewCollection{Name: "posts", Schema: json.RawMessage(`{"type":"object","properties":{"title":{"type":"string"}}}`)})
		if err != nil {
			t.Fatal(err)
		}
	}
	it, err := st.CreateItem(ctx, col, cms.ItemInput{Title: "Hello " + condo.NewID()}, "")
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestWorker_RetriesUntilDelivered(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	env.MustCreate(t, "acme")
	rcv := newReceiver(t, 2)
	eps := endpoints(t, env, "acme")
	ep, secret, err := eps.Create(context.Background(), webhooks.EndpointInput{URL: ptr(rcv.URL + "/hook"), Events: ptr([]string{webhooks.ContentCreated})})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q has no whsec_ prefix", secret)
	}
	if err := env.Catalog.SetWebhookTenant(context.Background(), "acme", true); err != nil {
		t.Fatal(err)
	}
	start(t, env, true) // finds acme among the known tenants
	it := item(t, env, "acme")
	rcv.wait(t, 3)

	got := rcv.requests()
	for i, r := range got {
		verify(t, secret, r)
		if r.id != got[0].id {
			t.Errorf("attempt %d has webhook-id %s, the first %s: an event keeps its id", i, r.id, got[0].id)
		}
	}
	var body struct {
		Type string   `json:"type"`
		Data cms.Item `json:"data"`
	}
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != webhooks.ContentCreated || body.Data.ID != it.ID {
		t.Errorf("body = %s, want content.created of %s", got[0].body, it.ID)
	}

	// The attempts are recorded, in order, once the worker has written them.
	var ds []*webhooks.Delivery
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ds, err = eps.Deliveries(context.Background(), ep.ID, 10); err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 && ds[0].State == webhooks.StateDelivered {
			break
		}
	}
	if len(ds) != 1 || ds[0].State != webhooks.StateDelivered || len(ds[0].Attempts) != 3 {
		t.Fatalf("deliveries = %+v, want one delivered after 3 attempts", ds)
	}
	for i, want := range []int{500, 500, 200} {
		if a := ds[0].Attempts[i]; a.StatusCode != want {
			t.Errorf("attempt %d: status %d (%q), want %d", i, a.StatusCode, a.Error, want)
		}
	}
	if ds[0].Attempts[0].Error == "" || ds[0].EventID != got[0].id {
		t.Errorf("delivery %+v: want the failure's error and the event id %s", ds[0], got[0].id)
	}

	// A replay sends the same event again, with the same id.
	if _, err := eps.Replay(context.Background(), ep.ID, ds[0].ID); err != nil {
		t.Fatal(err)
	}
	webhooks.Wake("acme")
	rcv.wait(t, 1)
	if last := rcv.requests()[3]; last.id != got[0].id {
		t.Errorf("replay has webhook-id %s, want %s", last.id, got[0].id)
	}
}

func TestWorker_DeleteStopsDelivery(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	env.MustCreate(t, "acme")
	rcv := newReceiver(t, 1_000_000) // always fails
	eps := endpoints(t, env, "acme")
	ep, _, err := eps.Create(context.Background(), webhooks.EndpointInput{URL: ptr(rcv.URL), Events: ptr([]string{webhooks.Wildcard})})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Catalog.SetWebhookTenant(context.Background(), "acme", true); err != nil {
		t.Fatal(err)
	}
	start(t, env, true)
	item(t, env, "acme")
	rcv.wait(t, 2) // failing and retried
	if _, err := eps.Delete(context.Background(), ep.ID); err != nil {
		t.Fatal(err)
	}
	h, release, err := env.Store.Acquire(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var n int
	if err := h.DB.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM webhook_deliveries) + (SELECT count(*) FROM webhook_events)").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d deliveries and events remain after the endpoint's deletion, want none", n)
	}
	// An attempt in flight when it was deleted may still arrive; after
	// it, none: later writes have no endpoint to go to.
	item(t, env, "acme")
	before := len(rcv.requests())
	time.Sleep(300 * time.Millisecond) // fifteen first-retry delays
	if after := len(rcv.requests()); after > before+1 {
		t.Errorf("the receiver got %d requests after the deletion", after-before)
	}
}

func TestClient_RefusesPrivateAddresses(t *testing.T) {
	rcv := newReceiver(t, 0)
	port := rcv.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":"):]
	client := webhooks.NewClient(2*time.Second, false)
	for _, u := range []string{
		rcv.URL,                          // 127.0.0.1
		"http://localhost" + port + "/",  // a name that resolves to loopback
		"http://10.1.2.3/",               // private
		"http://192.168.0.1/",            // private
		"http://169.254.169.254/latest/", // cloud metadata, link-local
		"http://[::1]" + port + "/",      // IPv6 loopback
		"http://[::ffff:127.0.0.1]" + port + "/",
		"http://0.0.0.0" + port + "/",
	} {
		res, err := client.Post(u, "application/json", strings.NewReader("{}"))
		if err == nil {
			res.Body.Close()
			t.Errorf("POST %s: %d, want the dial refused", u, res.StatusCode)
			continue
		}
		if !strings.Contains(err.Error(), "not allowed") {
			t.Errorf("POST %s: %v, want address not allowed", u, err)
		}
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the loopback receiver got %d requests", n)
	}
	// With --webhooks-allow-private the same receiver is reached.
	res, err := webhooks.NewClient(2*time.Second, true).Post(rcv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func TestClient_DoesNotFollowRedirects(t *testing.T) {
	target := newReceiver(t, 0)
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirect.Close()
	res, err := webhooks.NewClient(2*time.Second, true).Post(redirect.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTemporaryRedirect || len(target.requests()) != 0 {
		t.Errorf("status %d, target got %d: want the redirect not followed", res.StatusCode, len(target.requests()))
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		reason       string // "" for valid
	}{
		{"https://hooks.example.com/x?k=v", false, ""},
		{"http://93.184.216.34/", false, ""},
		{"ftp://example.com/", false, "invalid_url"},
		{"example.com/hook", false, "invalid_url"},
		{"https://user:pw@example.com/", false, "invalid_url"},
		{"http://127.0.0.1:8080/", false, "url_not_allowed"},
		{"http://10.0.0.5/", false, "url_not_allowed"},
		{"http://169.254.169.254/", false, "url_not_allowed"},
		{"http://[fd00::1]/", false, "url_not_allowed"},
		{"http://localhost:9000/", false, "url_not_allowed"},
		{"http://127.0.0.1:8080/", true, ""},
		{"https://" + strings.Repeat("a", 2001) + ".com/", false, "invalid_url"},
	} {
		err := webhooks.CheckURL(tc.url, tc.allowPrivate)
		if got := condo.ErrorReason(err); got != tc.reason {
			t.Errorf("CheckURL(%.40q, %v) = %v, want reason %q", tc.url, tc.allowPrivate, err, tc.reason)
		}
	}
}

func TestEndpoints_BadInput(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	env.MustCreate(t, "acme")
	eps := endpoints(t, env, "acme")
	eps.AllowPrivate = false
	ctx := context.Background()
	for _, in := range []webhooks.EndpointInput{
		{URL: ptr("not a url"), Events: ptr([]string{webhooks.ContentCreated})},
		{URL: ptr("https://example.com/"), Events: ptr([]string{"content.exploded"})},
		{URL: ptr("https://example.com/"), Events: ptr([]string{webhooks.TenantCreated})}, // a platform event
		{URL: ptr("https://example.com/"), Events: ptr([]string{})},
		{URL: ptr("https://example.com/")},
		{URL: ptr("http://127.0.0.1/"), Events: ptr([]string{webhooks.ContentCreated})},
	} {
		if _, _, err := eps.Create(ctx, in); condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("Create(%v, %v) = %v, want EINVALID", *in.URL, in.Events, err)
		}
	}
	if list, err := eps.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("List = %v, %v: want nothing stored", list, err)
	}
}

func TestWorker_DeliversPlatformEvents(t *testing.T) {
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	rcv := newReceiver(t, 1)
	ctx := context.Background()
	_, secret, err := env.Catalog.PlatformWebhooks(true).Create(ctx, webhooks.EndpointInput{URL: ptr(rcv.URL),
		Events: ptr([]string{webhooks.TenantCreated, webhooks.UsageDaily})})
	if err != nil {
		t.Fatal(err)
	}
	start(t, env, true)
	env.MustCreate(t, "newco") // tenant.created, in the catalog's transaction
	// The day's roll-up: one usage.daily per tenant with usage, emitted
	// once however many nodes ask.
	if err := env.Catalog.AddUsage(ctx, []catalog.UsageDay{{TenantID: "newco", Day: "2026-12-01", Requests: 12}}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 0} {
		if n, err := env.Catalog.RollupUsage(ctx, "2026-12-01"); err != nil || n != want {
			t.Fatalf("RollupUsage, call %d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	rcv.wait(t, 3) // one failure, retried, and the second event
	types := map[string]bool{}
	for _, r := range rcv.requests() {
		verify(t, secret, r)
		var ev struct {
			Type string `json:"type"`
		}
		json.Unmarshal(r.body, &ev)
		if r.status == http.StatusOK {
			types[ev.Type] = true
		}
	}
	if !types[webhooks.TenantCreated] && !types[webhooks.UsageDaily] {
		t.Errorf("delivered %v, want tenant.created or usage.daily among the successes", types)
	}
	// Both arrive in the end.
	for !types[webhooks.TenantCreated] || !types[webhooks.UsageDaily] {
		rcv.wait(t, 1)
		last := rcv.requests()[len(rcv.requests())-1]
		var ev struct {
			Type string `json:"type"`
		}
		json.Unmarshal(last.body, &ev)
		if last.status == http.StatusOK {
			types[ev.Type] = true
		}
	}
}

// tlog writes the worker's log to the test's.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(strings.TrimSpace(string(p))); return len(p), nil }
