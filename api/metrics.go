package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/condohq/condo"
	"github.com/condohq/condo/metrics"
)

// MetricsPath serves Prometheus's text format on the platform host
// (platform.<base-domain>) only, never on a tenant's: it describes the
// whole fleet. Config.MetricsToken, when set, is required as a bearer
// token.
const MetricsPath = "/metrics"

// newMetricsHandler is the process's registry and this server's
// collectors (pool, resolution cache, streams, catalog counts), read at
// each scrape.
func (s *Server) newMetricsHandler() http.Handler {
	src := metrics.Sources{
		Pool: func() metrics.Pool {
			st, n := s.store.Stats(), s.store.Counters()
			return metrics.Pool{Size: st.Size, Open: st.Open, Draining: st.Draining, Opening: st.Opening, Pinned: st.Pinned,
				Hits: n.Hits, Misses: n.Misses, Opens: n.Opens, Evictions: n.Evictions, OpenTime: n.OpenTime}
		},
		Resolve: func() (int64, int64) { rc := s.catalog.ResolveCounts(); return rc.Hits, rc.Misses },
		Fleet: func(ctx context.Context) (*metrics.Fleet, error) {
			g, err := s.catalog.Gauges(ctx)
			if err != nil {
				return nil, err
			}
			return &metrics.Fleet{Tenants: g.Tenants, SchemaFailed: g.SchemaFailed, MigrationsRunning: g.MigrationsRunning,
				MigrationsFailed: g.MigrationsFailed, MovesRunning: g.MovesRunning, MovesFailed: g.MovesFailed, Outbox: g.Outbox}, nil
		},
	}
	if s.streams != nil {
		src.Streams = s.streams.Streams
	}
	if s.usage != nil {
		src.Meter = s.usage.Active
	}
	g := metrics.Gatherers(metrics.NewRegistry(src))
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	if s.metricsToken == "" {
		return h
	}
	want := []byte("Bearer " + s.metricsToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="condo-metrics"`)
			var body ErrorBody
			body.Error.Code, body.Error.Message = "invalid_token", "/metrics needs Authorization: Bearer <the metrics token>"
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(body)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// MetricsHandler serves /metrics without the platform host's check: for
// serve's --metrics-addr listener, which only operators reach.
func (s *Server) MetricsHandler() http.Handler { return s.metricsHandler }

// getMetrics serves GET /metrics on the platform host; on any other host
// it is a 404 like any path a tenant has not.
func (s *Server) getMetrics(c echo.Context) error {
	r := c.Request()
	if condo.NormalizeHost(r.Host) != "platform."+s.catalog.BaseDomain(r.Context()) {
		return echo.ErrNotFound
	}
	s.metricsHandler.ServeHTTP(c.Response(), r)
	return nil
}
