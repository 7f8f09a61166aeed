package catalog

import (
	"context"
	"encoding/json"
	"time"

	"github.com/condohq/condo"
)

// SecurityEvent is something a platform admin should be able to see across
// tenants: a failed login, a lockout, a token presented on the wrong
// tenant, a permission denial, an impersonation.
type SecurityEvent struct {
	ID        string          `json:"id"`
	TenantID  string          `json:"tenant_id,omitempty"` // "" for the platform itself
	Kind      string          `json:"kind"`
	Actor     string          `json:"actor,omitempty"`
	IP        string          `json:"ip_address,omitempty"`
	UserAgent string          `json:"user_agent,omitempty"`
	Detail    json.RawMessage `json:"detail"`
	CreatedAt time.Time       `json:"created_at"`
}

// maxEventDetail bounds an event's detail; a longer one is replaced by
// {"truncated": true}, since cutting JSON would break it.
const maxEventDetail = 4 << 10

// RecordSecurityEvent stores e, filling its id and time when unset. Its
// text fields are clipped to condo.MaxStoredText bytes first (a client
// chooses its User-Agent, and a megabyte of it must not become a megabyte
// of catalog per row).
func (c *Catalog) RecordSecurityEvent(ctx context.Context, e *SecurityEvent) error {
	if e.ID == "" {
		e.ID = condo.NewID()
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	if len(e.Detail) == 0 {
		e.Detail = json.RawMessage("{}")
	}
	if len(e.Detail) > maxEventDetail {
		e.Detail = json.RawMessage(`{"truncated":true}`)
	}
	for _, f := range []*string{&e.TenantID, &e.Kind, &e.Actor, &e.IP, &e.UserAgent} {
		*f = condo.ClipTo(*f, condo.MaxStoredText)
	}
	_, err := c.db.Writer().ExecContext(ctx, `INSERT INTO security_events
		(id, tenant_id, kind, actor, ip_address, user_agent, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.TenantID, e.Kind, e.Actor, e.IP, e.UserAgent, string(e.Detail), condo.UnixMS(e.CreatedAt))
	return err
}

// SecurityEventFilter narrows SecurityEvents.
type SecurityEventFilter struct {
	TenantID string // one tenant's events, or all when empty
	Kind     string
	Before   string // events older than this id (ids are time-ordered), for paging
	Limit    int    // default 100, at most 1000
}

// SecurityEvents lists events, newest first.
func (c *Catalog) SecurityEvents(ctx context.Context, f SecurityEventFilter) ([]SecurityEvent, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		return nil, condo.Errorf(condo.EINVALID, "limit must be at most 1000")
	}
	q, args := "SELECT id, tenant_id, kind, actor, ip_address, user_agent, detail, created_at FROM security_events WHERE 1=1", []any{}
	if f.TenantID != "" {
		q, args = q+" AND tenant_id = ?", append(args, f.TenantID)
	}
	if f.Kind != "" {
		q, args = q+" AND kind = ?", append(args, f.Kind)
	}
	if f.Before != "" {
		q, args = q+" AND id < ?", append(args, f.Before)
	}
	rows, err := c.db.Reader().QueryContext(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SecurityEvent{}
	for rows.Next() {
		var e SecurityEvent
		var detail string
		var created int64
		if err := rows.Scan(&e.ID, &e.TenantID, &e.Kind, &e.Actor, &e.IP, &e.UserAgent, &detail, &created); err != nil {
			return nil, err
		}
		e.Detail, e.CreatedAt = json.RawMessage(detail), condo.FromUnixMS(created)
		out = append(out, e)
	}
	return out, rows.Err()
}
