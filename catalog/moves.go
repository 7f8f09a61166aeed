package catalog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/condohq/condo"
)

// Move states. A move is live in copying, catching_up and flipped; the
// flip (FlipHome) is the one step after which the target is the home.
const (
	MoveCopying    = "copying"     // the first snapshot and media go to the target; the tenant serves
	MoveCatchingUp = "catching_up" // writes paused; the final state goes over and is verified
	MoveFlipped    = "flipped"     // the catalog names the target; the source still has to retire its copy
	MoveDone       = "done"
	MoveFailed     = "failed" // nothing changed: the source is still the home
)

// Move is one live move of a tenant from one node to another.
type Move struct {
	ID          string     `json:"id"`
	TenantID    string     `json:"tenant_id"`
	FromRegion  string     `json:"from_region"`
	FromNode    string     `json:"from_node"`
	ToRegion    string     `json:"to_region"`
	ToNode      string     `json:"to_node"`
	Location    string     `json:"-"` // may carry a token: never shown
	Epoch       int64      `json:"epoch"`
	State       string     `json:"state"`
	Step        string     `json:"step"`
	Bytes       int64      `json:"bytes"`
	Pause       *Duration  `json:"write_pause,omitempty"`
	Error       string     `json:"error,omitempty"`
	OldPath     string     `json:"old_path,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	RemoveAfter *time.Time `json:"remove_after,omitempty"`
}

// Live reports whether the move may still change the tenant's home.
func (m *Move) Live() bool {
	return m.State == MoveCopying || m.State == MoveCatchingUp || m.State == MoveFlipped
}

// NewMove describes a move to begin.
type NewMove struct {
	TenantID, FromNode, ToRegion, ToNode, Location string
}

// CheckMove refuses a move that may not happen, before any byte moves:
// an unknown or archived tenant, a malformed region, a region outside the
// tenant's residency set (EFORBIDDEN, residency_violation, as for create),
// or a move to where the tenant already is.
func (c *Catalog) CheckMove(ctx context.Context, tenantID, toRegion string) (*Tenant, error) {
	if err := ValidateRegion(toRegion); err != nil {
		return nil, err
	}
	t, err := c.Lookup(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if t.Status == StatusArchived {
		return nil, condo.ReasonErrorf(condo.EGONE, "tenant_archived", "tenant %s is archived", tenantID)
	}
	if err := c.cfg.ResidencySets.Check(t.Residency, toRegion); err != nil {
		return nil, err
	}
	if t.Region == toRegion {
		return nil, condo.ReasonErrorf(condo.ECONFLICT, "already_home", "tenant %s already lives in %s", tenantID, toRegion)
	}
	if t.Location != "" {
		return nil, condo.ReasonErrorf(condo.EINVALID, "remote_location", "tenant %s lives at a remote location: a move copies local files only", tenantID)
	}
	return t, nil
}

// StartMove records a move of a tenant at its current epoch, after
// CheckMove. ECONFLICT (move_in_progress) when one is live already.
func (c *Catalog) StartMove(ctx context.Context, in NewMove) (*Move, error) {
	t, err := c.CheckMove(ctx, in.TenantID, in.ToRegion)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	now := condo.UnixMS(time.Now())
	id := "mv_" + hex.EncodeToString(b)
	_, err = c.db.Writer().ExecContext(ctx, `INSERT INTO moves (id, tenant_id, from_region, from_node, to_region, to_node,
		location, epoch, state, step, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'start', ?, ?)`,
		id, t.ID, t.Region, in.FromNode, in.ToRegion, in.ToNode, in.Location, t.Epoch, MoveCopying, now, now)
	if c.db.IsUnique(err) {
		return nil, condo.ReasonErrorf(condo.ECONFLICT, "move_in_progress", "tenant %s is being moved already", t.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("record move of %s: %w", t.ID, err)
	}
	return c.Move(ctx, id)
}

// MoveUpdate is what a step of a move records; nil fields keep theirs.
type MoveUpdate struct {
	State, Step, Error, OldPath *string
	Bytes                       *int64
	Pause                       *time.Duration
	RemoveAfter                 *time.Time
}

// UpdateMove records a move's progress. A state of done or failed also
// sets finished_at.
func (c *Catalog) UpdateMove(ctx context.Context, id string, u MoveUpdate) error {
	var pause, removeAfter *int64
	if u.Pause != nil {
		ms := u.Pause.Milliseconds()
		pause = &ms
	}
	if u.RemoveAfter != nil {
		ms := condo.UnixMS(*u.RemoveAfter)
		removeAfter = &ms
	}
	now := condo.UnixMS(time.Now())
	_, err := c.db.Writer().ExecContext(ctx, `UPDATE moves SET state = coalesce(?1, state), step = coalesce(?2, step),
		error = coalesce(?3, error), old_path = coalesce(?4, old_path), bytes = coalesce(?5, bytes),
		pause_ms = coalesce(?6, pause_ms), remove_after = coalesce(?7, remove_after), updated_at = ?8,
		finished_at = CASE WHEN ?1 IN ('done', 'failed') THEN ?8 ELSE finished_at END WHERE id = ?9`,
		u.State, u.Step, u.Error, u.OldPath, u.Bytes, pause, removeAfter, now, id)
	if err != nil {
		return fmt.Errorf("record move %s: %w", id, err)
	}
	return nil
}

// FlipHome makes the move's target the tenant's home: region, location
// and epoch+1 change in one transaction with the move's state, and only
// if the tenant is still at the epoch the move began at (ECONFLICT,
// stale_epoch, otherwise: another move or a restored catalog got there
// first). It is the commit point of a move.
func (c *Catalog) FlipHome(ctx context.Context, m *Move) error {
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		now := condo.UnixMS(time.Now())
		res, err := tx.ExecContext(ctx, `UPDATE tenants SET region = ?, location = ?, epoch = epoch + 1, updated_at = ?
			WHERE id = ? AND epoch = ?`, m.ToRegion, m.Location, now, m.TenantID, m.Epoch)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return condo.ReasonErrorf(condo.ECONFLICT, "stale_epoch", "tenant %s is no longer at epoch %d", m.TenantID, m.Epoch)
		}
		_, err = tx.ExecContext(ctx, "UPDATE moves SET state = ?, step = 'flipped', updated_at = ? WHERE id = ? AND state = ?",
			MoveFlipped, now, m.ID, MoveCatchingUp)
		return err
	})
	c.cache.Purge()
	return err
}

const selectMove = `SELECT id, tenant_id, from_region, from_node, to_region, to_node, location, epoch, state, step,
	bytes, pause_ms, error, old_path, created_at, updated_at, finished_at, remove_after FROM moves`

func scanMove(row interface{ Scan(...any) error }) (*Move, error) {
	var m Move
	var created, updated int64
	var pause, finished, removeAfter *int64
	err := row.Scan(&m.ID, &m.TenantID, &m.FromRegion, &m.FromNode, &m.ToRegion, &m.ToNode, &m.Location, &m.Epoch,
		&m.State, &m.Step, &m.Bytes, &pause, &m.Error, &m.OldPath, &created, &updated, &finished, &removeAfter)
	if err != nil {
		return nil, err
	}
	if pause != nil {
		d := Duration(time.Duration(*pause) * time.Millisecond)
		m.Pause = &d
	}
	m.CreatedAt, m.UpdatedAt = condo.FromUnixMS(created), condo.FromUnixMS(updated)
	m.FinishedAt, m.RemoveAfter = condo.FromNullUnixMS(finished), condo.FromNullUnixMS(removeAfter)
	return &m, nil
}

// Move returns one move, ENOTFOUND (move_not_found) if there is none.
func (c *Catalog) Move(ctx context.Context, id string) (*Move, error) {
	m, err := scanMove(c.db.Reader().QueryRowContext(ctx, selectMove+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "move_not_found", "move %q not found", condo.Clip(id))
	}
	return m, err
}

// MoveFilter selects moves; empty fields match all.
type MoveFilter struct {
	TenantID, FromNode, ToNode string
	Live                       bool // only live moves
	Failed                     bool // only failed moves
	Kept                       bool // only finished moves whose old copy is kept
	Unclaimed                  bool // only moves no source node has claimed yet
}

// Moves lists moves, newest first (at most 100).
func (c *Catalog) Moves(ctx context.Context, f MoveFilter) ([]*Move, error) {
	q := selectMove + " WHERE (?1 = '' OR tenant_id = ?1) AND (?2 = '' OR from_node = ?2) AND (?3 = '' OR to_node = ?3)"
	if f.Failed {
		q += " AND state = 'failed'"
	}
	if f.Live {
		q += " AND state IN ('copying', 'catching_up', 'flipped')"
	}
	if f.Unclaimed {
		q += " AND from_node = '' AND state = 'copying'"
	}
	if f.Kept {
		q += " AND state = 'done' AND old_path <> ''"
	}
	rows, err := c.db.Reader().QueryContext(ctx, q+" ORDER BY created_at DESC, id LIMIT 100", f.TenantID, f.FromNode, f.ToNode)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	moves := []*Move{}
	for rows.Next() {
		m, err := scanMove(rows)
		if err != nil {
			return nil, err
		}
		moves = append(moves, m)
	}
	return moves, rows.Err()
}

// ClaimMove makes node the source of a requested move (one recorded
// with no source node yet, by the CLI or any node's API): reports false
// when another node claimed it first.
func (c *Catalog) ClaimMove(ctx context.Context, id, node string) (bool, error) {
	res, err := c.db.Writer().ExecContext(ctx, "UPDATE moves SET from_node = ?, updated_at = ? WHERE id = ? AND from_node = '' AND state = ?",
		node, condo.UnixMS(time.Now()), id, MoveCopying)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
