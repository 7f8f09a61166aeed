package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
	"modernc.org/libc"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// condo shell opens a connection of its own on the tenant's file (so it
// works while serve runs), protected as a sql.write credential of the
// libSQL endpoint is (hrana.Protect), unless --unsafe. shell_print.go
// prints the results.

const shellHelp = `.tables             list tables and views
.schema [TABLE]      show the CREATE statements (of one table and its indexes and triggers)
.mode json|table     print results as JSON or as a table
.help                this text
.quit, .exit         leave
Statements end with ';' and may span lines.`

func (m *Main) shell(ctx context.Context, args []string) error {
	c := m.newCommand("shell")
	unsafe := c.fs.Bool("unsafe", false, "lift the protections: secrets, Condo's bookkeeping and schema become readable and writable")
	pos, err := c.parse(args, 1, 2, `shell ID ["SQL"] [--json] [--unsafe]`)
	if err != nil {
		return err
	}
	return c.withTenantFile(ctx, pos[0], func(path string) error {
		// Defensive mode is part of the protections (see hrana.Protect).
		db, err := sqlitedb.Open(path, sqlitedb.Options{Defensive: !*unsafe, Readers: 1})
		if err != nil {
			return err
		}
		defer db.Close()
		conn, err := db.Writer().Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		access := hrana.ReadWrite
		if *unsafe {
			access = hrana.Unsafe
		}
		g, err := hrana.Protect(ctx, conn, access)
		if err != nil {
			return err
		}
		defer g.Release(context.WithoutCancel(ctx))
		sh := &shell{conn: conn, out: c.out, json: c.json, banner: fmt.Sprintf("tenant %s, protected as a sql.write token (--unsafe lifts it); .help for help", pos[0])}
		if *unsafe {
			sh.banner = fmt.Sprintf("tenant %s, unprotected (--unsafe); .help for help", pos[0])
		}
		if len(pos) == 2 {
			return sh.oneShot(ctx, pos[1])
		}
		return sh.interactive(ctx, m.Stdin, m.Stderr)
	})
}

// withTenantFile runs fn with the path of a tenant's database, migrated
// first if the tenant is behind.
func (c *command) withTenantFile(ctx context.Context, id string, fn func(path string) error) error {
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		set, err := tenantMigrations(c.cfg.TenantMigrations)
		if err != nil {
			return err
		}
		store := tenantstore.New(cat, tenantstore.Config{DataDir: c.cfg.Data, PoolSize: 1, Migrations: set})
		defer store.Close(context.Background())
		t, err := cat.Tenant(ctx, id)
		if err != nil {
			return err
		}
		h, release, err := store.AcquireTenant(ctx, t)
		if err != nil {
			return err
		}
		defer release()
		db, ok := h.Local()
		if !ok {
			return fmt.Errorf("tenant %s lives at a remote location (%s): open a shell there", id, t.Location)
		}
		return fn(db.Path)
	})
}

type shell struct {
	conn   *sql.Conn
	out    io.Writer
	json   bool
	banner string // what a terminal shows first
}

// result is one statement's outcome as --json prints it.
type result struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	Changes *int64   `json:"rows_changed,omitempty"` // INSERT, UPDATE, DELETE
}

// oneShot runs a statement or a script; with --json it prints one JSON
// array, a result per statement. It stops at the first error.
func (sh *shell) oneShot(ctx context.Context, script string) error {
	stmts := splitStatements(script)
	if len(stmts) == 0 {
		return usagef("no SQL statement in %q", script)
	}
	var all []*result
	for _, s := range stmts {
		r, err := sh.run(ctx, s)
		if err != nil {
			return err
		}
		if sh.json {
			all = append(all, r)
		} else if err := sh.printTable(r); err != nil {
			return err
		}
	}
	if sh.json {
		return sh.printJSON(all)
	}
	return nil
}

// interactive reads statements and dot commands from in, with line
// editing and history where in is a terminal. Errors are printed and
// the shell goes on; without a terminal, the exit status is 1 if any
// statement failed.
func (sh *shell) interactive(ctx context.Context, in io.Reader, errOut io.Writer) error {
	next, done, err := lineReader(in, sh)
	if err != nil {
		return err
	}
	defer done()
	if isTerminal(in) {
		errOut = sh.out // the terminal, which ends lines as a raw terminal needs
		fmt.Fprintln(sh.out, sh.banner)
	}
	var buf strings.Builder
	failed := 0
	for {
		line, err := next(buf.Len() > 0)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if buf.Len() == 0 && strings.HasPrefix(strings.TrimSpace(line), ".") {
			quit, err := sh.dot(ctx, strings.Fields(line))
			if err != nil {
				fmt.Fprintln(errOut, "condo: "+oneLine(err))
				failed++
			}
			if quit {
				break
			}
			continue
		}
		buf.WriteString(line + "\n")
		if !complete(buf.String()) {
			continue
		}
		for _, s := range splitStatements(buf.String()) {
			if err := sh.exec(ctx, s); err != nil {
				fmt.Fprintln(errOut, "condo: "+oneLine(err))
				failed++
			}
		}
		buf.Reset()
	}
	if failed > 0 && !isTerminal(in) {
		return fmt.Errorf("%d statements failed", failed)
	}
	return nil
}

// lineReader returns a function reading the next line (with a
// continuation prompt while a statement is open) and one that restores
// the terminal. On a terminal, sh's output goes through it.
func lineReader(in io.Reader, sh *shell) (next func(cont bool) (string, error), done func(), err error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		state, err := term.MakeRaw(int(f.Fd()))
		if err != nil {
			return nil, nil, err
		}
		t := term.NewTerminal(struct {
			io.Reader
			io.Writer
		}{f, sh.out}, "condo> ")
		sh.out = t
		next = func(cont bool) (string, error) {
			t.SetPrompt("condo> ")
			if cont {
				t.SetPrompt("   ...> ")
			}
			return t.ReadLine()
		}
		return next, func() { term.Restore(int(f.Fd()), state) }, nil
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	next = func(bool) (string, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return "", err
			}
			return "", io.EOF
		}
		return sc.Text(), nil
	}
	return next, func() {}, nil
}

func isTerminal(in io.Reader) bool {
	f, ok := in.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// dot runs a dot command; quit reports .quit or .exit.
func (sh *shell) dot(ctx context.Context, words []string) (quit bool, err error) {
	switch words[0] {
	case ".quit", ".exit":
		return true, nil
	case ".help":
		_, err := fmt.Fprintln(sh.out, shellHelp)
		return false, err
	case ".mode":
		if len(words) != 2 || words[1] != "json" && words[1] != "table" {
			return false, usagef("usage: .mode json|table")
		}
		sh.json = words[1] == "json"
		return false, nil
	case ".tables":
		if len(words) != 1 {
			return false, usagef("usage: .tables")
		}
		return false, sh.exec(ctx, "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name")
	case ".schema":
		q := "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL"
		var args []any
		switch len(words) {
		case 1:
		case 2:
			q += " AND tbl_name = ? COLLATE NOCASE"
			args = append(args, words[1])
		default:
			return false, usagef("usage: .schema [TABLE]")
		}
		return false, sh.schema(ctx, q+" ORDER BY tbl_name, type DESC, name", args...)
	}
	return false, usagef("unknown command %s: try .help", words[0])
}

func (sh *shell) schema(ctx context.Context, q string, args ...any) error {
	rows, err := sh.conn.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(sh.out, s+";"); err != nil {
			return err
		}
	}
	return rows.Err()
}

// exec runs one statement and prints its result in the current mode.
func (sh *shell) exec(ctx context.Context, stmt string) error {
	r, err := sh.run(ctx, stmt)
	if err != nil {
		return err
	}
	if sh.json {
		return sh.printJSON(r)
	}
	return sh.printTable(r)
}

// run runs one statement and reads all its rows.
func (sh *shell) run(ctx context.Context, stmt string) (*result, error) {
	var before int64
	if err := sh.conn.QueryRowContext(ctx, "SELECT total_changes()").Scan(&before); err != nil {
		return nil, err
	}
	rows, err := sh.conn.QueryContext(ctx, stmt)
	if err != nil {
		return nil, explain(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	r := &result{Columns: cols, Rows: [][]any{}}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r.Rows = append(r.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, explain(err)
	}
	rows.Close()
	if len(cols) == 0 {
		// Rows changed: counted by SQLite only for INSERT, UPDATE and
		// DELETE, so a statement that changed none shows nothing.
		var after, n int64
		if err := sh.conn.QueryRowContext(ctx, "SELECT total_changes(), changes()").Scan(&after, &n); err != nil {
			return nil, err
		}
		if after != before {
			r.Changes = &n
		}
	}
	return r, nil
}

// explain adds to a statement the authorizer refused why it was.
func explain(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_AUTH || strings.Contains(se.Error(), "not authorized")) {
		return fmt.Errorf("%w: the shell, as a sql.write token, may not read secrets nor change Condo's bookkeeping, "+
			"schema or safety settings (--unsafe lifts this)", err)
	}
	return err
}

// splitStatements cuts a script into its statements, each ending at a
// ';' where SQLite itself says the text so far is complete (which a ';'
// inside a string, a comment or a trigger's body is not). Text after the
// last ';' is a statement too (SQLite runs a comment as nothing).
func splitStatements(script string) []string {
	var out []string
	start := 0
	for i := 0; i < len(script); i++ {
		if script[i] != ';' || !complete(script[start:i+1]) {
			continue
		}
		if s := strings.TrimSpace(script[start : i+1]); s != ";" {
			out = append(out, s)
		}
		start = i + 1
	}
	if s := strings.TrimSpace(script[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// complete reports whether sql ends a statement (sqlite3_complete).
func complete(sql string) bool {
	tls := libc.NewTLS()
	defer tls.Close()
	p, err := libc.CString(sql)
	if err != nil {
		return false
	}
	defer libc.Xfree(tls, p)
	return sqlite3.Xsqlite3_complete(tls, p) != 0
}
