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

// The webhook events each content write reports: one place, keyed by the
// same Op the hooks are told, so hooks and webhooks agree on what a write
// is. Purges (OpPurge, OpExpire) report none: the item's content.deleted
// went out when it went to the trash.
var (
	eventsCreated          = []string{webhooks.ContentCreated}
	eventsCreatedPublished = []string{webhooks.ContentCreated, webhooks.ContentPublished}
	eventsUpdated          = []string{webhooks.ContentUpdated}
	eventsPublished        = []string{webhooks.ContentPublished}
	eventsUnpublished      = []string{webhooks.ContentUnpublished}
	eventsRestored         = []string{webhooks.ContentRestored}
	eventsDeleted          = []string{webhooks.ContentDeleted}
)

// contentEvents lists the events of a write op that moved an item from
// status from to status to.
func contentEvents(op Op, from, to string) []string {
	switch op {
	case OpCreate:
		if to == StatusPublished {
			return eventsCreatedPublished
		}
		return eventsCreated
	case OpUpdate:
		return eventsUpdated
	case OpTransition:
		switch {
		case to == StatusPublished:
			return eventsPublished
		case from == StatusPublished:
			return eventsUnpublished
		}
		return eventsUpdated // draft, review and archived among themselves
	case OpRestore:
		return eventsRestored
	case OpTrash:
		return eventsDeleted
	}
	return nil
}

// recorded emits in tx the webhook events of a content write whose rows
// are written: every content write calls it last in its transaction, so
// the events carry the item as stored and exist exactly when it does.
func (s *Store) recorded(ctx context.Context, tx *sql.Tx, op Op, from string, it *Item) error {
	for _, event := range contentEvents(op, from, it.Status) {
		if err := s.emit(ctx, tx, event, it); err != nil {
			return err
		}
	}
	return nil
}
