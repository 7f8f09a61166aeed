package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// libsql-client-go through database/sql against a real `condo serve`:
// everything an application does with it, on one tenant.
func TestLibSQL_GoClient(t *testing.T) {
	e := startLibSQL(t, "t1")
	db := e.openGo(t, "t1", e.sqlToken(t, "t1", "write"))
	ctx := context.Background()
	exec := func(t *testing.T, q string, args ...any) sql.Result {
		t.Helper()
		res, err := db.ExecContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return res
	}
	count := func(t *testing.T, q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	exec(t, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE, n INT)")

	t.Run("ExecAndQuery", func(t *testing.T) {
		res := exec(t, "INSERT INTO notes (body, n) VALUES ('first', 1)")
		if id, err := res.LastInsertId(); err != nil || id != 1 {
			t.Errorf("LastInsertId = %d, %v; want 1", id, err)
		}
		if n, err := exec(t, "UPDATE notes SET n = n + 1 WHERE body = 'first'").RowsAffected(); err != nil || n != 1 {
			t.Errorf("RowsAffected = %d, %v; want 1", n, err)
		}
		rows, err := db.QueryContext(ctx, "SELECT id, body, n FROM notes ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		if cols, _ := rows.Columns(); !slices.Equal(cols, []string{"id", "body", "n"}) {
			t.Errorf("columns = %v", cols)
		}
		var got []string
		for rows.Next() {
			var id, n int64
			var body string
			if err := rows.Scan(&id, &body, &n); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d %s %d", id, body, n))
		}
		if err := rows.Err(); err != nil || !slices.Equal(got, []string{"1 first 2"}) {
			t.Errorf("rows = %v, %v", got, err)
		}
	})

	t.Run("PreparedStatements", func(t *testing.T) {
		ins, err := db.PrepareContext(ctx, "INSERT INTO notes (body, n) VALUES (?, ?)")
		if err != nil {
			t.Fatal(err)
		}
		defer ins.Close()
		for i := range 3 {
			if _, err := ins.ExecContext(ctx, fmt.Sprint("prepared-", i), i); err != nil {
				t.Fatal(err)
			}
		}
		sel, err := db.PrepareContext(ctx, "SELECT count(*), sum(n) FROM notes WHERE body LIKE ?")
		if err != nil {
			t.Fatal(err)
		}
		defer sel.Close()
		var n, sum int
		if err := sel.QueryRowContext(ctx, "prepared-%").Scan(&n, &sum); err != nil || n != 3 || sum != 3 {
			t.Errorf("count, sum = %d, %d, %v; want 3, 3", n, sum, err)
		}
	})

	t.Run("NumberedAndNamedArgs", func(t *testing.T) {
		var a, b, c int64
		if err := db.QueryRowContext(ctx, "SELECT ?2, ?1, ?2", 10, 20).Scan(&a, &b, &c); err != nil || a != 20 || b != 10 || c != 20 {
			t.Errorf("?NNN = %d %d %d, %v; want 20 10 20", a, b, c, err)
		}
		// Go sends names without their prefix; each prefix must find its value.
		var x int64
		var y, z string
		err := db.QueryRowContext(ctx, "SELECT :x + 1, @y, $z", sql.Named("x", 41), sql.Named("y", "at"), sql.Named("z", "dollar")).Scan(&x, &y, &z)
		if err != nil || x != 42 || y != "at" || z != "dollar" {
			t.Errorf("named = %d %q %q, %v", x, y, z, err)
		}
		exec(t, "INSERT INTO notes (body, n) VALUES (:body, :n)", sql.Named("body", "named"), sql.Named("n", 7))
		if n := count(t, "SELECT n FROM notes WHERE body = @b", sql.Named("b", "named")); n != 7 {
			t.Errorf("named insert read back %d, want 7", n)
		}
	})

	t.Run("TransactionCommitted", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{"tx-1", "tx-2"} {
			if _, err := tx.ExecContext(ctx, "INSERT INTO notes (body) VALUES (?)", body); err != nil {
				t.Fatal(err)
			}
		}
		var inside int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM notes WHERE body LIKE 'tx-%'").Scan(&inside); err != nil || inside != 2 {
			t.Errorf("inside the transaction: %d rows, %v; want 2", inside, err)
		}
		if n := count(t, "SELECT count(*) FROM notes WHERE body LIKE 'tx-%'"); n != 0 {
			t.Errorf("another connection sees %d uncommitted rows", n)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, "SELECT count(*) FROM notes WHERE body LIKE 'tx-%'"); n != 2 {
			t.Errorf("after commit: %d rows, want 2", n)
		}
	})

	t.Run("TransactionRolledBack", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO notes (body) VALUES ('rolled-back')"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, "SELECT count(*) FROM notes WHERE body = 'rolled-back'"); n != 0 {
			t.Errorf("a rolled back row is there")
		}
	})

	t.Run("TransactionCancelledContext", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		tx, err := db.BeginTx(cctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(cctx, "INSERT INTO notes (body) VALUES ('cancelled')"); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := tx.Commit(); !errors.Is(err, context.Canceled) {
			t.Errorf("Commit after cancel = %v, want context.Canceled", err)
		}
		if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
			t.Errorf("Rollback after cancel = %v", err)
		}
		// database/sql rolled back on the stream: the row never lands and
		// the write lock is free for the next writer.
		exec(t, "INSERT INTO notes (body) VALUES ('after-cancel')")
		if n := count(t, "SELECT count(*) FROM notes WHERE body = 'cancelled'"); n != 0 {
			t.Errorf("the cancelled transaction's row is there")
		}
	})

	t.Run("MultiStatementExec", func(t *testing.T) {
		// The client splits the text and sends one batch, each step on
		// ok of the one before, and a final ROLLBACK if the last failed.
		exec(t, "CREATE TABLE multi (x INT); INSERT INTO multi VALUES (1); INSERT INTO multi VALUES (2);")
		res := exec(t, "BEGIN; INSERT INTO multi VALUES (3); UPDATE multi SET x = x * 10; COMMIT")
		if n, _ := res.RowsAffected(); n != 4 {
			t.Errorf("RowsAffected of the script = %d, want 4", n)
		}
		if n := count(t, "SELECT sum(x) FROM multi"); n != 60 {
			t.Errorf("sum = %d, want 60", n)
		}
		// A failing statement stops the script, and the client's final
		// ROLLBACK undoes the script's own transaction: on the same stream
		// (one connection), the next statement runs in autocommit.
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, err = conn.ExecContext(ctx, "BEGIN; INSERT INTO multi VALUES (5); INSERT INTO nowhere VALUES (6); COMMIT")
		if err == nil || !strings.Contains(err.Error(), "no such table: nowhere") {
			t.Errorf("a script with a failing statement: %v", err)
		}
		if _, err := conn.ExecContext(ctx, "INSERT INTO multi VALUES (7)"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, "SELECT sum(x) FROM multi"); n != 67 {
			t.Errorf("sum = %d, want 67: the failed script's row gone, the next one committed", n)
		}
	})

	t.Run("Values", func(t *testing.T) {
		exec(t, "CREATE TABLE vals (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB, at DATETIME)")
		plus2 := time.FixedZone("plus2", 2*3600)
		type row struct {
			i  any
			f  any
			s  any
			b  []byte
			at any
		}
		rows := []row{
			{int64(9007199254740993), 3.25, "héllo ✓", []byte{0, 1, 2, 255, 254}, time.Date(2026, 12, 1, 22, 34, 33, 123456789, time.UTC)},
			{int64(math.MaxInt64), 1e300, "", []byte{7}, time.Date(1999, 1, 2, 3, 4, 5, 0, plus2)},
			{int64(math.MinInt64), -2.5e-10, "9007199254740993", []byte{0xde, 0xad, 0xbe, 0xef}, time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)},
			{nil, nil, nil, nil, nil},
		}
		for _, r := range rows {
			var b any = r.b
			if r.b == nil {
				b = nil
			}
			exec(t, "INSERT INTO vals (i, f, s, b, at) VALUES (?, ?, ?, ?, ?)", r.i, r.f, r.s, b, r.at)
		}
		res, err := db.QueryContext(ctx, "SELECT i, f, s, b, at FROM vals ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Close()
		for k := 0; res.Next(); k++ {
			var i sql.NullInt64
			var f sql.NullFloat64
			var s sql.NullString
			var b []byte
			var at sql.NullTime
			if err := res.Scan(&i, &f, &s, &b, &at); err != nil {
				t.Fatalf("row %d: %v", k, err)
			}
			want := rows[k]
			if want.i == nil {
				if i.Valid || f.Valid || s.Valid || b != nil || at.Valid {
					t.Errorf("row of NULLs read back as %v %v %v %v %v", i, f, s, b, at)
				}
				continue
			}
			if i.Int64 != want.i.(int64) || f.Float64 != want.f.(float64) || s.String != want.s.(string) || !bytes.Equal(b, want.b) {
				t.Errorf("row %d = %d %g %q %x, want %v %v %q %x", k, i.Int64, f.Float64, s.String, b, want.i, want.f, want.s, want.b)
			}
			if !at.Valid || !at.Time.Equal(want.at.(time.Time)) {
				t.Errorf("row %d: DATETIME read back as %v (valid %v), want %v", k, at.Time, at.Valid, want.at)
			}
		}
		if err := res.Err(); err != nil {
			t.Fatal(err)
		}
		var sum float64
		var big string
		var blob []byte
		if err := db.QueryRowContext(ctx, "SELECT 0.1 + 0.2, CAST(9007199254740993 AS TEXT), x''").Scan(&sum, &big, &blob); err != nil {
			t.Fatal(err)
		}
		a, b := 0.1, 0.2 // variables: a constant 0.1+0.2 is exactly 0.3
		if sum != a+b || big != "9007199254740993" || len(blob) != 0 {
			t.Errorf("expressions = %v %q %x", sum, big, blob)
		}
	})

	t.Run("ConstraintError", func(t *testing.T) {
		for q, want := range map[string]string{
			"INSERT INTO notes (body) VALUES ('first')": "UNIQUE constraint failed",
			"INSERT INTO notes (body) VALUES (NULL)":    "NOT NULL constraint failed",
		} {
			if _, err := db.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want %q", q, err, want)
			}
		}
		// An SQL error is an answer, not the end of the stream: the
		// transaction goes on and commits.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{"before-error", "first", "after-error"} {
			_, err := tx.ExecContext(ctx, "INSERT INTO notes (body) VALUES (?)", body)
			if (err != nil) != (body == "first") {
				t.Fatalf("insert %s in a transaction: %v", body, err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, "SELECT count(*) FROM notes WHERE body IN ('before-error', 'after-error')"); n != 2 {
			t.Errorf("%d rows of the transaction with an error in it, want 2", n)
		}
	})

	t.Run("LargeResults", func(t *testing.T) {
		const series = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ?) "
		n := 0
		rows, err := db.QueryContext(ctx, series+"SELECT x, hex(randomblob(16)) FROM c", 20000)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil || n < 20000 {
			t.Errorf("read %d of 20000 rows: %v", n, err)
		}
		// An answer past the server's cap (10 MB, as sqld's) is an error
		// that says so, and the handle goes on working.
		_, err = db.QueryContext(ctx, series+"SELECT zeroblob(1000000) FROM c", 12)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), "too large") {
			t.Errorf("a 12 MB answer: %v, want an error saying it is too large", err)
		}
		if n := count(t, "SELECT 42"); n != 42 {
			t.Errorf("after the refused answer: %d", n)
		}
	})

	t.Run("ConcurrentWriters", func(t *testing.T) {
		// Streams of one tenant take turns at SQLite's write lock: no
		// writer sees SQLITE_BUSY, transactions included.
		exec(t, "CREATE TABLE hits (worker INT, k INT)")
		const workers, each = 8, 10
		errs := make(chan error, workers)
		for w := range workers {
			go func() {
				errs <- func() error {
					for k := range each {
						if w%2 == 0 { // autocommit
							if _, err := db.ExecContext(ctx, "INSERT INTO hits VALUES (?, ?)", w, k); err != nil {
								return err
							}
							continue
						}
						tx, err := db.BeginTx(ctx, nil)
						if err != nil {
							return err
						}
						if _, err := tx.ExecContext(ctx, "INSERT INTO hits VALUES (?, ?)", w, k); err != nil {
							tx.Rollback()
							return err
						}
						if err := tx.Commit(); err != nil {
							return err
						}
					}
					return nil
				}()
			}()
		}
		for range workers {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if n := count(t, "SELECT count(*) FROM hits"); n != workers*each {
			t.Errorf("%d rows, want %d", n, workers*each)
		}
	})

	t.Run("URLForms", func(t *testing.T) {
		// The forms of the README's local development, on the server's
		// address (t1 is its default tenant): libsql:// with ?tls=0, and
		// http://, the token in the URL.
		tok := e.sqlToken(t, "t1", "read")
		for _, url := range []string{
			"libsql://" + e.addr + "?tls=0&authToken=" + tok,
			"http://" + e.addr + "?authToken=" + tok,
		} {
			db, err := sql.Open("libsql", url)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			err = db.QueryRowContext(ctx, "SELECT count(*) FROM notes WHERE body = 'first'").Scan(&n)
			db.Close()
			if err != nil || n != 1 {
				t.Errorf("%s...: %d, %v", url[:strings.Index(url, "?")], n, err)
			}
		}
	})

	t.Run("ReadOnlyToken", func(t *testing.T) {
		ro := e.openGo(t, "t1", e.sqlToken(t, "t1", "read"))
		before := count(t, "SELECT count(*) FROM notes")
		for _, q := range []string{
			"INSERT INTO notes (body) VALUES ('by-a-reader')",
			"UPDATE notes SET n = 99",
			"DELETE FROM notes",
			"CREATE TABLE by_a_reader (x)",
			"DROP TABLE notes",
		} {
			if _, err := ro.ExecContext(ctx, q); err == nil {
				t.Errorf("a read-only token ran %s", q)
			}
		}
		var n int
		if err := ro.QueryRowContext(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil || n != before {
			t.Errorf("read-only count = %d, %v; want %d", n, err, before)
		}
		if n := count(t, "SELECT count(*) FROM notes WHERE n = 99 OR body = 'by-a-reader'"); n != 0 {
			t.Errorf("a read-only token's write landed")
		}
		if n := count(t, "SELECT count(*) FROM sqlite_master WHERE name = 'by_a_reader'"); n != 0 {
			t.Errorf("a read-only token created a table")
		}
	})
}

// A transaction whose stream expired between two statements: the next
// statement fails and says so, the transaction's writes are gone, and the
// same *sql.DB goes on working on a new stream. It sleeps past the
// server's 10 s idle expiry, in parallel with the other tests.
func TestLibSQL_GoStreamExpired(t *testing.T) {
	t.Parallel()
	e := startLibSQL(t, "t1")
	db := e.openGo(t, "t1", e.sqlToken(t, "t1", "write"))
	db.SetMaxOpenConns(1) // the statement after the expiry reuses the dead stream's connection
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ('in the expired transaction')"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(11 * time.Second)
	_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES ('after the expiry')")
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "expired") {
		t.Errorf("a statement on an expired stream: %v, want an error saying the stream expired", err)
	}
	tx.Rollback() // the driver knows its stream is gone; whatever it answers, the connection is replaced

	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES ('on a new stream')"); err != nil {
		t.Fatalf("the pool did not recover: %v", err)
	}
	rows, err := db.QueryContext(ctx, "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var x string
		rows.Scan(&x)
		got = append(got, x)
	}
	if !slices.Equal(got, []string{"on a new stream"}) {
		t.Errorf("rows = %q, want only the one written after the expiry", got)
	}
}
