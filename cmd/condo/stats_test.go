package main

import (
	"strings"
	"testing"
)

func TestStats_Bar(t *testing.T) {
	for _, c := range []struct {
		n, most int64
		want    string
	}{
		{0, 10, ""}, {10, 10, strings.Repeat("█", 40)}, {5, 10, strings.Repeat("█", 20)},
		{1, 1000, "▏"}, // any request shows
		{3, 0, ""},
	} {
		if got := bar(c.n, c.most, 40); got != c.want {
			t.Errorf("bar(%d, %d) = %q, want %q", c.n, c.most, got, c.want)
		}
	}
	var b strings.Builder
	chart(&b, "2026-11-30", 2, func(day string) int64 { return map[string]int64{"2026-11-30": 4, "2026-12-01": 2}[day] }, false)
	if got, want := b.String(), "2026-11-30 4\n2026-12-01 2\n"; got != want {
		t.Errorf("plain chart %q, want %q", got, want)
	}
	b.Reset()
	chart(&b, "2026-11-30", 2, func(day string) int64 { return map[string]int64{"2026-11-30": 4, "2026-12-01": 2}[day] }, true)
	if lines := strings.Split(b.String(), "\n"); !strings.Contains(lines[0], strings.Repeat("█", 40)+" 4") || !strings.Contains(lines[1], strings.Repeat("█", 20)+" 2") {
		t.Errorf("bars:\n%s", b.String())
	}
	// Bad input: one line, non-zero exit.
	data := t.TempDir()
	mustCatalog(t, data)
	for _, args := range [][]string{
		{"stats", "--days", "0", "--data", data}, {"stats", "Bad_Id", "--data", data}, {"stats", "nobody", "--data", data},
		{"stats", "a", "b", "--data", data},
	} {
		if code, out, errOut := run(t, "", args...); code == 0 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("condo %v: %d %q %q", args, code, out, errOut)
		}
	}
}
