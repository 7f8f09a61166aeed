package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	condousage "github.com/condohq/condo/usage"
	"golang.org/x/term"
)

// stats serves `condo stats [ID]`: a tenant's usage per day (or the
// fleet's, summed), from the catalog's usage_daily, with a chart of
// requests per day: bars on a terminal, plain numbers otherwise.
func (m *Main) stats(ctx context.Context, args []string) error {
	c := m.newCommand("stats")
	var days int
	c.fs.IntVar(&days, "days", 14, "how many days back, today included (1 to 366)")
	pos, err := c.parse(args, 0, 1, "stats [ID] [--days N]")
	if err != nil {
		return err
	}
	if days < 1 || days > 366 {
		return usagef("--days must be 1 to 366")
	}
	id := ""
	if len(pos) == 1 {
		id = pos[0]
		if err := condo.ValidateTenantID(id); err != nil {
			return err
		}
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, 1-days).Format(catalog.DayFormat), today.Format(catalog.DayFormat)
	f, ok := m.Stdout.(*os.File)
	bars := ok && term.IsTerminal(int(f.Fd()))
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		if id == "" {
			fleet, err := cat.FleetUsage(ctx, from, to)
			if err != nil {
				return err
			}
			var b strings.Builder
			fmt.Fprintf(&b, "Requests per day, all tenants, %s to %s (UTC)\n", from, to)
			chart(&b, from, days, func(day string) int64 {
				for _, d := range fleet {
					if d.Day == day {
						return d.Requests
					}
				}
				return 0
			}, bars)
			w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "\nDAY\tTENANTS\tREQUESTS\t4XX\t5XX\tBYTES IN\tBYTES OUT\tSQL")
			for _, d := range fleet {
				fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", d.Day, d.Tenants, d.Requests, d.Errors4xx, d.Errors5xx, d.BytesIn, d.BytesOut, d.Statements)
			}
			w.Flush()
			fmt.Fprintf(&b, "(flushed each minute by every node; `condo stats ID` for one tenant)")
			return c.print(map[string]any{"from": from, "to": to, "days": fleet}, b.String())
		}
		rows, err := cat.Usage(ctx, id, from, to)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			if _, err := cat.Lookup(ctx, id); err != nil {
				return err
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Requests per day, tenant %s, %s to %s (UTC)\n", id, from, to)
		chart(&b, from, days, func(day string) int64 {
			for _, d := range rows {
				if d.Day == day {
					return d.Requests
				}
			}
			return 0
		}, bars)
		w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "\nDAY\tREQUESTS\t4XX\t5XX\tP50 MS\tP99 MS\tBYTES IN\tBYTES OUT\tSQL\tSTORED\tUSERS\tITEMS")
		for _, d := range rows {
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%.1f\t%.1f\t%d\t%d\t%d\t%s\t%s\t%s\n", d.Day, d.Requests, d.Errors4xx, d.Errors5xx,
				msOf(condousage.Quantile(d.Latency, .5)), msOf(condousage.Quantile(d.Latency, .99)), d.BytesIn, d.BytesOut, d.Statements,
				optional(d.BytesStored), optional(d.Users), optional(d.Items))
		}
		w.Flush()
		b.WriteString("(flushed each minute by every node)")
		return c.print(map[string]any{"tenant_id": id, "from": from, "to": to, "days": rows}, b.String())
	})
}

// chartWidth is the longest bar, in cells.
const chartWidth = 40

// chart writes one line per day from from: the day, a bar of requests
// (unicode blocks, eighths of a cell) and the count. Without bars (not a
// terminal) the line is the day and the count only.
func chart(w io.Writer, from string, days int, requests func(day string) int64, bars bool) {
	start, _ := time.Parse(catalog.DayFormat, from)
	var most int64
	for i := range days {
		most = max(most, requests(start.AddDate(0, 0, i).Format(catalog.DayFormat)))
	}
	for i := range days {
		day := start.AddDate(0, 0, i).Format(catalog.DayFormat)
		n := requests(day)
		if !bars {
			fmt.Fprintf(w, "%s %d\n", day, n)
			continue
		}
		fmt.Fprintf(w, "%s %s %d\n", day, bar(n, most, chartWidth), n)
	}
}

// bar draws n of most as width cells at most, in eighths of a cell; a
// day with any request shows at least a sliver.
func bar(n, most int64, width int) string {
	if most <= 0 || n <= 0 {
		return ""
	}
	eighths := int(n * int64(width) * 8 / most)
	eighths = max(eighths, 1)
	partial := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	return strings.Repeat("█", eighths/8) + partial[eighths%8]
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func optional(v *int64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}
