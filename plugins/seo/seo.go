// Package seo is the SEO plugin: on every save of an item it fills the
// slug (from the title, at most slug_max characters, numbered until free
// in the collection), the meta title (from the title) and the meta
// description (an excerpt of the body field) when they are empty, and
// refuses with field errors a slug that is malformed, too long or taken
// in the collection, and meta fields past their length limits. The meta
// fields are the collection's own: a collection opts in by declaring
// them in its schema (meta_title and meta_description by default), since
// a schema refuses fields it does not declare.
package seo

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/plugins"
)

// Name is the plugin's name.
const Name = "seo"

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// New returns the plugin.
func New() *plugins.Plugin {
	return &plugins.Plugin{
		Name:        Name,
		Description: "Fills the slug, meta title and meta description from the title and body when empty, and checks their format, length and uniqueness.",
		Settings: []byte(`{"type": "object", "properties": {
			"title_field": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "default": "meta_title"},
			"description_field": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "default": "meta_description"},
			"body_field": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "default": "body"},
			"title_max": {"type": "integer", "minimum": 10, "maximum": 300, "default": 60},
			"description_max": {"type": "integer", "minimum": 20, "maximum": 1000, "default": 160},
			"slug_max": {"type": "integer", "minimum": 10, "maximum": 200, "default": 80}}}`),
		BeforeSave: beforeSave,
	}
}

func beforeSave(ctx context.Context, s plugins.Settings, ev *cms.SaveEvent) error {
	if !ev.Op.ChangesData() {
		return nil // a transition or a restore stores nothing of what a hook fills in
	}
	bad := cms.FieldErrors{}
	if err := slug(ctx, s, ev, bad); err != nil {
		return err
	}
	titleField, descField := s.String("title_field", "meta_title"), s.String("description_field", "meta_description")
	if declared(ev, titleField) {
		fill(ev, bad, titleField, plugins.PlainText(ev.Title), s.Int("title_max", 60))
	}
	if declared(ev, descField) {
		body, _ := ev.Data[s.String("body_field", "body")].(string)
		fill(ev, bad, descField, plugins.PlainText(body), s.Int("description_max", 160))
	}
	if len(bad) > 0 {
		return cms.ValidationFailed(bad)
	}
	return nil
}

// declared reports whether the collection's schema has a top-level text
// field name.
func declared(ev *cms.SaveEvent, name string) bool {
	f, ok := ev.Collection.Schema.Lookup(name)
	return ok && f.Type != cms.TypeObject && f.Type != cms.TypeArray
}

// fill sets data[field] from source when it is empty, else checks its
// length.
func fill(ev *cms.SaveEvent, bad cms.FieldErrors, field, source string, max int) {
	v, _ := ev.Data[field].(string)
	if v == "" {
		if source != "" {
			ev.Data[field] = plugins.Clip(source, max)
		}
		return
	}
	if utf8.RuneCountInString(v) > max {
		bad[field] = fmt.Sprintf("at most %d characters for search engines", max)
	}
}

// slug checks a given slug, or makes one on create.
func slug(ctx context.Context, s plugins.Settings, ev *cms.SaveEvent, bad cms.FieldErrors) error {
	max := s.Int("slug_max", 80)
	if ev.Slug != "" {
		switch {
		case !slugPattern.MatchString(ev.Slug):
			bad["slug"] = "lower-case letters and digits, single dashes between them"
		case len(ev.Slug) > max:
			bad["slug"] = fmt.Sprintf("at most %d characters", max)
		default:
			taken, err := taken(ctx, ev, ev.Slug)
			if err != nil {
				return err
			}
			if taken {
				bad["slug"] = "already used in this collection"
			}
		}
		return nil
	}
	if !ev.Create { // an edit keeps its slug
		return nil
	}
	base := clipSlug(cms.Slugify(ev.Title), max)
	if base == "" {
		return nil // cms makes one of the id
	}
	for i := 1; i <= 100; i++ {
		cand := base
		if i > 1 {
			suffix := fmt.Sprintf("-%d", i)
			cand = clipSlug(base, max-len(suffix)) + suffix
		}
		t, err := taken(ctx, ev, cand)
		if err != nil {
			return err
		}
		if !t {
			ev.Slug = cand
			return nil
		}
	}
	return nil // cms numbers it further
}

// clipSlug cuts a slug (ASCII) to at most max bytes, at a dash when one
// is in its second half, never ending with a dash.
func clipSlug(s string, max int) string {
	if len(s) > max {
		s = s[:max]
		if i := strings.LastIndexByte(s, '-'); i > max/2 {
			s = s[:i]
		}
	}
	return strings.Trim(s, "-")
}

// taken reports whether another item of the collection (the trash
// included, as cms counts) has slug.
func taken(ctx context.Context, ev *cms.SaveEvent, slug string) (bool, error) {
	var n int
	err := ev.DB.QueryRowTx(ctx, ev.Tx, "SELECT count(*) FROM content WHERE collection_id = ? AND slug = ? AND id <> ?",
		ev.Collection.ID, slug, ev.ItemID).Scan(&n)
	return n > 0, err
}
