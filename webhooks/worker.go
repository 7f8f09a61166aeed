package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/metrics"
)

// Defaults of a Config.
const (
	DefaultConcurrency = 64
	DefaultTimeout     = 10 * time.Second
	DefaultRetryFor    = 24 * time.Hour
	DefaultBatch       = 100
	// firstRetry is the delay after a first failure; each further failure
	// doubles it, up to maxRetryDelay, with jitter.
	firstRetry    = 5 * time.Second
	maxRetryDelay = time.Hour
)

// Opener gives the worker one tenant's database (through the server's
// pool) for the time of a batch.
type Opener interface {
	OpenTenant(ctx context.Context, id string) (condo.DB, func(), error)
}

// Config wires a Worker.
type Config struct {
	Tenants Opener
	// Known lists, at start, the tenants that have endpoints (from the
	// catalog), so their pending deliveries resume after a restart
	// without opening every tenant's database.
	Known func(ctx context.Context) ([]string, error)
	// Written lists the tenants whose outbox another process (an
	// operator command) wrote to at or after since; the worker asks every
	// refreshKnown, so such events go out within that.
	Written func(ctx context.Context, since time.Time) ([]string, error)
	// Platform is the catalog's database (platform endpoints); nil skips
	// the platform's outbox.
	Platform     condo.DB
	AllowPrivate bool          // --webhooks-allow-private
	Concurrency  int           // outboxes worked on at once (each holds a pool handle); default DefaultConcurrency
	Timeout      time.Duration // per request; default DefaultTimeout
	RetryFor     time.Duration // a delivery fails after retrying this long; default DefaultRetryFor
	// FirstRetry overrides the first retry delay (tests); 0 is firstRetry.
	FirstRetry time.Duration
	UserAgent  string
	Logger     *slog.Logger
}

// Worker delivers pending deliveries. `condo serve` runs Run as one of
// its jobs; Run owns every goroutine the worker starts.
//
// It knows which outboxes may have work without scanning the fleet: the
// Known tenants when it starts, then those Wake names (writers call it
// after their commit), then each outbox again when its next retry is due.
type Worker struct {
	cfg    Config
	client *http.Client
	wakeup chan struct{}
	// writtenSince is when loadWritten last looked; only Run's loop
	// touches it.
	writtenSince time.Time

	mu    sync.Mutex           // guards the maps below
	known map[string]bool      // tenants with endpoints: their writes wake the worker
	dirty map[string]bool      // outboxes to look at now
	depth map[string]int       // pending deliveries of each outbox, last seen
	prune map[string]time.Time // when each outbox was last pruned
}

// Keep is how long finished deliveries (delivered or failed), and events
// no pending delivery needs, stay visible in GET .../deliveries. An
// outbox is pruned at most once an hour, when the worker works on it.
const Keep = 7 * 24 * time.Hour

// refreshKnown is how often the worker rereads Known: a tenant that gains
// its first endpoint on another node is known here that much later.
const refreshKnown = 30 * time.Second

// NewWorker builds a worker; it starts nothing.
func NewWorker(cfg Config) *Worker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = DefaultRetryFor
	}
	if cfg.FirstRetry <= 0 {
		cfg.FirstRetry = firstRetry
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Condo-Webhooks/1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{cfg: cfg, client: NewClient(cfg.Timeout, cfg.AllowPrivate), wakeup: make(chan struct{}, 1),
		known: map[string]bool{}, dirty: map[string]bool{}, depth: map[string]int{}, prune: map[string]time.Time{}}
}

func (w *Worker) wake(key string, enable bool) {
	w.mu.Lock()
	if enable {
		w.known[key] = true
	} else if key != PlatformKey && !w.known[key] {
		w.mu.Unlock()
		return
	}
	w.dirty[key] = true
	w.mu.Unlock()
	select {
	case w.wakeup <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the attempts in flight
// (each bounded by the request timeout).
func (w *Worker) Run(ctx context.Context) {
	register(w)
	defer unregister(w)
	if w.cfg.Platform != nil {
		w.wake(PlatformKey, true)
	}
	w.loadKnown(ctx)
	w.writtenSince = time.Now()
	refresh := time.NewTicker(refreshKnown)
	defer refresh.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	seen := map[string]bool{}     // outboxes worked on at least once; only this loop touches it
	retry := map[string]bool{}    // outboxes whose pending deliveries came due; only this loop touches it
	busy := map[string]bool{}     // outboxes a goroutine works on; only this loop touches it
	due := map[string]time.Time{} // outboxes' next retry; only this loop touches it
	type result struct {
		key  string
		next time.Time // zero: nothing pending
		more bool      // the batch was full
	}
	done := make(chan result)
	sem := make(chan struct{}, w.cfg.Concurrency)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		w.mu.Lock()
		for k, at := range due {
			if !at.After(now) {
				w.dirty[k] = true
				retry[k] = true
				delete(due, k)
			}
		}
		var ready []string
		for k := range w.dirty {
			if !busy[k] {
				ready = append(ready, k)
				delete(w.dirty, k)
			}
		}
		w.mu.Unlock()
	start:
		for i, k := range ready {
			select {
			case sem <- struct{}{}:
			default:
				// Full: the rest wait for a slot.
				w.mu.Lock()
				for _, k := range ready[i:] { // known already: they were dirty
					w.dirty[k] = true
				}
				w.mu.Unlock()
				break start
			}
			busy[k] = true
			// The pending count after the batch is needed only when
			// retries may wait in the outbox: a retry was scheduled, or
			// the outbox is seen for the first time (after a restart).
			_, scheduled := due[k]
			recount := scheduled || retry[k] || !seen[k]
			seen[k] = true
			delete(retry, k)
			delete(due, k)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				next, more := w.work(ctx, k, recount)
				select {
				case done <- result{k, next, more}:
				case <-ctx.Done():
				}
			}()
		}
		next := time.Now().Add(time.Hour)
		for _, at := range due {
			if at.Before(next) {
				next = at
			}
		}
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-w.wakeup:
		case <-timer.C:
		case <-refresh.C:
			w.loadKnown(ctx)
			w.loadWritten(ctx)
		case r := <-done:
			delete(busy, r.key)
			if r.more {
				w.wake(r.key, true)
			} else if !r.next.IsZero() {
				due[r.key] = r.next
			}
		}
	}
}

// loadKnown reads the tenants with endpoints and looks at the outbox of
// each it did not know yet.
func (w *Worker) loadKnown(ctx context.Context) {
	if w.cfg.Known == nil {
		return
	}
	ids, err := w.cfg.Known(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.cfg.Logger.Error("webhooks: list the tenants with endpoints", "err", err)
		}
		return
	}
	w.mu.Lock()
	var fresh []string
	for _, id := range ids {
		if !w.known[id] {
			fresh = append(fresh, id)
		}
	}
	w.mu.Unlock()
	for _, id := range fresh {
		w.wake(id, true)
	}
}

// loadWritten wakes the outboxes other processes wrote to since the last
// look, the platform's among them (its check is one query on the
// catalog): operator commands write events the worker hears of no other
// way. Only Run calls it.
func (w *Worker) loadWritten(ctx context.Context) {
	if w.cfg.Platform != nil {
		w.wake(PlatformKey, true)
	}
	if w.cfg.Written == nil {
		return
	}
	since := w.writtenSince.Add(-time.Second) // a write and its note may straddle the look
	w.writtenSince = time.Now()
	ids, err := w.cfg.Written(ctx, since)
	if err != nil {
		if ctx.Err() == nil {
			w.cfg.Logger.Error("webhooks: list the outboxes written by other processes", "err", err)
		}
		return
	}
	for _, id := range ids {
		w.wake(id, true)
	}
}

// work sends one batch of key's due deliveries and records the attempts.
// It returns when the next pending one is due (zero: none) and whether
// the batch was full.
//
// recount asks for the count of what stays pending even when every
// attempt succeeded; without it, and without a failure, nothing is
// pending but what was written since, whose writers wake the worker.
func (w *Worker) work(ctx context.Context, key string, recount bool) (next time.Time, more bool) {
	scope, db, release, err := w.open(ctx, key)
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return time.Time{}, false
		case condo.ErrorCode(err) == condo.ENOTFOUND || condo.ErrorCode(err) == condo.EGONE || condo.ErrorReason(err) == "tenant_moved":
			// Deleted, archived or served elsewhere: its deliveries wait
			// in its database until it is written here again.
			w.cfg.Logger.Debug("webhooks: outbox not served here", "tenant", key, "err", err)
			return time.Time{}, false
		}
		w.cfg.Logger.Warn("webhooks: open the outbox", "tenant", key, "err", err)
		return time.Now().Add(time.Minute), false
	}
	defer release()
	due, err := dueDeliveries(ctx, db, scope, DefaultBatch)
	if err != nil {
		if ctx.Err() == nil && !noTables(err) {
			w.cfg.Logger.Warn("webhooks: read the outbox", "tenant", key, "err", err)
			return time.Now().Add(time.Minute), false
		}
		return time.Time{}, false
	}
	results := make([]Attempt, len(due))
	var wg sync.WaitGroup
	lanes := make(chan struct{}, 8) // one slow endpoint does not hold a tenant's others back for long
	for i, d := range due {
		lanes <- struct{}{}
		wg.Go(func() {
			defer func() { <-lanes }()
			results[i] = send(ctx, w.client, d.message, w.cfg.UserAgent)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		// Shutting down: an attempt cut short is no failure of the
		// endpoint's. Only what the endpoint answered (delivered or
		// refused) is recorded; the rest stays pending as it was, for the
		// next start.
		kept := due[:0:0]
		var keptResults []Attempt
		for i, d := range due {
			if results[i].StatusCode != 0 {
				kept, keptResults = append(kept, d), append(keptResults, results[i])
			}
		}
		due, results = kept, keptResults
	}
	if err := w.record(context.WithoutCancel(ctx), db, scope, due, results); err != nil {
		w.cfg.Logger.Warn("webhooks: record attempts", "tenant", key, "err", err)
	}
	if w.duePrune(key) {
		if err := prune(ctx, db, scope, time.Now().Add(-Keep)); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn("webhooks: prune the outbox", "tenant", key, "err", err)
		}
	}
	failed := false
	for _, a := range results {
		failed = failed || a.Error != ""
	}
	if !recount && !failed && len(due) < DefaultBatch {
		w.setDepth(key, 0)
		return time.Time{}, false
	}
	pending, nextAt, err := pendingState(ctx, db, scope)
	if err == nil {
		w.setDepth(key, pending)
		if pending > 0 {
			next = nextAt
		}
	}
	return next, len(due) == DefaultBatch
}

func (w *Worker) open(ctx context.Context, key string) (Scope, condo.DB, func(), error) {
	if key == PlatformKey {
		if w.cfg.Platform == nil {
			return Scope{}, nil, nil, condo.Errorf(condo.ENOTFOUND, "no platform outbox")
		}
		return Platform, w.cfg.Platform, func() {}, nil
	}
	db, release, err := w.cfg.Tenants.OpenTenant(ctx, key)
	return Tenant, db, release, err
}

func (w *Worker) setDepth(key string, n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n == 0 {
		delete(w.depth, key)
	} else {
		w.depth[key] = n
	}
	total := 0
	for _, v := range w.depth {
		total += v
	}
	metrics.WebhookOutboxDepth.Set(float64(total))
}

// duePrune reports whether key's outbox was last pruned over an hour ago
// (or never, in this process), and records that it is now.
func (w *Worker) duePrune(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.prune[key]) < time.Hour {
		return false
	}
	w.prune[key] = time.Now()
	return true
}

// prune deletes finished deliveries last changed before cutoff, and the
// events older than cutoff that no delivery refers to any more.
func prune(ctx context.Context, db condo.DB, s Scope, cutoff time.Time) error {
	return db.Transact(ctx, func(tx *sql.Tx) error {
		ms := condo.UnixMS(cutoff)
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+s.table("webhook_deliveries")+" WHERE state != 'pending' AND updated_at < ?", ms); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM "+s.table("webhook_events")+" WHERE created_at < ? AND id NOT IN (SELECT event_id FROM "+
			s.table("webhook_deliveries")+")", ms)
		return err
	})
}

// due is one pending delivery with what its attempt needs.
type due struct {
	id       string
	attempts int
	queued   time.Time
	created  time.Time // the event's
	message
}

func dueDeliveries(ctx context.Context, db condo.DB, s Scope, limit int) ([]due, error) {
	q := "SELECT d.id, d.attempts, d.queued_at, e.id, e.payload, e.created_at, w.url, w.secret FROM " +
		s.table("webhook_deliveries") + " d JOIN " + s.table("webhook_events") + " e ON e.id = d.event_id JOIN " + s.table("webhooks") +
		" w ON w.id = d.webhook_id WHERE d.state = 'pending' AND d.next_at <= ? AND w.active = 1 ORDER BY d.next_at LIMIT ?"
	var rows *sql.Rows
	var err error
	if st := db.ReadStmt(ctx, q); st != nil { // kept prepared: this runs for every batch
		rows, err = st.QueryContext(ctx, condo.UnixMS(time.Now()), limit)
	} else {
		rows, err = db.Reader().QueryContext(ctx, q, condo.UnixMS(time.Now()), limit)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []due
	for rows.Next() {
		var d due
		var queued, created int64
		var body string
		if err := rows.Scan(&d.id, &d.attempts, &queued, &d.eventID, &body, &created, &d.url, &d.secret); err != nil {
			return nil, err
		}
		d.body, d.queued, d.created = []byte(body), condo.FromUnixMS(queued), condo.FromUnixMS(created)
		out = append(out, d)
	}
	return out, rows.Err()
}

func pendingState(ctx context.Context, db condo.DB, s Scope) (n int, next time.Time, err error) {
	var at sql.NullInt64
	err = db.QueryRow(ctx, "SELECT count(*), min(d.next_at) FROM "+s.table("webhook_deliveries")+" d JOIN "+s.table("webhooks")+
		" w ON w.id = d.webhook_id WHERE d.state = 'pending' AND w.active = 1").Scan(&n, &at)
	return n, condo.FromUnixMS(at.Int64), err
}

// record stores the attempts in one transaction: delivered, retried after
// a backoff, or failed past RetryFor. A delivery deleted meanwhile (its
// endpoint was) is not recreated.
func (w *Worker) record(ctx context.Context, db condo.DB, s Scope, list []due, results []Attempt) error {
	if len(list) == 0 {
		return nil
	}
	now := time.Now()
	return db.Transact(ctx, func(tx *sql.Tx) error {
		for i, d := range list {
			a := results[i]
			state, next := StateDelivered, now
			if a.Error != "" {
				state, next = StatePending, now.Add(w.backoff(d.attempts+1))
				if next.Sub(d.queued) > w.cfg.RetryFor {
					state = StateFailed
				}
			}
			metrics.WebhookDeliveries.WithLabelValues(resultLabel(state, a)).Inc()
			if state == StateDelivered {
				metrics.WebhookLatency.Observe(now.Sub(d.created).Seconds())
			}
			entry, _ := json.Marshal(a)
			_, err := db.ExecTx(ctx, tx, "UPDATE "+s.table("webhook_deliveries")+` SET state = ?, attempts = attempts + 1, next_at = ?, updated_at = ?,
				log = json_insert(CASE WHEN json_array_length(log) >= ? THEN json_remove(log, '$[0]') ELSE log END, '$[#]', json(?)) WHERE id = ?`,
				state, condo.UnixMS(next), condo.UnixMS(now), maxLog, string(entry), d.id)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// backoff is the delay before attempt n+1 after n failures: FirstRetry
// doubled each time up to an hour, times a jitter of 0.5 to 1.5 so that
// endpoints failing together do not retry together.
func (w *Worker) backoff(n int) time.Duration {
	d := w.cfg.FirstRetry
	for i := 1; i < n && d < maxRetryDelay; i++ {
		d *= 2
	}
	d = min(d, maxRetryDelay)
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

func resultLabel(state string, a Attempt) string {
	switch {
	case state == StateDelivered:
		return "delivered"
	case state == StateFailed:
		return "failed"
	case a.StatusCode == 0:
		return "error"
	default:
		return "rejected"
	}
}

func noTables(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}
