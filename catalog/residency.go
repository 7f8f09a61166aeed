package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/condohq/condo"
)

// ResidencySets names sets of regions a tenant's data may live in, such as
// "eu" for ams, fra and cdg. They come from configuration
// (--residency-sets); a tenant created with a residency names one, and
// every path that places its bytes in a region (create today; moves,
// backups and forwards later) asks CheckResidency first.
type ResidencySets map[string][]string

// ParseResidencySets reads "eu=ams,fra,cdg;us=iad,ord": sets separated by
// semicolons, each a name (a DNS label) and its regions. Empty text is no
// sets. The error names the first problem, in one line.
func ParseResidencySets(s string) (ResidencySets, error) {
	sets := ResidencySets{}
	if strings.TrimSpace(s) == "" {
		return sets, nil
	}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue // a trailing semicolon
		}
		name, list, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("residency set %q has no regions: write NAME=REGION,REGION", condo.Clip(part))
		}
		if condo.ValidateTenantID(name) != nil {
			return nil, fmt.Errorf("residency set name %q is not a label (lower-case letters, digits and dashes)", condo.Clip(name))
		}
		if _, dup := sets[name]; dup {
			return nil, fmt.Errorf("residency set %q is given twice", name)
		}
		var regions []string
		for _, r := range strings.Split(list, ",") {
			r = strings.TrimSpace(r)
			if ValidateRegion(r) != nil {
				return nil, fmt.Errorf("residency set %q: %q is not a region (a short code such as ams or iad)", name, condo.Clip(r))
			}
			if !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
		}
		sets[name] = regions
	}
	return sets, nil
}

// String writes the sets back in ParseResidencySets' syntax, by name.
func (r ResidencySets) String() string {
	names := make([]string, 0, len(r))
	for n := range r {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + "=" + strings.Join(r[n], ",")
	}
	return strings.Join(parts, ";")
}

// Allows reports whether set allows region. An unknown set allows
// nothing: a tenant whose set was removed from configuration is placed
// nowhere new until it is restored.
func (r ResidencySets) Allows(set, region string) bool {
	return region != "" && slices.Contains(r[set], region)
}

// Check refuses (EINVALID) to place data of a tenant with residency set
// in region: an unknown set (unknown_residency), no region
// (region_required) or a region outside the set (residency_violation).
// An empty set is no constraint.
func (r ResidencySets) Check(set, region string) error {
	if set == "" {
		return nil
	}
	regions, ok := r[set]
	if !ok {
		known := r.String()
		if known == "" {
			known = "none are configured (--residency-sets)"
		}
		return condo.ReasonErrorf(condo.EINVALID, "unknown_residency", "unknown residency %q: the residency sets are %s", condo.Clip(set), known)
	}
	if region == "" {
		return condo.ReasonErrorf(condo.EINVALID, "region_required", "residency %q needs a home region (%s): give one, or set this node's --region", set, strings.Join(regions, ", "))
	}
	if !r.Allows(set, region) {
		return condo.ReasonErrorf(condo.EINVALID, "residency_violation", "region %s is outside residency %q (%s)", region, set, strings.Join(regions, ", "))
	}
	return nil
}

// CheckResidency is the one check every path that places a tenant's data
// in a region calls (creation, and later moves, backups and forwards):
// nil when t's residency, under this catalog's sets, allows region.
func (c *Catalog) CheckResidency(t *Tenant, region string) error {
	return c.cfg.ResidencySets.Check(t.Residency, region)
}
