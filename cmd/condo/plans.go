package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/tenantstore"
)

// plansList prints the plans tenants may be on: the --plans file's, else
// the built-in ones. It reads no catalog.
func (m *Main) plansList(ctx context.Context, args []string) error {
	c := m.newCommand("plans list")
	if _, err := c.parse(args, 0, 0, "plans list [--plans FILE]"); err != nil {
		return err
	}
	ps, err := plans.Load(c.cfg.Plans, nil)
	if err != nil {
		return usagef("--plans: %s", err)
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PLAN\tSTORAGE\tUSERS\tITEMS/COLL\tFILE\tREQ/S\tBURST\tLIBSQL\tDOMAINS\tTOKENS\tWEBHOOKS\tPLUGINS")
	for _, p := range ps.All() {
		plugs := strings.Join(p.PluginsAllowed, ",")
		switch {
		case p.AllPlugins:
			plugs = "all"
		case plugs == "":
			plugs = "none"
		}
		rate := "none"
		if p.RequestsPerSecond > 0 {
			rate = fmt.Sprint(p.RequestsPerSecond)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%t\t%s\t%s\t%s\t%s\n", p.Name, plans.FormatSize(p.StorageQuota), p.UserLimit,
			limit(p.ItemsPerCollection), plans.FormatSize(p.MediaFileSize), rate, p.Burst, p.LibSQL,
			limit(p.CustomDomains), limit(p.APITokens), limit(p.Webhooks), plugs)
	}
	w.Flush()
	return c.print(map[string]any{"plans": ps.All()}, strings.TrimSuffix(b.String(), "\n"))
}

func limit(n int64) string {
	if n == plans.Unlimited {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

// tenantsSetPlan moves a tenant to another plan, whose storage quota and
// user limit it takes, and reports its usage against them. A downgrade
// below the usage is allowed: it blocks growth only. This node's servers
// see it within their resolution cache's TTL (--resolve-ttl).
func (m *Main) tenantsSetPlan(ctx context.Context, args []string) error {
	c := m.newCommand("tenants set-plan")
	pos, err := c.parse(args, 2, 2, "tenants set-plan ID PLAN [--plans FILE]")
	if err != nil {
		return err
	}
	return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
		t, err := cat.UpdateTenant(ctx, pos[0], catalog.TenantUpdate{Plan: &pos[1]})
		if err != nil {
			return err
		}
		out := map[string]any{"tenant": t}
		human := fmt.Sprintf("tenant %s is on plan %s: storage quota %s, %d users", t.ID, t.Plan, plans.FormatSize(t.StorageQuota), t.UserLimit)
		if u, ok := tenantUsage(ctx, store, t); ok {
			out["usage"] = u
			human += fmt.Sprintf("\nusage: %s (database %s, media %s)", plans.FormatSize(u.Total()), plans.FormatSize(u.Database), plans.FormatSize(u.Media))
			if u.Total() > t.StorageQuota {
				warning := fmt.Sprintf("warning: the tenant uses more than its new quota: reads and deletes keep working, writes that add data are refused until usage is under %s", plans.FormatSize(t.StorageQuota))
				out["warning"] = warning
				human += "\n" + warning
			}
		}
		return c.print(out, human)
	})
}

// tenantUsage measures t's storage, when its database is on this node.
func tenantUsage(ctx context.Context, store *tenantstore.Store, t *catalog.Tenant) (plans.Usage, bool) {
	if t.Status != catalog.StatusActive || t.Location != "" {
		return plans.Usage{}, false
	}
	h, release, err := store.AcquireTenant(ctx, t)
	if err != nil {
		return plans.Usage{}, false
	}
	defer release()
	u, err := plans.ReadUsage(ctx, h.Reader())
	return u, err == nil
}
