package move

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/condohq/condo/sqlitedb"
)

// Sums describe a database copy: every table's row count and, when full,
// a checksum of its rows; File is the SHA-256 of the file when known.
type Sums struct {
	Tables map[string]TableSum `json:"tables"`
	File   string              `json:"file,omitempty"`
}

// TableSum is one table's row count and checksum.
type TableSum struct {
	Rows int64  `json:"rows"`
	Sum  string `json:"sum,omitempty"`
}

// Diff names the first difference between s and o, "" when they agree.
func (s Sums) Diff(o Sums) string {
	if s.File != o.File {
		return "file checksum"
	}
	names := make([]string, 0, len(s.Tables))
	for n := range s.Tables {
		names = append(names, n)
	}
	for n := range o.Tables {
		if _, ok := s.Tables[n]; !ok {
			return "table " + n + " only on the target"
		}
	}
	slices.Sort(names)
	for _, n := range names {
		a, b := s.Tables[n], o.Tables[n]
		if a != b {
			return fmt.Sprintf("table %s: %d rows %.12s here, %d rows %.12s there", n, a.Rows, a.Sum, b.Rows, b.Sum)
		}
	}
	return ""
}

// Checksums reads the database file at path (read-only) and sums every
// table: its rows in table order (rowid, or primary key), each value with
// its type, so equal sums mean equal rows. Without full, only the counts.
func Checksums(ctx context.Context, path string, full bool) (Sums, error) {
	db, err := sqlitedb.Open(path, sqlitedb.Options{Job: true, Readers: 1})
	if err != nil {
		return Sums{}, err
	}
	defer db.Close()
	rows, err := db.Read.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")
	if err != nil {
		return Sums{}, err
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Sums{}, err
	}
	out := Sums{Tables: map[string]TableSum{}}
	for _, n := range names {
		q := `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
		var ts TableSum
		if !full {
			if err := db.Read.QueryRowContext(ctx, "SELECT count(*) FROM "+q).Scan(&ts.Rows); err != nil {
				if strings.Contains(err.Error(), "no such module") { // an FTS5 shadow of a module we lack: skip
					continue
				}
				return Sums{}, fmt.Errorf("count %s: %w", n, err)
			}
			out.Tables[n] = ts
			continue
		}
		if ts, err = sumTable(ctx, db.Read, q); err != nil {
			return Sums{}, fmt.Errorf("checksum %s: %w", n, err)
		}
		out.Tables[n] = ts
	}
	return out, nil
}

func sumTable(ctx context.Context, db *sql.DB, q string) (TableSum, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+q)
	if err != nil {
		return TableSum{}, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	h := sha256.New()
	var n int64
	var buf [9]byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return TableSum{}, err
		}
		n++
		for _, v := range vals {
			switch v := v.(type) {
			case nil:
				h.Write([]byte{0})
			case int64:
				buf[0] = 1
				binary.BigEndian.PutUint64(buf[1:], uint64(v))
				h.Write(buf[:])
			case float64:
				buf[0] = 2
				binary.BigEndian.PutUint64(buf[1:], math.Float64bits(v))
				h.Write(buf[:])
			case string:
				buf[0] = 3
				binary.BigEndian.PutUint64(buf[1:], uint64(len(v)))
				h.Write(buf[:])
				h.Write([]byte(v))
			case []byte:
				buf[0] = 4
				binary.BigEndian.PutUint64(buf[1:], uint64(len(v)))
				h.Write(buf[:])
				h.Write(v)
			default:
				fmt.Fprintf(h, "\x05%v", v)
			}
		}
	}
	return TableSum{Rows: n, Sum: hex.EncodeToString(h.Sum(nil))}, rows.Err()
}
