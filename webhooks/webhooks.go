// Package webhooks owns signed webhooks (issue 14): endpoints, the outbox
// of events written in the transaction of the change they report, and
// their delivery, retried for a day and signed as Standard Webhooks say.
//
// The same tables exist twice: in each tenant's database (content, media
// and user events of that tenant) and in the catalog, prefixed platform_
// (the operator's lifecycle and billing events). A Scope names which.
//
// The package imports only the root package, so the writers it serves
// (cms, auth, catalog) can call Emit inside their own transactions; the
// Worker reaches tenant databases and the catalog through the small
// interfaces of worker.go, which `condo serve` fills.
package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/condohq/condo"
)

// Scope is the set of tables a call works on: a tenant's or the
// platform's.
type Scope struct {
	prefix string
	events map[string]bool // the event types an endpoint of this scope may subscribe to
}

// Tenant is the scope of a tenant's own database; Platform the catalog's.
var (
	Tenant   = Scope{prefix: "", events: setOf(TenantEvents)}
	Platform = Scope{prefix: "platform_", events: setOf(PlatformEvents)}
)

func setOf(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, e := range list {
		m[e] = true
	}
	return m
}

// Event types of a tenant.
const (
	ContentCreated     = "content.created"
	ContentUpdated     = "content.updated"
	ContentPublished   = "content.published"
	ContentUnpublished = "content.unpublished"
	ContentDeleted     = "content.deleted"
	ContentRestored    = "content.restored"
	MediaUploaded      = "media.uploaded"
	MediaDeleted       = "media.deleted"
	UserCreated        = "user.created"
	UserUpdated        = "user.updated"
	UserDeleted        = "user.deleted"
)

// Event types of the platform.
const (
	TenantCreated       = "tenant.created"
	TenantSignedUp      = "tenant.signed_up" // a visitor's self-service sign-up created it (after its tenant.created)
	TenantPlanChanged   = "tenant.plan_changed"
	TenantQuotaExceeded = "tenant.quota_exceeded"
	TenantSuspended     = "tenant.suspended"
	TenantArchived      = "tenant.archived"
	TenantDeleted       = "tenant.deleted"
	UsageDaily          = "usage.daily"
)

// TenantEvents and PlatformEvents list the event types of each scope.
var (
	TenantEvents = []string{ContentCreated, ContentUpdated, ContentPublished, ContentUnpublished, ContentDeleted,
		ContentRestored, MediaUploaded, MediaDeleted, UserCreated, UserUpdated, UserDeleted}
	PlatformEvents = []string{TenantCreated, TenantSignedUp, TenantPlanChanged, TenantQuotaExceeded, TenantSuspended, TenantArchived,
		TenantDeleted, UsageDaily}
)

// Wildcard subscribes an endpoint to every event type of its scope.
const Wildcard = "*"

// PlatformKey is the key under which Wake and the Worker know the
// platform's outbox (a tenant id is never empty).
const PlatformKey = ""

func (s Scope) table(name string) string { return s.prefix + name }

// Emit records an event of type typ about data in tx, the transaction of
// the change it reports: one event row and one pending delivery per
// active endpoint subscribed to typ. It writes nothing when no endpoint
// wants typ (most tenants), and reports whether it wrote. A database
// whose schema has no webhook tables yet (an older tenant) has no
// endpoints.
//
// After the commit the caller calls Wake with the tenant's id (or
// PlatformKey), so the worker delivers at once.
func Emit(ctx context.Context, db condo.DB, tx *sql.Tx, s Scope, typ string, data any) (bool, error) {
	// One row, from a kept statement: this runs in every write
	// transaction of every tenant, most of them without endpoints.
	var list string
	err := db.QueryRowTx(ctx, tx, "SELECT coalesce(json_group_array(json_array(id, events)), '[]') FROM "+s.table("webhooks")+" WHERE active = 1").Scan(&list)
	if err != nil {
		if noTables(err) {
			return false, nil
		}
		return false, err
	}
	if list == "[]" {
		return false, nil
	}
	var rows [][2]string
	if err := json.Unmarshal([]byte(list), &rows); err != nil {
		return false, err
	}
	var targets []string
	for _, r := range rows {
		if subscribed(r[1], typ) {
			targets = append(targets, r[0])
		}
	}
	if len(targets) == 0 {
		return false, nil
	}
	now := time.Now()
	id := condo.NewID()
	body, err := json.Marshal(struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      any       `json:"data"`
	}{typ, now.UTC(), data})
	if err != nil {
		return false, err
	}
	ms := condo.UnixMS(now)
	if _, err := db.ExecTx(ctx, tx, "INSERT INTO "+s.table("webhook_events")+" (id, type, payload, created_at) VALUES (?, ?, ?, ?)",
		id, typ, string(body), ms); err != nil {
		return false, err
	}
	for _, w := range targets {
		if _, err := db.ExecTx(ctx, tx, "INSERT INTO "+s.table("webhook_deliveries")+
			" (id, webhook_id, event_id, state, next_at, queued_at, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)",
			condo.NewID(), w, id, ms, ms, ms, ms); err != nil {
			return false, err
		}
	}
	return true, nil
}

// subscribed reports whether an endpoint's events (a JSON array) include
// typ or the wildcard.
func subscribed(events, typ string) bool {
	var list []string
	if json.Unmarshal([]byte(events), &list) != nil {
		return false
	}
	for _, e := range list {
		if e == typ || e == Wildcard {
			return true
		}
	}
	return false
}
