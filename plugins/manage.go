package plugins

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/cms"
)

// MaxSettingsBytes bounds a plugin's settings as JSON.
const MaxSettingsBytes = 64 << 10

// Status is one plugin as a tenant sees it: what it is, and whether and
// how the tenant configured it.
type Status struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Hooks       []string        `json:"hooks"`
	Routes      []string        `json:"routes"`
	Schema      *cms.Schema     `json:"settings_schema"`
	Enabled     bool            `json:"enabled"`
	Settings    json.RawMessage `json:"settings"`
	UpdatedAt   *time.Time      `json:"updated_at,omitempty"`
}

// Change is a tenant's change to one plugin: nil fields stay as they are.
type Change struct {
	Enabled  *bool           `json:"enabled"`
	Settings json.RawMessage `json:"settings"`
}

// List returns every registered plugin with the tenant's configuration
// of it, by name. Rows of plugins this binary lacks are left out.
func (r *Runner) List(ctx context.Context, db condo.DB) ([]Status, error) {
	rows, err := db.Reader().QueryContext(ctx, "SELECT name, enabled, settings, updated_at FROM plugins")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	stored := map[string]Status{}
	for rows.Next() {
		var st Status
		var settings string
		var updated int64
		if err := rows.Scan(&st.Name, &st.Enabled, &settings, &updated); err != nil {
			return nil, err
		}
		st.Settings, st.UpdatedAt = json.RawMessage(settings), ptr(condo.FromUnixMS(updated))
		stored[st.Name] = st
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []Status{}
	for _, p := range r.reg.Plugins() {
		out = append(out, status(p, stored[p.Name]))
	}
	return out, nil
}

// Get returns one plugin's status for the tenant.
//
// Errors: ENOTFOUND plugin_not_found.
func (r *Runner) Get(ctx context.Context, db condo.DB, name string) (Status, error) {
	p, ok := r.reg.Lookup(name)
	if !ok {
		return Status{}, notFound(name)
	}
	st, err := readRow(ctx, db.Reader().QueryRowContext(ctx, "SELECT name, enabled, settings, updated_at FROM plugins WHERE name = ?", name))
	if err != nil {
		return Status{}, err
	}
	return status(p, st), nil
}

// Configure applies ch to the tenant's plugin name: its settings are
// validated against the plugin's schema (and stored normalized, defaults
// filled in), enabling asks the plan (Config.Allowed). The tenant's
// enabled set is invalidated once the change committed.
//
// Errors: ENOTFOUND plugin_not_found; EINVALID validation_failed (field
// errors of the settings), invalid_settings (not a JSON object, or
// larger than MaxSettingsBytes); EFORBIDDEN plugin_not_allowed (the
// plan's refusal, as Allowed returns it).
func (r *Runner) Configure(ctx context.Context, tenant string, db condo.DB, name string, ch Change) (Status, error) {
	p, ok := r.reg.Lookup(name)
	if !ok {
		return Status{}, notFound(name)
	}
	var given map[string]any
	if len(ch.Settings) > 0 && !bytes.Equal(bytes.TrimSpace(ch.Settings), []byte("null")) {
		if len(ch.Settings) > MaxSettingsBytes {
			return Status{}, condo.ReasonErrorf(condo.EINVALID, "invalid_settings", "settings are at most %d bytes of JSON", MaxSettingsBytes)
		}
		dec := json.NewDecoder(bytes.NewReader(ch.Settings))
		dec.UseNumber()
		if err := dec.Decode(&given); err != nil || given == nil {
			return Status{}, condo.ReasonErrorf(condo.EINVALID, "invalid_settings", "settings must be a JSON object")
		}
	}
	if ch.Enabled != nil && *ch.Enabled && r.cfg.Allowed != nil {
		if err := r.cfg.Allowed(ctx, tenant, name); err != nil {
			return Status{}, err
		}
	}
	var out Status
	err := db.Transact(ctx, func(tx *sql.Tx) error {
		cur, err := readRow(ctx, db.QueryRowTx(ctx, tx, "SELECT name, enabled, settings, updated_at FROM plugins WHERE name = ?", name))
		if err != nil {
			return err
		}
		if given == nil { // keep the stored settings, checked against today's schema
			given = map[string]any{}
			if len(cur.Settings) > 0 {
				dec := json.NewDecoder(bytes.NewReader(cur.Settings))
				dec.UseNumber()
				if err := dec.Decode(&given); err != nil {
					return err
				}
			}
		}
		settings, bad, err := p.schema.Validate(ctx, given, nil)
		if err != nil {
			return err
		}
		if len(bad) > 0 {
			return cms.ValidationFailed(bad)
		}
		enabled := cur.Enabled
		if ch.Enabled != nil {
			enabled = *ch.Enabled
		}
		raw, _ := json.Marshal(settings)
		now := time.Now()
		if _, err := db.ExecTx(ctx, tx, `INSERT INTO plugins (name, enabled, settings, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, settings = excluded.settings, updated_at = excluded.updated_at`,
			name, enabled, string(raw), condo.UnixMS(now)); err != nil {
			return err
		}
		out = status(p, Status{Name: name, Enabled: enabled, Settings: raw, UpdatedAt: ptr(condo.FromUnixMS(condo.UnixMS(now)))})
		return nil
	})
	if err != nil {
		return Status{}, err
	}
	r.Invalidate(tenant)
	return out, nil
}

func readRow(ctx context.Context, row *sql.Row) (Status, error) {
	var st Status
	var settings string
	var updated int64
	err := row.Scan(&st.Name, &st.Enabled, &settings, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Status{}, nil
	}
	if err != nil {
		return Status{}, err
	}
	st.Settings, st.UpdatedAt = json.RawMessage(settings), ptr(condo.FromUnixMS(updated))
	return st, nil
}

func status(p *Plugin, stored Status) Status {
	st := Status{Name: p.Name, Description: p.Description, Hooks: p.hooks(), Routes: []string{}, Schema: p.schema,
		Enabled: stored.Enabled, Settings: stored.Settings, UpdatedAt: stored.UpdatedAt}
	if st.Hooks == nil {
		st.Hooks = []string{}
	}
	if st.Settings == nil {
		st.Settings = json.RawMessage("{}")
	}
	for _, rt := range p.Routes {
		st.Routes = append(st.Routes, rt.Method+" /api/plugins/"+p.Name+rt.Path)
	}
	return st
}

func notFound(name string) error {
	return condo.ReasonErrorf(condo.ENOTFOUND, "plugin_not_found", "no plugin %q in this server: GET /api/plugins lists them", condo.Clip(name))
}

func ptr[T any](v T) *T { return &v }
