package catalog

import (
	"strings"

	"github.com/condohq/condo"
	"github.com/condohq/condo/plans"
)

// Plans returns the plans this catalog lets tenants be on (Config.Plans).
func (c *Catalog) Plans() *plans.Set { return c.cfg.Plans }

// plan returns the plan called name, or EINVALID (invalid_plan) naming
// the plans there are.
func (c *Catalog) plan(name string) (*plans.Plan, error) {
	p, ok := c.cfg.Plans.Lookup(name)
	if !ok {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_plan", "unknown plan %.40q: use %s", name, strings.Join(c.cfg.Plans.Names(), ", "))
	}
	return p, nil
}
