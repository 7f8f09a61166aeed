package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
)

// dashboardData is the dashboard's Data. Each part is there only when
// the session may read it (settings.read for usage, audit.read for the
// activity).
type dashboardData struct {
	Statuses []statusCount
	Storage  *storageUse
	Chart    *barChart
	Requests int64 // this week's, together
	Activity []activity
}

type statusCount struct {
	Status string
	Count  int
}

// storageUse is storage against the quota.
type storageUse struct {
	Database, Media, Total, Quota int64
	Percent                       int // of the quota, 0..100
	Warn                          bool
}

// activity is one row of the audit log.
type activity struct {
	Action    string    `json:"action"`
	ActorType string    `json:"actor_type"`
	ActorID   string    `json:"actor_id"`
	Target    string    `json:"target"`
	CreatedAt time.Time `json:"created_at"`
	Actor     string    `json:"-"` // the actor's email, where the session may read users
}

// dashboardActivity is how many audit rows the dashboard shows.
const dashboardActivity = 8

// dashboard serves GET /admin: the tenant at a glance.
func (a *Admin) dashboard(c echo.Context) error {
	s := sessionOf(c)
	cl := a.client(c, s.Token)
	d := &dashboardData{}
	if s.Can("settings.read") {
		var out struct {
			Data struct {
				Storage struct {
					Database int64 `json:"database"`
					Media    int64 `json:"media"`
					Total    int64 `json:"total"`
					Quota    int64 `json:"quota"`
				} `json:"storage"`
				Items map[string]int `json:"items"`
				Days  []struct {
					Day      string `json:"day"`
					Requests int64  `json:"requests"`
				} `json:"days"`
			} `json:"data"`
		}
		if err := cl.get("/api/usage", nil, &out); err != nil {
			return a.peopleFail(c, err)
		}
		for _, st := range []string{"draft", "review", "published", "archived"} {
			d.Statuses = append(d.Statuses, statusCount{st, out.Data.Items[st]})
		}
		su := out.Data.Storage
		d.Storage = &storageUse{Database: su.Database, Media: su.Media, Total: su.Total, Quota: su.Quota}
		if su.Quota > 0 {
			d.Storage.Percent = int(min(100, su.Total*100/su.Quota))
			d.Storage.Warn = d.Storage.Percent >= 80
		}
		var bars []bar
		for _, day := range out.Data.Days {
			d.Requests += day.Requests
			t, _ := time.Parse(time.DateOnly, day.Day)
			bars = append(bars, bar{Label: t.Format("Mon"), Title: t.Format("Mon 2 Jan"), Value: day.Requests})
		}
		d.Chart = newBarChart(bars)
	}
	if s.Can("audit.read") {
		var out struct {
			Data []activity `json:"data"`
		}
		if err := cl.get("/api/audit", url.Values{"limit": {fmt.Sprint(dashboardActivity)}}, &out); err != nil {
			return a.peopleFail(c, err)
		}
		d.Activity = out.Data
		if s.Can("users.read") && len(d.Activity) > 0 {
			a.nameActors(c, d.Activity)
		}
	}
	return a.render(c, http.StatusOK, "dashboard", &Page{Title: "Dashboard", Nav: "dashboard", Data: d})
}

// bar is one bar of a chart.
type bar struct {
	Label, Title string
	Value        int64
	// Filled in by newBarChart, in the SVG's units:
	X, Y, Width, Height, LabelX int
}

// barChart is a small SVG bar chart drawn on the server: attributes only,
// no style, so the CSP needs nothing for it.
type barChart struct {
	Bars          []bar
	Width, Height int // the viewBox
	Base          int // the y of the axis
	Max           int64
}

// Chart geometry, in viewBox units.
const (
	chartWidth  = 420
	chartHeight = 160
	chartTop    = 18 // room for the value above the highest bar
	chartBottom = 22 // room for the day below the axis
)

func newBarChart(bars []bar) *barChart {
	ch := &barChart{Bars: bars, Width: chartWidth, Height: chartHeight, Base: chartHeight - chartBottom}
	for _, b := range bars {
		ch.Max = max(ch.Max, b.Value)
	}
	if len(bars) == 0 {
		return ch
	}
	slot := chartWidth / len(bars)
	room := ch.Base - chartTop
	for i := range ch.Bars {
		b := &ch.Bars[i]
		b.Width = slot * 3 / 5
		b.X = i*slot + (slot-b.Width)/2
		b.LabelX = i*slot + slot/2
		if ch.Max > 0 {
			b.Height = int(b.Value * int64(room) / ch.Max)
		}
		if b.Value > 0 && b.Height < 2 {
			b.Height = 2 // a day with requests shows a bar
		}
		b.Y = ch.Base - b.Height
	}
	return ch
}

// nameActors puts the users' emails on the activity rows they did; a
// failure only leaves the ids.
func (a *Admin) nameActors(c echo.Context, rows []activity) {
	var out struct {
		Data []*user `json:"data"`
	}
	if a.client(c, sessionOf(c).Token).get("/api/users", url.Values{"limit": {"1000"}}, &out) != nil {
		return
	}
	email := make(map[string]string, len(out.Data))
	for _, u := range out.Data {
		email[u.ID] = u.Email
	}
	for i := range rows {
		if rows[i].ActorType == "user" {
			rows[i].Actor = email[rows[i].ActorID]
		}
	}
}
