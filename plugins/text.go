package plugins

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PlainText returns s (plain text, Markdown or HTML, as content fields
// hold) as words separated by single spaces: tags dropped, entities
// decoded. It is for computing from content (excerpts, word counts), not
// for rendering.
func PlainText(s string) string {
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.FieldsFunc(html.UnescapeString(b.String()), unicode.IsSpace), " ")
}

// Clip cuts s to at most max characters, at a word boundary when there is
// one in its second half.
func Clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max]
	if i := strings.LastIndexByte(string(r), ' '); i > len(string(r))/2 {
		return strings.TrimRight(string(r)[:i], " ,.;:-")
	}
	return string(r)
}
