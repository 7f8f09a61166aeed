package admin

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

//go:embed templates
var templateFS embed.FS

// Page is what every template gets: the page's own Data and what the
// layout needs around it.
type Page struct {
	Title string
	// Nav names the menu entry to mark as current ("content", "media", ...).
	Nav string
	// Data is the page's own data.
	Data any
	// Error is the API's refusal of the form on the page, shown above it
	// and, field by field, beside each input (see the "fielderror"
	// template).
	Error *APIError
	// Filled in by render:
	Session *session
	Tenant  *tenantInfo // the tenant admin's tenant; nil in the console
	Console bool
	CSRF    string
	Flash   string
	Base    string // TenantPath or ConsolePath
	Version string
	Signup  bool // self-service sign-up is on (serve --signup)
}

// FieldError is what the API said about the form's field name.
func (p *Page) FieldError(name string) string {
	if p.Error == nil {
		return ""
	}
	return p.Error.Fields[name]
}

// pages holds one template set per page: the layout, the shared partials
// and the page's own file.
type pages struct {
	sets map[string]*template.Template
}

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"asset": assetURL,
	"json": func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	},
	"time": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case string:
			if p, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return p.UTC().Format("2006-01-02 15:04 UTC")
			}
			return v
		}
		return ""
	},
	"bytes": humanBytes,
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"list": func(v ...any) []any { return v },
	"join": strings.Join,
	"has": func(list []string, s string) bool {
		for _, v := range list {
			if v == s {
				return true
			}
		}
		return false
	},
	"add": func(a, b int) int { return a + b },
}

// mustParsePages parses templates/layout.html and templates/partials/*
// with each other template file; a page is named by its path under
// templates without .html ("login", "content/edit"). The templates are
// embedded: a parse error is a bug of the binary, found by any test.
func mustParsePages() *pages {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html"))
	p := &pages{sets: map[string]*template.Template{}}
	err := fs.WalkDir(templateFS, "templates", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(name, ".html") {
			return err
		}
		rel := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if rel == "layout" || strings.HasPrefix(rel, "partials/") {
			return nil
		}
		set := template.Must(base.Clone())
		p.sets[rel] = template.Must(set.ParseFS(templateFS, name))
		return nil
	})
	if err != nil {
		panic(err)
	}
	return p
}

// render writes page name in the layout with status.
func (a *Admin) render(c echo.Context, status int, name string, p *Page) error {
	return a.execute(c, status, name, "layout.html", p)
}

// renderFragment writes only the template block of page name: what an
// htmx request swaps into the page it came from.
func (a *Admin) renderFragment(c echo.Context, status int, name, block string, p *Page) error {
	return a.execute(c, status, name, block, p)
}

func (a *Admin) execute(c echo.Context, status int, name, block string, p *Page) error {
	set, ok := a.pages.sets[name]
	if !ok {
		return fmt.Errorf("admin: no page %q", name)
	}
	a.fill(c, p)
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, block, p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// fill sets what the layout needs from the request.
func (a *Admin) fill(c echo.Context, p *Page) {
	p.Session = sessionOf(c)
	p.CSRF = csrfToken(c)
	p.Version = a.version
	p.Signup = a.signup
	p.Console = strings.HasPrefix(c.Request().URL.Path, ConsolePath)
	p.Base = TenantPath
	if p.Console {
		p.Base = ConsolePath
	} else if p.Tenant == nil {
		p.Tenant = a.tenantInfo(c)
	}
	if c.Request().Method == http.MethodGet && p.Flash == "" {
		p.Flash = takeFlash(c, p.Base)
	}
}

// renderError renders page name again with err: an API refusal goes
// beside the form with the API's status (a 4xx); anything else is the
// server's failure.
func (a *Admin) renderError(c echo.Context, name string, p *Page, err error) error {
	e := apiError(err)
	if e == nil || e.Status >= 500 {
		return err
	}
	p.Error = e
	return a.render(c, e.Status, name, p)
}

// fail renders a page that only says msg, with status.
func (a *Admin) fail(c echo.Context, status int, msg string) error {
	return a.render(c, status, "error", &Page{Title: http.StatusText(status), Error: &APIError{Status: status, Message: msg}})
}

// done leaves msg for the next page and sends the browser to target
// (post/redirect/get; htmx follows the redirect and swaps the page).
func (a *Admin) done(c echo.Context, target, msg string) error {
	if msg != "" {
		base := TenantPath
		if strings.HasPrefix(target, ConsolePath) {
			base = ConsolePath
		}
		flash(c, base, msg)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// contentSecurityPolicy allows the admin's own scripts, styles and images
// and the tenant's media; no inline script or style, no framing, forms
// post only to the admin's own host.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// pageHeaders marks every admin answer (the CSP above, no framing, no
// caching of pages that show a signed-in user's data) and answers a
// handler's error with a page, not the API's JSON: a 4xx with its
// message, anything else with a 500 page (logged with the request's id;
// its detail stays in the log).
func (a *Admin) pageHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set(echo.HeaderCacheControl, "no-store")
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		var he *echo.HTTPError
		switch e := apiError(err); {
		case e != nil && e.Status < 500:
			return a.fail(c, e.Status, e.Message)
		case errors.As(err, &he) && he.Code < 500:
			msg, _ := he.Message.(string)
			return a.fail(c, he.Code, cmp.Or(msg, http.StatusText(he.Code)))
		}
		a.logger.Error("admin page failed", "path", c.Path(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "err", err)
		return a.fail(c, http.StatusInternalServerError, "Something went wrong on our side. Try again in a moment.")
	}
}

// humanBytes writes n bytes in B, KB, MB, GB (powers of 1024).
func humanBytes(n any) string {
	var v float64
	switch x := n.(type) {
	case int:
		v = float64(x)
	case int64:
		v = float64(x)
	case float64:
		v = x
	default:
		return fmt.Sprint(n)
	}
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
