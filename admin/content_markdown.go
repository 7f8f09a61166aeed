package admin

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// markdown renders Markdown to HTML (CommonMark with GitHub's tables,
// strikethrough and autolinks). Raw HTML in the source is not passed
// through (goldmark's default), and what comes out is sanitised again
// with bluemonday's UGC policy, the one the API uses for rich text. Both
// are safe for concurrent use once built.
var (
	markdown  = goldmark.New(goldmark.WithExtensions(extension.GFM))
	sanitizer = bluemonday.UGCPolicy()
)

// maxPreview bounds the Markdown a preview renders.
const maxPreview = 256 << 10

// renderMarkdown is src as safe HTML.
func renderMarkdown(src string) template.HTML {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(src), &b); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(sanitizer.SanitizeBytes(b.Bytes()))
}

// markdownPreview serves POST /admin/content-preview, htmx's call from a
// Markdown field: the field named by _name (or a "markdown" field) as
// HTML, for the preview beside it.
func (a *Admin) markdownPreview(c echo.Context) error {
	name := c.FormValue("_name")
	if name == "" || !strings.HasPrefix(name, "d.") {
		name = "markdown"
	}
	src := c.FormValue(name)
	if len(src) > maxPreview {
		src = src[:maxPreview]
	}
	out := renderMarkdown(src)
	if out == "" {
		out = `<p class="muted">Nothing to preview yet.</p>`
	}
	return c.HTML(http.StatusOK, string(out))
}
