package auth

import (
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Throttle counts attempts per key with a token bucket: burst attempts at
// once, then one per interval. It remembers a bounded number of keys (the
// least recently seen are forgotten first), so a flood of distinct keys
// costs bounded memory. It is per process: behind several servers, each
// enforces its own limits.
type Throttle struct {
	mu    sync.Mutex
	keys  *simplelru.LRU[string, *rate.Limiter]
	every rate.Limit
	burst int
	// Now is the clock (nil: time.Now); tests inject one, so that a slow
	// machine's refills cannot decide them.
	Now func() time.Time
}

// NewThrottle allows burst attempts per key, refilled one per interval.
func NewThrottle(burst int, interval time.Duration, maxKeys int) *Throttle {
	keys, _ := simplelru.NewLRU[string, *rate.Limiter](maxKeys, nil)
	return &Throttle{keys: keys, every: rate.Every(interval), burst: burst}
}

func (t *Throttle) now() time.Time {
	if t.Now == nil {
		return time.Now()
	}
	return t.Now()
}

func (t *Throttle) limiter(key string) *rate.Limiter {
	l, ok := t.keys.Get(key)
	if !ok {
		l = rate.NewLimiter(t.every, t.burst)
		t.keys.Add(key, l)
	}
	return l
}

// Wait returns how long key must wait before its next attempt; zero when
// it may go now. It spends nothing.
func (t *Throttle) Wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, ok := t.keys.Peek(key)
	if !ok {
		return 0
	}
	now := t.now()
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) / float64(t.every) * float64(time.Second)))
}

// Hit spends one attempt of key and reports whether that used its last one
// (the moment a lockout starts).
func (t *Throttle) Hit(key string) (exhausted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.limiter(key)
	now := t.now()
	l.AllowN(now, 1)
	return l.TokensAt(now) < 1
}

// Reset forgets key (a successful login clears its failures).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keys.Remove(key)
}

// Sampler lets one event per key through each interval and counts the
// ones it holds back, so a flood of identical events (one client's forged
// tokens on one tenant) costs one write per interval, and the row written
// says how many it stands for. Like Throttle it remembers a bounded number
// of keys and is per process.
type Sampler struct {
	mu    sync.Mutex // guards keys and what they point at
	keys  *simplelru.LRU[string, *sample]
	every time.Duration
	now   func() time.Time
}

type sample struct {
	last time.Time // when an event of the key last went through
	held int       // events held back since
}

// NewSampler lets one event per key through each interval.
func NewSampler(interval time.Duration, maxKeys int) *Sampler {
	keys, _ := simplelru.NewLRU[string, *sample](maxKeys, nil)
	return &Sampler{keys: keys, every: interval, now: time.Now}
}

// Allow reports whether an event of key may be recorded now and, when it
// may, how many events of key were held back since the last one recorded.
func (s *Sampler) Allow(key string) (ok bool, held int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e, seen := s.keys.Get(key)
	if !seen {
		s.keys.Add(key, &sample{last: now})
		return true, 0
	}
	if now.Sub(e.last) < s.every {
		e.held++
		return false, 0
	}
	held, e.last, e.held = e.held, now, 0
	return true, held
}
