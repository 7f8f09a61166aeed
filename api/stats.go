package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/usage"
)

// Bounds of GET /platform/tenants/:id/stats.
const (
	DefaultStatsDays = 30  // without ?from: the last 30 days, today included
	MaxStatsDays     = 366 // a year, leap or not
)

func (s *Server) platformStatsRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {
	e.Match(readMethods, "/platform/stats", with(s.getPlatformStats, admin))
	e.Match(readMethods, "/platform/tenants/:id/stats", with(s.getTenantStats, admin))
	e.Match(readMethods, "/platform/stats/usage", with(s.getFleetUsage, admin))
}

// FleetUsage is the answer of GET /platform/stats/usage: every tenant's
// flushed usage summed per day.
type FleetUsage struct {
	From string             `json:"from"`
	To   string             `json:"to"`
	Days []catalog.FleetDay `json:"days"` // days with usage only, oldest first
}

// getFleetUsage serves GET /platform/stats/usage?from=&to= (the days of
// GET /platform/tenants/:id/stats): the fleet's usage per day, as the
// catalog holds it (what nodes have not flushed yet is not in it).
func (s *Server) getFleetUsage(c echo.Context) error {
	from, to, err := statsRange(c, time.Now().UTC())
	if err != nil {
		return err
	}
	days, err := s.catalog.FleetUsage(c.Request().Context(), from, to)
	if err != nil {
		return err
	}
	if days == nil {
		days = []catalog.FleetDay{}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": FleetUsage{From: from, To: to, Days: days}})
}

// UsageStats is one day of a tenant's usage, or the sum of a range, as
// the stats API answers it: the catalog's row with its latency buckets
// read as percentiles.
type UsageStats struct {
	Day         string     `json:"day,omitempty"`
	Requests    int64      `json:"requests"`
	Errors4xx   int64      `json:"errors_4xx"`
	Errors5xx   int64      `json:"errors_5xx"`
	BytesIn     int64      `json:"bytes_in"`
	BytesOut    int64      `json:"bytes_out"`
	Statements  int64      `json:"statements"`
	P50Ms       float64    `json:"p50_ms"`
	P99Ms       float64    `json:"p99_ms"`
	BytesStored *int64     `json:"bytes_stored"` // the last gathered (database and media files)
	Users       *int64     `json:"users"`
	Items       *int64     `json:"items"`
	LastActive  *time.Time `json:"last_active"`
}

// TenantStats is the answer of GET /platform/tenants/:id/stats.
type TenantStats struct {
	TenantID string       `json:"tenant_id"`
	From     string       `json:"from"`
	To       string       `json:"to"`
	Days     []UsageStats `json:"days"`   // days with usage only, oldest first
	Totals   UsageStats   `json:"totals"` // over the range; gauges the latest
}

// getTenantStats serves GET /platform/tenants/:id/stats?from=&to= (UTC
// days, YYYY-MM-DD, both included; default the last 30 days). What this
// node counted and has not flushed yet is added to today's row.
func (s *Server) getTenantStats(c echo.Context) error {
	id := c.Param("id")
	if err := condo.ValidateTenantID(id); err != nil {
		return err
	}
	from, to, err := statsRange(c, time.Now().UTC())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rows, err := s.catalog.Usage(ctx, id, from, to)
	if err != nil {
		return err
	}
	if len(rows) == 0 { // no usage, or no such tenant: a deleted one's usage stays readable
		if _, err := s.catalog.Lookup(ctx, id); err != nil {
			return err
		}
	}
	rows = s.withPending(id, rows, from, to)
	out := TenantStats{TenantID: id, From: from, To: to, Days: make([]UsageStats, 0, len(rows))}
	var all []int64
	for _, r := range rows {
		out.Days = append(out.Days, usageStats(r, r.Latency))
		t := &out.Totals
		t.Requests += r.Requests
		t.Errors4xx += r.Errors4xx
		t.Errors5xx += r.Errors5xx
		t.BytesIn += r.BytesIn
		t.BytesOut += r.BytesOut
		t.Statements += r.Statements
		t.BytesStored, t.Users, t.Items = latest(t.BytesStored, r.BytesStored), latest(t.Users, r.Users), latest(t.Items, r.Items)
		if r.LastActive != nil {
			t.LastActive = r.LastActive
		}
		for len(all) < len(r.Latency) {
			all = append(all, 0)
		}
		for i, n := range r.Latency {
			all[i] += n
		}
	}
	out.Totals.P50Ms, out.Totals.P99Ms = ms(usage.Quantile(all, .5)), ms(usage.Quantile(all, .99))
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// withPending adds what this node has not flushed yet to today's row.
func (s *Server) withPending(id string, rows []catalog.UsageDay, from, to string) []catalog.UsageDay {
	if s.usage == nil {
		return rows
	}
	d, ok := s.usage.Pending(id)
	if !ok {
		return rows
	}
	today := time.Now().UTC().Format(catalog.DayFormat)
	if today < from || today > to {
		return rows
	}
	if len(rows) == 0 || rows[len(rows)-1].Day != today {
		rows = append(rows, catalog.UsageDay{TenantID: id, Day: today})
	}
	r := &rows[len(rows)-1]
	r.Requests += d.Requests
	r.Errors4xx += d.Errors4xx
	r.Errors5xx += d.Errors5xx
	r.BytesIn += d.BytesIn
	r.BytesOut += d.BytesOut
	r.Statements += d.Statements
	lat := append([]int64(nil), r.Latency...)
	for len(lat) < len(d.Latency) {
		lat = append(lat, 0)
	}
	for i, n := range d.Latency {
		lat[i] += n
	}
	r.Latency = lat
	if !d.LastActive.IsZero() && (r.LastActive == nil || d.LastActive.After(*r.LastActive)) {
		last := d.LastActive
		r.LastActive = &last
	}
	return rows
}

func latest(had, v *int64) *int64 {
	if v != nil {
		return v
	}
	return had
}

func usageStats(r catalog.UsageDay, latency []int64) UsageStats {
	return UsageStats{Day: r.Day, Requests: r.Requests, Errors4xx: r.Errors4xx, Errors5xx: r.Errors5xx, BytesIn: r.BytesIn,
		BytesOut: r.BytesOut, Statements: r.Statements, P50Ms: ms(usage.Quantile(latency, .5)), P99Ms: ms(usage.Quantile(latency, .99)),
		BytesStored: r.BytesStored, Users: r.Users, Items: r.Items, LastActive: r.LastActive}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// statsRange reads ?from and ?to: UTC days, from not after to, at most
// MaxStatsDays apart.
func statsRange(c echo.Context, now time.Time) (from, to string, err error) {
	day := func(name string, def time.Time) (time.Time, error) {
		v := c.QueryParam(name)
		if v == "" {
			return def, nil
		}
		t, err := time.Parse(catalog.DayFormat, v)
		if err != nil {
			return t, condo.ReasonErrorf(condo.EINVALID, "invalid_date", "%s must be a day as YYYY-MM-DD, got %q", name, condo.Clip(v))
		}
		return t, nil
	}
	t, err := day("to", now.Truncate(24*time.Hour))
	if err != nil {
		return "", "", err
	}
	f, err := day("from", t.AddDate(0, 0, 1-DefaultStatsDays))
	if err != nil {
		return "", "", err
	}
	if f.After(t) {
		return "", "", condo.ReasonErrorf(condo.EINVALID, "invalid_range", "from (%s) is after to (%s)", f.Format(catalog.DayFormat), t.Format(catalog.DayFormat))
	}
	if t.Sub(f) >= MaxStatsDays*24*time.Hour {
		return "", "", condo.ReasonErrorf(condo.EINVALID, "invalid_range", "from and to are at most %d days apart", MaxStatsDays)
	}
	return f.Format(catalog.DayFormat), t.Format(catalog.DayFormat), nil
}

// PlatformStats is the answer of GET /platform/stats: the fleet as this
// node and the catalog see it.
type PlatformStats struct {
	Tenants map[string]int `json:"tenants"` // by status
	// ActiveToday counts tenants with requests flushed today (by every
	// node); Unflushed, tenants with requests this node has not flushed
	// yet (at most a minute's worth).
	ActiveToday int `json:"active_today"`
	Unflushed   int `json:"unflushed"`
	Pool        struct {
		Size       int     `json:"size"`
		Open       int     `json:"open"`
		Draining   int     `json:"draining"`
		Hits       int64   `json:"hits"`
		Misses     int64   `json:"misses"`
		HitRate    float64 `json:"hit_rate"`
		Opens      int64   `json:"opens"`
		Evictions  int64   `json:"evictions"`
		OpenMeanMs float64 `json:"open_mean_ms"` // mean time to open a database
	} `json:"pool"`
	Resolve struct {
		Hits    int64   `json:"hits"`
		Misses  int64   `json:"misses"`
		HitRate float64 `json:"hit_rate"`
	} `json:"resolve_cache"`
	Streams    int `json:"libsql_streams"`
	Migrations struct {
		Running      int `json:"running"`
		Failed       int `json:"failed"`
		SchemaFailed int `json:"tenants_failed"`
	} `json:"migrations"`
	Jobs struct {
		MovesRunning int            `json:"moves_running"`
		MovesFailed  int            `json:"moves_failed"`
		Recent       []catalog.Job  `json:"recent"`
		Outbox       map[string]int `json:"mail_outbox"`
	} `json:"jobs"`
}

// getPlatformStats serves GET /platform/stats.
func (s *Server) getPlatformStats(c echo.Context) error {
	ctx := c.Request().Context()
	g, err := s.catalog.Gauges(ctx)
	if err != nil {
		return err
	}
	var out PlatformStats
	out.Tenants = g.Tenants
	if out.ActiveToday, err = s.catalog.ActiveTenants(ctx, time.Now().UTC().Format(catalog.DayFormat)); err != nil {
		return err
	}
	if s.usage != nil {
		out.Unflushed = s.usage.Active()
	}
	st, n := s.store.Stats(), s.store.Counters()
	p := &out.Pool
	p.Size, p.Open, p.Draining = st.Size, st.Open, st.Draining
	p.Hits, p.Misses, p.HitRate, p.Opens, p.Evictions = n.Hits, n.Misses, n.HitRate(), n.Opens, n.Evictions
	if n.Opens > 0 {
		p.OpenMeanMs = ms(n.OpenTime / time.Duration(n.Opens))
	}
	rc := s.catalog.ResolveCounts()
	out.Resolve.Hits, out.Resolve.Misses = rc.Hits, rc.Misses
	if rc.Hits+rc.Misses > 0 {
		out.Resolve.HitRate = float64(rc.Hits) / float64(rc.Hits+rc.Misses)
	}
	if s.streams != nil {
		out.Streams = s.streams.Streams()
	}
	out.Migrations.Running, out.Migrations.Failed, out.Migrations.SchemaFailed = g.MigrationsRunning, g.MigrationsFailed, g.SchemaFailed
	out.Jobs.MovesRunning, out.Jobs.MovesFailed, out.Jobs.Outbox = g.MovesRunning, g.MovesFailed, g.Outbox
	if out.Jobs.Recent, err = s.catalog.Jobs(ctx, 10); err != nil {
		return err
	}
	if out.Jobs.Recent == nil {
		out.Jobs.Recent = []catalog.Job{}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}
