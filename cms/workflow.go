package cms

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/webhooks"
)

// transitions lists the allowed status changes and the permission each
// needs: authors move their drafts to review and back; publishing,
// unpublishing and archiving need content.publish.
var transitions = map[string]map[string]string{
	StatusDraft:     {StatusReview: auth.ContentUpdate, StatusPublished: auth.ContentPublish, StatusArchived: auth.ContentPublish},
	StatusReview:    {StatusDraft: auth.ContentUpdate, StatusPublished: auth.ContentPublish, StatusArchived: auth.ContentPublish},
	StatusPublished: {StatusDraft: auth.ContentPublish, StatusArchived: auth.ContentPublish},
	StatusArchived:  {StatusDraft: auth.ContentPublish},
}

// TransitionPermission returns the permission moving an item from one
// status to another needs, or an error when the move is not allowed.
func TransitionPermission(from, to string) (string, error) {
	if err := checkStatus(to); err != nil {
		return "", err
	}
	perm, ok := transitions[from][to]
	if !ok {
		return "", condo.ReasonErrorf(condo.ECONFLICT, "invalid_transition", "an item cannot go from %s to %s", from, to)
	}
	return perm, nil
}

// Transition moves an item to status to and records it in the workflow
// history with the actor and comment. check sees the item inside the
// write transaction, before it moves, and may refuse (the caller checks
// the permission the move needs from the item's status there, so the
// status cannot change between the check and the move; see Edit).
// Publishing sets published_at and clears a pending publish_at.
func (s *Store) Transition(ctx context.Context, id, to, comment, actor string, check func(cur *Item) error) (*Change, error) {
	if len(comment) > 2000 {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_comment", "a comment is at most 2000 bytes")
	}
	var ch Change
	var ev *SaveEvent
	err := s.transact(ctx, func(tx *sql.Tx) error {
		it, err := s.liveItem(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := TransitionPermission(it.Status, to); err != nil {
			return err
		}
		if check != nil {
			if err := check(it); err != nil {
				return err
			}
		}
		if ev, err = s.beforeKeep(ctx, tx, nil, it, OpTransition, to, actor); err != nil {
			return err
		}
		ch.FromStatus = it.Status
		ch.Item, err = s.move(ctx, tx, it, to, "transition", comment, actor, s.now())
		return err
	})
	if err != nil {
		return &ch, err
	}
	s.afterSave(ctx, ev, ch.Item)
	return &ch, nil
}

// move writes a status change, its history row and, since the item's
// state changed, a new version (so its version, and the ETag made of it,
// change with every change).
func (s *Store) move(ctx context.Context, tx *sql.Tx, it *Item, to, action, comment, actor string, now time.Time) (*Item, error) {
	from := it.Status
	it.Status, it.UpdatedAt = to, condo.FromUnixMS(condo.UnixMS(now))
	it.Version++
	q, args := "UPDATE content SET status = ?, updated_at = ?, updated_by = ?, version = ?", []any{to, condo.UnixMS(now), nullable(actor), it.Version}
	if to == StatusPublished {
		it.PublishedAt, it.PublishAt = &it.UpdatedAt, nil
		q, args = q+", published_at = ?, publish_at = NULL", append(args, condo.UnixMS(now))
	}
	if from == StatusPublished {
		it.UnpublishAt = nil
		q += ", unpublish_at = NULL"
	}
	if _, err := tx.ExecContext(ctx, q+" WHERE id = ?", append(args, it.ID)...); err != nil {
		return nil, err
	}
	if err := s.writeVersion(ctx, tx, it, actor, now); err != nil {
		return nil, err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO workflow_history (id, content_id, action, from_status, to_status, user_id, comment, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, condo.NewID(), it.ID, action, from, to, nullable(actor), comment, condo.UnixMS(now))
	if err != nil {
		return nil, err
	}
	return it, s.recorded(ctx, tx, OpTransition, from, it)
}

// HistoryEntry is one recorded status change.
type HistoryEntry struct {
	Action    string    `json:"action"`
	From      string    `json:"from_status"`
	To        string    `json:"to_status"`
	UserID    string    `json:"user_id,omitempty"`
	Comment   string    `json:"comment,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// History lists an item's status changes, oldest first.
func (s *Store) History(ctx context.Context, id string) ([]HistoryEntry, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, `SELECT action, from_status, to_status, coalesce(user_id, ''), comment, created_at
		FROM workflow_history WHERE content_id = ? ORDER BY created_at, rowid`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []HistoryEntry{}
	for rows.Next() {
		var h HistoryEntry
		var created int64
		if err := rows.Scan(&h.Action, &h.From, &h.To, &h.UserID, &h.Comment, &created); err != nil {
			return nil, err
		}
		h.CreatedAt = condo.FromUnixMS(created)
		out = append(out, h)
	}
	return out, rows.Err()
}

// RunSchedule applies what is due in this tenant: scheduled publishing
// (draft or review items whose publish_at has come), scheduled
// unpublishing (published items whose unpublish_at has come move to
// archived), and the purge of items trashed longer than retention. It
// returns how many items changed and when something is next due (nil:
// nothing scheduled).
func (s *Store) RunSchedule(ctx context.Context, retention time.Duration) (int, *time.Time, error) {
	now := s.now()
	changed := 0
	// failed is the first item a before-hook failed on (a panic, a
	// timeout, an uncoded error): the item is left as it was, the others
	// move, and the error makes the scheduler try this tenant again in a
	// minute.
	var failed error
	// The schedule's transactions run on every pass over a due tenant and
	// often change nothing: drop the tenant's cached entries only when
	// items moved (purges drop them through PurgeItem).
	defer func() {
		if changed > 0 {
			s.cache.Invalidate(s.TenantID)
			webhooks.Wake(s.TenantID)
		}
	}()
	for _, step := range []struct{ query, to, action string }{
		{"SELECT id FROM content WHERE publish_at <= ? AND status IN ('draft', 'review') AND deleted_at IS NULL", StatusPublished, "scheduled_publish"},
		{"SELECT id FROM content WHERE unpublish_at <= ? AND status = 'published' AND deleted_at IS NULL", StatusArchived, "scheduled_unpublish"},
	} {
		// An item whose hook failed is skipped by starting the step's
		// transaction over without it, rather than by rolling back to its
		// savepoint: a hook past its timeout may still be running with the
		// transaction, and must find it gone, not write into one that
		// commits.
		skip := map[string]bool{}
		for {
			var saved []*SaveEvent
			var items []*Item
			moved := 0
			err := s.DB.Transact(ctx, func(tx *sql.Tx) error {
				rows, err := tx.QueryContext(ctx, step.query, condo.UnixMS(now))
				if err != nil {
					return err
				}
				var ids []string
				for rows.Next() {
					var id string
					if err := rows.Scan(&id); err != nil {
						rows.Close()
						return err
					}
					ids = append(ids, id)
				}
				rows.Close()
				saved, items, moved = saved[:0], items[:0], 0 // should the transaction run again
				for _, id := range ids {
					if skip[id] {
						continue
					}
					it, err := s.liveItem(ctx, tx, id)
					if err != nil {
						return err
					}
					ev, err := s.scheduledBefore(ctx, tx, it, step.to, step.action, now)
					switch {
					case err != nil && ctx.Err() != nil:
						return err
					case err != nil:
						if failed == nil {
							failed = fmt.Errorf("%s of %s: %w", step.action, id, err)
						}
						skip[id] = true
						return errSkipped
					case ev == refused:
						moved++ // its schedule was cleared
						continue
					}
					if _, err := s.move(ctx, tx, it, step.to, step.action, "", "", now); err != nil {
						return err
					}
					saved, items = append(saved, ev), append(items, it)
					moved++
				}
				return nil
			})
			if errors.Is(err, errSkipped) {
				continue
			}
			if err != nil {
				return changed, nil, err
			}
			changed += moved
			for i, ev := range saved {
				s.afterSave(ctx, ev, items[i])
			}
			break
		}
	}
	purged, err := s.purgeExpired(ctx, retention)
	if err = cmp.Or(err, failed); err != nil {
		return changed + purged, nil, err
	}
	next, err := s.NextDue(ctx, retention)
	return changed + purged, next, err
}

// NextDue returns when this tenant next has something scheduled: a
// publish, an unpublish or a trash purge; nil when nothing is.
func (s *Store) NextDue(ctx context.Context, retention time.Duration) (*time.Time, error) {
	var next *int64
	err := s.DB.Reader().QueryRowContext(ctx, `SELECT min(t) FROM (
		SELECT min(publish_at) AS t FROM content WHERE publish_at IS NOT NULL AND status IN ('draft', 'review') AND deleted_at IS NULL
		UNION ALL SELECT min(unpublish_at) FROM content WHERE unpublish_at IS NOT NULL AND status = 'published' AND deleted_at IS NULL
		UNION ALL SELECT min(deleted_at) + ? FROM content WHERE deleted_at IS NOT NULL)`, retention.Milliseconds()).Scan(&next)
	return condo.FromNullUnixMS(next), err
}

// errSkipped rolls back a scheduled step's transaction to run it again
// without an item whose hook failed.
var errSkipped = errors.New("an item's hook failed: run the step again without it")

// refused is what scheduledBefore returns for an item a before-save hook
// refused to move.
var refused = &SaveEvent{}

// scheduledBefore runs the before-save hooks of a scheduled move of it to
// status to, inside a savepoint of the pass's transaction so that what a
// refusing hook wrote is undone for that item alone. A refusal (a coded
// error: the plugin's answer) cancels the schedule, since asking again
// would get the same answer: the item keeps its status, its publish_at
// (or unpublish_at) is cleared and the workflow history records
// "<action>_refused" with the refusal's message, which is what an editor
// sees (a new version; content.updated). Any other failure is returned
// (and RunSchedule leaves the item as it was).
func (s *Store) scheduledBefore(ctx context.Context, tx *sql.Tx, it *Item, to, action string, now time.Time) (*SaveEvent, error) {
	if s.hooks == nil {
		return nil, nil
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT scheduled_hook"); err != nil {
		return nil, err
	}
	ev, err := s.beforeKeep(ctx, tx, nil, it, OpTransition, to, "")
	if err == nil {
		_, err = tx.ExecContext(ctx, "RELEASE scheduled_hook")
		return ev, err
	}
	for _, q := range []string{"ROLLBACK TO scheduled_hook", "RELEASE scheduled_hook"} {
		if _, rerr := tx.ExecContext(ctx, q); rerr != nil {
			return nil, rerr
		}
	}
	if condo.ErrorCode(err) == condo.EINTERNAL || ctx.Err() != nil {
		return nil, err
	}
	// Clearing the schedule changes the item: a new version (so its ETag
	// changes), and content.updated.
	column := "publish_at"
	if to == StatusPublished {
		it.PublishAt = nil
	} else {
		column, it.UnpublishAt = "unpublish_at", nil
	}
	it.Version++
	it.UpdatedAt = condo.FromUnixMS(condo.UnixMS(now))
	if _, err := tx.ExecContext(ctx, "UPDATE content SET "+column+" = NULL, version = ?, updated_at = ?, updated_by = NULL WHERE id = ?",
		it.Version, condo.UnixMS(now), it.ID); err != nil {
		return nil, err
	}
	if err := s.writeVersion(ctx, tx, it, "", now); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO workflow_history (id, content_id, action, from_status, to_status, user_id, comment, created_at)
		VALUES (?, ?, ?, ?, ?, NULL, ?, ?)`, condo.NewID(), it.ID, action+"_refused", it.Status, to, refusal(err), condo.UnixMS(now)); err != nil {
		return nil, err
	}
	return refused, s.recorded(ctx, tx, OpUpdate, it.Status, it)
}

// refusal is a hook's refusal as a history comment: its message and its
// field errors, in at most 2000 bytes.
func refusal(err error) string {
	msg := condo.ErrorMessage(err)
	fields := condo.ErrorFields(err)
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		msg += "; " + k + ": " + fields[k]
	}
	return condo.ClipTo(msg, 2000)
}
