// Package shipped lists the plugins compiled into Condo: the registry
// the server and the CLI run. A new plugin is added here.
package shipped

import (
	"github.com/condohq/condo/plugins"
	"github.com/condohq/condo/plugins/forms"
	"github.com/condohq/condo/plugins/readingtime"
	"github.com/condohq/condo/plugins/seo"
)

// Registry returns a fresh registry of the shipped plugins.
func Registry() *plugins.Registry {
	return plugins.NewRegistry(seo.New(), readingtime.New(), forms.New())
}
