package catalog

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/condohq/condo"
)

// PendingInvitation returns the tenant's invitation with this token hash
// if it can still be accepted, without claiming it (ENOTFOUND
// invitation_not_found otherwise): what the page of the invitation's link
// shows before the invitee chooses a password.
func (c *Catalog) PendingInvitation(ctx context.Context, tenantID, tokenHash string) (*Invitation, error) {
	inv, err := scanInvitation(c.db.Reader().QueryRowContext(ctx, selectInvitation+` WHERE tenant_id = ? AND token_hash = ?
		AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?`, tenantID, tokenHash, condo.UnixMS(time.Now())))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errInvitation
	}
	return inv, err
}
