package catalog

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/condohq/condo"
)

// MetaBaseDomain is the meta key of the base domain: the domain tenants'
// subdomains live under. It is the catalog's, not a process's, so every
// process on one catalog agrees on which hosts are tenant subdomains (a
// CLI started with another --base-domain once let a custom domain shadow a
// tenant's subdomain). The first process to open a catalog stores it;
// SetBaseDomain changes it.
const MetaBaseDomain = "base_domain"

// baseDomain is the base domain as this process last read it.
type baseDomain struct {
	name    string
	expires time.Time // when to read it again
}

// normalizeBaseDomain lower-cases name and checks it is a host name; a
// single label (localhost) is allowed.
func normalizeBaseDomain(name string) (string, error) {
	name = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
	// Any label placed before a valid base domain makes a valid domain.
	if condo.ValidateDomain("x."+name) != nil || len(name) > 200 {
		return "", condo.ReasonErrorf(condo.EINVALID, "invalid_base_domain",
			"invalid base domain %q: use a lower-case host name such as example.com", condo.Clip(name))
	}
	return name, nil
}

// openBaseDomain settles the base domain when the catalog opens: the
// stored one, else (a new catalog, or one made before the base domain was
// kept) the configured one or DefaultBaseDomain, stored. A configured one
// that disagrees with the stored one is refused, since two processes with
// two base domains disagree on which hosts are whose.
func (c *Catalog) openBaseDomain(ctx context.Context, configured string) (string, error) {
	if configured != "" {
		var err error
		if configured, err = normalizeBaseDomain(configured); err != nil {
			return "", err
		}
	}
	stored, err := c.SetMetaOnce(ctx, MetaBaseDomain, cmp.Or(configured, DefaultBaseDomain))
	if err != nil {
		return "", err
	}
	if configured != "" && configured != stored {
		return "", condo.ReasonErrorf(condo.EINVALID, "base_domain_mismatch",
			"this catalog's base domain is %s, not %s: change it with `condo base-domain set %s` "+
				"(which checks custom domains), or leave --base-domain and CONDO_BASE_DOMAIN unset", stored, configured, configured)
	}
	c.base.Store(&baseDomain{name: stored, expires: time.Now().Add(c.cfg.CacheTTL)})
	return stored, nil
}

// BaseDomain returns the domain tenants' subdomains live under
// ("<subdomain>.<BaseDomain>" reaches a tenant): the catalog's, read at
// most CacheTTL ago, so a change by another process is seen within it.
// While the catalog cannot be read, the last value read stands.
func (c *Catalog) BaseDomain(ctx context.Context) string {
	b := c.base.Load()
	if time.Now().Before(b.expires) {
		return b.name
	}
	name := b.name
	if c.probe() { // during an outage, not on every request (see stale.go)
		lctx, cancel := context.WithTimeout(ctx, LookupTimeout)
		n, err := c.Meta(lctx, MetaBaseDomain)
		cancel()
		if name = n; err != nil {
			c.unreachable(ctx, err)
			name = b.name
		} else {
			c.reachable()
		}
	}
	// Store, then purge: a lookup that starts after the purge reads the
	// new name, and one that started before cannot cache what it finds.
	c.base.Store(&baseDomain{name: name, expires: time.Now().Add(c.cfg.CacheTTL)})
	if name != b.name {
		c.cache.Purge() // hosts resolved under the old base domain
	}
	return name
}

// SetBaseDomain changes the base domain and returns the previous one. It
// refuses (ECONFLICT, domains_under_base_domain) while a custom domain
// sits where a tenant's subdomain would be under the new one, so that no
// custom domain can shadow a tenant. Other processes on the catalog see
// the change within CacheTTL.
func (c *Catalog) SetBaseDomain(ctx context.Context, name string) (previous string, err error) {
	if name, err = normalizeBaseDomain(name); err != nil {
		return "", err
	}
	err = c.db.Transact(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", MetaBaseDomain).Scan(&previous); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT domain FROM tenant_domains ORDER BY domain")
		if err != nil {
			return err
		}
		defer rows.Close()
		var under []string
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				return err
			}
			if isSubdomainHost(d, name) {
				under = append(under, d)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(under) > 0 {
			shown := strings.Join(under[:min(len(under), 5)], ", ")
			if len(under) > 5 {
				shown += fmt.Sprintf(" and %d more", len(under)-5)
			}
			return condo.ReasonErrorf(condo.ECONFLICT, "domains_under_base_domain",
				"custom domains sit where tenant subdomains of %s would be: %s; remove them first", name, shown)
		}
		if _, err = tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = ?", name, MetaBaseDomain); err != nil {
			return err
		}
		return audit(ctx, tx, "platform.base_domain", "", name, map[string]string{"base_domain": previous}, map[string]string{"base_domain": name})
	})
	if err != nil {
		return "", err
	}
	c.base.Store(&baseDomain{name: name, expires: time.Now().Add(c.cfg.CacheTTL)})
	c.cache.Purge()
	return previous, nil
}

// baseDomainTx reads the base domain inside a transaction, so a check
// against it and the write it guards cannot straddle a SetBaseDomain.
func baseDomainTx(ctx context.Context, tx *sql.Tx) (string, error) {
	var name string
	err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", MetaBaseDomain).Scan(&name)
	return name, err
}

// isSubdomainHost reports whether host is exactly one label, a valid
// tenant subdomain, under base: a host that tenant subdomains own.
func isSubdomainHost(host, base string) bool {
	label, ok := strings.CutSuffix(host, "."+base)
	return ok && condo.ValidateTenantID(label) == nil
}

// checkNotSubdomainHost refuses a custom domain that sits where a tenant's
// subdomain would.
func checkNotSubdomainHost(domain, base string) error {
	if isSubdomainHost(domain, base) {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_domain",
			"%s is under the base domain %s, which is reserved for tenant subdomains", domain, base)
	}
	return nil
}
