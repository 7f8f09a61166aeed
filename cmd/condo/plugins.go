package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/plugins"
	"github.com/condohq/condo/plugins/shipped"
)

// The plugins commands work on the tenant's database like the other
// tenant commands, so they work while serve runs; a running server sees
// the change within its resolution TTL (--resolve-ttl), the bound of all
// its caches for writes made by another process.

func (m *Main) pluginsList(ctx context.Context, args []string) error {
	c := m.newCommand("plugins list")
	pos, err := c.parse(args, 1, 1, "plugins list ID")
	if err != nil {
		return err
	}
	return c.withTenant(ctx, pos[0], func(t *catalog.Tenant, st *auth.Store) error {
		list, err := pluginRunner().List(ctx, st.DB)
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d plugins available in %s\n", len(list), t.ID)
		for _, p := range list {
			state := "disabled"
			if p.Enabled {
				state = "enabled"
			}
			fmt.Fprintf(&b, "  %-14s %-9s %s\n", p.Name, state, p.Settings)
		}
		return c.print(list, strings.TrimRight(b.String(), "\n"))
	})
}

func (m *Main) pluginsEnable(ctx context.Context, args []string) error {
	c := m.newCommand("plugins enable")
	settings := c.fs.String("settings", "", `the plugin's settings as a JSON object (default: the stored ones, or the schema's defaults)`)
	pos, err := c.parse(args, 2, 2, "plugins enable ID NAME [--settings JSON]")
	if err != nil {
		return err
	}
	on := true
	ch := plugins.Change{Enabled: &on}
	if *settings != "" {
		ch.Settings = json.RawMessage(*settings)
	}
	return m.pluginsConfigure(ctx, c, pos[0], pos[1], ch)
}

func (m *Main) pluginsDisable(ctx context.Context, args []string) error {
	c := m.newCommand("plugins disable")
	pos, err := c.parse(args, 2, 2, "plugins disable ID NAME")
	if err != nil {
		return err
	}
	off := false
	return m.pluginsConfigure(ctx, c, pos[0], pos[1], plugins.Change{Enabled: &off})
}

func (m *Main) pluginsConfigure(ctx context.Context, c *command, id, name string, ch plugins.Change) error {
	return c.withTenant(ctx, id, func(t *catalog.Tenant, st *auth.Store) error {
		out, err := pluginRunner().Configure(ctx, t.ID, st.DB, name, ch)
		if err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"enabled": out.Enabled, "via": "cli"})
		if err := st.Record(ctx, auth.Event{Category: auth.CategoryAudit, Action: "plugin.configured", ActorType: "operator",
			Target: out.Name, Detail: detail}); err != nil {
			return err
		}
		state := "disabled"
		if out.Enabled {
			state = "enabled"
		}
		return c.print(out, fmt.Sprintf("plugin %s %s in tenant %s, settings %s", out.Name, state, t.ID, out.Settings))
	})
}

// pluginRunner is the CLI's: the shipped plugins, no plan gate (the
// operator decides), nothing cached across commands.
func pluginRunner() *plugins.Runner { return plugins.NewRunner(shipped.Registry(), plugins.Config{}) }
