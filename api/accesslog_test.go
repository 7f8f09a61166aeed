package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
)

// The access line carries the request's id, tenant and actor (set as the
// request goes through resolution and authentication), once per request.
func TestAccessLog_CarriesRequestTenantAndActor(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	e.Call(t, "tenant-a", "GET", "/api/collections", admin, "", "X-Request-Id", "trace-42")
	var found int
	for _, line := range strings.Split(e.Log.String(), "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) != nil || l["msg"] != "request" || l["request_id"] != "trace-42" {
			continue
		}
		found++
		if l["tenant"] != "tenant-a" || l["actor"] == nil || l["actor"] == "" || l["path"] != "/api/collections" || l["status"] != float64(200) {
			t.Errorf("access line %s: want tenant-a, an actor, the path and status 200", line)
		}
	}
	if found != 1 {
		t.Fatalf("%d access lines for the request, want 1:\n%s", found, e.Log.String())
	}
}
