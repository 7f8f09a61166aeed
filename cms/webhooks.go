package cms

import (
	"context"
	"database/sql"

	"github.com/condohq/condo/webhooks"
)

// emit records a webhook event about v (an item or a media file) in tx,
// the write transaction of the change, so the event exists exactly when
// the change does. transact wakes the delivery worker after the commit.
func (s *Store) emit(ctx context.Context, tx *sql.Tx, event string, v any) error {
	wrote, err := webhooks.Emit(ctx, s.DB, tx, webhooks.Tenant, event, v)
	if wrote {
		webhooks.Emitted(s.TenantID)
	}
	return err
}
