// Package metrics holds the process's Prometheus registry: what /metrics
// serves. Every package that counts something for operators registers its
// collectors here, in a file of its own.
//
// No collector has a tenant label: ten thousand tenants would be ten
// thousand series per metric. Per-tenant figures live in the stats API.
//
// The registry is not Prometheus's default one on purpose: libraries in
// the binary (Litestream) register series per database file there, and
// those would name tenants.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is the process's registry.
var Registry = prometheus.NewRegistry()

func init() {
	Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// Handler serves Registry in Prometheus's text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{Registry: Registry})
}

// counter registers and returns a counter.
func counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	Registry.MustRegister(c)
	return c
}

// counterVec registers and returns a counter with labels (never a tenant).
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	Registry.MustRegister(c)
	return c
}
