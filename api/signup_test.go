package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/catalog"
)

// signupClock is a clock a test moves by hand.
type signupClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *signupClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *signupClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func signupEnv(t *testing.T, limits api.SignupLimits) (*apitest.Env, *signupClock) {
	t.Helper()
	clock := &signupClock{now: time.Now()}
	return apitest.New(t, api.Config{Signup: true, SignupLimits: limits, Now: clock.Now, IPLoginBurst: 1000}), clock
}

const platformHost = "platform.localhost"

func signupBody(sub, name, email, password string) string {
	b, _ := json.Marshal(map[string]string{"subdomain": sub, "name": name, "email": email, "password": password})
	return string(b)
}

var signupToken = regexp.MustCompile(`/platform/admin/signup/verify\?token=([a-z2-7]+)`)

// signupLink submits a sign-up and returns the token of the link mailed.
func signupLink(t *testing.T, e *apitest.Env, sub, email string) string {
	t.Helper()
	res := e.Call(t, platformHost, "POST", api.SignupPath, "", signupBody(sub, "Site "+sub, email, "a long password 1"))
	apitest.WantStatus(t, res, http.StatusAccepted, "")
	m := signupToken.FindStringSubmatch(e.Mail(t, email))
	if m == nil {
		t.Fatalf("no verification link in the mail to %s: %s", email, e.Mail(t, email))
	}
	return m[1]
}

func verify(t *testing.T, e *apitest.Env, token string) apitest.Response {
	t.Helper()
	return e.Call(t, platformHost, "POST", api.SignupVerifyPath, "", fmt.Sprintf(`{"token": %q}`, token))
}

func TestSignup_OffIs404(t *testing.T) {
	e := apitest.New(t, api.Config{})
	for _, r := range []struct{ method, path, body string }{
		{"GET", api.SignupCheckPath + "?subdomain=acme", ""},
		{"POST", api.SignupPath, signupBody("acme", "Acme", "a@example.com", "a long password 1")},
		{"POST", api.SignupVerifyPath, `{"token": "x"}`},
	} {
		res := e.Call(t, platformHost, r.method, r.path, "", r.body)
		if res.Status != http.StatusNotFound {
			t.Errorf("%s %s: got %d, want 404", r.method, r.path, res.Status)
		}
	}
}

func TestSignup_Availability(t *testing.T) {
	e, _ := signupEnv(t, api.SignupLimits{})
	for _, tc := range []struct{ sub, status string }{
		{"acme", "available"},
		{"tenant-a", "taken"},
		{"platform", "reserved"},
		{"www", "reserved"},
		{"admin", "reserved"},
		{"api", "reserved"},
		{"mail", "reserved"},
		{"status", "reserved"},
		{"app", "reserved"},
		{"Acme", "invalid"},
		{"-acme", "invalid"},
		{"a_b", "invalid"},
		{"", "invalid"},
		{strings.Repeat("a", 64), "invalid"},
	} {
		t.Run(tc.status+"/"+tc.sub, func(t *testing.T) {
			res := e.Call(t, platformHost, "GET", api.SignupCheckPath+"?subdomain="+tc.sub, "", "")
			apitest.WantStatus(t, res, http.StatusOK, "")
			if got := res.Data["status"]; got != tc.status {
				t.Errorf("status = %v, want %s", got, tc.status)
			}
			if got, want := res.Data["available"], tc.status == "available"; got != want {
				t.Errorf("available = %v, want %v", got, want)
			}
		})
	}
}

func TestSignup_Refusals(t *testing.T) {
	e, _ := signupEnv(t, api.SignupLimits{IPBurst: 100})
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"Reserved", signupBody("admin", "X", "x@example.com", "a long password 1"), 400, "subdomain_reserved"},
		{"Invalid", signupBody("Not Valid", "X", "x@example.com", "a long password 1"), 400, "invalid_subdomain"},
		{"Taken", signupBody("tenant-b", "X", "x@example.com", "a long password 1"), 409, "subdomain_taken"},
		{"Missing", signupBody("acme", "", "x@example.com", "a long password 1"), 400, "missing_fields"},
		{"BadEmail", signupBody("acme", "X", "not an email", "a long password 1"), 400, "invalid_email"},
		{"WeakPassword", signupBody("acme", "X", "x@example.com", "short"), 400, "weak_password"},
		{"UnknownField", `{"subdomain": "acme", "plan": "enterprise"}`, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.Call(t, platformHost, "POST", api.SignupPath, "", tc.body)
			apitest.WantStatus(t, res, tc.status, tc.code)
		})
	}
	msgs, err := e.Catalog.Outbox(context.Background(), catalog.OutboxFilter{To: "x@example.com"})
	if err != nil || len(msgs) != 0 {
		t.Errorf("refused sign-ups mailed %d messages (%v)", len(msgs), err)
	}
	if res := e.Call(t, platformHost, "GET", "/platform/tenants/acme", "", ""); res.Status != http.StatusUnauthorized {
		t.Errorf("GET /platform/tenants/acme without credentials: %d", res.Status)
	}
}

func TestSignup_VerificationCreatesTenant(t *testing.T) {
	e, _ := signupEnv(t, api.SignupLimits{Plan: "pro"})
	platform := platformToken(t, e)
	hook := e.Call(t, platformHost, "POST", "/platform/webhooks", platform, `{"url": "https://billing.example.com/condo", "events": ["tenant.signed_up"]}`)
	apitest.WantStatus(t, hook, http.StatusCreated, "")

	token := signupLink(t, e, "acme", "Owner@Example.com")
	// Nothing exists before the link is opened.
	apitest.WantStatus(t, e.Call(t, platformHost, "GET", "/platform/tenants/acme", platform, ""), http.StatusNotFound, "")

	res := verify(t, e, token)
	apitest.WantStatus(t, res, http.StatusCreated, "")
	var out struct {
		Data struct {
			Tenant       struct{ ID, Name, Plan string }
			AdminURL     string `json:"admin_url"`
			WelcomeURL   string `json:"welcome_url"`
			Token        string
			RefreshToken string `json:"refresh_token"`
			User         struct{ Email, Role string }
		}
	}
	raw, _ := json.Marshal(res.Raw)
	json.Unmarshal(raw, &out)
	d := out.Data
	if d.Tenant.ID != "acme" || d.Tenant.Name != "Site acme" || d.Tenant.Plan != "pro" {
		t.Errorf("tenant = %+v", d.Tenant)
	}
	if d.User.Email != "owner@example.com" || d.User.Role != "admin" || d.Token == "" || d.RefreshToken == "" {
		t.Errorf("user = %+v, token set %v, refresh set %v", d.User, d.Token != "", d.RefreshToken != "")
	}
	if d.AdminURL != "http://acme.localhost/admin" || d.WelcomeURL != "http://acme.localhost/admin/welcome" {
		t.Errorf("admin_url %q, welcome_url %q", d.AdminURL, d.WelcomeURL)
	}

	// The session works on the new tenant, as its admin, and the chosen
	// password signs in.
	me := e.Call(t, "acme", "GET", "/auth/me", d.Token, "")
	apitest.WantStatus(t, me, http.StatusOK, "")
	if me.Data["role"] != "admin" {
		t.Errorf("/auth/me role = %v", me.Data["role"])
	}
	e.Login(t, "acme", "owner@example.com", "a long password 1")
	// The session is the new tenant's only.
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/api/collections", d.Token, ""), http.StatusUnauthorized, "")

	// The starter collection and its welcome draft.
	col := e.Call(t, "acme", "GET", "/api/collections/posts", d.Token, "")
	apitest.WantStatus(t, col, http.StatusOK, "")
	items := e.Call(t, "acme", "GET", "/api/collections/posts/content?status=draft", d.Token, "")
	apitest.WantStatus(t, items, http.StatusOK, "")
	list, _ := items.Raw["data"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["status"] != "draft" || !strings.HasPrefix(list[0].(map[string]any)["title"].(string), "Welcome") {
		t.Errorf("starter items = %v", items.Raw["data"])
	}

	// The tenant's own audit log says how it began.
	if ev := e.Events(t, "acme", "tenant.signed_up"); len(ev) != 1 {
		t.Errorf("audit events tenant.signed_up = %d, want 1", len(ev))
	}

	// The platform webhook got tenant.signed_up.
	del := e.Call(t, platformHost, "GET", "/platform/webhooks/"+hook.Data["id"].(string)+"/deliveries", platform, "")
	apitest.WantStatus(t, del, http.StatusOK, "")
	var types []string
	for _, x := range del.Raw["data"].([]any) {
		types = append(types, x.(map[string]any)["event_type"].(string))
	}
	if strings.Join(types, ",") != "tenant.signed_up" {
		t.Errorf("platform deliveries = %v, want tenant.signed_up", types)
	}

	t.Run("SingleUse", func(t *testing.T) {
		apitest.WantStatus(t, verify(t, e, token), http.StatusGone, "signup_used")
	})
	t.Run("UnknownToken", func(t *testing.T) {
		apitest.WantStatus(t, verify(t, e, "nosuchtoken"), http.StatusNotFound, "signup_not_found")
	})
	t.Run("NowTaken", func(t *testing.T) {
		res := e.Call(t, platformHost, "GET", api.SignupCheckPath+"?subdomain=acme", "", "")
		if res.Data["status"] != "taken" {
			t.Errorf("acme after sign-up: %v", res.Data["status"])
		}
	})
}

func TestSignup_Expiry(t *testing.T) {
	e, clock := signupEnv(t, api.SignupLimits{TTL: time.Hour})
	token := signupLink(t, e, "late", "late@example.com")
	clock.Add(time.Hour + time.Second)
	apitest.WantStatus(t, verify(t, e, token), http.StatusGone, "signup_expired")
	res := e.Call(t, platformHost, "GET", api.SignupCheckPath+"?subdomain=late", "", "")
	if res.Data["status"] != "available" {
		t.Errorf("an expired sign-up took its subdomain: %v", res.Data["status"])
	}
}

func TestSignup_TakenBeforeVerification(t *testing.T) {
	e, _ := signupEnv(t, api.SignupLimits{})
	first := signupLink(t, e, "dup", "one@example.com")
	second := signupLink(t, e, "dup", "two@example.com")
	apitest.WantStatus(t, verify(t, e, second), http.StatusCreated, "")
	apitest.WantStatus(t, verify(t, e, first), http.StatusConflict, "subdomain_taken")
}

func TestSignup_PerEmailCap(t *testing.T) {
	e, _ := signupEnv(t, api.SignupLimits{PerEmail: 2})
	for _, sub := range []string{"cap-1", "cap-2"} {
		apitest.WantStatus(t, verify(t, e, signupLink(t, e, sub, "cap@example.com")), http.StatusCreated, "")
	}
	res := e.Call(t, platformHost, "POST", api.SignupPath, "", signupBody("cap-3", "Third", "CAP@example.com", "a long password 1"))
	apitest.WantStatus(t, res, http.StatusForbidden, "signup_limit_reached")
	// A link asked for before the cap was reached is refused too.
	e2, _ := signupEnv(t, api.SignupLimits{PerEmail: 1})
	a, b := signupLink(t, e2, "one-a", "cap@example.com"), signupLink(t, e2, "one-b", "cap@example.com")
	apitest.WantStatus(t, verify(t, e2, a), http.StatusCreated, "")
	apitest.WantStatus(t, verify(t, e2, b), http.StatusForbidden, "signup_limit_reached")
}

// Two links of one email verified at once cannot both pass a cap of one.
func TestSignup_PerEmailCapConcurrent(t *testing.T) {
	e, _ := signupEnv(t, api.SignupLimits{PerEmail: 1})
	links := []string{signupLink(t, e, "race-a", "race@example.com"), signupLink(t, e, "race-b", "race@example.com")}
	statuses := make([]int, len(links))
	var wg sync.WaitGroup
	for i, link := range links {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = verify(t, e, link).Status
		}()
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != http.StatusCreated || statuses[1] != http.StatusForbidden {
		t.Fatalf("statuses %v, want one 201 and one 403", statuses)
	}
}

func TestSignup_PerIPRate(t *testing.T) {
	e, clock := signupEnv(t, api.SignupLimits{IPBurst: 2, IPEvery: time.Minute})
	for i := range 2 {
		// Refused submissions count too.
		res := e.Call(t, platformHost, "POST", api.SignupPath, "", signupBody("admin", "X", fmt.Sprintf("r%d@example.com", i), "a long password 1"))
		apitest.WantStatus(t, res, http.StatusBadRequest, "subdomain_reserved")
	}
	res := e.Call(t, platformHost, "POST", api.SignupPath, "", signupBody("rate", "X", "r@example.com", "a long password 1"))
	apitest.WantStatus(t, res, http.StatusTooManyRequests, "too_many_signups")
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	clock.Add(time.Minute)
	res = e.Call(t, platformHost, "POST", api.SignupPath, "", signupBody("rate", "X", "r@example.com", "a long password 1"))
	apitest.WantStatus(t, res, http.StatusAccepted, "")
}

func platformToken(t *testing.T, e *apitest.Env) string {
	t.Helper()
	res := e.Call(t, platformHost, "POST", "/platform/auth/login", "", fmt.Sprintf(`{"email": %q, "password": %q}`, apitest.AdminEmail, apitest.AdminPassword))
	apitest.WantStatus(t, res, http.StatusOK, "")
	return res.Raw["token"].(string)
}

func TestSignup_PerEmailRate(t *testing.T) {
	e := apitest.New(t, api.Config{Signup: true, ClientIPHeader: "Fly-Client-IP", SignupLimits: api.SignupLimits{IPBurst: 2, IPEvery: time.Hour}})
	submit := func(ip, sub string) apitest.Response {
		return e.Call(t, platformHost, "POST", api.SignupPath, "", signupBody(sub, "X", "victim@example.com", "a long password 1"), "Fly-Client-IP", ip)
	}
	apitest.WantStatus(t, submit("192.0.2.1", "mail-1"), http.StatusAccepted, "")
	apitest.WantStatus(t, submit("192.0.2.2", "mail-2"), http.StatusAccepted, "")
	// A third address, fresh, still cannot send the same inbox a third link.
	res := submit("192.0.2.3", "mail-3")
	apitest.WantStatus(t, res, http.StatusTooManyRequests, "too_many_signups")
	if !strings.Contains(res.Error.Message, "victim@example.com") {
		t.Errorf("message %q does not say which limit", res.Error.Message)
	}
}
