package plans_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/plans"
)

func TestParse(t *testing.T) {
	s, err := plans.Parse([]byte(`plans:
  free:
    storage_quota: 100MB
    libsql: false
  starter:
    storage_quota: 500MB      # bytes or units; database + media
    user_limit: 10
    requests_per_second: 20
    burst: 40
    webhooks: true
    media_file_size: 1GiB
    items_per_collection: unlimited
    custom_domains: 2
    libsql: true
    plugins: [seo, forms]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(s.Names(), ","), "free,starter"; got != want {
		t.Fatalf("names %s, want %s", got, want)
	}
	p, _ := s.Lookup("starter")
	want := plans.Plan{Name: "starter", StorageQuota: 500_000_000, UserLimit: 10, ItemsPerCollection: plans.Unlimited,
		MediaFileSize: 1 << 30, RequestsPerSecond: 20, Burst: 40, LibSQL: true, CustomDomains: 2,
		APITokens: plans.Builtin().For("free").APITokens, Webhooks: plans.Unlimited}
	if p.Name != want.Name || p.StorageQuota != want.StorageQuota || p.UserLimit != want.UserLimit ||
		p.ItemsPerCollection != want.ItemsPerCollection || p.MediaFileSize != want.MediaFileSize ||
		p.RequestsPerSecond != want.RequestsPerSecond || p.Burst != want.Burst || p.LibSQL != want.LibSQL ||
		p.CustomDomains != want.CustomDomains || p.APITokens != want.APITokens || p.Webhooks != want.Webhooks {
		t.Fatalf("starter = %+v\nwant %+v", *p, want)
	}
	if !p.AllowsPlugin("seo") || p.AllowsPlugin("other") || !p.Allows(plans.Webhooks) || !p.Allows(plans.LibSQL) {
		t.Fatalf("features of %+v", *p)
	}
	if f := s.For("free"); f.StorageQuota != 100_000_000 || f.Allows(plans.LibSQL) {
		t.Fatalf("free = %+v", *f)
	}
	// A plan no definition names is held to free's limits.
	if got := s.For("gold"); got.Name != "free" {
		t.Fatalf("unknown plan held to %s, want free", got.Name)
	}
}

func TestParse_Errors(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"UnknownKey", "plans:\n  free:\n    user_limit: 3\n    storage_qouta: 5MB\n", "line 4: field storage_qouta not found"},
		{"UnknownTopKey", "plan:\n  free: {}\n", "line 1: field plan not found"},
		{"BadSize", "plans:\n  free:\n    storage_quota: lots\n", `line 3: "lots" is not a size`},
		{"BadUnit", "plans:\n  free:\n    media_file_size: 5XB\n", `line 3: "5XB": unknown unit`},
		{"BadCount", "plans:\n  free:\n\n    user_limit: -3\n", "line 4: a limit is a whole number"},
		{"BadPlugins", "plans:\n  free:\n    plugins: {a: 1}\n", "line 3: plugins is true, false or a list"},
		{"NoFree", "plans:\n  pro:\n    user_limit: 3\n", `no "free" plan`},
		{"Empty", "", "the file is empty"},
		{"BadName", "plans:\n  free: {}\n  Big Plan: {}\n", `plan name "Big Plan"`},
		{"BurstZero", "plans:\n  free:\n    requests_per_second: 5\n    burst: 0\n", "burst must be at least 1"},
		{"UnlimitedUsers", "plans:\n  free:\n    user_limit: unlimited\n", "user_limit must be a number"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := plans.Parse([]byte(c.file))
			if err == nil {
				t.Fatal("parsed")
			}
			if condo.ErrorReason(err) != "invalid_plans_file" || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q (%s), want it to contain %q", err, condo.ErrorReason(err), c.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	s, err := plans.Load("", nil)
	if err != nil || strings.Join(s.Names(), ",") != "enterprise,free,pro" {
		t.Fatalf("builtin: %v %v", s.Names(), err)
	}
	path := filepath.Join(t.TempDir(), "plans.yaml")
	os.WriteFile(path, []byte("plans:\n  free:\n    bogus: 1\n"), 0o600)
	if _, err := plans.Load(path, nil); err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want the path and line 3", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1048576": 1 << 20, "500MB": 500e6, "1GiB": 1 << 30, "1.5 KiB": 1536, "10kb": 10e3, "2G": 2 << 30} {
		if got, err := plans.ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

// TestLimiters runs a tenant's bucket over an injected clock: a burst at
// once, then one request per 1/rps, and another tenant unaffected.
func TestLimiters(t *testing.T) {
	l := plans.NewLimiters(0)
	p := &plans.Plan{Name: "t", RequestsPerSecond: 2, Burst: 3}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.Allow("a", p, t0); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, wait := l.Allow("a", p, t0)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("past the burst: %v, wait %v; want refused, 500ms", ok, wait)
	}
	if ok, _ := l.Allow("b", p, t0); !ok {
		t.Fatal("another tenant shares a bucket")
	}
	if ok, _ := l.Allow("a", p, t0.Add(499*time.Millisecond)); ok {
		t.Fatal("passed before a token was back")
	}
	if ok, _ := l.Allow("a", p, t0.Add(500*time.Millisecond)); !ok {
		t.Fatal("refused once a token was back")
	}
	// A plan change (another rate) takes effect on the next request.
	up := &plans.Plan{Name: "u", RequestsPerSecond: 100, Burst: 100}
	if ok, _ := l.Allow("a", up, t0.Add(500*time.Millisecond)); !ok {
		t.Fatal("refused after an upgrade")
	}
	if ok, _ := l.Allow("a", &plans.Plan{}, t0); !ok {
		t.Fatal("a plan with no rate limit refused")
	}
}

func TestLimiters_Bounded(t *testing.T) {
	l := plans.NewLimiters(10)
	p := &plans.Plan{RequestsPerSecond: 1, Burst: 1}
	now := time.Now()
	for i := range 25 {
		l.Allow(string(rune('a'+i)), p, now)
	}
	if l.Len() > 10 {
		t.Fatalf("%d buckets kept, bound 10", l.Len())
	}
}

// A tenant on a plan no definition names is held to free, and the
// operator is told once per plan name, not once per request.
func TestSet_ForUnknownLogsOnce(t *testing.T) {
	var buf strings.Builder
	s := plans.Builtin().WithLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	for range 3 {
		if got := s.For("gold").Name; got != "free" {
			t.Fatalf("held to %s, want free", got)
		}
	}
	s.For("silver")
	if n := strings.Count(buf.String(), "unknown plan"); n != 2 {
		t.Fatalf("%d log lines, want 2 (one per name):\n%s", n, buf.String())
	}
}

// Many goroutines on a few tenants' buckets (run under -race): no
// tenant is given more than its burst at one instant.
func TestLimiters_Concurrent(t *testing.T) {
	l := plans.NewLimiters(0)
	p := &plans.Plan{RequestsPerSecond: 1, Burst: 50}
	now := time.Now()
	var mu sync.Mutex
	passed := map[string]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				id := string(rune('a' + (g+i)%4))
				if ok, _ := l.Allow(id, p, now); ok {
					mu.Lock()
					passed[id]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for id, n := range passed {
		if n > p.Burst {
			t.Errorf("tenant %s passed %d requests at one instant, burst %d", id, n, p.Burst)
		}
	}
}
