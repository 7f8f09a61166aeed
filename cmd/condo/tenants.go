package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/libsqldb"
	"github.com/condohq/condo/tenantstore"
)

// open opens the command's catalog, which must exist; the caller closes it.
func (c *command) open(ctx context.Context) (*catalog.Catalog, error) {
	if err := requireCatalog(&c.cfg); err != nil {
		return nil, err
	}
	return openCatalog(ctx, &c.cfg, catalog.Config{BaseDomain: c.cfg.BaseDomain, Region: envRegion()})
}

// withCatalog runs fn with the command's catalog open.
func (c *command) withCatalog(ctx context.Context, fn func(*catalog.Catalog) error) error {
	cat, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer cat.Close()
	return fn(cat)
}

func (m *Main) tenantsCreate(ctx context.Context, args []string) error {
	c := m.newCommand("tenants create")
	var in catalog.NewTenant
	var domains stringList
	c.fs.StringVar(&in.Name, "name", "", "display name (default: the id)")
	c.fs.StringVar(&in.Plan, "plan", "free", "plan: free, pro or enterprise")
	c.fs.StringVar(&in.Region, "region", "", "home region (default: this node's, $CONDO_REGION else $FLY_REGION)")
	c.fs.StringVar(&in.Residency, "residency", "", "residency set the home region must be in (see --residency-sets)")
	c.cfg.register(c.fs, "residency-sets")
	c.fs.Var(&domains, "domain", "custom domain (repeatable; the first is primary)")
	c.fs.StringVar(&in.Location, "location", "", "a libsql://, https:// (or loopback http://) URL holding the tenant's database instead of this node's volume; its token from CONDO_LOCATION_TOKEN or standard input")
	pos, err := c.parse(args, 1, 1, "tenants create ID [--name N] [--domain D]... [--plan P] [--region R] [--residency SET] [--location URL]")
	if err != nil {
		return err
	}
	in.ID, in.Domains = pos[0], domains
	if in.Location != "" {
		if in.LocationToken, err = m.locationToken(c.cfg.LocationToken); err != nil {
			return err
		}
	}
	// A new tenant starts at the store's migration set's latest version.
	return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
		t, err := store.Create(ctx, in)
		if err != nil {
			return err
		}
		return c.print(t, fmt.Sprintf("created tenant %s: http://%s.%s/", t.ID, t.Subdomain, cat.Config().BaseDomain))
	})
}

// locationToken is the token of a remote location: CONDO_LOCATION_TOKEN,
// else the first line of standard input when it is not a terminal (a
// pipe, so the token is never in a command line), else none.
func (m *Main) locationToken(fromEnv secret) (string, error) {
	if fromEnv != "" || isTerminal(m.Stdin) {
		return string(fromEnv), nil
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read the location token from standard input: %w", err)
	}
	return strings.TrimSpace(line), nil
}

func (m *Main) tenantsList(ctx context.Context, args []string) error {
	c := m.newCommand("tenants list")
	var f catalog.TenantFilter
	c.fs.StringVar(&f.Status, "status", "", "only tenants with this status")
	c.fs.StringVar(&f.Query, "query", "", "only tenants whose id or name contains this")
	c.fs.IntVar(&f.Limit, "limit", 1000, "at most this many")
	c.fs.IntVar(&f.Offset, "offset", 0, "skip this many")
	if _, err := c.parse(args, 0, 0, "tenants list [--status S] [--query Q] [--limit N] [--offset N]"); err != nil {
		return err
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		ts, total, err := cat.Tenants(ctx, f)
		if err != nil {
			return err
		}
		if ts == nil {
			ts = []*catalog.Tenant{}
		}
		var b strings.Builder
		w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tPLAN\tSTATUS\tSCHEMA\tCREATED")
		for _, t := range ts {
			schema := fmt.Sprint(t.Schema.Version)
			if t.Schema.Dirty {
				schema += " (dirty)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Plan, t.Status, schema, t.CreatedAt.Format("2006-01-02 15:04"))
		}
		w.Flush()
		fmt.Fprintf(&b, "%d of %d tenants", len(ts), total)
		return c.print(map[string]any{"tenants": ts, "total": total}, b.String())
	})
}

func (m *Main) tenantsShow(ctx context.Context, args []string) error {
	c := m.newCommand("tenants show")
	c.cfg.register(c.fs, "backup-url")
	pos, err := c.parse(args, 1, 1, "tenants show ID")
	if err != nil {
		return err
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		t, err := cat.Tenant(ctx, pos[0])
		if err != nil {
			return err
		}
		text := describeTenant(t, cat.Config().BaseDomain)
		if c.cfg.BackupURL == "" {
			return c.print(t, text)
		}
		// The backup store's view: its last sync and how long ago. The
		// serving process's live lag is in GET /platform/tenants/:id.
		bs := backupSummary(ctx, &c.cfg, cat, t.ID)
		return c.print(struct {
			*catalog.Tenant
			Backup tenantBackup `json:"backup"`
		}{t, bs}, text+"\n"+bs.String())
	})
}

func describeTenant(t *catalog.Tenant, base string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "id:        %s\nname:      %s\nstatus:    %s\nplan:      %s (storage %d MiB, %d users)\n",
		t.ID, t.Name, t.Status, t.Plan, t.StorageQuota>>20, t.UserLimit)
	fmt.Fprintf(&b, "host:      %s.%s\n", t.Subdomain, base)
	for _, d := range t.Domains {
		primary := ""
		if d.Primary {
			primary = " (primary)"
		}
		fmt.Fprintf(&b, "domain:    %s%s\n", d.Domain, primary)
	}
	fmt.Fprintf(&b, "region:    %s\n", dash(t.Region))
	residency := t.Residency
	if residency == "" {
		residency = "none"
	}
	fmt.Fprintf(&b, "residency: %s\n", residency)
	if t.Location != "" { // its token is never shown
		fmt.Fprintf(&b, "location:  %s\n", libsqldb.Redact(t.Location))
	}
	fmt.Fprintf(&b, "schema:    version %d", t.Schema.Version)
	if t.Schema.Dirty {
		b.WriteString(" DIRTY")
	}
	if t.Schema.Error != "" {
		fmt.Fprintf(&b, " (last error: %s)", t.Schema.Error)
	}
	fmt.Fprintf(&b, "\ncreated:   %s", t.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	return b.String()
}

func (m *Main) tenantsSetStatus(ctx context.Context, args []string, verb, status string) error {
	c := m.newCommand("tenants " + verb)
	pos, err := c.parse(args, 1, 1, "tenants "+verb+" ID")
	if err != nil {
		return err
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		t, err := cat.SetStatus(ctx, pos[0], status)
		if err != nil {
			return err
		}
		return c.print(t, fmt.Sprintf("tenant %s is %s", t.ID, t.Status))
	})
}
