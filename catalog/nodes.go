package catalog

import (
	"context"
	"database/sql"
	"net/url"
	"time"

	"github.com/condohq/condo"
)

// Node health, as Nodes reports it.
const (
	NodeUp      = "up"      // its last heartbeat is within StaleAfter intervals
	NodeStale   = "stale"   // it has missed StaleAfter heartbeats: crashed, cut off or paused
	NodeStopped = "stopped" // it shut down cleanly and said so
)

// StaleAfter is how many heartbeat intervals may pass without one before a
// node counts as stale: one late beat is not an outage.
const StaleAfter = 3

// NodeInfo is what a node tells the catalog about itself when it starts.
type NodeInfo struct {
	ID           string        // a DNS label: --node-id, FLY_MACHINE_ID or a generated one
	Region       string        // empty when the node has none
	AdvertiseURL string        // where other nodes reach it; empty when unknown
	Version      string        // the binary's
	Heartbeat    time.Duration // how often it will beat
}

// Node is one registered node with its health.
type Node struct {
	ID           string     `json:"id"`
	Region       string     `json:"region"`
	AdvertiseURL string     `json:"advertise_url"`
	Version      string     `json:"version"`
	StartedAt    time.Time  `json:"started_at"`
	HeartbeatAt  time.Time  `json:"heartbeat_at"`
	Heartbeat    Duration   `json:"heartbeat_interval"`
	StoppedAt    *time.Time `json:"stopped_at,omitempty"`
	Health       string     `json:"health"`
}

// Duration is a time.Duration that reads as text in JSON ("5s").
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// ValidateNodeInfo checks what a node says about itself.
func ValidateNodeInfo(n NodeInfo) error {
	if err := condo.ValidateTenantID(n.ID); err != nil {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_node_id", "invalid node id %q: use lower-case letters, digits and dashes, 1-63 characters", n.ID)
	}
	if n.Region != "" {
		if err := ValidateRegion(n.Region); err != nil {
			return err
		}
	}
	if n.AdvertiseURL != "" {
		u, err := url.Parse(n.AdvertiseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_advertise_url", "invalid advertise URL %q: use http://host:port, without a user or password", condo.ClipTo(n.AdvertiseURL, 100))
		}
	}
	if n.Heartbeat <= 0 {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_heartbeat", "the heartbeat interval must be positive")
	}
	return nil
}

// RegisterNode records a node as started now, replacing what an earlier
// run of the same node left (a restart keeps its id).
func (c *Catalog) RegisterNode(ctx context.Context, n NodeInfo) error {
	if err := ValidateNodeInfo(n); err != nil {
		return err
	}
	now := condo.UnixMS(c.now())
	_, err := c.db.Writer().ExecContext(ctx, `INSERT INTO nodes (id, region, advertise_url, version, started_at, heartbeat_at, heartbeat_ms, stopped_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
		ON CONFLICT (id) DO UPDATE SET region = excluded.region, advertise_url = excluded.advertise_url, version = excluded.version,
			started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, heartbeat_ms = excluded.heartbeat_ms, stopped_at = NULL`,
		n.ID, n.Region, n.AdvertiseURL, n.Version, now, now, n.Heartbeat.Milliseconds())
	return err
}

// Heartbeat records that a node is alive now. ENOTFOUND (node_not_found)
// when the node is not registered (removed while it ran): register again.
func (c *Catalog) Heartbeat(ctx context.Context, id string) error {
	res, err := c.db.Writer().ExecContext(ctx, "UPDATE nodes SET heartbeat_at = ?, stopped_at = NULL WHERE id = ?", condo.UnixMS(c.now()), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return condo.ReasonErrorf(condo.ENOTFOUND, "node_not_found", "node %q is not registered", id)
	}
	return nil
}

// StopNode records that a node shut down cleanly.
func (c *Catalog) StopNode(ctx context.Context, id string) error {
	_, err := c.db.Writer().ExecContext(ctx, "UPDATE nodes SET stopped_at = ? WHERE id = ?", condo.UnixMS(c.now()), id)
	return err
}

// RemoveNode forgets a node (one retired for good). ENOTFOUND when there
// is none.
func (c *Catalog) RemoveNode(ctx context.Context, id string) error {
	return c.db.Transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM nodes WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return condo.ReasonErrorf(condo.ENOTFOUND, "node_not_found", "node %q is not registered", id)
		}
		return audit(ctx, tx, "node.remove", "", id, map[string]string{"id": id}, nil)
	})
}

// Nodes lists every registered node by region and id, with its health as
// of now.
func (c *Catalog) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := c.db.Reader().QueryContext(ctx, `SELECT id, region, advertise_url, version, started_at, heartbeat_at, heartbeat_ms, stopped_at
		FROM nodes ORDER BY region, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := c.now()
	out := []Node{}
	for rows.Next() {
		var n Node
		var started, beat, ms int64
		var stopped *int64
		if err := rows.Scan(&n.ID, &n.Region, &n.AdvertiseURL, &n.Version, &started, &beat, &ms, &stopped); err != nil {
			return nil, err
		}
		n.StartedAt, n.HeartbeatAt, n.StoppedAt = condo.FromUnixMS(started), condo.FromUnixMS(beat), condo.FromNullUnixMS(stopped)
		n.Heartbeat = Duration(time.Duration(ms) * time.Millisecond)
		n.Health = nodeHealth(n, now)
		out = append(out, n)
	}
	return out, rows.Err()
}

// nodeHealth is a node's health at now.
func nodeHealth(n Node, now time.Time) string {
	if n.StoppedAt != nil {
		return NodeStopped
	}
	if now.Sub(n.HeartbeatAt) > StaleAfter*time.Duration(n.Heartbeat) {
		return NodeStale
	}
	return NodeUp
}

// now is the catalog's clock: Config.Now, else the wall clock.
func (c *Catalog) now() time.Time {
	if c.cfg.Now != nil {
		return c.cfg.Now()
	}
	return time.Now()
}
