package admin

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

func (a *Admin) consoleUsageRoutes(g *echo.Group) {
	get(g, "/usage", a.usagePage)
}

type usageData struct {
	From, To string
	Days     []usageDay
	Charts   []*chart
	Totals   usageDay
	Stats    *platformStats
}

// usagePage serves GET /platform/admin/usage?from=&to=: the fleet's
// requests, errors and active tenants per day (GET /platform/stats/usage)
// as charts, with the fleet's gauges (GET /platform/stats).
func (a *Admin) usagePage(c echo.Context) error {
	d := &usageData{From: c.QueryParam("from"), To: c.QueryParam("to")}
	p := &Page{Title: "Usage", Nav: "usage", Data: d}
	q := url.Values{}
	if d.From != "" {
		q.Set("from", d.From)
	}
	if d.To != "" {
		q.Set("to", d.To)
	}
	cl := a.client(c, sessionOf(c).Token)
	var st struct {
		Data platformStats `json:"data"`
	}
	if cl.get("/platform/stats", nil, &st) == nil {
		d.Stats = &st.Data
	}
	var out struct {
		Data struct {
			From string     `json:"from"`
			To   string     `json:"to"`
			Days []usageDay `json:"days"`
		} `json:"data"`
	}
	if err := cl.get("/platform/stats/usage", q, &out); err != nil {
		return a.renderError(c, "console/usage", p, rangeError(err))
	}
	d.From, d.To, d.Days = out.Data.From, out.Data.To, out.Data.Days
	for _, day := range d.Days {
		d.Totals.Requests += day.Requests
		d.Totals.Errors4xx += day.Errors4xx
		d.Totals.Errors5xx += day.Errors5xx
		d.Totals.BytesIn += day.BytesIn
		d.Totals.BytesOut += day.BytesOut
	}
	tenantsOf := func(u usageDay) (float64, bool) { return float64(u.Tenants), true }
	d.Charts = []*chart{
		newChart("requests", "Requests per day", false, series(d.From, d.To, d.Days, requestsOf, false), count),
		newChart("errors", "Errors per day (4xx and 5xx)", false, series(d.From, d.To, d.Days, errorsOf, false), count),
		newChart("active", "Tenants with requests", false, series(d.From, d.To, d.Days, tenantsOf, false), count),
		newChart("storage", "Storage used by the fleet", true, series(d.From, d.To, d.Days, storedOf, true), byteCount),
	}
	return a.render(c, http.StatusOK, "console/usage", p)
}
