package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/condohq/condo"
)

// States of a delivery.
const (
	StatePending   = "pending"   // an attempt is due at NextAt
	StateDelivered = "delivered" // the endpoint answered 2xx
	StateFailed    = "failed"    // retried for RetryFor without success
)

// Delivery is one event sent (or to send) to one endpoint, with its
// attempts.
type Delivery struct {
	ID        string     `json:"id"`
	WebhookID string     `json:"webhook_id"`
	EventID   string     `json:"event_id"` // the webhook-id header
	EventType string     `json:"event_type"`
	State     string     `json:"state"`
	Attempts  []Attempt  `json:"attempts"` // the last maxLog attempts, oldest first
	NextAt    *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Attempt is one try at a delivery: the endpoint's status code (0 when no
// answer came), why it failed, how long it took.
type Attempt struct {
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms"`
}

// maxLog bounds the attempts a delivery keeps.
const maxLog = 20

// Deliveries returns endpoint id's deliveries, newest first, at most
// limit (1 to 200).
//
// Errors: ENOTFOUND for an unknown endpoint.
func (e Endpoints) Deliveries(ctx context.Context, id string, limit int) ([]*Delivery, error) {
	if _, err := e.Get(ctx, id); err != nil {
		return nil, err
	}
	limit = min(max(limit, 1), 200)
	rows, err := e.DB.Reader().QueryContext(ctx, selectDelivery(e.Scope)+" WHERE d.webhook_id = ? ORDER BY d.created_at DESC, d.id DESC LIMIT ?", id, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func selectDelivery(s Scope) string {
	return "SELECT d.id, d.webhook_id, d.event_id, e.type, d.state, d.log, d.next_at, d.created_at, d.updated_at FROM " +
		s.table("webhook_deliveries") + " d JOIN " + s.table("webhook_events") + " e ON e.id = d.event_id"
}

func scanDelivery(row interface{ Scan(...any) error }) (*Delivery, error) {
	var d Delivery
	var log string
	var next, created, updated int64
	if err := row.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.State, &log, &next, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(log), &d.Attempts); err != nil {
		return nil, err
	}
	if d.State == StatePending {
		t := condo.FromUnixMS(next)
		d.NextAt = &t
	}
	d.CreatedAt, d.UpdatedAt = condo.FromUnixMS(created), condo.FromUnixMS(updated)
	return &d, nil
}

// Replay queues delivery did of endpoint id again, now, with a fresh day
// of retries; the event keeps its id, so a receiver that saw it can tell.
//
// Errors: ENOTFOUND for an unknown endpoint or delivery.
func (e Endpoints) Replay(ctx context.Context, id, did string) (*Delivery, error) {
	var d *Delivery
	err := e.DB.Transact(ctx, func(tx *sql.Tx) error {
		now := condo.UnixMS(time.Now())
		res, err := tx.ExecContext(ctx, "UPDATE "+e.Scope.table("webhook_deliveries")+
			" SET state = 'pending', attempts = 0, next_at = ?, queued_at = ?, updated_at = ? WHERE id = ? AND webhook_id = ?", now, now, now, did, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := scanEndpoint(tx.QueryRowContext(ctx, selectEndpoint+e.Scope.table("webhooks")+" WHERE id = ?", id)); errors.Is(err, sql.ErrNoRows) {
				return notFound(id)
			}
			return condo.ReasonErrorf(condo.ENOTFOUND, "delivery_not_found", "webhook %s has no delivery %q", id, condo.Clip(did))
		}
		d, err = scanDelivery(tx.QueryRowContext(ctx, selectDelivery(e.Scope)+" WHERE d.id = ?", did))
		return err
	})
	return d, err
}
