package api

import (
	"context"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// PluginGate is what plugins.Config.Allowed asks: whether a tenant's plan
// lets it run a plugin. The runner asks once per tenant per cache fill,
// not per request; a plan change drops that tenant's cached answer
// (updateTenant) on this node, other nodes follow within the TTL.
func PluginGate(cat *catalog.Catalog) func(ctx context.Context, tenant, plugin string) error {
	return func(ctx context.Context, tenant, plugin string) error {
		t, err := cat.Lookup(ctx, tenant)
		if err != nil {
			return err
		}
		if !cat.Plans().For(t.Plan).AllowsPlugin(plugin) {
			return condo.Errorf(condo.EFORBIDDEN, "the %s plan does not include the plugin %q", t.Plan, plugin)
		}
		return nil
	}
}
