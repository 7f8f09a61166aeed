package sonicjs

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, for the scratch copy of the source
)

// sqliteMagic opens every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// source is the SonicJS database being read: a scratch copy of the file
// given, or the database its SQL text builds, in a directory of its own
// (never the user's file, which is only read).
type source struct {
	db   *sql.DB
	kind string                     // "sqlite" or "sql"
	cols map[string]map[string]bool // table -> its columns
}

// openSource reads path into a scratch database under dir: a SQLite file
// (told by its header) is copied with its WAL, SQL text is run statement
// by statement (see loadDump).
func openSource(ctx context.Context, path, dir string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, invalid("cannot read %s: %v", filepath.Base(path), unwrapPath(err))
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	head, _ := br.Peek(len(sqliteMagic))
	scratch := filepath.Join(dir, "source.db")
	s := &source{}
	switch {
	case string(head) == sqliteMagic:
		s.kind = "sqlite"
		if err := copyFile(scratch, br); err != nil {
			return nil, err
		}
		if wal, err := os.Open(path + "-wal"); err == nil {
			err = copyFile(scratch+"-wal", wal)
			wal.Close()
			if err != nil {
				return nil, err
			}
		}
		if s.db, err = sql.Open("sqlite", fileURI(scratch, "_pragma=foreign_keys(0)")); err != nil {
			return nil, err
		}
		var check string
		if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil || check != "ok" {
			s.db.Close()
			return nil, invalid("%s is not a sound SQLite database (%v%s)", filepath.Base(path), err, check)
		}
	case looksLikeSQL(head, br):
		s.kind = "sql"
		// A scratch file: no journal, no sync; a crash leaves it to the
		// staging directory's cleanup.
		if s.db, err = sql.Open("sqlite", fileURI(scratch, "mode=rwc&_pragma=foreign_keys(0)&_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)")); err != nil {
			return nil, err
		}
		s.db.SetMaxOpenConns(1)
		if err := loadDump(ctx, s.db, br); err != nil {
			s.db.Close()
			return nil, err
		}
	default:
		return nil, invalid("%s is neither a SQLite database nor SQL text (a `wrangler d1 export`)", filepath.Base(path))
	}
	if err := s.readColumns(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// looksLikeSQL reports whether the input starts as SQL text does: a
// comment or one of the statements a dump begins with.
func looksLikeSQL(_ []byte, br *bufio.Reader) bool {
	head, _ := br.Peek(512)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	t := strings.ToUpper(strings.TrimSpace(string(head)))
	for _, p := range []string{"--", "/*", "PRAGMA", "BEGIN", "CREATE", "INSERT", "DROP"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// fileURI names a file for the driver, escaped as sqlitedb names its own.
func fileURI(path, query string) string {
	abs, _ := filepath.Abs(path)
	return "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + query
}

func copyFile(to string, r io.Reader) error {
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("copy the SonicJS database: %w", err)
	}
	return f.Close()
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func (s *source) readColumns(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT m.name, p.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS p
		WHERE m.type = 'table'`)
	if err != nil {
		return invalid("the database's tables cannot be read: %v", err)
	}
	defer rows.Close()
	s.cols = map[string]map[string]bool{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return err
		}
		if s.cols[t] == nil {
			s.cols[t] = map[string]bool{}
		}
		s.cols[t][c] = true
	}
	return rows.Err()
}

func (s *source) has(table, col string) bool { return s.cols[table][col] }

// count returns a table's rows, 0 when it does not exist.
func (s *source) count(ctx context.Context, table string) (int, error) {
	if s.cols[table] == nil {
		return 0, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM "`+table+`"`).Scan(&n)
	return n, err
}

// row is one source row by column name; columns the table lacks (an
// installation that skipped a SonicJS migration) read as NULL.
type row map[string]any

// each calls fn with every row of table (none when it does not exist),
// ordered by order (column names), reading cols.
func (s *source) each(ctx context.Context, table string, cols []string, order string, fn func(row) error) error {
	if s.cols[table] == nil {
		return nil
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		if s.has(table, c) {
			sel[i] = `"` + c + `"`
		} else {
			sel[i] = "NULL"
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + ` FROM "` + table + `"`
	if order != "" {
		q += " ORDER BY " + order
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("read SonicJS %s: %w", table, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		r := make(row, len(cols))
		for i, c := range cols {
			r[c] = vals[i]
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// str reads a column as text: "" for NULL.
func (r row) str(k string) string {
	switch v := r[k].(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(r[k])
}

// num reads an integer column: def when NULL or not a number.
func (r row) num(k string, def int64) int64 {
	switch v := r[k].(type) {
	case int64:
		return v
	case float64:
		return int64(v)
	case bool:
		if v {
			return 1
		}
		return 0
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			return n
		}
	}
	return def
}

// secondsBefore: SonicJS writes most times in Unix milliseconds, some
// (media uploads, drizzle's timestamp columns) in seconds: a number below
// this (3 March 1973 in milliseconds, the year 5138 in seconds) is
// seconds.
const secondsBefore = 1e11

// ms reads a time column as Unix milliseconds: numbers in seconds or
// milliseconds, or text as SQLite's CURRENT_TIMESTAMP or RFC 3339 writes
// it. nil when NULL or unreadable.
func (r row) ms(k string) *int64 {
	var v int64
	switch x := r[k].(type) {
	case int64:
		v = x
	case float64:
		v = int64(x)
	case string, []byte:
		s := strings.TrimSpace(r.str(k))
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			v = n
			break
		}
		t, err := time.Parse(time.DateTime, s)
		if err != nil {
			t, err = time.Parse(time.RFC3339Nano, s)
		}
		if err != nil {
			return nil
		}
		v = t.UnixMilli()
	default:
		return nil
	}
	if v <= 0 {
		return nil
	}
	if v < secondsBefore {
		v *= 1000
	}
	return &v
}

// msOr is ms with a default.
func (r row) msOr(k string, def int64) int64 {
	if v := r.ms(k); v != nil {
		return *v
	}
	return def
}
