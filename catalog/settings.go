package catalog

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/condohq/condo"
)

// MaxTenantSetting is the largest value SetTenantSetting stores, in bytes
// of compact JSON: the settings travel with every resolved tenant.
const MaxTenantSetting = 16 << 10

var settingKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// SetTenantSetting stores value under key in the tenant's catalog settings
// (Tenant.Settings), or removes key when value is nil or JSON null. These
// are the settings the HTTP edge needs before it opens the tenant's
// database (its CORS policy): every process reads them with the tenant at
// host resolution, so a change reaches them within the resolution TTL.
//
// Errors: EINVALID for a bad key or a value that is not JSON of at most
// MaxTenantSetting bytes, ENOTFOUND (tenant_not_found).
func (c *Catalog) SetTenantSetting(ctx context.Context, id, key string, value json.RawMessage) (*Tenant, error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, err
	}
	if !settingKey.MatchString(key) {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_settings", "invalid setting name %q", condo.Clip(key))
	}
	var buf bytes.Buffer
	if value != nil && (len(value) > 4*MaxTenantSetting || json.Compact(&buf, value) != nil || buf.Len() > MaxTenantSetting) {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_settings", "setting %s must be JSON of at most %d bytes", key, MaxTenantSetting)
	}
	now := condo.UnixMS(time.Now())
	query, args := `UPDATE tenants SET settings = json_set(settings, '$.' || ?, json(?)), updated_at = ? WHERE id = ?`, []any{key, buf.String(), now, id}
	if value == nil || buf.String() == "null" {
		// Each statement gets exactly its parameters: a libSQL server
		// refuses an argument the statement does not take.
		query, args = `UPDATE tenants SET settings = json_remove(settings, '$.' || ?), updated_at = ? WHERE id = ?`, []any{key, now, id}
	}
	err := c.changeTenant(ctx, id, "tenant.setting", key, func(tx *sql.Tx, _ *Tenant) error {
		if _, err := tx.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("set %s of tenant %s: %w", key, id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.cache.Purge()
	return c.Tenant(ctx, id)
}
