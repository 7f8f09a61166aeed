package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// audit serves `condo audit`: the platform's audit trail, newest first.
func (m *Main) audit(ctx context.Context, args []string) error {
	c := m.newCommand("audit")
	var f catalog.AuditFilter
	c.fs.StringVar(&f.TenantID, "tenant", "", "only this tenant's entries")
	c.fs.StringVar(&f.Action, "action", "", "only this action (tenant.create, domain.add, tenant.export, ...)")
	c.fs.StringVar(&f.Before, "before", "", "entries older than this id (paging)")
	c.fs.IntVar(&f.Limit, "limit", 50, "at most this many (up to 1000)")
	if _, err := c.parse(args, 0, 0, "audit [--tenant ID] [--action A] [--before ID] [--limit N]"); err != nil {
		return err
	}
	if f.TenantID != "" {
		if err := condo.ValidateTenantID(f.TenantID); err != nil {
			return err
		}
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		entries, err := cat.Audit(ctx, f)
		if err != nil {
			return err
		}
		var b strings.Builder
		w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "AT\tACTOR\tACTION\tTENANT\tTARGET\tID")
		for _, e := range entries {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format("2006-01-02 15:04:05"), e.Actor, e.Action, dash(e.TenantID), dash(e.Target), e.ID)
		}
		w.Flush()
		fmt.Fprintf(&b, "%d entries (--json shows each one's before and after)", len(entries))
		return c.print(map[string]any{"entries": entries}, b.String())
	})
}

// jobsList serves `condo jobs list`: fleet migration runs, tenant moves
// and tenant lifecycle operations, newest first.
func (m *Main) jobsList(ctx context.Context, args []string) error {
	c := m.newCommand("jobs list")
	var f catalog.JobFilter
	c.fs.IntVar(&f.Limit, "limit", 50, "at most this many (up to 1000)")
	c.fs.StringVar(&f.Kind, "kind", "", "only jobs of this kind ("+strings.Join(catalog.JobKinds, ", ")+")")
	c.fs.StringVar(&f.TenantID, "tenant", "", "only this tenant's jobs")
	if _, err := c.parse(args, 0, 0, "jobs list [--limit N] [--kind K] [--tenant ID]"); err != nil {
		return err
	}
	if f.Limit < 1 || f.Limit > 1000 {
		return usagef("--limit must be 1 to 1000")
	}
	if f.Kind != "" && !catalog.IsJobKind(f.Kind) {
		return usagef("--kind is one of %s", strings.Join(catalog.JobKinds, ", "))
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		jobs, err := cat.FindJobs(ctx, f)
		if err != nil {
			return err
		}
		var b strings.Builder
		w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "STARTED\tKIND\tTENANT\tSTATE\tPROGRESS\tID\tERROR")
		for _, j := range jobs {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.StartedAt.UTC().Format("2006-01-02 15:04:05"), j.Kind, dash(j.TenantID), j.State, dash(j.Progress), j.ID, j.Error)
		}
		w.Flush()
		fmt.Fprintf(&b, "%d jobs", len(jobs))
		return c.print(map[string]any{"jobs": jobs}, b.String())
	})
}
