package main

import (
	"context"
	"fmt"
	"github.com/condohq/condo/catalog"
	"strings"
	"text/tabwriter"
)

func (m *Main) domainsAdd(ctx context.Context, args []string) error {
	c := m.newCommand("domains add")
	primary := c.fs.Bool("primary", false, "make it the tenant's primary domain")
	pos, err := c.parse(args, 2, 2, "domains add ID DOMAIN [--primary]")
	if err != nil {
		return err
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		d, err := cat.AddDomain(ctx, pos[0], strings.ToLower(pos[1]), *primary)
		if err != nil {
			return err
		}
		return c.print(d, fmt.Sprintf("%s now reaches tenant %s", d.Domain, d.TenantID))
	})
}

func (m *Main) domainsRemove(ctx context.Context, args []string) error {
	c := m.newCommand("domains remove")
	pos, err := c.parse(args, 1, 1, "domains remove DOMAIN")
	if err != nil {
		return err
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		d, err := cat.RemoveDomain(ctx, strings.ToLower(pos[0]))
		if err != nil {
			return err
		}
		return c.print(d, fmt.Sprintf("%s no longer reaches tenant %s", d.Domain, d.TenantID))
	})
}

func (m *Main) domainsList(ctx context.Context, args []string) error {
	c := m.newCommand("domains list")
	pos, err := c.parse(args, 0, 1, "domains list [ID]")
	if err != nil {
		return err
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		id := ""
		if len(pos) == 1 {
			id = pos[0]
			if _, err := cat.Lookup(ctx, id); err != nil {
				return err
			}
		}
		ds, err := cat.Domains(ctx, id)
		if err != nil {
			return err
		}
		var b strings.Builder
		w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "DOMAIN\tTENANT\tPRIMARY")
		for _, d := range ds {
			fmt.Fprintf(w, "%s\t%s\t%v\n", d.Domain, d.TenantID, d.Primary)
		}
		w.Flush()
		return c.print(map[string]any{"domains": ds}, b.String())
	})
}

// baseDomain serves `condo base-domain show` and `condo base-domain set
// DOMAIN`. The base domain is the catalog's, so these ignore
// --base-domain: set is how it changes.
func (m *Main) baseDomain(ctx context.Context, args []string, sub string) error {
	c := m.newCommand("base-domain " + sub)
	usage, n := "base-domain show", 0
	if sub == "set" {
		usage, n = "base-domain set DOMAIN", 1
	}
	pos, err := c.parse(args, n, n, usage)
	if err != nil {
		return err
	}
	c.cfg.BaseDomain = ""
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		if sub == "show" {
			name := cat.BaseDomain(ctx)
			return c.print(map[string]string{"base_domain": name}, name)
		}
		prev, err := cat.SetBaseDomain(ctx, pos[0])
		if err != nil {
			return err
		}
		name := cat.BaseDomain(ctx)
		return c.print(map[string]string{"base_domain": name, "previous": prev},
			fmt.Sprintf("base domain is now %s (was %s): tenants answer at <id>.%s, and running servers follow within --resolve-ttl.\n"+
				"Update or unset --base-domain/CONDO_BASE_DOMAIN wherever it is set: a process given %s refuses to start.", name, prev, name, prev))
	})
}
