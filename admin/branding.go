package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// Branding is the part of a tenant's branding settings (PUT
// /api/settings {"branding": {...}}) its admin is styled with. Other keys
// are kept for the tenant's own site and ignored here.
type Branding struct {
	Name         string `json:"name"`          // shown instead of the tenant's name
	PrimaryColor string `json:"primary_color"` // #rgb or #rrggbb
	AccentColor  string `json:"accent_color"`
	LogoURL      string `json:"logo_url"`    // a path on the tenant's host (/media/...) or an https URL
	FaviconURL   string `json:"favicon_url"` // likewise
}

// tenantInfo is the tenant an admin page belongs to, as GET /api/tenant
// tells anyone.
type tenantInfo struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	PrimaryDomain string          `json:"primary_domain"`
	SchemaVersion int             `json:"schema_version"`
	RawBranding   json.RawMessage `json:"branding"`
	Branding      Branding        `json:"-"`
}

// DisplayName is the branding's name, else the tenant's, else its id.
func (t *tenantInfo) DisplayName() string {
	for _, n := range []string{t.Branding.Name, t.Name, t.ID} {
		if n != "" {
			return n
		}
	}
	return ""
}

// BrandCSS is the URL of the tenant's brand stylesheet; it names the
// branding's hash so a change is seen at once and an unchanged one is
// cached.
func (t *tenantInfo) BrandCSS() string {
	sum := sha256.Sum256(t.RawBranding)
	return TenantPath + "/brand.css?v=" + hex.EncodeToString(sum[:6])
}

// Logo and Favicon are the branding's images where their URLs are safe to
// load under the admin's CSP (the tenant's own host), else "".
func (t *tenantInfo) Logo() string    { return sameHostURL(t.Branding.LogoURL) }
func (t *tenantInfo) Favicon() string { return sameHostURL(t.Branding.FaviconURL) }

func sameHostURL(u string) string {
	if strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.ContainsAny(u, "\\\"'<> ") {
		return u
	}
	return ""
}

const ctxTenantInfo = "admin.tenant"

// tenantInfo reads the request's tenant once per request.
func (a *Admin) tenantInfo(c echo.Context) *tenantInfo {
	if t, ok := c.Get(ctxTenantInfo).(*tenantInfo); ok {
		return t
	}
	var out struct {
		Data tenantInfo `json:"data"`
	}
	if err := a.client(c, "").get("/api/tenant", nil, &out); err != nil {
		return nil
	}
	t := &out.Data
	if len(t.RawBranding) > 0 {
		json.Unmarshal(t.RawBranding, &t.Branding) // unknown shapes: unbranded
	}
	c.Set(ctxTenantInfo, t)
	return t
}

var hexColor = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// Default colours of an unbranded admin.
const (
	defaultPrimary = "#2952cc"
	defaultAccent  = "#0f766e"
)

// brandCSS serves GET /admin/brand.css: the tenant's colours as CSS
// variables, with a text colour on each chosen for WCAG AA contrast.
// Only validated hex colours reach the stylesheet.
func (a *Admin) brandCSS(c echo.Context) error {
	t := a.tenantInfo(c)
	var b Branding
	if t != nil {
		b = t.Branding
	}
	css := brandStylesheet(b)
	c.Response().Header().Set(echo.HeaderCacheControl, "private, max-age=31536000")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}

// brandStylesheet is b's stylesheet (also the branding preview's).
func brandStylesheet(b Branding) string {
	primary, accent := colorOr(b.PrimaryColor, defaultPrimary), colorOr(b.AccentColor, defaultAccent)
	return fmt.Sprintf(":root{--brand:%s;--on-brand:%s;--brand-strong:%s;--accent:%s;--on-accent:%s}\n",
		primary, textOn(primary), readableOnWhite(primary), accent, textOn(accent))
}

// brandPreviewStylesheet is b's stylesheet scoped to the settings page's
// preview box (.brand-preview), so the page around it keeps its colours.
func brandPreviewStylesheet(b Branding) string {
	return strings.Replace(brandStylesheet(b), ":root{", ".brand-preview{", 1)
}

func colorOr(c, def string) string {
	if hexColor.MatchString(c) {
		return strings.ToLower(c)
	}
	return def
}

// rgb parses a validated #rgb or #rrggbb colour.
func rgb(c string) (r, g, b float64) {
	c = strings.TrimPrefix(c, "#")
	if len(c) == 3 {
		c = string([]byte{c[0], c[0], c[1], c[1], c[2], c[2]})
	}
	v, _ := strconv.ParseUint(c, 16, 32)
	return float64(v >> 16 & 0xff), float64(v >> 8 & 0xff), float64(v & 0xff)
}

// luminance is WCAG 2's relative luminance of c.
func luminance(c string) float64 {
	lin := func(v float64) float64 {
		v /= 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	r, g, b := rgb(c)
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// contrast is WCAG 2's contrast ratio of two colours.
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// textOn is white or near-black, whichever reads better on bg.
func textOn(bg string) string {
	if contrast(bg, "#ffffff") >= contrast(bg, "#111111") {
		return "#ffffff"
	}
	return "#111111"
}

// readableOnWhite is c darkened until it passes AA (4.5:1) as text on
// white: links and headings take the brand colour even when it is light.
func readableOnWhite(c string) string {
	r, g, b := rgb(c)
	for i := 0; i < 20 && contrast(fmt.Sprintf("#%02x%02x%02x", int(r), int(g), int(b)), "#ffffff") < 4.5; i++ {
		r, g, b = r*0.85, g*0.85, b*0.85
	}
	return fmt.Sprintf("#%02x%02x%02x", int(r), int(g), int(b))
}
