package admin

import (
	"slices"
	"testing"
)

func TestConsoleChart_Bars(t *testing.T) {
	days := []usageDay{{Day: "2026-03-02", Requests: 30}, {Day: "2026-03-04", Requests: 7}}
	ch := newChart("r", "Requests", false, series("2026-03-01", "2026-03-04", days, requestsOf, false), count)
	if got, want := len(ch.Bars), 4; got != want {
		t.Fatalf("%d bars, want %d (a day without usage is a zero bar)", got, want)
	}
	var labels []string
	for _, tk := range ch.Ticks {
		labels = append(labels, tk.Label)
	}
	if want := []string{"0", "10", "20", "30", "40", "50"}; !slices.Equal(labels, want) {
		t.Errorf("ticks %v, want %v", labels, want)
	}
	if b := ch.Bars[1]; b.H <= 0 || b.Y+b.H != plotBottom || b.Title != "2026-03-02: 30" {
		t.Errorf("the 30 bar: %+v", b)
	}
	if ch.Bars[0].H != 0 {
		t.Errorf("an empty day has height %v", ch.Bars[0].H)
	}
	rows := []chartRow{{"2026-03-01", "0"}, {"2026-03-02", "30"}, {"2026-03-03", "0"}, {"2026-03-04", "7"}}
	if !slices.Equal(ch.Rows, rows) {
		t.Errorf("rows %v, want %v", ch.Rows, rows)
	}
	if ch.Summary != "37 in all over 4 days, at most 30 a day." {
		t.Errorf("summary %q", ch.Summary)
	}
}

func TestConsoleChart_Gauge(t *testing.T) {
	n := int64(3 << 20)
	days := []usageDay{{Day: "2026-03-02", BytesStored: &n}, {Day: "2026-03-03"}}
	ch := newChart("s", "Storage", true, series("2026-03-01", "2026-03-03", days, storedOf, true), byteCount)
	if len(ch.Dots) != 1 || ch.Points == "" || ch.Ticks[len(ch.Ticks)-1].Label != "5.0 MB" || ch.Ticks[1].Label != "1.0 MB" {
		t.Fatalf("dots %v points %q ticks %v", ch.Dots, ch.Points, ch.Ticks)
	}
	if ch.Rows[0].Value != "none" || ch.Rows[1].Value != "3.0 MB" || ch.Rows[2].Value != "none" {
		t.Errorf("rows %v: a day without a gauge is none, not zero", ch.Rows)
	}
	if empty := newChart("e", "Storage", true, series("2026-03-01", "2026-03-03", nil, storedOf, true), byteCount); !empty.Empty || empty.Summary != "No data in this period." {
		t.Errorf("no data: %+v", empty)
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0, 1}, {1, 1}, {3, 5}, {4, 5}, {7, 10}, {12, 20}, {450, 500}, {5000, 5000}} {
		if got := niceCeil(tc.in); got != tc.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
