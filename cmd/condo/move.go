package main

import (
	"context"
	"fmt"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/move"
)

// tenantsMove records a move of a tenant to another region and, unless
// --no-wait, follows it in the catalog until it ends: the tenant's home
// node runs it (package move), this command only asks and watches.
func (m *Main) tenantsMove(ctx context.Context, args []string) error {
	c := m.newCommand("tenants move")
	var region, location string
	var noWait bool
	var timeout time.Duration
	c.fs.StringVar(&region, "region", "", "the region to move the tenant to (a node of it must be up)")
	c.fs.StringVar(&location, "location", "", "a remote location to move it to (not supported yet)")
	c.fs.BoolVar(&noWait, "no-wait", false, "print the move's id and return; follow it with GET /platform/moves/ID")
	c.fs.DurationVar(&timeout, "timeout", 30*time.Minute, "how long to follow the move before giving up watching (it goes on)")
	c.cfg.register(c.fs, "residency-sets")
	pos, err := c.parse(args, 1, 1, "tenants move ID --region R [--location URL] [--no-wait]")
	if err != nil {
		return err
	}
	if region == "" {
		return usagef("tenants move needs --region")
	}
	residency, err := catalog.ParseResidencySets(c.cfg.ResidencySets)
	if err != nil {
		return usagef("--residency-sets: %v", err)
	}
	if err := requireCatalog(&c.cfg); err != nil {
		return err
	}
	cat, err := openCatalog(ctx, &c.cfg, catalog.Config{BaseDomain: c.cfg.BaseDomain, ResidencySets: residency})
	if err != nil {
		return err
	}
	defer cat.Close()
	mv, err := move.Request(ctx, cat, pos[0], region, location)
	if err != nil {
		return err
	}
	if noWait {
		return c.print(mv, fmt.Sprintf("move %s of tenant %s to %s (node %s) requested", mv.ID, mv.TenantID, mv.ToRegion, mv.ToNode))
	}
	if !c.json {
		fmt.Fprintf(c.out, "move %s: tenant %s from %s to %s (node %s)\n", mv.ID, mv.TenantID, mv.FromRegion, mv.ToRegion, mv.ToNode)
	}
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		cur, err := cat.Move(ctx, mv.ID)
		if err != nil {
			return err
		}
		if p := cur.State + " " + cur.Step; p != last && !c.json {
			fmt.Fprintf(c.out, "  %s: %s\n", cur.State, cur.Step)
			last = p
		}
		switch cur.State {
		case catalog.MoveDone:
			pause := "?"
			if cur.Pause != nil {
				pause = time.Duration(*cur.Pause).String()
			}
			return c.print(cur, fmt.Sprintf("moved tenant %s to %s: writes paused %s; old copy kept at %s until %s",
				cur.TenantID, cur.ToRegion, pause, cur.OldPath, cur.RemoveAfter.Format(time.RFC3339)))
		case catalog.MoveFailed:
			return condo.ReasonErrorf(condo.EUNAVAILABLE, "move_failed", "move %s failed, the tenant stays in %s: %s", cur.ID, cur.FromRegion, cur.Error)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("move %s is still %s after %s; follow it with GET /platform/moves/%s", cur.ID, cur.State, timeout, cur.ID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
