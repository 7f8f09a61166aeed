package hrana

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
)

// clock is a settable clock for the registry's idle expiry and tombstones.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }
func newClock() *clock               { return &clock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)} }
func caller(tenant string, a Access) *Caller {
	return &Caller{Tenant: &catalog.Tenant{ID: tenant}, Access: a}
}

// idleStream registers a stream without a connection, as open does once
// connected, and returns its first baton: the registry's bookkeeping
// (batons, expiry, tombstones, bounds) without SQLite under it.
func idleStream(t *testing.T, r *Registry, tenant string, a Access) string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.live++
	r.perTenant[tenant]++
	r.nextID++
	st := &stream{id: r.nextID, tenantID: tenant, access: a, seq: 1, lastUse: r.cfg.Now()}
	r.streams[st.id] = st
	return r.baton(tenant, st.id, st.seq)
}

// use runs one request on the stream of baton and returns the next baton.
func use(t *testing.T, r *Registry, baton string, c *Caller) string {
	t.Helper()
	st, _, err := r.take(context.Background(), baton, c)
	if err != nil {
		t.Fatalf("take: %v", err)
	}
	next, fail := r.finish(st, nil, true, false)
	if fail != nil || next == nil {
		t.Fatalf("finish: %v, %v", next, fail)
	}
	return *next
}

func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != status || he.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
}

func TestBaton(t *testing.T) {
	r := New(nil, Config{})
	b := r.baton("tenant-a", 7, 42)
	id, seq, ok := r.parseBaton(b)
	if !ok || id != 7 || seq != 42 || !r.verify(b, "tenant-a", 7, 42) {
		t.Fatalf("round trip: %d %d %v", id, seq, ok)
	}
	if r.verify(b, "tenant-b", 7, 42) || r.verify(b, "tenant-a", 7, 43) || r.verify(b, "tenant-a", 8, 42) {
		t.Error("a baton verified for another tenant, sequence or stream")
	}
	if New(nil, Config{}).verify(b, "tenant-a", 7, 42) {
		t.Error("another registry (process) accepted the baton")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(b)
	for i := range raw {
		forged := append([]byte(nil), raw...)
		forged[i] ^= 1
		f := base64.RawURLEncoding.EncodeToString(forged)
		if id, seq, ok := r.parseBaton(f); ok && r.verify(f, "tenant-a", id, seq) {
			t.Errorf("a baton with byte %d flipped verified", i)
		}
	}
	for _, bad := range []string{"", "x", b + "A", b[:len(b)-1], "!" + b[1:]} {
		if _, _, ok := r.parseBaton(bad); ok && r.verify(bad, "tenant-a", 7, 42) {
			t.Errorf("%q verified", bad)
		}
	}
}

func TestRegistry_Take(t *testing.T) {
	ctx := context.Background()
	a := caller("tenant-a", ReadWrite)
	t.Run("SingleUse", func(t *testing.T) {
		r := New(nil, Config{})
		b1 := idleStream(t, r, "tenant-a", ReadWrite)
		b2 := use(t, r, b1, a)
		b3 := use(t, r, b2, a)
		if b1 == b2 || b2 == b3 {
			t.Fatal("a request did not get a fresh baton")
		}
		_, _, err := r.take(ctx, b2, a) // a replay: it ends the stream
		wantCode(t, err, 400, CodeBatonReused)
		_, _, err = r.take(ctx, b3, a)
		wantCode(t, err, 400, CodeBatonReused) // the tombstone says why it closed
		if r.Streams() != 0 || r.Tombstones() != 1 {
			t.Errorf("streams %d, tombstones %d; want 0, 1", r.Streams(), r.Tombstones())
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		r := New(nil, Config{})
		b1 := idleStream(t, r, "tenant-a", ReadWrite)
		st, _, err := r.take(ctx, b1, a)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = r.take(ctx, b1, a) // the same baton while its request runs
		wantCode(t, err, 400, CodeBatonReused)
		if r.Streams() != 1 {
			t.Fatal("the running request lost its stream")
		}
		next, fail := r.finish(st, nil, true, false)
		if next != nil || fail != nil || r.Streams() != 0 {
			t.Errorf("finish after a racing baton: baton %v, fail %v, streams %d; want the stream closed", next, fail, r.Streams())
		}
	})
	t.Run("Forged", func(t *testing.T) {
		r := New(nil, Config{})
		b := idleStream(t, r, "tenant-a", ReadWrite)
		forged := New(nil, Config{}).baton("tenant-a", 1, 1) // same id and seq, another key
		_, _, err := r.take(ctx, forged, a)
		wantCode(t, err, 400, CodeBatonInvalid)
		_, _, err = r.take(ctx, "garbage", a)
		wantCode(t, err, 400, CodeBatonInvalid)
		use(t, r, b, a) // a forgery does not end the stream
	})
	t.Run("ForeignTenant", func(t *testing.T) {
		r := New(nil, Config{})
		b := idleStream(t, r, "tenant-a", ReadWrite)
		var told []string
		onB := caller("tenant-b", ReadWrite)
		onB.OnForeignBaton = func(tenant string) { told = append(told, tenant) }
		_, _, err := r.take(ctx, b, onB)
		wantCode(t, err, 400, CodeBatonInvalid)
		if len(told) != 1 || told[0] != "tenant-a" {
			t.Errorf("OnForeignBaton told %v, want [tenant-a]", told)
		}
		use(t, r, b, a) // tenant A's stream is not touched from B's host
		// A forged baton on B is no security event of A's.
		_, _, err = r.take(ctx, New(nil, Config{}).baton("tenant-a", 1, 2), onB)
		wantCode(t, err, 400, CodeBatonInvalid)
		if len(told) != 1 {
			t.Errorf("a forged baton was recorded as tenant A's: %v", told)
		}
	})
	t.Run("ReadOnlyOnWriteStream", func(t *testing.T) {
		r := New(nil, Config{})
		b := idleStream(t, r, "tenant-a", ReadWrite)
		_, _, err := r.take(ctx, b, caller("tenant-a", ReadOnly))
		wantCode(t, err, 403, "PERMISSION_DENIED")
		if r.Streams() != 0 {
			t.Error("the stream outlived the refusal")
		}
	})
	t.Run("Closed", func(t *testing.T) {
		r := New(nil, Config{})
		b := idleStream(t, r, "tenant-a", ReadWrite)
		st, _, err := r.take(ctx, b, a)
		if err != nil {
			t.Fatal(err)
		}
		if next, _ := r.finish(st, errClosed, true, false); next != nil {
			t.Error("a closed stream got a baton")
		}
		_, _, err = r.take(ctx, r.baton("tenant-a", st.id, st.seq), a)
		wantCode(t, err, 400, CodeStreamClosed)
	})
}

func TestRegistry_Reap(t *testing.T) {
	ctx := context.Background()
	a := caller("tenant-a", ReadWrite)
	t.Run("IdleExpiry", func(t *testing.T) {
		clk := newClock()
		r := New(nil, Config{Now: clk.Now})
		b := idleStream(t, r, "tenant-a", ReadWrite)
		clk.Add(DefaultIdleTimeout - time.Millisecond)
		r.Reap()
		b = use(t, r, b, a) // the request resets the idle clock
		clk.Add(DefaultIdleTimeout - time.Millisecond)
		r.Reap()
		if r.Streams() != 1 {
			t.Fatal("expired before its idle timeout since the last request")
		}
		clk.Add(time.Millisecond)
		r.Reap()
		_, _, err := r.take(ctx, b, a)
		wantCode(t, err, 400, CodeStreamExpired)
		if r.Streams() != 0 || r.TenantStreams("tenant-a") != 0 {
			t.Errorf("streams %d, of tenant-a %d after expiry", r.Streams(), r.TenantStreams("tenant-a"))
		}
		clk.Add(DefaultTombstoneTTL)
		r.Reap()
		if r.Tombstones() != 0 {
			t.Error("the tombstone outlived its TTL")
		}
		_, _, err = r.take(ctx, b, a)
		wantCode(t, err, 400, CodeBatonInvalid)
	})
	t.Run("NeverWhileBusy", func(t *testing.T) {
		clk := newClock()
		r := New(nil, Config{Now: clk.Now})
		b := idleStream(t, r, "tenant-a", ReadWrite)
		st, _, err := r.take(ctx, b, a)
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
		r.Reap()
		next, fail := r.finish(st, nil, true, false)
		if next == nil || fail != nil {
			t.Fatalf("a stream expired under its running request: %v %v", next, fail)
		}
		clk.Add(DefaultIdleTimeout / 2)
		r.Reap()
		use(t, r, *next, a)
	})
	t.Run("TombstonesBounded", func(t *testing.T) {
		clk := newClock()
		r := New(nil, Config{Now: clk.Now, MaxTombstones: 3})
		var batons []string
		for range 5 {
			batons = append(batons, idleStream(t, r, "tenant-a", ReadWrite))
		}
		clk.Add(DefaultIdleTimeout)
		r.Reap()
		if r.Tombstones() != 3 {
			t.Errorf("%d tombstones, want the bound, 3", r.Tombstones())
		}
		expired := 0
		for _, b := range batons {
			_, _, err := r.take(ctx, b, a)
			if he, ok := err.(*HTTPError); ok && he.Code == CodeStreamExpired {
				expired++
			} else {
				wantCode(t, err, 400, CodeBatonInvalid) // its tombstone made room
			}
		}
		if expired != 3 {
			t.Errorf("%d batons answer STREAM_EXPIRED, want the 3 tombstones kept", expired)
		}
	})
}

func TestRegistry_Bounds(t *testing.T) {
	ctx := context.Background()
	r := New(nil, Config{MaxStreams: 3, MaxTenantStreams: 2})
	idleStream(t, r, "tenant-a", ReadWrite)
	idleStream(t, r, "tenant-a", ReadWrite)
	_, _, err := r.open(ctx, caller("tenant-a", ReadWrite))
	wantCode(t, err, http.StatusServiceUnavailable, "TOO_MANY_STREAMS")
	idleStream(t, r, "tenant-b", ReadWrite)
	_, _, err = r.open(ctx, caller("tenant-c", ReadWrite))
	wantCode(t, err, http.StatusServiceUnavailable, "TOO_MANY_STREAMS")
	if he := err.(*HTTPError); he.RetryAfter <= 0 {
		t.Error("no Retry-After")
	}
	if r.Streams() != 3 || r.TenantStreams("tenant-a") != 2 {
		t.Errorf("refusals changed the counts: %d, %d", r.Streams(), r.TenantStreams("tenant-a"))
	}
	r.closeAll()
	if r.Streams() != 0 {
		t.Errorf("%d streams after closeAll", r.Streams())
	}
	_, _, err = r.open(ctx, caller("tenant-a", ReadWrite))
	wantCode(t, err, http.StatusServiceUnavailable, "SERVER_SHUTTING_DOWN")
}

// A handler that panics while it holds a stream ends the stream (the
// panic goes on to the server's recovery).
func TestRegistry_RecoverStream(t *testing.T) {
	r := New(nil, Config{})
	b := idleStream(t, r, "tenant-a", ReadWrite)
	st, _, err := r.take(context.Background(), b, caller("tenant-a", ReadWrite))
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		defer r.recoverStream(st)
		panic("a bug")
	}()
	if r.Streams() != 0 {
		t.Errorf("%d streams after a panic", r.Streams())
	}
	if next, fail := r.finish(st, nil, true, false); next != nil || fail != nil {
		t.Error("a second finish did something")
	}
}

// A node's batons name it; another node's baton (its request routed
// here after the region's nodes changed) is STREAM_EXPIRED, so the
// client opens a new stream, not BATON_INVALID as if forged.
func TestBaton_NamesItsNode(t *testing.T) {
	r := New(nil, Config{NodeID: "node-a"})
	b := idleStream(t, r, "tenant-a", ReadWrite)
	if !strings.HasPrefix(b, "node-a.") || BatonNode(b) != "node-a" {
		t.Fatalf("baton %q names node %q", b, BatonNode(b))
	}
	next := use(t, r, b, caller("tenant-a", ReadWrite)) // its own node takes it
	if BatonNode(next) != "node-a" {
		t.Fatalf("next baton %q", next)
	}
	other := New(nil, Config{NodeID: "node-b"})
	_, _, err := other.take(context.Background(), next, caller("tenant-a", ReadWrite))
	wantCode(t, err, 400, CodeStreamExpired)
	if BatonNode("plainbaton") != "" {
		t.Error("a baton without a node names one")
	}
}
