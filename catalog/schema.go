package catalog

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/condohq/condo"
)

// MetaSchemaTarget is the meta key of the fleet's tenant schema target: the
// version a fleet run last moved the fleet to, when that is not the
// binary's latest. Migrate-on-open migrates no further than it, so a
// server does not undo `condo migrate down` by migrating tenants back up
// as it opens them.
const MetaSchemaTarget = "tenant_schema_target"

// VersionCount is how many tenants sit at one schema version.
type VersionCount struct {
	Version uint `json:"version"`
	Tenants int  `json:"tenants"`
	// Dirty counts the tenants a failed non-transactional step left dirty.
	Dirty int `json:"dirty"`
	// Failing counts the clean tenants whose last migration failed: they
	// are intact at this version, and the next run retries them.
	Failing int `json:"failing"`
}

// SchemaProblem is a tenant that is dirty or whose last migration failed.
type SchemaProblem struct {
	TenantID string      `json:"tenant_id"`
	Status   string      `json:"status"`
	Schema   SchemaState `json:"schema"`
}

// SchemaStatus summarises where the fleet's tenant databases stand.
type SchemaStatus struct {
	// Tenants counts the active and suspended tenants, the ones fleet runs
	// migrate; Versions breaks them down.
	Tenants  int            `json:"tenants"`
	Versions []VersionCount `json:"versions"`
	// Archived tenants are migrated when restored; ArchivedVersions is
	// where they stand meanwhile.
	Archived         int            `json:"archived"`
	ArchivedVersions []VersionCount `json:"archived_versions"`
	// Problems lists dirty tenants first, then failing ones, at most the
	// limit given to SchemaStatus; ProblemCount counts them all.
	Problems     []SchemaProblem `json:"problems"`
	ProblemCount int             `json:"problem_count"`
}

// SchemaStatus counts tenants per schema version in one grouped query and
// lists up to limit problem tenants (dirty or failing), dirty first.
func (c *Catalog) SchemaStatus(ctx context.Context, limit int) (*SchemaStatus, error) {
	if limit <= 0 {
		limit = 100
	}
	out := &SchemaStatus{Versions: []VersionCount{}, ArchivedVersions: []VersionCount{}, Problems: []SchemaProblem{}}
	rows, err := c.db.Reader().QueryContext(ctx, `SELECT status = 'archived', schema_version, count(*),
			sum(schema_dirty != 0), sum(schema_dirty = 0 AND schema_error != '')
		FROM tenants GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var archived bool
		var v VersionCount
		if err := rows.Scan(&archived, &v.Version, &v.Tenants, &v.Dirty, &v.Failing); err != nil {
			return nil, err
		}
		if archived {
			out.Archived += v.Tenants
			out.ArchivedVersions = append(out.ArchivedVersions, v)
			continue
		}
		out.Tenants += v.Tenants
		out.Versions = append(out.Versions, v)
		out.ProblemCount += v.Dirty + v.Failing
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if out.ProblemCount == 0 {
		return out, nil
	}
	rows, err = c.db.Reader().QueryContext(ctx, `SELECT id, status, schema_version, schema_dirty, schema_error, schema_migrated_at, schema_duration_ms
		FROM tenants WHERE status != 'archived' AND (schema_dirty != 0 OR schema_error != '')
		ORDER BY schema_dirty DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p SchemaProblem
		var migrated *int64
		var duration sql.NullInt64
		if err := rows.Scan(&p.TenantID, &p.Status, &p.Schema.Version, &p.Schema.Dirty, &p.Schema.Error, &migrated, &duration); err != nil {
			return nil, err
		}
		p.Schema.MigratedAt = condo.FromNullUnixMS(migrated)
		p.Schema.Duration = msDuration(duration)
		out.Problems = append(out.Problems, p)
	}
	return out, rows.Err()
}

// SchemaTenant is what a fleet run needs to know of one tenant.
type SchemaTenant struct {
	ID     string
	Status string
	Schema SchemaState
	// Pending is the version a migration started towards and never
	// recorded (the process died); nil when none.
	Pending *uint
	// Remote reports a tenant at a remote location (Tenant.Location).
	Remote bool
}

// SchemaTenants lists the tenants fleet runs of this node migrate, active
// and suspended ones, ordered by id. Archived tenants are left out: they
// are migrated when restored. With a shared catalog, a node of a region
// lists the tenants homed there and those at remote locations (which any
// node reaches, under a migration lease): another region's files are on
// its own nodes, which migrate them.
func (c *Catalog) SchemaTenants(ctx context.Context) ([]SchemaTenant, error) {
	rows, err := c.db.Reader().QueryContext(ctx, `SELECT id, status, schema_version, schema_dirty, schema_error, schema_pending, location != ''
		FROM tenants WHERE status != 'archived' AND (?1 = '' OR region = '' OR region = ?1 OR location != '') ORDER BY id`, c.cfg.Region)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SchemaTenant
	for rows.Next() {
		var t SchemaTenant
		var pending sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Status, &t.Schema.Version, &t.Schema.Dirty, &t.Schema.Error, &pending, &t.Remote); err != nil {
			return nil, err
		}
		if pending.Valid {
			p := uint(pending.Int64)
			t.Pending = &p
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetSchemaPending marks that a migration of tenant id towards version v
// is starting. SetSchemaState clears the mark when it records the outcome.
func (c *Catalog) SetSchemaPending(ctx context.Context, id string, v uint) error {
	res, err := c.db.Writer().ExecContext(ctx, "UPDATE tenants SET schema_pending = ? WHERE id = ?", v, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return condo.ReasonErrorf(condo.ENOTFOUND, "tenant_not_found", "tenant %q not found", id)
	}
	return nil
}

// SchemaTarget returns the fleet's tenant schema target and whether one is
// set (see MetaSchemaTarget).
func (c *Catalog) SchemaTarget(ctx context.Context) (uint, bool, error) {
	v, err := c.Meta(ctx, MetaSchemaTarget)
	if condo.ErrorCode(err) == condo.ENOTFOUND {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false, errors.New("catalog meta " + MetaSchemaTarget + " is not a version: " + strconv.Quote(v))
	}
	return uint(n), true, nil
}

// SetSchemaTarget sets the fleet's tenant schema target.
func (c *Catalog) SetSchemaTarget(ctx context.Context, v uint) error {
	return c.db.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			MetaSchemaTarget, strconv.FormatUint(uint64(v), 10)); err != nil {
			return err
		}
		return audit(ctx, tx, "fleet.schema_target", "", "", nil, map[string]uint{"version": v})
	})
}

// ClearSchemaTarget removes the fleet's tenant schema target: tenants
// migrate to the binary's latest version again when opened.
func (c *Catalog) ClearSchemaTarget(ctx context.Context) error {
	return c.db.Transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = ?", MetaSchemaTarget)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return audit(ctx, tx, "fleet.schema_target", "", "", map[string]string{"target": "set"}, nil)
	})
}

func msDuration(v sql.NullInt64) time.Duration { return time.Duration(v.Int64) * time.Millisecond }
