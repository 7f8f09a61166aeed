package auth_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// newStore returns the identity store of a fresh tenant on real files.
func newStore(tb testing.TB) (*auth.Store, *tenantstoretest.Env) {
	tb.Helper()
	env := tenantstoretest.MustOpen(tb, catalog.Config{}, tenantstore.Config{PoolSize: 2})
	env.MustCreate(tb, "acme")
	h, release, err := env.Store.Acquire(context.Background(), "acme")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(release)
	return auth.New("acme", h.DB), env
}

var lim = auth.Limits{Users: 10, Policy: auth.DefaultPasswordPolicy}

func TestPassword(t *testing.T) {
	h := auth.HashPassword("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || h == auth.HashPassword("correct horse") {
		t.Fatalf("hash %q: want argon2id with a fresh salt", h)
	}
	if !auth.CheckPassword(h, "correct horse") || auth.CheckPassword(h, "correct horsf") {
		t.Fatal("argon2id check")
	}
	b, _ := bcrypt.GenerateFromPassword([]byte("imported"), bcrypt.MinCost)
	if !auth.CheckPassword(string(b), "imported") || auth.CheckPassword(string(b), "other") {
		t.Fatal("bcrypt check")
	}
	for _, bad := range []string{"", "plain", "$argon2id$v=19$m=1,t=1,p=1$!!$!!", "$argon2id$v=19$m=99999999,t=1,p=1$YQ$YQ", "$argon2i$v=19$m=19456,t=2,p=1$YQ$YQ"} {
		if auth.CheckPassword(bad, "") || auth.CheckPassword(bad, "plain") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	strict := auth.PasswordPolicy{MinLength: 12, RequireUpper: true, RequireLower: true, RequireDigit: true, RequireSymbol: true}
	for _, c := range []struct {
		p    auth.PasswordPolicy
		pw   string
		want []string // parts of the message; nil: accepted
	}{
		{auth.DefaultPasswordPolicy, "ten chars!", nil},
		{auth.DefaultPasswordPolicy, "nine char", []string{"10 characters"}},
		{auth.DefaultPasswordPolicy, "ünïcødé wörds", nil},
		{auth.DefaultPasswordPolicy, strings.Repeat("x", auth.MaxPasswordLen+1), []string{"at most"}},
		{auth.DefaultPasswordPolicy, "invalid \xff utf8", []string{"UTF-8"}},
		{strict, "Abcdefghijk1!", nil},
		{strict, "abc", []string{"12 characters", "upper-case", "digit", "symbol"}},
	} {
		err := c.p.Check(c.pw)
		if c.want == nil && err != nil || c.want != nil && condo.ErrorReason(err) != "weak_password" {
			t.Errorf("Check(%.20q) = %v", c.pw, err)
			continue
		}
		for _, part := range c.want {
			if !strings.Contains(condo.ErrorMessage(err), part) {
				t.Errorf("Check(%.20q) = %q, want it to name %q", c.pw, condo.ErrorMessage(err), part)
			}
		}
	}
}

func TestPerms(t *testing.T) {
	if _, err := auth.PermsOf("content.read", "nope"); condo.ErrorReason(err) != "unknown_permission" {
		t.Fatalf("unknown permission: %v", err)
	}
	all, _ := auth.PermsOf(auth.AllPermissions...)
	ro := all.ReadOnly()
	for _, n := range ro.Names() {
		if !strings.HasSuffix(n, ".read") && n != auth.ContentReadDrafts {
			t.Errorf("read-only holds %s", n)
		}
	}
	if !all.Contains(ro) || ro.Contains(all) || ro.Has(auth.UsersCreate) || !all.Has(auth.SQLWrite) {
		t.Fatal("set algebra")
	}
}

func TestThrottle(t *testing.T) {
	th := auth.NewThrottle(3, time.Hour, 2)
	for i := range 3 {
		if th.Wait("k") != 0 {
			t.Fatalf("attempt %d throttled", i)
		}
		if exhausted := th.Hit("k"); exhausted != (i == 2) {
			t.Fatalf("attempt %d: exhausted = %v", i, exhausted)
		}
	}
	if w := th.Wait("k"); w < 59*time.Minute || w > time.Hour {
		t.Fatalf("wait %v, want about an hour", w)
	}
	if th.Wait("other") != 0 {
		t.Fatal("keys share a bucket")
	}
	th.Reset("k")
	if th.Wait("k") != 0 {
		t.Fatal("reset did not clear")
	}
	th.Hit("a")
	th.Hit("b")
	th.Hit("c") // forgets the least recent: memory stays bounded
}

func TestKeys(t *testing.T) {
	ctx := context.Background()
	_, env := newStore(t)
	k := auth.NewKeys(env.Catalog, nil)
	tok, exp, err := k.IssueAccess(ctx, "acme", "u1", "admin", "s1", nil, time.Minute)
	if err != nil || time.Until(exp) > time.Minute {
		t.Fatal(err, exp)
	}
	c, err := k.VerifyAccess(ctx, tok)
	if err != nil || c.TenantID != "acme" || c.Subject != "u1" || c.SessionID != "s1" || c.ID == "" {
		t.Fatalf("claims %+v, %v", c, err)
	}
	// The generated secret is shared through the catalog.
	if _, err := auth.NewKeys(env.Catalog, nil).VerifyAccess(ctx, tok); err != nil {
		t.Fatalf("another process's keys: %v", err)
	}
	if _, err := auth.NewKeys(env.Catalog, []byte("0123456789abcdef0123456789abcdef")).VerifyAccess(ctx, tok); condo.ErrorCode(err) != condo.EUNAUTHORIZED {
		t.Fatalf("other secret: %v", err)
	}
	// A user token without a session, or without a tenant, is refused.
	for _, bad := range []struct{ tid, sub, sid string }{{"", "u1", "s1"}, {"acme", "u1", ""}} {
		tok, _, _ := k.IssueAccess(ctx, bad.tid, bad.sub, "admin", bad.sid, nil, time.Minute)
		if _, err := k.VerifyAccess(ctx, tok); err == nil {
			t.Errorf("token %+v accepted", bad)
		}
	}
	if auth.APITokenTenant("condo_acme_abc") != "acme" || auth.APITokenTenant("condo_Bad_abc") != "" || auth.APITokenTenant("condo_") != "" {
		t.Fatal("APITokenTenant")
	}
}

// TestRefreshRace spends one refresh token from many goroutines: exactly
// one rotation wins, and the others count as reuse, which ends the session.
func TestRefreshRace(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	u, err := st.CreateUser(ctx, auth.NewUser{Email: "a@example.com", Password: "long password", Role: auth.RoleAdmin}, lim)
	if err != nil {
		t.Fatal(err)
	}
	sess, refresh, err := st.StartSession(ctx, u.ID, auth.Client{})
	if err != nil {
		t.Fatal(err)
	}
	var ok, reused atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, _, _, err := st.Refresh(ctx, refresh)
			switch condo.ErrorReason(err) {
			case "":
				ok.Add(1)
			case "refresh_token_reused":
				reused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || reused.Load() != 7 {
		t.Fatalf("%d rotations, %d reuses; want 1 and 7", ok.Load(), reused.Load())
	}
	if _, err := st.CheckSession(ctx, sess.ID, u.ID); condo.ErrorCode(err) != condo.EUNAUTHORIZED {
		t.Fatalf("session after reuse: %v", err)
	}
}

// TestUserLimitRace signs up more users than the limit at once: the limit
// holds exactly.
func TestUserLimitRace(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	var wg sync.WaitGroup
	var created atomic.Int32
	for i := range 12 {
		wg.Go(func() {
			_, err := st.CreateUser(ctx, auth.NewUser{Email: string(rune('a'+i)) + "@example.com", Password: "long password"},
				auth.Limits{Users: 5, Policy: auth.DefaultPasswordPolicy})
			if err == nil {
				created.Add(1)
			} else if condo.ErrorReason(err) != "user_limit_reached" {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	_, total, err := st.Users(ctx, auth.UserFilter{})
	if err != nil || created.Load() != 5 || total != 5 {
		t.Fatalf("created %d, total %d (%v); want 5", created.Load(), total, err)
	}
}

func TestAuthenticateUpgradesHash(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	u, err := st.CreateUser(ctx, auth.NewUser{Email: "old@example.com", Password: "long password"}, lim)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bcrypt.GenerateFromPassword([]byte("imported password"), bcrypt.MinCost)
	if _, err := st.DB.Writer().Exec("UPDATE users SET password_hash = ? WHERE id = ?", string(b), u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Authenticate(ctx, "OLD@example.com", "imported password"); err != nil {
		t.Fatal(err)
	}
	var hash string
	st.DB.Reader().QueryRow("SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&hash)
	if !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("hash not upgraded: %s", hash)
	}
	if _, err := st.Authenticate(ctx, "old@example.com", "imported password"); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkVerifyAccess(b *testing.B) {
	ctx := context.Background()
	k := auth.NewKeys(nil, []byte("0123456789abcdef0123456789abcdef"))
	tok, _, err := k.IssueAccess(ctx, "acme", "01a21b5f-60c7-7d89-8a94-1a10e38fe303", "admin", "01a21b5f-60c7-7d89-8a94-1a10e38fe304", nil, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.VerifyAccess(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	h := auth.HashPassword("correct horse battery")
	for b.Loop() {
		auth.CheckPassword(h, "correct horse battery")
	}
}
