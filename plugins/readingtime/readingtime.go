// Package readingtime is the reading-time plugin: on every save it counts
// the words of the item's source fields (body by default) and writes the word count and
// the minutes of reading into the item's data. Like every computed field
// they are overwritten on each save; a collection opts in by declaring
// the fields (word_count and reading_time by default, integers) in its
// schema.
package readingtime

import (
	"context"
	"strings"
	"unicode"

	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/plugins"
)

// Name is the plugin's name.
const Name = "reading-time"

// New returns the plugin.
func New() *plugins.Plugin {
	return &plugins.Plugin{
		Name:        Name,
		Description: "Writes the word count and reading time (minutes) of the body into the item on every save.",
		Settings: []byte(`{"type": "object", "properties": {
			"source_fields": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}, "maxItems": 20, "default": ["body"]},
			"words_per_minute": {"type": "integer", "minimum": 50, "maximum": 2000, "default": 200},
			"word_count_field": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "default": "word_count"},
			"reading_time_field": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "default": "reading_time"}}}`),
		BeforeSave: beforeSave,
	}
}

// Words counts the words of text, HTML or Markdown.
func Words(text string) int {
	n := 0
	for _, w := range strings.Fields(plugins.PlainText(text)) {
		if strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0 { // "—" or "#" alone is no word
			n++
		}
	}
	return n
}

func beforeSave(_ context.Context, s plugins.Settings, ev *cms.SaveEvent) error {
	if !ev.Op.ChangesData() {
		return nil // a transition or a restore stores nothing of what a hook fills in
	}
	words := 0
	for _, f := range s.Strings("source_fields", []string{"body"}) {
		if v, ok := ev.Data[f].(string); ok {
			words += Words(v)
		}
	}
	wpm := s.Int("words_per_minute", 200)
	minutes := (words + wpm - 1) / wpm
	for field, v := range map[string]int{s.String("word_count_field", "word_count"): words, s.String("reading_time_field", "reading_time"): minutes} {
		if f, ok := ev.Collection.Schema.Lookup(field); ok && (f.Type == cms.TypeInteger || f.Type == cms.TypeNumber) {
			ev.Data[field] = int64(v)
		}
	}
	return nil
}
