package catalog

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/condohq/condo"
)

// Invitation is an offer to join a tenant with a role. Its token is held
// only as a hash; every query names the tenant, so an invitation is only
// ever found on its own tenant.
type Invitation struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"-"`
	Email      string     `json:"email"`
	Role       string     `json:"role"`
	InvitedBy  string     `json:"invited_by"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// CreateInvitation records an invitation, replacing any pending one for
// the same email in the tenant.
func (c *Catalog) CreateInvitation(ctx context.Context, inv *Invitation, tokenHash string) error {
	email, err := NormalizeEmail(inv.Email)
	if err != nil {
		return err
	}
	inv.Email, inv.ID = email, condo.NewID()
	inv.CreatedAt = condo.FromUnixMS(condo.UnixMS(time.Now()))
	return c.db.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE tenant_invitations SET revoked_at = ?
			WHERE tenant_id = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL`, condo.UnixMS(inv.CreatedAt), inv.TenantID, email); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tenant_invitations (id, tenant_id, email, role, token_hash, invited_by, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, inv.ID, inv.TenantID, email, inv.Role, tokenHash, inv.InvitedBy, condo.UnixMS(inv.ExpiresAt), condo.UnixMS(inv.CreatedAt))
		return err
	})
}

const selectInvitation = `SELECT id, tenant_id, email, role, invited_by, expires_at, accepted_at, created_at FROM tenant_invitations`

func scanInvitation(row interface{ Scan(...any) error }) (*Invitation, error) {
	var inv Invitation
	var expires, created int64
	var accepted *int64
	if err := row.Scan(&inv.ID, &inv.TenantID, &inv.Email, &inv.Role, &inv.InvitedBy, &expires, &accepted, &created); err != nil {
		return nil, err
	}
	inv.ExpiresAt, inv.AcceptedAt, inv.CreatedAt = condo.FromUnixMS(expires), condo.FromNullUnixMS(accepted), condo.FromUnixMS(created)
	return &inv, nil
}

// PendingInvitations lists a tenant's invitations that can still be
// accepted, newest first.
func (c *Catalog) PendingInvitations(ctx context.Context, tenantID string) ([]*Invitation, error) {
	rows, err := c.db.Reader().QueryContext(ctx, selectInvitation+` WHERE tenant_id = ? AND accepted_at IS NULL AND revoked_at IS NULL
		AND expires_at > ? ORDER BY created_at DESC`, tenantID, condo.UnixMS(time.Now()))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Invitation{}
	for rows.Next() {
		inv, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// RevokeInvitation withdraws a pending invitation of the tenant.
func (c *Catalog) RevokeInvitation(ctx context.Context, tenantID, id string) error {
	res, err := c.db.Writer().ExecContext(ctx, `UPDATE tenant_invitations SET revoked_at = ?
		WHERE tenant_id = ? AND id = ? AND accepted_at IS NULL AND revoked_at IS NULL`, condo.UnixMS(time.Now()), tenantID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return condo.ReasonErrorf(condo.ENOTFOUND, "invitation_not_found", "no pending invitation %q", condo.Clip(id))
	}
	return nil
}

var errInvitation = condo.ReasonErrorf(condo.ENOTFOUND, "invitation_not_found", "the invitation is invalid, used, revoked or expired")

// ClaimInvitation marks the tenant's pending invitation with this token
// hash as accepted and returns it. Exactly one caller can claim an
// invitation; ReleaseInvitation undoes a claim whose user could not be
// created.
func (c *Catalog) ClaimInvitation(ctx context.Context, tenantID, tokenHash string) (*Invitation, error) {
	now := condo.UnixMS(time.Now())
	inv, err := scanInvitation(c.db.Writer().QueryRowContext(ctx, `UPDATE tenant_invitations SET accepted_at = ?
		WHERE tenant_id = ? AND token_hash = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?
		RETURNING id, tenant_id, email, role, invited_by, expires_at, accepted_at, created_at`, now, tenantID, tokenHash, now))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errInvitation
	}
	return inv, err
}

// ReleaseInvitation returns a claimed invitation to pending.
func (c *Catalog) ReleaseInvitation(ctx context.Context, tenantID, id string) error {
	_, err := c.db.Writer().ExecContext(ctx, "UPDATE tenant_invitations SET accepted_at = NULL WHERE tenant_id = ? AND id = ?", tenantID, id)
	return err
}

// FinishInvitation records the user an accepted invitation created.
func (c *Catalog) FinishInvitation(ctx context.Context, tenantID, id, userID string) error {
	_, err := c.db.Writer().ExecContext(ctx, "UPDATE tenant_invitations SET user_id = ? WHERE tenant_id = ? AND id = ?", userID, tenantID, id)
	return err
}
