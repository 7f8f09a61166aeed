package admin

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// rangeError puts the API's refusal of a stats range (invalid_date,
// invalid_range) beside the range form's "from" field.
func rangeError(err error) error {
	e := apiError(err)
	if e != nil && len(e.Fields) == 0 {
		e.Fields = map[string]string{"from": e.Message}
	}
	return err
}

// tenantData is a tenant's page.
type tenantData struct {
	T          *platformTenant
	Stats      tenantStats
	Charts     []*chart
	Plans      []plan
	Events     []securityEvent
	Jobs       []job
	Backups    *backupsView
	Domain     string // the add-domain form's value
	Reason     string // the impersonation form's
	Confirm    string // the delete form's
	MoveRegion string // the move form's
	ExportOK   bool
	// From and To are the usage's range as asked (?from=&to=, UTC days).
	From, To string
}

type backupsView struct {
	Local []struct {
		Name  string    `json:"name"`
		At    time.Time `json:"at"`
		Bytes int64     `json:"bytes"`
	} `json:"local"`
	Status *backupStatus `json:"status"`
	Points any           `json:"points"`
}

// tenantPage serves GET /platform/admin/tenants/:id.
func (a *Admin) tenantPage(c echo.Context) error {
	return a.showTenant(c, http.StatusOK, nil, &tenantData{})
}

// showTenant renders a tenant's page with err (an API refusal of one of
// its forms, shown beside it) and the forms' values in d.
func (a *Admin) showTenant(c echo.Context, status int, err error, d *tenantData) error {
	cl := a.client(c, sessionOf(c).Token)
	id := c.Param("id")
	var out struct {
		Data platformTenant `json:"data"`
	}
	if gerr := cl.get("/platform/tenants/"+escape(id), nil, &out); gerr != nil {
		if e := apiError(gerr); e != nil && e.Status == http.StatusNotFound {
			return a.fail(c, http.StatusNotFound, "There is no tenant "+id+".")
		}
		return gerr
	}
	d.T = &out.Data
	p := &Page{Title: d.T.DisplayName(), Nav: "tenants", Data: d}
	var st struct {
		Data tenantStats `json:"data"`
	}
	d.From, d.To = c.QueryParam("from"), c.QueryParam("to")
	sq := url.Values{}
	if d.From != "" {
		sq.Set("from", d.From)
	}
	if d.To != "" {
		sq.Set("to", d.To)
	}
	if serr := cl.get("/platform/tenants/"+escape(id)+"/stats", sq, &st); serr == nil {
		d.Stats = st.Data
		d.Charts = tenantCharts(st.Data)
	} else if err == nil && apiError(serr) != nil && c.Request().Method == http.MethodGet {
		err = rangeError(serr) // a range the API refused: said beside the range's form
	}
	var plans struct {
		Data []plan `json:"data"`
	}
	cl.get("/platform/plans", nil, &plans)
	d.Plans = plans.Data
	var ev struct {
		Data []securityEvent `json:"data"`
	}
	cl.get("/platform/security-events", url.Values{"tenant": {id}, "limit": {"10"}}, &ev)
	d.Events = ev.Data
	var jobs struct {
		Data []job `json:"data"`
	}
	cl.get("/platform/jobs", url.Values{"tenant": {id}, "limit": {"10"}}, &jobs)
	d.Jobs = jobs.Data
	if d.T.Status != "archived" {
		var bk struct {
			Data backupsView `json:"data"`
		}
		if cl.get("/platform/tenants/"+escape(id)+"/backups", nil, &bk) == nil {
			d.Backups = &bk.Data
		}
	}
	d.ExportOK = d.T.Status != "archived"
	if err != nil {
		return a.renderRefusal(c, "console/tenant", p, err)
	}
	return a.render(c, status, "console/tenant", p)
}

// renderRefusal is renderError that also shows the API's 503 answers
// (backups_off, jobs_unavailable: what this server does not run), which
// tell the operator something rather than fail.
func (a *Admin) renderRefusal(c echo.Context, name string, p *Page, err error) error {
	if e := apiError(err); e != nil && e.Status == http.StatusServiceUnavailable {
		p.Error = e
		return a.render(c, e.Status, name, p)
	}
	return a.renderError(c, name, p, err)
}

// tenantPreviewCSS serves GET /platform/admin/tenants/:id/brand.css: the
// tenant's brand stylesheet scoped to the console's preview of it
// (.brand-preview), so the console shows each tenant's colours without an
// inline style.
func (a *Admin) tenantPreviewCSS(c echo.Context) error {
	var out struct {
		Data platformTenant `json:"data"`
	}
	if err := a.client(c, sessionOf(c).Token).get("/platform/tenants/"+escape(c.Param("id")), nil, &out); err != nil {
		return c.NoContent(http.StatusNotFound)
	}
	css := strings.Replace(brandStylesheet(out.Data.Branding()), ":root{", ".brand-preview{", 1)
	c.Response().Header().Set(echo.HeaderCacheControl, "private, max-age=31536000")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(css))
}

// tenantLogo serves GET /platform/admin/tenants/:id/logo: the logo the
// tenant's branding names on its own host (a media file, public), fetched
// from it in process, since the console's CSP loads images from the
// console's host only.
func (a *Admin) tenantLogo(c echo.Context) error {
	var out struct {
		Data platformTenant `json:"data"`
	}
	if err := a.client(c, sessionOf(c).Token).get("/platform/tenants/"+escape(c.Param("id")), nil, &out); err != nil {
		return c.NoContent(http.StatusNotFound)
	}
	path := sameHostURL(out.Data.Branding().LogoURL)
	if path == "" {
		return c.NoContent(http.StatusNotFound)
	}
	req := c.Request().Clone(c.Request().Context())
	req.Host = out.Data.ID + "." + a.baseDomain(c.Request().Context())
	req.Header.Del("X-Tenant-Id")
	res, err := (&client{api: a.api, orig: req}).raw(http.MethodGet, path, "", nil)
	ctype := ""
	if err == nil {
		ctype = res.Header.Get(echo.HeaderContentType)
	}
	if err != nil || res.Status != http.StatusOK || !strings.HasPrefix(ctype, "image/") {
		return c.NoContent(http.StatusNotFound)
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set(echo.HeaderCacheControl, "private, max-age=300")
	return c.Blob(http.StatusOK, ctype, res.Body)
}

// tenantLifecycle serves POST /platform/admin/tenants/:id/<op>: suspend,
// resume, archive or restore, by POST /platform/tenants/:id/<op>.
func (a *Admin) tenantLifecycle(op string) echo.HandlerFunc {
	done := map[string]string{"suspend": "suspended", "resume": "resumed", "archive": "archived", "restore": "restored"}[op]
	return func(c echo.Context) error {
		id := c.Param("id")
		if err := a.client(c, sessionOf(c).Token).json(http.MethodPost, "/platform/tenants/"+escape(id)+"/"+op, nil, nil); err != nil {
			return a.showTenant(c, 0, err, &tenantData{})
		}
		return a.done(c, ConsolePath+"/tenants/"+escape(id), "Tenant "+id+" "+done+".")
	}
}

// tenantSetPlan serves POST /platform/admin/tenants/:id/plan: PATCH the
// plan; the API's warning (a quota already passed) is shown with it.
func (a *Admin) tenantSetPlan(c echo.Context) error {
	id, plan := c.Param("id"), c.FormValue("plan")
	var out struct {
		Warning string `json:"warning"`
	}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPatch, "/platform/tenants/"+escape(id), map[string]string{"plan": plan}, &out); err != nil {
		return a.showTenant(c, 0, withField(err, "plan"), &tenantData{})
	}
	msg := "Plan changed to " + plan + "."
	if out.Warning != "" {
		msg += " " + out.Warning
	}
	return a.done(c, ConsolePath+"/tenants/"+escape(id), msg)
}

func (a *Admin) tenantAddDomain(c echo.Context) error {
	id, domain := c.Param("id"), strings.TrimSpace(c.FormValue("domain"))
	body := map[string]any{"domain": domain, "primary": c.FormValue("primary") == "on"}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPost, "/platform/tenants/"+escape(id)+"/domains", body, nil); err != nil {
		return a.showTenant(c, 0, withField(err, "domain"), &tenantData{Domain: domain})
	}
	return a.done(c, ConsolePath+"/tenants/"+escape(id), "Domain "+domain+" added.")
}

func (a *Admin) tenantRemoveDomain(c echo.Context) error {
	id, domain := c.Param("id"), c.FormValue("domain")
	if err := a.client(c, sessionOf(c).Token).json(http.MethodDelete, "/platform/tenants/"+escape(id)+"/domains/"+escape(domain), nil, nil); err != nil {
		return a.showTenant(c, 0, err, &tenantData{})
	}
	return a.done(c, ConsolePath+"/tenants/"+escape(id), "Domain "+domain+" removed.")
}

// tenantMove serves POST /platform/admin/tenants/:id/move: POST
// /platform/tenants/:id/move {region}, a live move to another region that
// the jobs page follows.
func (a *Admin) tenantMove(c echo.Context) error {
	id, region := c.Param("id"), strings.TrimSpace(c.FormValue("region"))
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPost, "/platform/tenants/"+escape(id)+"/move", map[string]string{"region": region}, nil); err != nil {
		if e := apiError(err); e != nil && len(e.Fields) == 0 && e.Status < 500 {
			e.Fields = map[string]string{"move-region": e.Message}
		}
		return a.showTenant(c, 0, err, &tenantData{MoveRegion: region})
	}
	return a.done(c, ConsolePath+"/jobs?kind=move&tenant="+url.QueryEscape(id), "Move of "+id+" to "+region+" started.")
}

// tenantVerifyBackup serves POST /platform/admin/tenants/:id/verify-backup:
// POST /platform/tenants/:id/verify-backup restores the replica aside and
// checks it.
func (a *Admin) tenantVerifyBackup(c echo.Context) error {
	id := c.Param("id")
	var out struct {
		Data map[string]any `json:"data"`
	}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPost, "/platform/tenants/"+escape(id)+"/verify-backup", nil, &out); err != nil {
		return a.showTenant(c, 0, err, &tenantData{})
	}
	return a.done(c, ConsolePath+"/tenants/"+escape(id), "The backup of "+id+" verified.")
}

// tenantDelete serves POST /platform/admin/tenants/:id/delete: the GDPR
// erasure of DELETE /platform/tenants/:id, only when the form's confirm
// field is the tenant's id typed out (checked here, whatever the page's
// script allowed).
func (a *Admin) tenantDelete(c echo.Context) error {
	id, confirm := c.Param("id"), strings.TrimSpace(c.FormValue("confirm"))
	if confirm != id {
		err := &APIError{Status: http.StatusUnprocessableEntity, Code: "confirmation_mismatch",
			Message: "Type the tenant's id, " + id + ", to delete it.", Fields: map[string]string{"confirm": "This is not the tenant's id."}}
		return a.showTenant(c, 0, err, &tenantData{Confirm: confirm})
	}
	q := url.Values{}
	if r := strings.TrimSpace(c.FormValue("reason")); r != "" {
		q.Set("reason", r)
	}
	path := "/platform/tenants/" + escape(id)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodDelete, path, nil, nil); err != nil {
		return a.showTenant(c, 0, err, &tenantData{Confirm: confirm})
	}
	return a.done(c, ConsolePath, "Tenant "+id+" deleted: its data is erased.")
}

// tenantExport serves GET /platform/admin/tenants/:id/export: the archive
// of GET /platform/tenants/:id/export, streamed to the browser as the API
// writes it, as an attachment.
func (a *Admin) tenantExport(c echo.Context) error {
	id := c.Param("id")
	res := c.Response()
	w := &streamWriter{w: res, header: http.Header{}}
	if err := a.client(c, sessionOf(c).Token).stream(http.MethodGet, "/platform/tenants/"+escape(id)+"/export", w); err != nil {
		return err
	}
	if w.status >= 300 {
		return a.showTenant(c, 0, decodeError(&response{Status: w.status, Header: w.header, Body: w.body.Bytes()}), &tenantData{})
	}
	return nil
}
