package auth

import (
	"context"
	"encoding/json"
	"time"

	"github.com/condohq/condo"
)

// Event categories.
const (
	CategoryAudit    = "audit"    // who changed what
	CategorySecurity = "security" // failed logins, lockouts, cross-tenant tokens, denials, impersonations
)

// Event is one line of a tenant's audit log.
type Event struct {
	ID             int64           `json:"id"`
	Category       string          `json:"category"`
	Action         string          `json:"action"`
	ActorType      string          `json:"actor_type,omitempty"` // user, api_token, platform_admin, anonymous
	ActorID        string          `json:"actor_id,omitempty"`
	ImpersonatorID string          `json:"impersonator_id,omitempty"`
	Target         string          `json:"target,omitempty"`
	IP             string          `json:"ip_address,omitempty"`
	UserAgent      string          `json:"user_agent,omitempty"`
	RequestID      string          `json:"request_id,omitempty"`
	Detail         json.RawMessage `json:"detail"`
	CreatedAt      time.Time       `json:"created_at"`
}

// Record appends an event to the tenant's audit log.
func (s *Store) Record(ctx context.Context, e Event) error {
	if len(e.Detail) == 0 {
		e.Detail = json.RawMessage("{}")
	}
	_, err := s.DB.Writer().ExecContext(ctx, `INSERT INTO audit_log (category, action, actor_type, actor_id, impersonator_id, target,
		ip_address, user_agent, request_id, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Category, e.Action, e.ActorType, e.ActorID, e.ImpersonatorID, condo.ClipTo(e.Target, condo.MaxStoredText), condo.ClipTo(e.IP, condo.MaxStoredText),
		condo.ClipTo(e.UserAgent, condo.MaxStoredText), condo.ClipTo(e.RequestID, condo.MaxStoredText),
		string(e.Detail), condo.UnixMS(s.now()))
	return err
}

// EventFilter narrows Events.
type EventFilter struct {
	Category string
	Action   string
	Actor    string    // one actor's events (actor_id: a user's or a token's id)
	Since    time.Time // events at or after it; zero: from the first
	Until    time.Time // events before it; zero: to the last
	Before   int64     // events with a smaller id, for paging
	Limit    int       // default 50, at most 1000
}

// Events lists audit events, newest first.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 1000 || f.Before < 0 {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_query", "limit must be at most 1000")
	}
	q, args := `SELECT id, category, action, actor_type, actor_id, impersonator_id, target, ip_address, user_agent, request_id,
		detail, created_at FROM audit_log WHERE 1=1`, []any{}
	if f.Category != "" {
		q, args = q+" AND category = ?", append(args, f.Category)
	}
	if f.Action != "" {
		q, args = q+" AND action = ?", append(args, f.Action)
	}
	if f.Actor != "" {
		q, args = q+" AND actor_id = ?", append(args, f.Actor)
	}
	if !f.Since.IsZero() {
		q, args = q+" AND created_at >= ?", append(args, condo.UnixMS(f.Since))
	}
	if !f.Until.IsZero() {
		q, args = q+" AND created_at < ?", append(args, condo.UnixMS(f.Until))
	}
	if f.Before > 0 {
		q, args = q+" AND id < ?", append(args, f.Before)
	}
	rows, err := s.DB.Reader().QueryContext(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var detail string
		var created int64
		if err := rows.Scan(&e.ID, &e.Category, &e.Action, &e.ActorType, &e.ActorID, &e.ImpersonatorID, &e.Target, &e.IP,
			&e.UserAgent, &e.RequestID, &detail, &created); err != nil {
			return nil, err
		}
		e.Detail, e.CreatedAt = json.RawMessage(detail), condo.FromUnixMS(created)
		out = append(out, e)
	}
	return out, rows.Err()
}
