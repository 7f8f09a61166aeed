package admin

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The console's views of the platform API's answers. They are decoded
// from its JSON (the admin imports no domain package): only the fields a
// page shows.

// platformTenant is a tenant as GET /platform/tenants(/:id) answers it.
type platformTenant struct {
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Plan         string          `json:"plan"`
	Status       string          `json:"status"`
	Region       string          `json:"region"`
	Residency    string          `json:"residency"`
	Location     string          `json:"location"`
	StorageQuota int64           `json:"storage_quota"`
	UserLimit    int64           `json:"user_limit"`
	RawBranding  json.RawMessage `json:"branding"`
	Schema       struct {
		Version    uint       `json:"version"`
		Dirty      bool       `json:"dirty"`
		Error      string     `json:"error"`
		MigratedAt *time.Time `json:"migrated_at"`
	} `json:"schema"`
	Domains   []platformDomain `json:"domains"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	Backup    *backupStatus    `json:"backup"`
}

// Branding is the tenant's branding as its admin reads it (unknown shapes:
// unbranded).
func (t *platformTenant) Branding() Branding {
	var b Branding
	if len(t.RawBranding) > 0 {
		json.Unmarshal(t.RawBranding, &b)
	}
	return b
}

// Branded reports whether the tenant has any branding of its own.
func (t *platformTenant) Branded() bool {
	b := t.Branding()
	return b.Name != "" || b.PrimaryColor != "" || b.AccentColor != "" || b.LogoURL != ""
}

// Colors are the branding's colours as the tenant's admin uses them.
func (t *platformTenant) Colors() [2]string {
	b := t.Branding()
	return [2]string{colorOr(b.PrimaryColor, defaultPrimary), colorOr(b.AccentColor, defaultAccent)}
}

// DisplayName is the branding's name, else the tenant's name, else its id.
func (t *platformTenant) DisplayName() string {
	for _, n := range []string{t.Branding().Name, t.Name, t.ID} {
		if n != "" {
			return n
		}
	}
	return ""
}

// HasLogo reports whether the branding names a logo on the tenant's host.
func (t *platformTenant) HasLogo() bool { return sameHostURL(t.Branding().LogoURL) != "" }

// BrandCSS is the URL of the tenant's preview stylesheet in the console;
// it names the branding's hash, as the tenant admin's brand.css does.
func (t *platformTenant) BrandCSS() string {
	ti := tenantInfo{RawBranding: t.RawBranding}
	_, v, _ := strings.Cut(ti.BrandCSS(), "?")
	return ConsolePath + "/tenants/" + escape(t.ID) + "/brand.css?" + v
}

type platformDomain struct {
	Domain    string    `json:"domain"`
	Primary   bool      `json:"primary"`
	CreatedAt time.Time `json:"created_at"`
}

type backupStatus struct {
	Replicating bool       `json:"replicating"`
	LastSync    *time.Time `json:"last_sync"`
	LagSeconds  float64    `json:"lag_seconds"`
	Error       string     `json:"error"`
}

// usageDay is one day of usage (GET /platform/tenants/:id/stats's days,
// GET /platform/stats/usage's days).
type usageDay struct {
	Day         string     `json:"day"`
	Tenants     int        `json:"tenants"`
	Requests    int64      `json:"requests"`
	Errors4xx   int64      `json:"errors_4xx"`
	Errors5xx   int64      `json:"errors_5xx"`
	BytesIn     int64      `json:"bytes_in"`
	BytesOut    int64      `json:"bytes_out"`
	BytesStored *int64     `json:"bytes_stored"`
	Users       *int64     `json:"users"`
	Items       *int64     `json:"items"`
	P50Ms       float64    `json:"p50_ms"`
	P99Ms       float64    `json:"p99_ms"`
	LastActive  *time.Time `json:"last_active"`
}

// StoredText is the storage gathered that day, "" if none was.
func (d usageDay) StoredText() string {
	if d.BytesStored == nil {
		return ""
	}
	return humanBytes(*d.BytesStored)
}

// tenantStats is GET /platform/tenants/:id/stats's answer.
type tenantStats struct {
	From   string     `json:"from"`
	To     string     `json:"to"`
	Days   []usageDay `json:"days"`
	Totals usageDay   `json:"totals"`
}

type plan struct {
	Name         string `json:"name"`
	StorageQuota int64  `json:"storage_quota"`
	UserLimit    int64  `json:"user_limit"`
}

type node struct {
	ID           string     `json:"id"`
	Region       string     `json:"region"`
	AdvertiseURL string     `json:"advertise_url"`
	Version      string     `json:"version"`
	StartedAt    time.Time  `json:"started_at"`
	HeartbeatAt  time.Time  `json:"heartbeat_at"`
	Heartbeat    string     `json:"heartbeat_interval"`
	StoppedAt    *time.Time `json:"stopped_at"`
	Health       string     `json:"health"`
}

type job struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	TenantID   string     `json:"tenant_id"`
	State      string     `json:"state"`
	Progress   string     `json:"progress"`
	Error      string     `json:"error"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

type securityEvent struct {
	ID        string          `json:"id"`
	TenantID  string          `json:"tenant_id"`
	Kind      string          `json:"kind"`
	Actor     string          `json:"actor"`
	IP        string          `json:"ip_address"`
	UserAgent string          `json:"user_agent"`
	Detail    json.RawMessage `json:"detail"`
	CreatedAt time.Time       `json:"created_at"`
}

// Details is the event's detail as "key: value" pairs, sorted by key.
func (e securityEvent) Details() []string { return flatDetail(e.Detail) }

type auditEntry struct {
	ID       string          `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	TenantID string          `json:"tenant_id"`
	Target   string          `json:"target"`
	After    json.RawMessage `json:"after"`
}

// Details is the entry's new state as "key: value" pairs.
func (e auditEntry) Details() []string { return flatDetail(e.After) }

// flatDetail writes a JSON object's top-level members as "key: value".
func flatDetail(raw json.RawMessage) []string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make([]string, 0, len(m))
	for k, v := range m {
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		out = append(out, k+": "+s)
	}
	sort.Strings(out)
	return out
}

type migrationRun struct {
	ID          string     `json:"id"`
	Direction   string     `json:"direction"`
	Target      uint       `json:"target"`
	Status      string     `json:"status"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	HeartbeatAt time.Time  `json:"heartbeat_at"`
	Total       int        `json:"total"`
	Migrated    int        `json:"migrated"`
	Skipped     int        `json:"skipped"`
	Failed      int        `json:"failed"`
	Concurrency int        `json:"concurrency"`
	Canary      int        `json:"canary"`
	MaxFailures int        `json:"max_failures"`
	Error       string     `json:"error"`
	Failures    []struct {
		TenantID string `json:"tenant_id"`
		Version  uint   `json:"version"`
		Dirty    bool   `json:"dirty"`
		Error    string `json:"error"`
	} `json:"failures"`
	Owner struct {
		PID  int    `json:"pid"`
		Host string `json:"host"`
	} `json:"owner"`
}

// Done counts the tenants the run has finished.
func (r *migrationRun) Done() int { return r.Migrated + r.Skipped + r.Failed }

// Running reports whether the run is still going.
func (r *migrationRun) Running() bool { return r.Status == "running" }

// Percent is how far the run is, 0 to 100.
func (r *migrationRun) Percent() int {
	if r.Total == 0 {
		if r.Running() {
			return 0
		}
		return 100
	}
	return r.Done() * 100 / r.Total
}

type migrationStatus struct {
	Latest   uint  `json:"latest"`
	Target   *uint `json:"target"`
	Tenants  int   `json:"tenants"`
	Versions []struct {
		Version uint `json:"version"`
		Tenants int  `json:"tenants"`
		Dirty   int  `json:"dirty"`
		Failing int  `json:"failing"`
	} `json:"versions"`
	Archived int `json:"archived"`
	Problems []struct {
		TenantID string `json:"tenant_id"`
		Status   string `json:"status"`
		Schema   struct {
			Version uint   `json:"version"`
			Dirty   bool   `json:"dirty"`
			Error   string `json:"error"`
		} `json:"schema"`
	} `json:"problems"`
	ProblemCount int            `json:"problem_count"`
	Runs         []migrationRun `json:"runs"`
}

// TargetText is the fleet's schema target ("v3"), "" when none is set.
func (s *migrationStatus) TargetText() string {
	if s.Target == nil {
		return ""
	}
	return "v" + strconv.FormatUint(uint64(*s.Target), 10)
}

// Behind counts the tenants (active and suspended) below the latest
// version: what a run up to it would migrate.
func (s *migrationStatus) Behind() int {
	n := 0
	for _, v := range s.Versions {
		if v.Version < s.Latest {
			n += v.Tenants
		}
	}
	return n
}
