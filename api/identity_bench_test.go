package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
)

// BenchmarkLogin times POST /auth/login through the real server: JSON,
// tenant resolution, throttle check, argon2id verification, session row,
// JWT signing. It reports the median and p99 of one login.
func BenchmarkLogin(b *testing.B) {
	e := newIdentity(b, api.Config{IPLoginBurst: 1 << 30})
	body := `{"email": "admin@example.com", "password": "` + apitest.AdminPass + `tenant-a"}`
	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		res := e.Call(b, "tenant-a", "POST", "/auth/login", "", body)
		took = append(took, time.Since(start))
		if res.Status != http.StatusOK {
			b.Fatal(res.Status, res.Raw)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkAuthenticatedRequest times GET /auth/me with a JWT: verifying
// the token, checking the session in the tenant database, answering.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	e := newIdentity(b, api.Config{})
	tok, _ := e.Login(b, "tenant-a", "admin@example.com", apitest.AdminPass+"tenant-a")
	for b.Loop() {
		if res := e.Call(b, "tenant-a", "GET", "/auth/me", tok, ""); res.Status != http.StatusOK || !strings.Contains(res.Data["role"].(string), "admin") {
			b.Fatal(res.Status, res.Raw)
		}
	}
}
