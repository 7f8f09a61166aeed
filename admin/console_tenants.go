package admin

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// consoleTenantRoutes registers the tenant pages of the console: the list,
// creating one, a tenant's page and what it does.
func (a *Admin) consoleTenantRoutes(g *echo.Group) {
	get(g, "/tenants", a.tenantList)
	get(g, "/tenants/new", a.tenantNewPage)
	get(g, "/tenants.css", a.tenantListCSS)
	g.POST("/tenants", a.tenantCreate)
	get(g, "/tenants/:id", a.tenantPage)
	get(g, "/tenants/:id/brand.css", a.tenantPreviewCSS)
	get(g, "/tenants/:id/logo", a.tenantLogo)
	get(g, "/tenants/:id/export", a.tenantExport)
	for _, op := range []string{"suspend", "resume", "archive", "restore"} {
		g.POST("/tenants/:id/"+op, a.tenantLifecycle(op))
	}
	g.POST("/tenants/:id/plan", a.tenantSetPlan)
	g.POST("/tenants/:id/domains", a.tenantAddDomain)
	g.POST("/tenants/:id/domains/remove", a.tenantRemoveDomain)
	g.POST("/tenants/:id/delete", a.tenantDelete)
	g.POST("/tenants/:id/move", a.tenantMove)
	g.POST("/tenants/:id/verify-backup", a.tenantVerifyBackup)
}

// tenantStatuses are the statuses the list filters by.
var tenantStatuses = []string{"active", "suspended", "archived"}

// tenantFilter is the list's query: what GET /platform/tenants takes.
type tenantFilter struct {
	Q, Status, Plan, Region, Schema string
	Offset                          int
}

func (f tenantFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"q": f.Q, "status": f.Status, "plan": f.Plan, "region": f.Region, "schema_version": f.Schema} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// tenantRow is one line of the list: the tenant and its latest gauges.
type tenantRow struct {
	*platformTenant
	Size       *int64
	LastActive *time.Time
}

// SizeText is the tenant's storage as last gathered, "" if never.
func (r *tenantRow) SizeText() string {
	if r.Size == nil {
		return ""
	}
	return humanBytes(*r.Size)
}

type tenantListData struct {
	Stats      *platformStats // the fleet's counts, if the API gave them
	CSS        string         // the rows' swatches (tenantListCSS)
	Filter     tenantFilter
	Rows       []*tenantRow
	Total      int
	From, To   int
	Prev, Next string
	Statuses   []string
	Plans      []plan
	Regions    []string
}

const tenantPageSize = 50

// tenantList serves GET /platform/admin: the tenants, filtered as the form
// asks; htmx asks for the results alone as the search is typed.
func (a *Admin) tenantList(c echo.Context) error {
	f := tenantFilter{Q: strings.TrimSpace(c.QueryParam("q")), Status: c.QueryParam("status"), Plan: c.QueryParam("plan"),
		Region: c.QueryParam("region"), Schema: strings.TrimSpace(c.QueryParam("schema_version"))}
	f.Offset, _ = strconv.Atoi(c.QueryParam("offset"))
	if f.Offset < 0 {
		f.Offset = 0
	}
	cl := a.client(c, sessionOf(c).Token)
	d := &tenantListData{Filter: f, Statuses: tenantStatuses}
	p := &Page{Title: "Tenants", Nav: "tenants", Data: d}
	// The choices come first, so a refused filter still shows the form.
	d.Plans, d.Regions = a.choices(cl, f.Region)
	if c.Request().Header.Get("HX-Target") != "tenant-results" {
		var st struct {
			Data platformStats `json:"data"`
		}
		if cl.get("/platform/stats", nil, &st) == nil {
			d.Stats = &st.Data
		}
	}
	q := f.query()
	q.Set("limit", strconv.Itoa(tenantPageSize))
	q.Set("offset", strconv.Itoa(f.Offset))
	d.CSS = ConsolePath + "/tenants.css?" + q.Encode()
	q.Set("include", "usage") // each tenant's size and last activity, in the same call
	var out struct {
		Data []*struct {
			platformTenant
			Usage struct {
				LastActive  *time.Time `json:"last_active"`
				BytesStored *int64     `json:"bytes_stored"`
			} `json:"usage"`
		} `json:"data"`
		Meta struct {
			Total int `json:"total"`
		} `json:"meta"`
	}
	if err := cl.get("/platform/tenants", q, &out); err != nil {
		return a.renderError(c, "console/tenants", p, err)
	}
	d.Total = out.Meta.Total
	for _, t := range out.Data {
		d.Rows = append(d.Rows, &tenantRow{platformTenant: &t.platformTenant, Size: t.Usage.BytesStored, LastActive: t.Usage.LastActive})
	}
	if len(d.Rows) > 0 {
		d.From, d.To = f.Offset+1, f.Offset+len(d.Rows)
	}
	page := func(offset int) string {
		q := f.query()
		if offset > 0 {
			q.Set("offset", strconv.Itoa(offset))
		}
		if len(q) == 0 {
			return ConsolePath
		}
		return ConsolePath + "?" + q.Encode()
	}
	if f.Offset > 0 {
		d.Prev = page(max(0, f.Offset-tenantPageSize))
	}
	if f.Offset+len(d.Rows) < d.Total {
		d.Next = page(f.Offset + tenantPageSize)
	}
	if c.Request().Header.Get("HX-Target") == "tenant-results" {
		return a.renderFragment(c, http.StatusOK, "console/tenants", "tenant-results", p)
	}
	return a.render(c, http.StatusOK, "console/tenants", p)
}

// tenantListCSS serves GET /platform/admin/tenants.css with the list's
// query: a class per listed tenant (.brand-<id>, ids being DNS labels)
// setting its brand colours, for the list's swatches without inline
// styles.
func (a *Admin) tenantListCSS(c echo.Context) error {
	q := url.Values{}
	for _, k := range []string{"q", "status", "plan", "region", "schema_version", "limit", "offset"} {
		if v := c.QueryParam(k); v != "" {
			q.Set(k, v)
		}
	}
	var out struct {
		Data []*platformTenant `json:"data"`
	}
	var b strings.Builder
	if a.client(c, sessionOf(c).Token).get("/platform/tenants", q, &out) == nil {
		for _, t := range out.Data {
			if !tenantClass.MatchString(t.ID) {
				continue
			}
			css := brandStylesheet(t.Branding())
			b.WriteString(strings.Replace(css, ":root{", ".brand-"+t.ID+"{", 1))
		}
	}
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", []byte(b.String()))
}

var tenantClass = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// choices are the plans (GET /platform/plans) and the regions of the
// fleet's nodes (GET /platform/nodes), with keep among them if it is set.
func (a *Admin) choices(cl *client, keep string) ([]plan, []string) {
	var plans struct {
		Data []plan `json:"data"`
	}
	cl.get("/platform/plans", nil, &plans) // without them the form takes any name
	var nodes struct {
		Data []node `json:"data"`
	}
	cl.get("/platform/nodes", nil, &nodes)
	seen := map[string]bool{}
	var regions []string
	for _, r := range append(regionsOf(nodes.Data), keep) {
		if r != "" && !seen[r] {
			seen[r] = true
			regions = append(regions, r)
		}
	}
	sort.Strings(regions)
	return plans.Data, regions
}

func regionsOf(nodes []node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.Region)
	}
	return out
}

// tenantForm is the create form.
type tenantForm struct {
	ID, Name, Domains, Region, Plan string
	Plans                           []plan
	Regions                         []string
}

func (a *Admin) tenantNewPage(c echo.Context) error {
	f := &tenantForm{}
	f.Plans, f.Regions = a.choices(a.client(c, sessionOf(c).Token), "")
	return a.render(c, http.StatusOK, "console/tenant_new", &Page{Title: "New tenant", Nav: "tenants", Data: f})
}

// tenantCreate serves POST /platform/admin/tenants: POST /platform/tenants
// with the form's id, name, domains (one a line, or comma-separated),
// region and plan.
func (a *Admin) tenantCreate(c echo.Context) error {
	f := &tenantForm{ID: strings.TrimSpace(c.FormValue("id")), Name: strings.TrimSpace(c.FormValue("name")),
		Domains: c.FormValue("domains"), Region: strings.TrimSpace(c.FormValue("region")), Plan: c.FormValue("plan")}
	cl := a.client(c, sessionOf(c).Token)
	body := map[string]any{"id": f.ID, "name": f.Name, "region": f.Region, "plan": f.Plan, "domains": splitList(f.Domains)}
	var out struct {
		Data platformTenant `json:"data"`
	}
	if err := cl.json(http.MethodPost, "/platform/tenants", body, &out); err != nil {
		f.Plans, f.Regions = a.choices(cl, f.Region)
		return a.renderError(c, "console/tenant_new", &Page{Title: "New tenant", Nav: "tenants", Data: f}, withField(err, "id", "domains", "region", "plan", "name"))
	}
	return a.done(c, ConsolePath+"/tenants/"+escape(out.Data.ID), "Tenant "+out.Data.ID+" created.")
}

// splitList splits a textarea of names on lines, commas and spaces.
func splitList(s string) []string {
	out := []string{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		out = append(out, f)
	}
	return out
}

// withField gives an API refusal without per-field messages one, on the
// first of fields its code names (invalid_tenant_id: "id"; domain_taken:
// "domains"), so the message shows beside the input it is about.
func withField(err error, fields ...string) error {
	e := apiError(err)
	if e == nil || len(e.Fields) > 0 {
		return err
	}
	code := "_" + e.Code + "_"
	names := func(f string) bool { return strings.Contains(code, "_"+f+"_") }
	for _, f := range fields {
		if names(f) || names(strings.TrimSuffix(f, "s")) || f == "id" && e.Code == "tenant_exists" || f == "region" && names("residency") {
			e.Fields = map[string]string{f: e.Message}
			break
		}
	}
	return e
}

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
