package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle/sonicjs"
	"github.com/condohq/condo/tenantstore"
)

func (m *Main) importSonicJS(ctx context.Context, args []string) error {
	c := m.newCommand("import sonicjs")
	var opt sonicjs.Options
	c.fs.StringVar(&opt.ID, "id", "", "the new tenant's id (required)")
	c.fs.StringVar(&opt.Name, "name", "", "the new tenant's name (default: the site's siteName setting, else the id)")
	c.fs.StringVar(&opt.MediaDir, "media-dir", "", "a copy of the site's R2 bucket (rclone copy, say): each media file is read from DIR/<r2_key>")
	pos, err := c.parse(args, 1, 1, "import sonicjs --id ID [--media-dir DIR] FILE")
	if err != nil {
		return err
	}
	if opt.ID == "" {
		return usagef("import sonicjs: --id ID is required")
	}
	return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
		// Fail before reading the file; CreateFrom checks again, atomically.
		if _, err := cat.Tenant(ctx, opt.ID); err == nil {
			return condo.ReasonErrorf(condo.ECONFLICT, "tenant_exists", "tenant %s exists already: choose another --id", opt.ID)
		}
		rep, err := sonicjs.Import(ctx, store, pos[0], opt)
		if err != nil {
			return err
		}
		cat.RecordAudit(ctx, "tenant.import_sonicjs", rep.Tenant.ID, "", rep.Mapped)
		return c.print(rep, sonicReport(rep))
	})
}

// sonicReport is an import's report as text.
func sonicReport(r *sonicjs.Report) string {
	var b strings.Builder
	from := map[string]string{"sqlite": "its SQLite database", "sql": "its SQL export"}[r.Source]
	fmt.Fprintf(&b, "imported the SonicJS site %q from %s as tenant %s (schema version %d)\n", r.Tenant.Name, from, r.Tenant.ID, r.Tenant.Schema.Version)
	n := r.Mapped
	fmt.Fprintf(&b, "mapped: %d collections, %d items, %d versions, %d workflow records, %d media records (%d with their files), %d users, %d API tokens (revoked), %d settings\n",
		n.Collections, n.Content, n.Versions, n.Workflow, n.Media, n.MediaFiles, n.Users, n.APITokens, n.Settings)
	if len(r.Dropped) > 0 {
		b.WriteString("dropped:\n")
		for _, d := range r.Dropped {
			fmt.Fprintf(&b, "  %d %s: %s\n", d.Count, d.What, d.Why)
		}
	}
	if len(r.Changed) > 0 {
		b.WriteString("changed:\n")
		for _, c := range r.Changed {
			fmt.Fprintf(&b, "  %s\n", c)
		}
	}
	if len(r.ResetRequired) > 0 {
		fmt.Fprintf(&b, "must reset their password (%d): %s\n", len(r.ResetRequired), strings.Join(r.ResetRequired, ", "))
	}
	if len(r.RevokedTokens) > 0 {
		fmt.Fprintf(&b, "revoked API tokens (%d): %s\n", len(r.RevokedTokens), strings.Join(r.RevokedTokens, "; "))
	}
	if len(r.Notes) > 0 {
		b.WriteString("notes:\n")
		for _, s := range r.Notes {
			fmt.Fprintf(&b, "  %s\n", s)
		}
	}
	return b.String()
}
