// Package usage counts what each tenant uses (requests, errors, latency,
// bytes in and out, libSQL statements, last activity) in memory, without
// a lock on the request path, and flushes it to the catalog's usage_daily
// table, where an operator bills from and the stats API reads.
//
// A Meter is shared by the HTTP server, which records, and a loop serve
// owns (Meter.Run), which flushes each minute and once more when it
// stops: a SIGTERM loses nothing, a kill -9 at most the last minute.
package usage

import (
	"sync"
	"sync/atomic"
	"time"
)

// DefaultFlushEvery is how often Run writes the counts to the catalog.
const DefaultFlushEvery = time.Minute

// counts is one tenant's usage since the last flush. Made once per tenant
// and kept (10,000 tenants cost a few MB), so recording only adds.
type counts struct {
	requests, errors4xx, errors5xx atomic.Int64
	bytesIn, bytesOut, statements  atomic.Int64
	lastActive                     atomic.Int64 // Unix nanoseconds; 0: none since the flush
	latency                        histogram
}

// Meter counts usage per tenant. Its methods are safe for concurrent use.
type Meter struct {
	tenants sync.Map // tenant id → *counts
	now     func() time.Time
}

// New returns an empty meter reading the clock now (nil: time.Now).
func New(now func() time.Time) *Meter {
	if now == nil {
		now = time.Now
	}
	return &Meter{now: now}
}

func (m *Meter) counts(id string) *counts {
	if c, ok := m.tenants.Load(id); ok {
		return c.(*counts)
	}
	c, _ := m.tenants.LoadOrStore(id, new(counts))
	return c.(*counts)
}

// Request records one request of tenant id that ended at end: its
// status, how long it took and its body sizes. (The caller has read the
// clock already; reading it again costs as much as the rest.)
func (m *Meter) Request(id string, end time.Time, status int, took time.Duration, in, out int64) {
	c := m.counts(id)
	c.requests.Add(1)
	switch {
	case status >= 500:
		c.errors5xx.Add(1)
	case status >= 400:
		c.errors4xx.Add(1)
	}
	if in > 0 {
		c.bytesIn.Add(in)
	}
	if out > 0 {
		c.bytesOut.Add(out)
	}
	c.latency.observe(took)
	c.lastActive.Store(end.UnixNano())
}

// Statements records n libSQL statements run for tenant id.
func (m *Meter) Statements(id string, n int) {
	if n > 0 {
		m.counts(id).statements.Add(int64(n))
	}
}

// Delta is what one tenant used since the last flush.
type Delta struct {
	TenantID                       string
	Requests, Errors4xx, Errors5xx int64
	BytesIn, BytesOut, Statements  int64
	Latency                        []int64 // per bucket of Bounds
	LastActive                     time.Time
}

// drain takes every tenant's counts since the last call, zeroing them;
// tenants with nothing new are left out. A request recorded while it
// runs lands in this delta or the next, never in neither.
func (m *Meter) drain() []Delta {
	var out []Delta
	m.tenants.Range(func(k, v any) bool {
		c := v.(*counts)
		last := c.lastActive.Swap(0)
		stmts := c.statements.Swap(0)
		if last == 0 && stmts == 0 {
			return true
		}
		d := Delta{TenantID: k.(string), Requests: c.requests.Swap(0), Errors4xx: c.errors4xx.Swap(0),
			Errors5xx: c.errors5xx.Swap(0), BytesIn: c.bytesIn.Swap(0), BytesOut: c.bytesOut.Swap(0),
			Statements: stmts, Latency: c.latency.drain()}
		if last != 0 {
			d.LastActive = time.Unix(0, last).UTC()
		}
		out = append(out, d)
		return true
	})
	return out
}

// Pending returns what tenant id used since the last flush, without
// taking it (the stats API adds it to today's row).
func (m *Meter) Pending(id string) (Delta, bool) {
	v, ok := m.tenants.Load(id)
	if !ok {
		return Delta{}, false
	}
	c := v.(*counts)
	d := Delta{TenantID: id, Requests: c.requests.Load(), Errors4xx: c.errors4xx.Load(), Errors5xx: c.errors5xx.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(), Statements: c.statements.Load(), Latency: c.latency.peek()}
	if last := c.lastActive.Load(); last != 0 {
		d.LastActive = time.Unix(0, last).UTC()
	}
	return d, d.Requests > 0 || d.Statements > 0
}

// Active counts the tenants with usage not flushed yet.
func (m *Meter) Active() int {
	n := 0
	m.tenants.Range(func(_, v any) bool {
		if v.(*counts).lastActive.Load() != 0 {
			n++
		}
		return true
	})
	return n
}
