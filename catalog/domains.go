package catalog

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/metrics"
	"github.com/condohq/condo/plans"
)

// Domain is a custom host name that reaches a tenant.
type Domain struct {
	Domain    string    `json:"domain"`
	TenantID  string    `json:"tenant_id"`
	Primary   bool      `json:"primary"`
	CreatedAt time.Time `json:"created_at"`
}

// AddDomain points a custom domain at a tenant. A domain belongs to one
// tenant (ECONFLICT otherwise). With primary set it becomes the tenant's
// primary domain; a tenant's first domain is primary anyway.
func (c *Catalog) AddDomain(ctx context.Context, tenantID, domain string, primary bool) (*Domain, error) {
	if err := condo.ValidateTenantID(tenantID); err != nil {
		return nil, err
	}
	if err := condo.ValidateDomain(domain); err != nil {
		return nil, err
	}
	now := time.Now()
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		base, err := baseDomainTx(ctx, tx)
		if err != nil {
			return err
		}
		if err := checkNotSubdomainHost(domain, base); err != nil {
			return err
		}
		var plan string
		err = tx.QueryRowContext(ctx, "SELECT plan FROM tenants WHERE id = ?", tenantID).Scan(&plan)
		if errors.Is(err, sql.ErrNoRows) {
			return condo.ReasonErrorf(condo.ENOTFOUND, "tenant_not_found", "tenant %q not found", tenantID)
		}
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM tenant_domains WHERE tenant_id = ?", tenantID).Scan(&n); err != nil {
			return err
		}
		// The plan caps custom domains; a tenant created with more keeps them.
		if p := c.cfg.Plans.For(plan); !plans.Within(int64(n)+1, p.CustomDomains) {
			metrics.QuotaRejections.WithLabelValues("domains").Inc()
			return plans.LimitReached("custom domains", p.CustomDomains, p.Name)
		}
		if primary || n == 0 {
			primary = true
			if _, err := tx.ExecContext(ctx, "UPDATE tenant_domains SET is_primary = 0 WHERE tenant_id = ?", tenantID); err != nil {
				return err
			}
		}
		if err := c.insertDomain(ctx, tx, tenantID, domain, primary, now); err != nil {
			return err
		}
		return audit(ctx, tx, "domain.add", tenantID, domain, nil, Domain{Domain: domain, TenantID: tenantID, Primary: primary, CreatedAt: now})
	})
	if err != nil {
		return nil, err
	}
	c.cache.Purge()
	return &Domain{Domain: domain, TenantID: tenantID, Primary: primary, CreatedAt: condo.FromUnixMS(condo.UnixMS(now))}, nil
}

func (c *Catalog) insertDomain(ctx context.Context, tx *sql.Tx, tenantID, domain string, primary bool, now time.Time) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO tenant_domains (domain, tenant_id, is_primary, created_at) VALUES (?, ?, ?, ?)",
		domain, tenantID, primary, condo.UnixMS(now))
	if c.db.IsUnique(err) {
		return condo.ReasonErrorf(condo.ECONFLICT, "domain_taken", "domain %s already points at a tenant", domain)
	}
	return err
}

// RemoveDomain stops a domain reaching its tenant. If it was the primary,
// the tenant's oldest remaining domain becomes primary.
func (c *Catalog) RemoveDomain(ctx context.Context, domain string) (*Domain, error) {
	if err := condo.ValidateDomain(domain); err != nil {
		return nil, err
	}
	var d Domain
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, "SELECT tenant_id, is_primary, created_at FROM tenant_domains WHERE domain = ?", domain).
			Scan(&d.TenantID, &d.Primary, &created)
		if err != nil {
			return notFound(err, "domain %s", domain)
		}
		d.Domain, d.CreatedAt = domain, condo.FromUnixMS(created)
		if _, err := tx.ExecContext(ctx, "DELETE FROM tenant_domains WHERE domain = ?", domain); err != nil {
			return err
		}
		if d.Primary {
			if _, err = tx.ExecContext(ctx, `UPDATE tenant_domains SET is_primary = 1 WHERE domain =
				(SELECT domain FROM tenant_domains WHERE tenant_id = ? ORDER BY created_at, domain LIMIT 1)`, d.TenantID); err != nil {
				return err
			}
		}
		return audit(ctx, tx, "domain.remove", d.TenantID, domain, d, nil)
	})
	if err != nil {
		return nil, err
	}
	c.cache.Purge()
	return &d, nil
}

// Domains lists a tenant's domains, primary first; with an empty tenantID,
// every tenant's.
func (c *Catalog) Domains(ctx context.Context, tenantID string) ([]Domain, error) {
	q, args := "SELECT domain, tenant_id, is_primary, created_at FROM tenant_domains", []any{}
	if tenantID != "" {
		q += " WHERE tenant_id = ?"
		args = append(args, tenantID)
	}
	return c.queryDomains(ctx, q, args...)
}

// attachDomains fills in the domains of a page of tenants with one query,
// not one a tenant.
func (c *Catalog) attachDomains(ctx context.Context, ts []*Tenant) error {
	if len(ts) == 0 {
		return nil
	}
	byID := make(map[string]*Tenant, len(ts))
	args := make([]any, len(ts))
	for i, t := range ts {
		byID[t.ID], args[i] = t, t.ID
	}
	// A page is at most 1000 tenants, below SQLite's limit of 32766
	// host parameters.
	ds, err := c.queryDomains(ctx, "SELECT domain, tenant_id, is_primary, created_at FROM tenant_domains WHERE tenant_id IN (?"+
		strings.Repeat(", ?", len(ts)-1)+")", args...)
	if err != nil {
		return err
	}
	for _, d := range ds {
		t := byID[d.TenantID]
		t.Domains = append(t.Domains, d)
	}
	return nil
}

// queryDomains runs q, a select of tenant_domains, in the order Domains
// promises: by tenant, primary first, then by name.
func (c *Catalog) queryDomains(ctx context.Context, q string, args ...any) ([]Domain, error) {
	rows, err := c.db.Reader().QueryContext(ctx, q+" ORDER BY tenant_id, is_primary DESC, domain", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Domain{}
	for rows.Next() {
		var d Domain
		var created int64
		if err := rows.Scan(&d.Domain, &d.TenantID, &d.Primary, &created); err != nil {
			return nil, err
		}
		d.CreatedAt = condo.FromUnixMS(created)
		out = append(out, d)
	}
	return out, rows.Err()
}
