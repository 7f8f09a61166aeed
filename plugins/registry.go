package plugins

import (
	"fmt"
	"sort"
	"strings"

	"github.com/condohq/condo/cms"
)

// Registry is the set of plugins compiled into the binary. It is filled
// at start-up (Register) and only read afterwards.
type Registry struct {
	byName map[string]*Plugin
	sorted []*Plugin // by name: the order hooks run in
}

// NewRegistry returns a registry of ps; it panics on an invalid plugin
// (a programming error, found by the first test that builds it).
func NewRegistry(ps ...*Plugin) *Registry {
	r := &Registry{byName: map[string]*Plugin{}}
	for _, p := range ps {
		if err := r.Register(p); err != nil {
			panic(err)
		}
	}
	return r
}

// Register adds p, parsing its settings schema.
func (r *Registry) Register(p *Plugin) error {
	if !ValidName(p.Name) {
		return fmt.Errorf("plugin name %q: use 1-40 lower-case letters, digits and dashes", p.Name)
	}
	if _, dup := r.byName[p.Name]; dup {
		return fmt.Errorf("plugin %s registered twice", p.Name)
	}
	raw := p.Settings
	if raw == nil {
		raw = []byte(`{"type": "object", "properties": {}}`)
	}
	schema, err := cms.ParseSchema(raw)
	if err != nil {
		return fmt.Errorf("plugin %s settings schema: %w", p.Name, err)
	}
	p.schema = schema
	for _, rt := range p.Routes {
		if !strings.HasPrefix(rt.Path, "/") || rt.Path == "/" || rt.Handler == nil || rt.Method == "" {
			return fmt.Errorf("plugin %s route %s %q: a method, a handler and a path below /api/plugins/%s/", p.Name, rt.Method, rt.Path, p.Name)
		}
	}
	r.byName[p.Name] = p
	r.sorted = append(r.sorted, p)
	sort.Slice(r.sorted, func(i, j int) bool { return r.sorted[i].Name < r.sorted[j].Name })
	return nil
}

// Lookup returns the plugin named name.
func (r *Registry) Lookup(name string) (*Plugin, bool) {
	if r == nil {
		return nil, false
	}
	p, ok := r.byName[name]
	return p, ok
}

// Plugins lists the registered plugins by name.
func (r *Registry) Plugins() []*Plugin {
	if r == nil {
		return nil
	}
	return r.sorted
}
