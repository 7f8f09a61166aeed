package catalog

import (
	"context"
)

// Gauges is the fleet as /metrics reports it at each scrape: counts read
// with a few indexed queries, whatever the number of tenants.
type Gauges struct {
	Tenants           map[string]int `json:"tenants"`            // by status
	SchemaFailed      int            `json:"schema_failed"`      // tenants whose last migration failed or left them dirty
	MigrationsRunning int            `json:"migrations_running"` // fleet migration runs
	MigrationsFailed  int            `json:"migrations_failed"`  // runs that failed, ever
	MovesRunning      int            `json:"moves_running"`
	MovesFailed       int            `json:"moves_failed"`
	Outbox            map[string]int `json:"outbox"` // mail by status
}

// Gauges reads the fleet's counts.
func (c *Catalog) Gauges(ctx context.Context) (*Gauges, error) {
	g := &Gauges{Tenants: map[string]int{}, Outbox: map[string]int{}}
	if err := c.countBy(ctx, "SELECT status, count(*) FROM tenants GROUP BY status", g.Tenants); err != nil {
		return nil, err
	}
	if err := c.countBy(ctx, "SELECT status, count(*) FROM outbox GROUP BY status", g.Outbox); err != nil {
		return nil, err
	}
	err := c.db.Reader().QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM tenants WHERE schema_dirty = 1 OR schema_error != ''),
		(SELECT count(*) FROM migration_runs WHERE status = 'running'),
		(SELECT count(*) FROM migration_runs WHERE status = 'failed'),
		(SELECT count(*) FROM moves WHERE state NOT IN (?, ?)),
		(SELECT count(*) FROM moves WHERE state = ?)`, MoveDone, MoveFailed, MoveFailed).
		Scan(&g.SchemaFailed, &g.MigrationsRunning, &g.MigrationsFailed, &g.MovesRunning, &g.MovesFailed)
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (c *Catalog) countBy(ctx context.Context, q string, into map[string]int) error {
	rows, err := c.db.Reader().QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		into[k] = n
	}
	return rows.Err()
}
