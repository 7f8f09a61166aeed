package admin

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

func (a *Admin) consoleFleetRoutes(g *echo.Group) {
	get(g, "/nodes", a.nodesPage)
	get(g, "/jobs", a.jobsPage)
	get(g, "/backups", a.backupsPage)
	get(g, "/security", a.securityPage)
}

// regionView is one region's nodes.
type regionView struct {
	Region         string
	Nodes          []node
	Up, Stale, Off int
}

// Health is the region's health in a word: healthy when every running
// node is up.
func (r *regionView) Health() string {
	switch {
	case r.Up == 0:
		return "unhealthy"
	case r.Stale > 0:
		return "degraded"
	}
	return "healthy"
}

type nodesData struct {
	Regions []*regionView
	Stats   *platformStats
}

// platformStats is the part of GET /platform/stats the console shows.
type platformStats struct {
	Tenants     map[string]int `json:"tenants"`
	ActiveToday int            `json:"active_today"`
	Pool        struct {
		Size       int     `json:"size"`
		Open       int     `json:"open"`
		HitRate    float64 `json:"hit_rate"`
		Opens      int64   `json:"opens"`
		Evictions  int64   `json:"evictions"`
		OpenMeanMs float64 `json:"open_mean_ms"`
	} `json:"pool"`
	Resolve struct {
		HitRate float64 `json:"hit_rate"`
	} `json:"resolve_cache"`
	Streams    int `json:"libsql_streams"`
	Migrations struct {
		Running      int `json:"running"`
		Failed       int `json:"failed"`
		SchemaFailed int `json:"tenants_failed"`
	} `json:"migrations"`
	Jobs struct {
		MovesRunning int            `json:"moves_running"`
		MovesFailed  int            `json:"moves_failed"`
		Outbox       map[string]int `json:"mail_outbox"`
	} `json:"jobs"`
}

// Percent writes a 0..1 rate as a percentage.
func (platformStats) Percent(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" }

// nodesPage serves GET /platform/admin/nodes: the nodes by region with
// their health (GET /platform/nodes) and this node's pool (GET
// /platform/stats).
func (a *Admin) nodesPage(c echo.Context) error {
	cl := a.client(c, sessionOf(c).Token)
	var out struct {
		Data []node `json:"data"`
	}
	if err := cl.get("/platform/nodes", nil, &out); err != nil {
		return err
	}
	d := &nodesData{}
	by := map[string]*regionView{}
	for _, n := range out.Data {
		r := by[n.Region]
		if r == nil {
			r = &regionView{Region: n.Region}
			by[n.Region] = r
			d.Regions = append(d.Regions, r)
		}
		r.Nodes = append(r.Nodes, n)
		switch n.Health {
		case "up":
			r.Up++
		case "stale":
			r.Stale++
		default:
			r.Off++
		}
	}
	sort.Slice(d.Regions, func(i, j int) bool { return d.Regions[i].Region < d.Regions[j].Region })
	var st struct {
		Data platformStats `json:"data"`
	}
	if cl.get("/platform/stats", nil, &st) == nil {
		d.Stats = &st.Data
	}
	return a.render(c, http.StatusOK, "console/nodes", &Page{Title: "Nodes and regions", Nav: "nodes", Data: d})
}

// jobKinds are the kinds GET /platform/jobs filters by.
var jobKinds = []string{"migration", "move", "archive", "restore", "import", "import_replace", "import_sonicjs", "delete", "restore_backup", "restore_snapshot"}

type jobsData struct {
	Kind, Tenant string
	Kinds        []string
	Jobs         []job
	Running      bool   // some job is running: the table refreshes itself
	Self         string // this page's URL, which the table polls
}

// jobsPage serves GET /platform/admin/jobs?kind=&tenant=.
func (a *Admin) jobsPage(c echo.Context) error {
	d := &jobsData{Kind: c.QueryParam("kind"), Tenant: strings.TrimSpace(c.QueryParam("tenant")), Kinds: jobKinds}
	p := &Page{Title: "Jobs", Nav: "jobs", Data: d}
	q := url.Values{"limit": {"100"}}
	if d.Kind != "" {
		q.Set("kind", d.Kind)
	}
	if d.Tenant != "" {
		q.Set("tenant", d.Tenant)
	}
	var out struct {
		Data []job `json:"data"`
	}
	if err := a.client(c, sessionOf(c).Token).get("/platform/jobs", q, &out); err != nil {
		return a.renderError(c, "console/jobs", p, withField(err, "tenant", "kind"))
	}
	d.Jobs = out.Data
	for _, j := range d.Jobs {
		d.Running = d.Running || j.State == "running"
	}
	d.Self = ConsolePath + "/jobs"
	if len(q) > 1 {
		q.Del("limit")
		d.Self += "?" + q.Encode()
	}
	if c.Request().Header.Get("HX-Target") == "jobs-table" {
		return a.renderFragment(c, http.StatusOK, "console/jobs", "jobs-table", p)
	}
	return a.render(c, http.StatusOK, "console/jobs", p)
}

type backupsData struct {
	Rows          []*backupsRow
	Total, Shown  int
	From, To      int
	Prev, Next    string
	Continuous    bool
	WorstLag      float64
	NotReplicated int
}

// backupsRow is a tenant's line in the fleet's backups.
type backupsRow struct {
	ID, Status  string
	Snapshots   int
	LatestAt    string
	LatestSize  int64
	Replication *backupStatus
	Err         string
}

// backupsPage serves GET /platform/admin/backups: each tenant's backups
// (GET /platform/tenants/:id/backups, one call a tenant: the API has no
// fleet view), 50 tenants a page by id.
func (a *Admin) backupsPage(c echo.Context) error {
	cl := a.client(c, sessionOf(c).Token)
	var list struct {
		Data []*platformTenant `json:"data"`
		Meta struct {
			Total int `json:"total"`
		} `json:"meta"`
	}
	offset, _ := strconv.Atoi(c.QueryParam("offset"))
	offset = max(0, offset)
	if err := cl.get("/platform/tenants", url.Values{"limit": {strconv.Itoa(tenantPageSize)}, "offset": {strconv.Itoa(offset)}}, &list); err != nil {
		return err
	}
	d := &backupsData{Total: list.Meta.Total, Shown: len(list.Data), From: offset + 1, To: offset + len(list.Data)}
	if offset > 0 {
		d.Prev = ConsolePath + "/backups?offset=" + strconv.Itoa(max(0, offset-tenantPageSize))
	}
	if offset+len(list.Data) < list.Meta.Total {
		d.Next = ConsolePath + "/backups?offset=" + strconv.Itoa(offset+tenantPageSize)
	}
	for _, t := range list.Data {
		row := &backupsRow{ID: t.ID, Status: t.Status}
		d.Rows = append(d.Rows, row)
		if t.Status == "archived" {
			row.Err = "archived"
			continue
		}
		var bk struct {
			Data backupsView `json:"data"`
		}
		if err := cl.get("/platform/tenants/"+escape(t.ID)+"/backups", nil, &bk); err != nil {
			row.Err = err.Error()
			continue
		}
		row.Snapshots = len(bk.Data.Local)
		if n := len(bk.Data.Local); n > 0 {
			last := bk.Data.Local[n-1]
			row.LatestAt, row.LatestSize = last.At.UTC().Format("2006-01-02 15:04 UTC"), last.Bytes
		}
		if st := bk.Data.Status; st != nil {
			d.Continuous = true
			row.Replication = st
			if st.LagSeconds > d.WorstLag {
				d.WorstLag = st.LagSeconds
			}
			if !st.Replicating {
				d.NotReplicated++
			}
		}
	}
	return a.render(c, http.StatusOK, "console/backups", &Page{Title: "Backups", Nav: "backups", Data: d})
}

type securityData struct {
	Tenant, Kind string
	Before       string
	Next         string
	Events       []securityEvent
	Audit        []auditEntry
}

// securityPage serves GET /platform/admin/security?tenant=&kind=&before=:
// the platform's security events (impersonations among them; GET
// /platform/security-events) and its audit trail (GET /platform/audit).
func (a *Admin) securityPage(c echo.Context) error {
	d := &securityData{Tenant: strings.TrimSpace(c.QueryParam("tenant")), Kind: strings.TrimSpace(c.QueryParam("kind")), Before: c.QueryParam("before")}
	p := &Page{Title: "Security events", Nav: "security", Data: d}
	cl := a.client(c, sessionOf(c).Token)
	q := url.Values{"limit": {"50"}}
	for k, v := range map[string]string{"tenant": d.Tenant, "kind": d.Kind, "before": d.Before} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out struct {
		Data []securityEvent `json:"data"`
		Meta struct {
			NextBefore string `json:"next_before"`
		} `json:"meta"`
	}
	if err := cl.get("/platform/security-events", q, &out); err != nil {
		return a.renderError(c, "console/security", p, withField(err, "tenant", "kind"))
	}
	d.Events = out.Data
	if out.Meta.NextBefore != "" {
		nq := url.Values{"before": {out.Meta.NextBefore}}
		if d.Tenant != "" {
			nq.Set("tenant", d.Tenant)
		}
		if d.Kind != "" {
			nq.Set("kind", d.Kind)
		}
		d.Next = ConsolePath + "/security?" + nq.Encode()
	}
	aq := url.Values{"limit": {"25"}}
	if d.Tenant != "" {
		aq.Set("tenant", d.Tenant)
	}
	var audit struct {
		Data []auditEntry `json:"data"`
	}
	cl.get("/platform/audit", aq, &audit)
	d.Audit = audit.Data
	return a.render(c, http.StatusOK, "console/security", p)
}
