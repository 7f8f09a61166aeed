package admin

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// chart is a small server-rendered SVG chart of one series over days (the
// "console-chart" template draws it): bars for counts, a line for a gauge.
// Every value is also in Rows, the table that goes with it for screen
// readers and for reading exact numbers.
type chart struct {
	ID, Title string
	Line      bool // a polyline (a gauge such as storage) rather than bars
	Empty     bool
	Bars      []chartBar
	Points    string // the polyline's points
	Dots      []chartBar
	Ticks     []chartTick
	Labels    []chartTick // days along the x axis
	Rows      []chartRow
	Summary   string // what the chart says in one sentence
}

type chartBar struct {
	X, Y, W, H float64
	Title      string
}

type chartTick struct {
	X, Y  float64
	Label string
}

type chartRow struct{ Day, Value string }

// The chart's drawing area inside its 640x220 viewBox.
const (
	chartW, chartH            = 640.0, 220.0
	plotLeft, plotTop         = 64.0, 12.0
	plotRight, plotBottom     = 628.0, 188.0
	plotWidth, plotHeight     = plotRight - plotLeft, plotBottom - plotTop
	chartMaxLabels        int = 6
)

// point is one day's value; ok is false where the day has none (a gauge
// not gathered that day).
type point struct {
	day string
	v   float64
	ok  bool
}

// newChart draws pts (one per day, oldest first) titled title, formatting
// values with format.
func newChart(id, title string, line bool, pts []point, format func(float64) string) *chart {
	ch := &chart{ID: id, Title: title, Line: line}
	top := 0.0
	n := 0
	var sum float64
	for _, p := range pts {
		if p.ok {
			top = math.Max(top, p.v)
			n++
			sum += p.v
		}
	}
	ch.Empty = n == 0
	// Counts step in whole numbers (an axis of 0, 1, 2, 3, 4 at least);
	// bytes in at least a KB.
	// Ticks fall on round values: 5 intervals of a 5 (or a 10 of counts),
	// else 4.
	var lead float64
	if line {
		top = niceBytes(math.Max(top, 1024))
		lead = top / math.Pow(1024, math.Floor(math.Log(top)/math.Log(1024)))
	} else {
		top = niceCeil(math.Max(top, 4))
		lead = top / math.Pow(10, math.Floor(math.Log10(top)))
	}
	steps := 4
	if lead == 5 || lead == 50 || lead == 500 || !line && lead == 1 {
		steps = 5
	}
	for i := 0; i <= steps; i++ {
		v := top * float64(i) / float64(steps)
		ch.Ticks = append(ch.Ticks, chartTick{X: plotLeft - 6, Y: plotBottom - plotHeight*float64(i)/float64(steps), Label: format(v)})
	}
	slot := plotWidth / float64(max(1, len(pts)))
	step := max(1, (len(pts)+chartMaxLabels-1)/chartMaxLabels)
	var poly []string
	for i, p := range pts {
		x := plotLeft + slot*float64(i)
		if i%step == 0 || i == len(pts)-1 && len(pts) <= chartMaxLabels {
			ch.Labels = append(ch.Labels, chartTick{X: x + slot/2, Y: plotBottom + 16, Label: shortDay(p.day)})
		}
		val := "none"
		if p.ok {
			val = format(p.v)
			h := plotHeight * p.v / top
			title := p.day + ": " + val
			if line {
				cx, cy := x+slot/2, plotBottom-h
				poly = append(poly, fmt.Sprintf("%.1f,%.1f", cx, cy))
				ch.Dots = append(ch.Dots, chartBar{X: cx, Y: cy, Title: title})
			} else {
				ch.Bars = append(ch.Bars, chartBar{X: x + slot*0.15, Y: plotBottom - h, W: slot * 0.7, H: h, Title: title})
			}
		}
		ch.Rows = append(ch.Rows, chartRow{Day: p.day, Value: val})
	}
	ch.Points = strings.Join(poly, " ")
	for _, list := range [][]chartBar{ch.Bars, ch.Dots} {
		for i := range list {
			b := &list[i]
			b.X, b.Y, b.W, b.H = r1(b.X), r1(b.Y), r1(b.W), r1(b.H)
		}
	}
	for _, list := range [][]chartTick{ch.Ticks, ch.Labels} {
		for i := range list {
			list[i].X, list[i].Y = r1(list[i].X), r1(list[i].Y)
		}
	}
	switch {
	case ch.Empty:
		ch.Summary = "No data in this period."
	case line:
		ch.Summary = fmt.Sprintf("Latest %s, highest %s.", format(lastOK(pts)), format(maxOK(pts)))
	default:
		ch.Summary = fmt.Sprintf("%s in all over %d days, at most %s a day.", format(sum), len(pts), format(maxOK(pts)))
	}
	return ch
}

// r1 rounds to a tenth of a unit of the viewBox.
func r1(v float64) float64 { return math.Round(v*10) / 10 }

func lastOK(pts []point) float64 {
	for i := len(pts) - 1; i >= 0; i-- {
		if pts[i].ok {
			return pts[i].v
		}
	}
	return 0
}

func maxOK(pts []point) float64 {
	m := 0.0
	for _, p := range pts {
		if p.ok {
			m = math.Max(m, p.v)
		}
	}
	return m
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten (at least 1), so
// the axis reads in round numbers.
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// niceBytes rounds v up to 1, 2 or 5 (or 10, 20, 50...) of its unit of
// 1024 (KB, MB...).
func niceBytes(v float64) float64 {
	unit := math.Pow(1024, math.Floor(math.Log(v)/math.Log(1024)))
	return niceCeil(v/unit) * unit
}

func shortDay(day string) string {
	if t, err := time.Parse("2006-01-02", day); err == nil {
		return t.Format("Jan 2")
	}
	return day
}

func count(v float64) string {
	if v >= 10000 {
		return strconv.FormatFloat(v/1000, 'f', 0, 64) + "k"
	}
	return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
}

func byteCount(v float64) string { return humanBytes(v) }

// daysBetween lists the days from from to to, both included (at most a
// year); bad input gives none.
func daysBetween(from, to string) []string {
	f, err1 := time.Parse("2006-01-02", from)
	t, err2 := time.Parse("2006-01-02", to)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for d := f; !d.After(t) && len(out) <= 366; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out
}

// series lays days out over every day of the range, each day's value
// from get (days absent: 0, or none for a gauge).
func series(from, to string, days []usageDay, get func(usageDay) (float64, bool), gauge bool) []point {
	by := map[string]usageDay{}
	for _, d := range days {
		by[d.Day] = d
	}
	var pts []point
	for _, day := range daysBetween(from, to) {
		d, ok := by[day]
		p := point{day: day, ok: !gauge}
		if ok {
			p.v, p.ok = get(d)
		}
		pts = append(pts, p)
	}
	return pts
}

func requestsOf(d usageDay) (float64, bool) { return float64(d.Requests), true }
func errorsOf(d usageDay) (float64, bool)   { return float64(d.Errors4xx + d.Errors5xx), true }
func storedOf(d usageDay) (float64, bool) {
	if d.BytesStored == nil {
		return 0, false
	}
	return float64(*d.BytesStored), true
}

// tenantCharts are a tenant's requests, errors and storage over the
// stats' range.
func tenantCharts(st tenantStats) []*chart {
	return []*chart{
		newChart("requests", "Requests per day", false, series(st.From, st.To, st.Days, requestsOf, false), count),
		newChart("errors", "Errors per day (4xx and 5xx)", false, series(st.From, st.To, st.Days, errorsOf, false), count),
		newChart("storage", "Storage used", true, series(st.From, st.To, st.Days, storedOf, true), byteCount),
	}
}
