package catalog

import (
	"context"
	"encoding/json"
	"time"

	"github.com/condohq/condo"
)

// AuditEntry is one control-plane change or lifecycle operation.
type AuditEntry struct {
	ID       string          `json:"id"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	TenantID string          `json:"tenant_id,omitempty"`
	Target   string          `json:"target,omitempty"`
	Before   json.RawMessage `json:"before,omitempty"`
	After    json.RawMessage `json:"after,omitempty"`
}

type actorKey struct{}

// WithActor names who acts in ctx's changes to the catalog: the API sets
// "admin:<email>" for a platform admin, the CLI "cli:<user>@<host>".
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf is ctx's actor, "system" when none was set (the server's own
// jobs).
func ActorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}

// maxAuditRecord bounds the before and after of one entry; a larger one
// is replaced by {"truncated": true} (cutting JSON would break it).
const maxAuditRecord = 64 << 10

// audit records a change through ex, the transaction that makes it where
// there is one, so that the change and its record commit together. before
// and after are marshalled as JSON; nil is "did not exist".
func audit(ctx context.Context, ex execer, action, tenantID, target string, before, after any) error {
	enc := func(v any) any {
		if v == nil {
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil || string(b) == "null" {
			return nil
		}
		if len(b) > maxAuditRecord {
			return `{"truncated":true}`
		}
		return string(b)
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO platform_audit (id, at, actor, action, tenant_id, target, before, after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		condo.NewID(), condo.UnixMS(time.Now()), condo.ClipTo(ActorOf(ctx), condo.MaxStoredText), action, tenantID,
		condo.ClipTo(target, condo.MaxStoredText), enc(before), enc(after))
	return err
}

// RecordAudit records an operation made outside the catalog (an export,
// an import, a move) for tenantID; detail describes it (no secret).
func (c *Catalog) RecordAudit(ctx context.Context, action, tenantID, target string, detail any) error {
	return audit(ctx, c.db.Writer(), action, tenantID, target, nil, detail)
}

// AuditFilter narrows Audit.
type AuditFilter struct {
	TenantID string // one tenant's entries, or all when empty
	Action   string // one action, or all
	Before   string // entries older than this id, for paging
	Limit    int    // default 100, at most 1000
}

// Audit lists entries, newest first.
func (c *Catalog) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_limit", "limit must be at most 1000")
	}
	q := "SELECT id, at, actor, action, tenant_id, target, before, after FROM platform_audit WHERE 1 = 1"
	var args []any
	if f.TenantID != "" {
		q += " AND tenant_id = ?"
		args = append(args, f.TenantID)
	}
	if f.Action != "" {
		q += " AND action = ?"
		args = append(args, f.Action)
	}
	if f.Before != "" {
		q += " AND id < ?"
		args = append(args, f.Before)
	}
	q += " ORDER BY id DESC LIMIT ?"
	rows, err := c.db.Reader().QueryContext(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		var before, after *string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.TenantID, &e.Target, &before, &after); err != nil {
			return nil, err
		}
		e.At = condo.FromUnixMS(at)
		if before != nil {
			e.Before = json.RawMessage(*before)
		}
		if after != nil {
			e.After = json.RawMessage(*after)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
