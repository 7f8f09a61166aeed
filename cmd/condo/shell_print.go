package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// How condo shell prints a result: a table (NULL as NULL, blobs as
// x'0102', newlines and tabs in text as \n and \t) or JSON (null, blobs
// as {"base64": "AQI="}, infinite floats as strings).

func (sh *shell) printTable(r *result) error {
	if len(r.Columns) == 0 {
		if r.Changes != nil {
			_, err := fmt.Fprintf(sh.out, "%s changed\n", rowCount(*r.Changes))
			return err
		}
		return nil
	}
	w := tabwriter.NewWriter(sh.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, strings.Join(r.Columns, "\t"))
	dashes := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		dashes[i] = strings.Repeat("-", max(len(c), 4))
	}
	fmt.Fprintln(w, strings.Join(dashes, "\t"))
	cells := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i, v := range row {
			cells[i] = tableValue(v)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(sh.out, "(%s)\n", rowCount(int64(len(r.Rows))))
	return err
}

func rowCount(n int64) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.FormatInt(n, 10) + " rows"
}

func (sh *shell) printJSON(v any) error {
	if r, ok := v.(*result); ok {
		v = jsonResult(r)
	}
	if rs, ok := v.([]*result); ok {
		out := make([]*result, len(rs))
		for i, r := range rs {
			out[i] = jsonResult(r)
		}
		v = out
	}
	enc := json.NewEncoder(sh.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonResult is r with its values as JSON shows them.
func jsonResult(r *result) *result {
	out := &result{Columns: r.Columns, Rows: make([][]any, len(r.Rows)), Changes: r.Changes}
	for i, row := range r.Rows {
		out.Rows[i] = make([]any, len(row))
		for j, v := range row {
			out.Rows[i][j] = jsonValue(v)
		}
	}
	return out
}

func tableValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return "x'" + hex.EncodeToString(v) + "'"
	case string:
		return strings.NewReplacer("\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time: // the driver parses DATE, DATETIME and TIMESTAMP columns
		return v.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func jsonValue(v any) any {
	switch v := v.(type) {
	case []byte:
		return map[string]string{"base64": base64.StdEncoding.EncodeToString(v)}
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
	case time.Time:
		return v.Format(time.RFC3339Nano)
	}
	return v
}
