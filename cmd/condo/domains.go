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
