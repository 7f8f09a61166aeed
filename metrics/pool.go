package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sources is what a server's collectors read at each scrape. Each field
// may be nil (its families are then left out). They must be cheap: a
// scrape with ten thousand tenants stays well under 20 ms.
type Sources struct {
	Pool    func() Pool
	Resolve func() (hits, misses int64) // the catalog's resolution cache
	Streams func() int                  // libSQL streams open
	Fleet   func(context.Context) (*Fleet, error)
	Meter   func() int // tenants with usage not flushed yet
}

// Pool is the tenant pool as a scrape reads it.
type Pool struct {
	Size, Open, Draining, Opening, Pinned int
	Hits, Misses, Opens, Evictions        int64
	OpenTime                              time.Duration // total time spent opening
}

// Fleet is the catalog's counts: tenants by status, migrations, jobs and
// the mail outbox.
type Fleet struct {
	Tenants           map[string]int
	SchemaFailed      int
	MigrationsRunning int
	MigrationsFailed  int
	MovesRunning      int
	MovesFailed       int
	Outbox            map[string]int
}

// FleetTimeout bounds the catalog's queries of one scrape.
const FleetTimeout = 2 * time.Second

// NewRegistry returns a registry with the collectors of one server's
// sources; serve the process's Registry and it together (Gatherers).
func NewRegistry(src Sources) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(&collector{src: src})
	return r
}

// Gatherers is the process's Registry followed by r.
func Gatherers(r *prometheus.Registry) prometheus.Gatherers {
	return prometheus.Gatherers{Registry, r}
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	poolSize      = desc("condo_pool_size", "How many tenant databases the pool keeps open at most.")
	poolOpen      = desc("condo_pool_open", "Tenant databases open in the pool.")
	poolDraining  = desc("condo_pool_draining", "Evicted tenant databases still in use.")
	poolOpening   = desc("condo_pool_opening", "Tenant databases being opened.")
	poolPinned    = desc("condo_pool_pinned", "Tenant databases pinned open (never evicted).")
	poolHits      = desc("condo_pool_hits_total", "Pool acquires served by an open database.")
	poolMisses    = desc("condo_pool_misses_total", "Pool acquires that opened a database or waited for one.")
	poolOpens     = desc("condo_pool_opens_total", "Tenant databases opened.")
	poolEvictions = desc("condo_pool_evictions_total", "Tenant databases evicted to make room.")
	poolOpenTime  = desc("condo_pool_open_seconds_total", "Time spent opening tenant databases (divide by condo_pool_opens_total for the mean).")

	resolveHits   = desc("condo_resolve_cache_hits_total", "Host and tenant resolutions answered by the catalog's cache.")
	resolveMisses = desc("condo_resolve_cache_misses_total", "Host and tenant resolutions the cache sent to the catalog.")

	streamsOpen = desc("condo_libsql_streams_open", "libSQL (Hrana) streams open.")
	usageActive = desc("condo_usage_active_tenants", "Tenants with requests since the last usage flush.")

	tenants           = desc("condo_tenants", "Tenants in the catalog, by status.", "status")
	schemaFailed      = desc("condo_tenant_migrations_failed", "Tenants whose last schema migration failed or left them dirty.")
	migrationsRunning = desc("condo_migration_runs_running", "Fleet migration runs in progress.")
	migrationsFailed  = desc("condo_migration_runs_failed", "Fleet migration runs that failed.")
	movesRunning      = desc("condo_moves_running", "Tenant moves in progress.")
	movesFailed       = desc("condo_moves_failed", "Tenant moves that failed.")
	outbox            = desc("condo_mail_outbox", "Messages in the mail outbox, by status (stored: kept without a mail server; failed: not delivered).", "status")
	scrapeErrors      = desc("condo_catalog_scrape_error", "1 when this scrape could not read the catalog's counts (they are left out).")
)

type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolSize, poolOpen, poolDraining, poolOpening, poolPinned, poolHits, poolMisses,
		poolOpens, poolEvictions, poolOpenTime, resolveHits, resolveMisses, streamsOpen, usageActive, tenants, schemaFailed,
		migrationsRunning, migrationsFailed, movesRunning, movesFailed, outbox, scrapeErrors} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	count := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	if c.src.Pool != nil {
		p := c.src.Pool()
		gauge(poolSize, float64(p.Size))
		gauge(poolOpen, float64(p.Open))
		gauge(poolDraining, float64(p.Draining))
		gauge(poolOpening, float64(p.Opening))
		gauge(poolPinned, float64(p.Pinned))
		count(poolHits, float64(p.Hits))
		count(poolMisses, float64(p.Misses))
		count(poolOpens, float64(p.Opens))
		count(poolEvictions, float64(p.Evictions))
		count(poolOpenTime, p.OpenTime.Seconds())
	}
	if c.src.Resolve != nil {
		h, m := c.src.Resolve()
		count(resolveHits, float64(h))
		count(resolveMisses, float64(m))
	}
	if c.src.Streams != nil {
		gauge(streamsOpen, float64(c.src.Streams()))
	}
	if c.src.Meter != nil {
		gauge(usageActive, float64(c.src.Meter()))
	}
	if c.src.Fleet != nil {
		ctx, cancel := context.WithTimeout(context.Background(), FleetTimeout)
		defer cancel()
		f, err := c.src.Fleet(ctx)
		if err != nil {
			gauge(scrapeErrors, 1)
			return
		}
		gauge(scrapeErrors, 0)
		for _, s := range []string{"active", "suspended", "archived"} { // always there, 0 or not
			if _, ok := f.Tenants[s]; !ok {
				f.Tenants[s] = 0
			}
		}
		for s, n := range f.Tenants {
			gauge(tenants, float64(n), s)
		}
		gauge(schemaFailed, float64(f.SchemaFailed))
		gauge(migrationsRunning, float64(f.MigrationsRunning))
		gauge(migrationsFailed, float64(f.MigrationsFailed))
		gauge(movesRunning, float64(f.MovesRunning))
		gauge(movesFailed, float64(f.MovesFailed))
		for _, s := range []string{"stored", "sent", "failed"} {
			if _, ok := f.Outbox[s]; !ok {
				f.Outbox[s] = 0
			}
		}
		for s, n := range f.Outbox {
			gauge(outbox, float64(n), s)
		}
	}
}
