package catalog

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/condohq/condo"
	"github.com/condohq/condo/libsqldb"
	"github.com/condohq/condo/webhooks"
)

// Tenant statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusArchived  = "archived"
)

// Tenant is one tenant's catalog row. Values handed out by the catalog are
// shared with its cache: treat them as read-only.
type Tenant struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Subdomain string          `json:"subdomain"`
	Plan      string          `json:"plan"`
	Status    string          `json:"status"`
	Settings  json.RawMessage `json:"settings"`
	Branding  json.RawMessage `json:"branding"`
	// StorageQuota and UserLimit are the tenant's limits: its plan's, or
	// the ones an operator set for it (named in CustomLimits).
	StorageQuota int64    `json:"storage_quota"`
	UserLimit    int64    `json:"user_limit"`
	CustomLimits []string `json:"custom_limits,omitempty"` // "storage_quota", "user_limit"
	custom       int      // limits_custom: customQuota | customUsers
	Region       string   `json:"region"`
	Residency    string   `json:"residency"` // a residency set's name; empty for none
	// Location is where the tenant's database lives: empty for the home
	// node's file, else a libSQL URL (libsqldb.Validate: no credentials
	// in it, so it may be shown).
	Location string `json:"location"`
	// LocationToken authenticates to Location. It is never shown: not in
	// JSON, not in a log line, not in an error.
	LocationToken string `json:"-"`
	// Epoch counts the moves that flipped the tenant's home (see
	// moves.go): a node that served it at an older epoch serves it no more.
	Epoch     int64       `json:"epoch"`
	Schema    SchemaState `json:"schema"`
	Domains   []Domain    `json:"domains"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
	ExpiresAt *time.Time  `json:"expires_at,omitempty"`
}

// SchemaState is where a tenant database stands in the tenant migration
// set, as last recorded.
type SchemaState struct {
	Version    uint          `json:"version"`
	Dirty      bool          `json:"dirty"`
	Error      string        `json:"error,omitempty"`
	MigratedAt *time.Time    `json:"migrated_at,omitempty"`
	Duration   time.Duration `json:"duration_ns,omitempty"`
}

// NewTenant describes a tenant to create.
type NewTenant struct {
	ID     string
	Name   string // defaults to the id
	Plan   string // defaults to "free"
	Region string // home region; empty means this node's (Config.Region)
	// Residency names the residency set (Config.ResidencySets) the home
	// region must be in; empty for none.
	Residency string
	Domains   []string // custom domains; the first is primary
	// SchemaVersion is the version the provisioned database starts at.
	SchemaVersion uint
	// StorageQuota and UserLimit, when set, replace the plan's limits, and
	// Branding, when set, is the tenant's branding: an import keeps what
	// the exported tenant had. Each is checked as UpdateTenant checks it.
	StorageQuota, UserLimit *int64
	Branding                json.RawMessage
	// Location, when set, is a remote libSQL URL holding the tenant's
	// database (see Tenant.Location), opened with LocationToken.
	Location, LocationToken string
}

// ReservedIDs cannot name a tenant: their <id>.<base-domain> hosts belong
// to the platform.
var ReservedIDs = []string{"platform", "www"}

// CreateTenant records a new tenant and its domains. provision runs inside
// the catalog transaction, after the rows are written and before the
// commit: it creates the tenant's database, so a failure there leaves no
// row, and a duplicate id or domain (ECONFLICT) never reaches the disk. If
// the commit itself fails, the caller must undo what provision did.
func (c *Catalog) CreateTenant(ctx context.Context, in NewTenant, provision func() error) (*Tenant, error) {
	if err := condo.ValidateTenantID(in.ID); err != nil {
		return nil, err
	}
	if slices.Contains(ReservedIDs, in.ID) {
		return nil, condo.ReasonErrorf(condo.EINVALID, "reserved_tenant_id", "%q is reserved: platform.<base-domain> is the platform console's host", in.ID)
	}
	if in.Name == "" {
		in.Name = in.ID
	}
	if err := validateName(in.Name); err != nil {
		return nil, err
	}
	if in.Plan == "" {
		in.Plan = "free"
	}
	limits, err := c.plan(in.Plan)
	if err != nil {
		return nil, err
	}
	if in.Region == "" {
		in.Region = c.cfg.Region
	}
	if in.Region != "" {
		if err := ValidateRegion(in.Region); err != nil {
			return nil, err
		}
	}
	if err := c.cfg.ResidencySets.Check(in.Residency, in.Region); err != nil {
		return nil, err
	}
	for _, d := range in.Domains {
		if err := condo.ValidateDomain(d); err != nil {
			return nil, err
		}
	}
	if in.Location != "" {
		if err := libsqldb.Validate(in.Location); err != nil {
			return nil, err
		}
	} else if in.LocationToken != "" {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_location", "a location token needs a location")
	}
	now := time.Now()
	err = c.db.Transact(ctx, func(tx *sql.Tx) error {
		base, err := baseDomainTx(ctx, tx)
		if err != nil {
			return err
		}
		for _, d := range in.Domains {
			if err := checkNotSubdomainHost(d, base); err != nil {
				return err
			}
		}
		if ts, err := tombstoneTx(ctx, tx, in.ID); err == nil {
			if ts.State == TombstoneDeleting {
				return condo.ReasonErrorf(condo.ECONFLICT, "delete_in_progress", "tenant %q is being deleted", in.ID)
			}
			return condo.ReasonErrorf(condo.ECONFLICT, "tenant_deleted", "tenant %q was deleted; `condo tenants purge %s` frees its id", in.ID, in.ID)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO tenants (id, name, subdomain, plan, storage_quota, user_limit, region, residency, location, location_token, schema_version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.Name, in.ID, in.Plan, limits.StorageQuota, limits.UserLimit, in.Region, in.Residency, in.Location, in.LocationToken, in.SchemaVersion, condo.UnixMS(now), condo.UnixMS(now))
		if c.db.IsUnique(err) {
			return condo.ReasonErrorf(condo.ECONFLICT, "tenant_exists", "tenant %q already exists", in.ID)
		}
		if err != nil {
			return err
		}
		for i, d := range in.Domains {
			if err := c.insertDomain(ctx, tx, in.ID, d, i == 0, now); err != nil {
				return err
			}
		}
		// A limit equal to the plan's (an imported tenant's, say) follows
		// the plan; only one that differs is the tenant's own.
		quota, users := in.StorageQuota, in.UserLimit
		if quota != nil && *quota == limits.StorageQuota {
			quota = nil
		}
		if users != nil && *users == limits.UserLimit {
			users = nil
		}
		if _, err := updateTenant(ctx, c, tx, in.ID, TenantUpdate{StorageQuota: quota, UserLimit: users, Branding: in.Branding}); err != nil {
			return err
		}
		after, err := c.tenantTx(ctx, tx, in.ID)
		if err != nil {
			return err
		}
		for i, d := range in.Domains {
			after.Domains = append(after.Domains, Domain{Domain: d, TenantID: in.ID, Primary: i == 0, CreatedAt: after.CreatedAt})
		}
		if err := audit(ctx, tx, "tenant.create", in.ID, "", nil, after); err != nil {
			return err
		}
		if err := c.emitPlatform(ctx, tx, webhooks.TenantCreated, after); err != nil {
			return err
		}
		if provision != nil {
			return provision()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	webhooks.Wake(webhooks.PlatformKey)
	c.cache.Purge()
	return c.Tenant(ctx, in.ID)
}

// Tenant returns one tenant with its domains, ENOTFOUND if there is none.
func (c *Catalog) Tenant(ctx context.Context, id string) (*Tenant, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, err
	}
	// A kept statement: a fleet run looks up every tenant, and parsing
	// this 20-column SELECT anew was most of a lookup's cost.
	t, err := c.scanTenant(c.db.QueryRow(ctx, selectTenant+" WHERE id = ?", id))
	if err != nil {
		return nil, notFound(err, "tenant %q", id)
	}
	if t.Domains, err = c.Domains(ctx, id); err != nil {
		return nil, err
	}
	return t, nil
}

// Lookup returns a tenant's row without its domains: the one cheap read
// the tenant store makes when it opens a database. ENOTFOUND if none.
func (c *Catalog) Lookup(ctx context.Context, id string) (*Tenant, error) {
	// A kept statement: a fleet run looks up every tenant, and parsing
	// this 20-column SELECT anew was most of a lookup's cost.
	t, err := c.scanTenant(c.db.QueryRow(ctx, selectTenant+" WHERE id = ?", id))
	return t, notFound(err, "tenant %q", id)
}

// TenantFilter narrows Tenants.
type TenantFilter struct {
	Status string // one status, or all when empty
	Query  string // substring of id or name
	Plan   string // one plan, or all when empty
	Region string // one home region, or all when empty
	// SchemaVersion, when set, selects the tenants at that schema version.
	SchemaVersion *uint
	Limit         int // at most this many (default 100, at most 1000)
	Offset        int
}

// Tenants lists tenants ordered by id, each with its domains, and reports
// how many match in all.
func (c *Catalog) Tenants(ctx context.Context, f TenantFilter) ([]*Tenant, int, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 || f.Offset < 0 {
		return nil, 0, condo.Errorf(condo.EINVALID, "limit must be at most 1000 and offset not negative")
	}
	where, args := "WHERE 1=1", []any{}
	if f.Status != "" {
		if err := validateStatus(f.Status); err != nil {
			return nil, 0, err
		}
		where += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.Query != "" {
		where += " AND (instr(id, ?) > 0 OR instr(lower(name), lower(?)) > 0)"
		args = append(args, f.Query, f.Query)
	}
	if f.Plan != "" {
		where += " AND plan = ?"
		args = append(args, f.Plan)
	}
	if f.Region != "" {
		where += " AND region = ?"
		args = append(args, f.Region)
	}
	if f.SchemaVersion != nil {
		where += " AND schema_version = ?"
		args = append(args, int64(*f.SchemaVersion))
	}
	var total int
	if err := c.db.Reader().QueryRowContext(ctx, "SELECT count(*) FROM tenants "+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := c.db.Reader().QueryContext(ctx, selectTenant+" "+where+" ORDER BY id LIMIT ? OFFSET ?", append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*Tenant
	for rows.Next() {
		t, err := c.scanTenant(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := c.attachDomains(ctx, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// SetStatus moves a tenant to a status: suspend and resume flip between
// active and suspended; archiving is package tenantstore's, which closes
// and moves the files first.
func (c *Catalog) SetStatus(ctx context.Context, id, status string) (*Tenant, error) {
	if err := validateStatus(status); err != nil {
		return nil, err
	}
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, err
	}
	err := c.changeTenant(ctx, id, "tenant.status", "", func(tx *sql.Tx, t *Tenant) error {
		if t.Status == StatusArchived && status != StatusActive {
			return condo.ReasonErrorf(condo.ECONFLICT, "tenant_archived", "tenant %q is archived: restore it first", id)
		}
		_, err := tx.ExecContext(ctx, "UPDATE tenants SET status = ?, updated_at = ? WHERE id = ?", status, condo.UnixMS(time.Now()), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.cache.Purge()
	return c.Tenant(ctx, id)
}

// SetSchemaState records where a tenant database stands after a migration
// (or a failed one), and clears the mark SetSchemaPending left.
func (c *Catalog) SetSchemaState(ctx context.Context, id string, s SchemaState) error {
	return c.RecordSchema(ctx, id, &s, "", RunCount{})
}

// setSchemaState is SetSchemaState inside tx.
func setSchemaState(ctx context.Context, tx *sql.Tx, id string, s SchemaState) error {
	res, err := tx.ExecContext(ctx, `UPDATE tenants SET schema_version = ?, schema_dirty = ?, schema_error = ?,
		schema_migrated_at = ?, schema_duration_ms = ?, schema_pending = NULL WHERE id = ?`,
		s.Version, s.Dirty, s.Error, condo.NullUnixMS(s.MigratedAt), s.Duration.Milliseconds(), id)
	if err != nil {
		return fmt.Errorf("record schema of %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return condo.ReasonErrorf(condo.ENOTFOUND, "tenant_not_found", "tenant %q not found", id)
	}
	return nil
}

const selectTenant = `SELECT id, name, subdomain, plan, status, settings, branding, storage_quota, user_limit, limits_custom,
	region, residency, location, location_token, epoch, schema_version, schema_dirty, schema_error, schema_migrated_at, schema_duration_ms,
	created_at, updated_at, expires_at FROM tenants`

func scanTenantRow(row interface{ Scan(...any) error }) (*Tenant, error) {
	var t Tenant
	var settings, branding string
	var created, updated int64
	var migrated, expires *int64
	var duration sql.NullInt64
	err := row.Scan(&t.ID, &t.Name, &t.Subdomain, &t.Plan, &t.Status, &settings, &branding, &t.StorageQuota, &t.UserLimit, &t.custom,
		&t.Region, &t.Residency, &t.Location, &t.LocationToken, &t.Epoch, &t.Schema.Version, &t.Schema.Dirty, &t.Schema.Error, &migrated, &duration,
		&created, &updated, &expires)
	if err != nil {
		return nil, err
	}
	t.Settings, t.Branding = json.RawMessage(settings), json.RawMessage(branding)
	t.CreatedAt, t.UpdatedAt = condo.FromUnixMS(created), condo.FromUnixMS(updated)
	t.Schema.MigratedAt, t.ExpiresAt = condo.FromNullUnixMS(migrated), condo.FromNullUnixMS(expires)
	t.Schema.Duration = time.Duration(duration.Int64) * time.Millisecond
	t.Domains = []Domain{}
	return &t, nil
}

func validateStatus(s string) error {
	switch s {
	case StatusActive, StatusSuspended, StatusArchived:
		return nil
	}
	return condo.ReasonErrorf(condo.EINVALID, "invalid_status", "unknown status %q: use active, suspended or archived", s)
}

func validateName(s string) error {
	if strings.TrimSpace(s) == "" || len(s) > 200 || !utf8Valid(s) {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_name", "a tenant name is 1-200 characters of valid UTF-8")
	}
	return nil
}

// ValidateRegion checks a region code such as "ams" or "us-east-1".
func ValidateRegion(r string) error {
	if err := condo.ValidateTenantID(r); err != nil || len(r) > 32 {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_region", "invalid region %q: use a short code such as ams or iad", r)
	}
	return nil
}

// notFound turns sql.ErrNoRows into ENOTFOUND, naming what was missing.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		e := condo.Errorf(condo.ENOTFOUND, format+" not found", args...)
		if strings.HasPrefix(format, "tenant") {
			e.Reason = "tenant_not_found"
		}
		return e
	}
	return err
}

// MaxBranding is the largest branding object a tenant may have, in bytes
// of compact JSON.
const MaxBranding = 16 << 10

// TenantUpdate lists the fields UpdateTenant changes; a nil field is left
// as it is.
type TenantUpdate struct {
	Name *string
	// Plan moves the tenant to another plan, whose limits it takes (and
	// then follows, as the plan's definition changes) unless StorageQuota
	// or UserLimit is set too. Setting the plan it is on already keeps its
	// limits, custom ones included.
	Plan *string
	// StorageQuota and UserLimit set a custom limit for this tenant,
	// which its plan's definition no longer changes.
	StorageQuota *int64 // bytes, not negative
	UserLimit    *int64 // not negative
	// Branding replaces the branding: a JSON object of at most MaxBranding
	// bytes once compacted. Nil leaves it.
	Branding json.RawMessage
}

// UpdateTenant changes a tenant's name, plan, limits or branding in one
// statement, after checking every field, and returns the updated tenant.
//
// Errors: EINVALID for a bad id or field (invalid_plan for an unknown
// plan), ENOTFOUND (tenant_not_found) when there is no such tenant.
func (c *Catalog) UpdateTenant(ctx context.Context, id string, u TenantUpdate) (*Tenant, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, err
	}
	err := c.changeTenant(ctx, id, "tenant.update", "", func(tx *sql.Tx, _ *Tenant) error {
		_, err := updateTenant(ctx, c, tx, id, u)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.cache.Purge()
	return c.Tenant(ctx, id)
}

// changeTenant runs change on tenant id's row in one transaction with
// the audit entry that records it, before and after (ENOTFOUND when
// there is no such tenant).
func (c *Catalog) changeTenant(ctx context.Context, id, action, target string, change func(tx *sql.Tx, before *Tenant) error) error {
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		before, err := c.tenantTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := change(tx, before); err != nil {
			return err
		}
		after, err := c.tenantTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := c.tenantEvents(ctx, tx, before, after); err != nil {
			return err
		}
		return audit(ctx, tx, action, id, target, before, after)
	})
	if err == nil {
		webhooks.Wake(webhooks.PlatformKey)
	}
	return err
}

// tenantTx reads tenant id's row (without its domains) inside tx.
func (c *Catalog) tenantTx(ctx context.Context, tx *sql.Tx, id string) (*Tenant, error) {
	t, err := c.scanTenant(tx.QueryRowContext(ctx, selectTenant+" WHERE id = ?", id))
	return t, notFound(err, "tenant %q", id)
}

// execer is what updateTenant writes through: the writer pool or a
// transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// updateTenant checks every field of u, then applies them to tenant id in
// one statement. It reports false when there is no such tenant; with
// nothing to change it changes nothing and reports true.
func updateTenant(ctx context.Context, c *Catalog, ex execer, id string, u TenantUpdate) (bool, error) {
	if u.Name != nil {
		if err := validateName(*u.Name); err != nil {
			return false, err
		}
	}
	var quota, users any // the new plan's limits, when there is one
	if u.Plan != nil {
		limits, err := c.plan(*u.Plan)
		if err != nil {
			return false, err
		}
		quota, users = limits.StorageQuota, limits.UserLimit
	}
	if u.StorageQuota != nil && *u.StorageQuota < 0 || u.UserLimit != nil && *u.UserLimit < 0 {
		return false, condo.ReasonErrorf(condo.EINVALID, "invalid_limit", "storage_quota and user_limit cannot be negative")
	}
	var branding any
	if u.Branding != nil {
		b, err := compactBranding(u.Branding)
		if err != nil {
			return false, err
		}
		branding = b
	}
	if u.Name == nil && u.Plan == nil && u.StorageQuota == nil && u.UserLimit == nil && u.Branding == nil {
		return true, nil
	}
	// SET expressions read the row as it was, so "plan" below is the old
	// plan: a new one brings its limits unless ?3 or ?5 sets them.
	res, err := ex.ExecContext(ctx, `UPDATE tenants SET
		name = coalesce(?1, name),
		storage_quota = coalesce(?3, CASE WHEN ?2 IS NOT NULL AND ?2 <> plan THEN ?4 ELSE storage_quota END),
		user_limit = coalesce(?5, CASE WHEN ?2 IS NOT NULL AND ?2 <> plan THEN ?6 ELSE user_limit END),
		limits_custom = (CASE WHEN ?2 IS NOT NULL AND ?2 <> plan THEN 0 ELSE limits_custom END)
			| (CASE WHEN ?3 IS NOT NULL THEN 1 ELSE 0 END) | (CASE WHEN ?5 IS NOT NULL THEN 2 ELSE 0 END),
		plan = coalesce(?2, plan),
		branding = coalesce(?7, branding),
		updated_at = ?8
		WHERE id = ?9`,
		u.Name, u.Plan, u.StorageQuota, quota, u.UserLimit, users, branding, condo.UnixMS(time.Now()), id)
	if err != nil {
		return false, fmt.Errorf("update tenant %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// compactBranding checks that b is a JSON object of valid UTF-8 and
// returns it compacted.
func compactBranding(b json.RawMessage) (string, error) {
	tooBig := condo.ReasonErrorf(condo.EINVALID, "invalid_branding", "branding may be at most %d bytes of JSON", MaxBranding)
	if len(b) > 4*MaxBranding { // too big even with generous whitespace: not worth parsing
		return "", tooBig
	}
	var buf bytes.Buffer
	if !utf8.Valid(b) || json.Compact(&buf, b) != nil || !bytes.HasPrefix(buf.Bytes(), []byte("{")) {
		return "", condo.ReasonErrorf(condo.EINVALID, "invalid_branding", "branding must be a JSON object of valid UTF-8")
	}
	if buf.Len() > MaxBranding {
		return "", tooBig
	}
	return buf.String(), nil
}
