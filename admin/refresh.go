package admin

import (
	"sync"
	"time"
)

// tokenPair is what POST /auth/refresh answers.
type tokenPair struct {
	Token        string `json:"token"`
	RefreshToken string `json:"refresh_token"`
}

// refresher makes one refresh per refresh token on this node. A browser
// often asks for two pages at once (a page and its htmx poll) when the
// access token is about to expire; both present the same refresh token,
// and spending it twice would look like a stolen token to the API, which
// ends the session. The first asks the API; the others wait for it and
// take its answer, which is kept for a short grace period.
type refresher struct {
	now func() time.Time
	mu  sync.Mutex // guards done and running
	// done maps a spent refresh token to the pair it was exchanged for.
	done map[string]refreshed
	// running maps a refresh token being exchanged to its waiters' signal.
	running map[string]chan struct{}
}

type refreshed struct {
	pair tokenPair
	err  error
	at   time.Time
}

// refreshGrace is how long a spent refresh token's new pair is handed to
// late requests that still carried the old one.
const refreshGrace = 30 * time.Second

// maxRefreshed bounds the kept answers: beyond it the oldest are dropped.
const maxRefreshed = 10_000

func newRefresher(now func() time.Time) *refresher {
	return &refresher{now: now, done: map[string]refreshed{}, running: map[string]chan struct{}{}}
}

// refresh exchanges token with fn once, however many ask at once.
func (r *refresher) refresh(token string, fn func() (tokenPair, error)) (tokenPair, error) {
	r.mu.Lock()
	for {
		if d, ok := r.done[token]; ok && r.now().Sub(d.at) < refreshGrace {
			r.mu.Unlock()
			return d.pair, d.err
		}
		wait, ok := r.running[token]
		if !ok {
			break
		}
		r.mu.Unlock()
		<-wait
		r.mu.Lock()
	}
	wait := make(chan struct{})
	r.running[token] = wait
	r.mu.Unlock()

	pair, err := fn()

	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, token)
	close(wait)
	r.prune()
	r.done[token] = refreshed{pair: pair, err: err, at: r.now()}
	return pair, err
}

// prune drops the answers past their grace period, and all of them when
// too many are kept (a burst of sign-ins): a late request then signs in
// again rather than the node's memory growing.
func (r *refresher) prune() {
	now := r.now()
	for k, d := range r.done {
		if now.Sub(d.at) >= refreshGrace || len(r.done) >= maxRefreshed {
			delete(r.done, k)
		}
	}
}
