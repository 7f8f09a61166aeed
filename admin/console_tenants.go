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
