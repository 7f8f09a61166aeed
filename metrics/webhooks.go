package metrics

import "github.com/prometheus/client_golang/prometheus"

// Webhook deliveries (package webhooks). No tenant label. The helpers are
// named for this file so they cannot clash with another area's.
var (
	// WebhookDeliveries counts delivery attempts by result: delivered
	// (2xx), rejected (another status; retried), error (no answer;
	// retried), failed (given up after a day).
	WebhookDeliveries = counterVec("condo_webhook_deliveries_total", "Webhook delivery attempts by result.", "result")
	// WebhookLatency is the time from an event's commit to its successful
	// delivery, retries included.
	WebhookLatency = webhooksHistogram("condo_webhook_delivery_latency_seconds", "Time from an event to its successful delivery.",
		[]float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400})
	// WebhookOutboxDepth is the pending deliveries of the outboxes the
	// worker has looked at.
	WebhookOutboxDepth = webhooksGauge("condo_webhook_outbox_depth", "Pending webhook deliveries.")
)

func webhooksHistogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets})
	Registry.MustRegister(h)
	return h
}

func webhooksGauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	Registry.MustRegister(g)
	return g
}
