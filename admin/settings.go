package admin

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

// settingsRoutes registers the settings page (GET/PUT /api/settings):
// branding with a live preview and a logo from the media library,
// sign-up, the free-form general settings and CORS.
func (a *Admin) settingsRoutes(g *echo.Group) {
	get(g, "/settings", a.settingsPage)
	g.POST("/settings/branding", a.brandingSave)
	g.POST("/settings/preview", a.brandingPreview)
	g.POST("/settings/logo", a.logoUpload)
	g.POST("/settings/general", a.generalSave)
	g.POST("/settings/cors", a.corsSave)
	get(g, "/brand-preview.css", a.brandPreviewCSS)
}

// settingsDoc is GET /api/settings's data.
type settingsDoc struct {
	Auth struct {
		AllowSignup    bool           `json:"allow_signup"`
		DefaultRole    string         `json:"default_role"`
		PasswordPolicy passwordPolicy `json:"password_policy"`
	} `json:"auth"`
	General  json.RawMessage `json:"general"`
	Branding json.RawMessage `json:"branding"`
	CORS     *settingsCORS   `json:"cors"`
}

// passwordPolicy is what the tenant asks of its users' passwords.
type passwordPolicy struct {
	MinLength     int  `json:"min_length"`
	RequireUpper  bool `json:"require_upper"`
	RequireLower  bool `json:"require_lower"`
	RequireDigit  bool `json:"require_digit"`
	RequireSymbol bool `json:"require_symbol"`
}

// settingsCORS is the part of a tenant's CORS policy the page edits;
// PUT sends it whole (methods, headers and max age: the server's
// defaults).
type settingsCORS struct {
	AllowedOrigins   []string `json:"allowed_origins"`
	AllowCredentials bool     `json:"allow_credentials,omitempty"`
}

// settingsPageData is the settings page's data.
type settingsPageData struct {
	Branding    Branding // as the form shows it
	General     string   // JSON text
	AllowSignup bool
	DefaultRole string
	Policy      passwordPolicy
	MinLength   string // as typed
	Roles       []string
	CORS        bool // a policy of the tenant's own (else the server's)
	Origins     string
	Credentials bool
	Logos       []brandImage // images of the media library to pick a logo from
	CanUpload   bool
}

// brandImage is an image of the media library.
type brandImage struct {
	ID           string `json:"id"`
	URL          string `json:"url"`
	OriginalName string `json:"original_name"`
	MimeType     string `json:"mime_type"`
}

// PreviewCSS is the URL of the preview's stylesheet for the form's
// colours: only validated colours reach it (brandPreviewCSS).
func (d *settingsPageData) PreviewCSS() string {
	q := url.Values{}
	q.Set("primary", colorOr(d.Branding.PrimaryColor, defaultPrimary))
	q.Set("accent", colorOr(d.Branding.AccentColor, defaultAccent))
	return TenantPath + "/brand-preview.css?" + q.Encode()
}

// PreviewLogo is the form's logo where the admin can show it.
func (d *settingsPageData) PreviewLogo() string { return sameHostURL(d.Branding.LogoURL) }

// BadColors names the form's colours that are not colours.
func (d *settingsPageData) BadColors() []string {
	var out []string
	for _, c := range []string{d.Branding.PrimaryColor, d.Branding.AccentColor} {
		if c != "" && !hexColor.MatchString(c) {
			out = append(out, c)
		}
	}
	return out
}

func (a *Admin) readSettings(c echo.Context) (*settingsDoc, error) {
	var out struct {
		Data settingsDoc `json:"data"`
	}
	err := a.client(c, sessionOf(c).Token).get("/api/settings", nil, &out)
	return &out.Data, err
}

// settingsPageData reads the settings and what the page offers with them.
func (a *Admin) settingsPageData(c echo.Context) (*settingsPageData, *settingsDoc, error) {
	s, err := a.readSettings(c)
	if err != nil {
		return nil, nil, err
	}
	d := &settingsPageData{AllowSignup: s.Auth.AllowSignup, DefaultRole: s.Auth.DefaultRole, General: "{}",
		Policy: s.Auth.PasswordPolicy, MinLength: strconv.Itoa(s.Auth.PasswordPolicy.MinLength)}
	if len(s.Branding) > 0 {
		json.Unmarshal(s.Branding, &d.Branding)
	}
	if len(s.General) > 0 {
		var v any
		if json.Unmarshal(s.General, &v) == nil {
			d.General = settingJSON(v)
		}
	}
	if s.CORS != nil {
		d.CORS, d.Origins, d.Credentials = true, strings.Join(s.CORS.AllowedOrigins, "\n"), s.CORS.AllowCredentials
	}
	sess := sessionOf(c)
	cl := a.client(c, sess.Token)
	if sess.Can("users.read") {
		var roles struct {
			Data []struct {
				Name string `json:"name"`
			} `json:"data"`
		}
		if cl.get("/api/roles", nil, &roles) == nil {
			for _, r := range roles.Data {
				d.Roles = append(d.Roles, r.Name)
			}
		}
	}
	if sess.Can("media.read") {
		var media struct {
			Data []brandImage `json:"data"`
		}
		if cl.get("/api/media", url.Values{"type": {"image/"}, "limit": {"100"}}, &media) == nil {
			d.Logos = media.Data
		}
	}
	d.CanUpload = sess.Can("media.create")
	if len(d.Roles) == 0 && d.DefaultRole != "" {
		d.Roles = []string{d.DefaultRole}
	}
	return d, s, nil
}

func (a *Admin) settingsPage(c echo.Context) error {
	d, _, err := a.settingsPageData(c)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "settings/edit", &Page{Title: "Settings", Nav: "settings", Data: d})
}

// brandingFromForm reads the branding form. An image picked from the
// media library other than the stored logo (stored) replaces the typed
// URL: the picker starts on the stored one.
func brandingFromForm(c echo.Context, stored string) Branding {
	logo := strings.TrimSpace(c.FormValue("logo_url"))
	if picked := c.FormValue("logo_pick"); picked != "" && (picked != stored || logo == "") {
		logo = picked
	}
	return Branding{Name: strings.TrimSpace(c.FormValue("brand_name")), PrimaryColor: strings.TrimSpace(c.FormValue("primary_color")),
		AccentColor: strings.TrimSpace(c.FormValue("accent_color")), LogoURL: logo, FaviconURL: strings.TrimSpace(c.FormValue("favicon_url"))}
}

// brandingProblems checks what the admin relies on: colours it can put in
// a stylesheet, images it may load.
func brandingProblems(b Branding) map[string]string {
	bad := map[string]string{}
	if len(b.Name) > 100 {
		bad["brand_name"] = "at most 100 characters"
	}
	for k, v := range map[string]string{"primary_color": b.PrimaryColor, "accent_color": b.AccentColor} {
		if v != "" && !hexColor.MatchString(v) {
			bad[k] = "a colour is #rgb or #rrggbb, like #2952cc"
		}
	}
	for k, v := range map[string]string{"logo_url": b.LogoURL, "favicon_url": b.FaviconURL} {
		if v != "" && sameHostURL(v) == "" && !strings.HasPrefix(v, "https://") {
			bad[k] = "a path on this site (/media/...) or an https:// URL"
		}
	}
	return bad
}

// brandingSave merges the form into the tenant's branding (keys the
// admin does not edit are kept for the tenant's own site) and stores it.
func (a *Admin) brandingSave(c echo.Context) error {
	d, s, err := a.settingsPageData(c)
	if err != nil {
		return err
	}
	b := brandingFromForm(c, d.Branding.LogoURL)
	page := &Page{Title: "Settings", Nav: "settings", Data: d}
	d.Branding = b
	if bad := brandingProblems(b); len(bad) > 0 {
		page.Error = &APIError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "The branding needs fixing.", Fields: bad}
		return a.render(c, http.StatusBadRequest, "settings/edit", page)
	}
	merged := map[string]any{}
	if len(s.Branding) > 0 {
		json.Unmarshal(s.Branding, &merged)
	}
	for k, v := range map[string]string{"name": b.Name, "primary_color": strings.ToLower(b.PrimaryColor), "accent_color": strings.ToLower(b.AccentColor),
		"logo_url": b.LogoURL, "favicon_url": b.FaviconURL} {
		if v == "" {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPut, "/api/settings", map[string]any{"branding": merged}, nil); err != nil {
		return a.renderError(c, "settings/edit", page, err)
	}
	return a.done(c, TenantPath+"/settings", "Branding saved.")
}

// brandingPreview shows the form's branding without saving it: to htmx,
// the preview fragment; without JavaScript, the whole page.
func (a *Admin) brandingPreview(c echo.Context) error {
	d, _, err := a.settingsPageData(c)
	if err != nil {
		return err
	}
	d.Branding = brandingFromForm(c, d.Branding.LogoURL)
	page := &Page{Title: "Settings", Nav: "settings", Data: d}
	if c.Request().Header.Get("HX-Request") == "true" {
		return a.renderFragment(c, http.StatusOK, "settings/edit", "brand-preview", page)
	}
	return a.render(c, http.StatusOK, "settings/edit", page)
}

// brandPreviewCSS serves GET /admin/brand-preview.css?primary=&accent=:
// the stylesheet of the preview box, the brand's variables scoped to
// .brand-preview. Anything but a colour falls back to the default.
func (a *Admin) brandPreviewCSS(c echo.Context) error {
	css := brandPreviewStylesheet(Branding{PrimaryColor: c.QueryParam("primary"), AccentColor: c.QueryParam("accent")})
	c.Response().Header().Set(echo.HeaderCacheControl, "private, max-age=86400")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}

// logoUpload uploads an image to the media library (POST /api/media) and
// makes it the logo.
func (a *Admin) logoUpload(c echo.Context) error {
	fh, err := c.FormFile("logo")
	if err != nil {
		flash(c, TenantPath, "Choose an image to upload.")
		return c.Redirect(http.StatusSeeOther, TenantPath+"/settings")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", fh.Filename)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, f); err != nil {
		return err
	}
	mw.WriteField("alt", "Logo")
	if err := mw.Close(); err != nil {
		return err
	}
	cl := a.client(c, sessionOf(c).Token)
	res, err := cl.do(http.MethodPost, "/api/media", mw.FormDataContentType(), &body)
	if err != nil {
		if e := apiError(err); e != nil && e.Status < 500 {
			flash(c, TenantPath, "The logo was not uploaded: "+e.Message)
			return c.Redirect(http.StatusSeeOther, TenantPath+"/settings")
		}
		return err
	}
	var up struct {
		Data brandImage `json:"data"`
	}
	if err := json.Unmarshal(res.Body, &up); err != nil || up.Data.URL == "" {
		return a.fail(c, http.StatusBadGateway, "The upload's answer had no URL.")
	}
	if !strings.HasPrefix(up.Data.MimeType, "image/") {
		flash(c, TenantPath, "That file is not an image: it was added to the media library but not used as the logo.")
		return c.Redirect(http.StatusSeeOther, TenantPath+"/settings")
	}
	s, err := a.readSettings(c)
	if err != nil {
		return err
	}
	merged := map[string]any{}
	if len(s.Branding) > 0 {
		json.Unmarshal(s.Branding, &merged)
	}
	merged["logo_url"] = up.Data.URL
	if err := cl.json(http.MethodPut, "/api/settings", map[string]any{"branding": merged}, nil); err != nil {
		return err
	}
	return a.done(c, TenantPath+"/settings", "Logo uploaded.")
}

// generalSave stores sign-up and the general settings.
func (a *Admin) generalSave(c echo.Context) error {
	d, _, err := a.settingsPageData(c)
	if err != nil {
		return err
	}
	page := &Page{Title: "Settings", Nav: "settings", Data: d}
	d.AllowSignup, d.DefaultRole, d.General = c.FormValue("allow_signup") != "", c.FormValue("default_role"), c.FormValue("general")
	general := json.RawMessage(strings.TrimSpace(d.General))
	if len(general) == 0 {
		general = json.RawMessage("{}")
	}
	var obj map[string]any
	if err := json.Unmarshal(general, &obj); err != nil || obj == nil {
		page.Error = &APIError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "The general settings need fixing.",
			Fields: map[string]string{"general": "must be a JSON object, like {\"site_name\": \"My site\"}"}}
		return a.render(c, http.StatusBadRequest, "settings/edit", page)
	}
	d.MinLength = strings.TrimSpace(c.FormValue("min_length"))
	d.Policy.RequireUpper, d.Policy.RequireLower = c.FormValue("require_upper") != "", c.FormValue("require_lower") != ""
	d.Policy.RequireDigit, d.Policy.RequireSymbol = c.FormValue("require_digit") != "", c.FormValue("require_symbol") != ""
	n, err := strconv.Atoi(d.MinLength)
	if err != nil {
		page.Error = &APIError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "The general settings need fixing.",
			Fields: map[string]string{"min_length": "a number of characters, like 12"}}
		return a.render(c, http.StatusBadRequest, "settings/edit", page)
	}
	d.Policy.MinLength = n
	auth := map[string]any{"allow_signup": d.AllowSignup, "password_policy": d.Policy}
	if d.DefaultRole != "" {
		auth["default_role"] = d.DefaultRole
	}
	in := map[string]any{"general": general, "auth": auth}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPut, "/api/settings", in, nil); err != nil {
		return a.renderError(c, "settings/edit", page, err)
	}
	return a.done(c, TenantPath+"/settings", "Settings saved.")
}

// corsSave stores the tenant's CORS origins, or goes back to the
// server's policy.
func (a *Admin) corsSave(c echo.Context) error {
	d, _, err := a.settingsPageData(c)
	if err != nil {
		return err
	}
	page := &Page{Title: "Settings", Nav: "settings", Data: d}
	d.CORS, d.Origins, d.Credentials = c.FormValue("cors_custom") != "", c.FormValue("origins"), c.FormValue("allow_credentials") != ""
	var cors any // nil: the server's policy
	if d.CORS {
		p := settingsCORS{AllowedOrigins: []string{}, AllowCredentials: d.Credentials}
		for _, line := range strings.Split(d.Origins, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				p.AllowedOrigins = append(p.AllowedOrigins, line)
			}
		}
		cors = p
	}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPut, "/api/settings", map[string]any{"cors": cors}, nil); err != nil {
		if e := apiError(err); e != nil && e.Status < 500 && len(e.Fields) == 0 {
			e.Fields = map[string]string{"origins": e.Message}
		}
		return a.renderError(c, "settings/edit", page, err)
	}
	return a.done(c, TenantPath+"/settings", "CORS settings saved.")
}
