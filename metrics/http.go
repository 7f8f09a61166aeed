package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTP requests by method, route pattern (echo's, such as
// /api/content/:collection/:id; never the raw path, which would carry ids
// without bound) and status class (2xx ... 5xx).
var (
	httpRequests = counterVec("condo_http_requests_total",
		"HTTP requests served, by method, route pattern and status class.", "method", "route", "class")
	httpDuration = histogramVec("condo_http_request_duration_seconds",
		"How long HTTP requests took, by method, route pattern and status class.",
		[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}, "method", "route", "class")
)

// UnmatchedRoute labels requests no route matched.
const UnmatchedRoute = "unmatched"

type requestKey struct {
	method, route string
	class         int
}

type requestSeries struct {
	count prometheus.Counter
	took  prometheus.Observer
}

// series caches each label set's children: WithLabelValues hashes its
// labels on every call, a map lookup by key is cheaper.
var series sync.Map // requestKey → *requestSeries

var classes = [...]string{"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

// Request counts one HTTP request of route (a pattern, or
// UnmatchedRoute) answered with status after took.
func Request(method, route string, status int, took time.Duration) {
	k := requestKey{method: knownMethod(method), route: route, class: min(max(status/100, 1), 5)}
	v, ok := series.Load(k)
	if !ok {
		labels := []string{k.method, k.route, classes[k.class]}
		v, _ = series.LoadOrStore(k, &requestSeries{count: httpRequests.WithLabelValues(labels...), took: httpDuration.WithLabelValues(labels...)})
	}
	s := v.(*requestSeries)
	s.count.Inc()
	s.took.Observe(took.Seconds())
}

// knownMethod keeps the method label bounded: a client may send any.
func knownMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "other"
}

// histogramVec registers and returns a histogram with labels (never a
// tenant).
func histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	Registry.MustRegister(h)
	return h
}

// Security events (see api's securityEvent), by kind; cross-tenant
// attempts (a token or a libSQL baton of one tenant presented on
// another's host) also count in their own counter, the one to alert on.
var (
	securityEvents     = counterVec("condo_security_events_total", "Security events, by kind (every one, including those the audit trail samples).", "kind")
	crossTenantAttempt = counter("condo_cross_tenant_attempts_total", "Requests refused for presenting one tenant's credential on another tenant's host.")
)

// SecurityEvent counts one security event of kind (a fixed name such as
// permission_denied); crossTenant says whether it is a cross-tenant
// attempt.
func SecurityEvent(kind string, crossTenant bool) {
	securityEvents.WithLabelValues(kind).Inc()
	if crossTenant {
		crossTenantAttempt.Inc()
	}
}
