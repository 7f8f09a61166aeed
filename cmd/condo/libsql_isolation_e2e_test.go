package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Tenants stay apart through the real Go client: a token works only on
// its own tenant's host (the default tenant's fallback host included), a
// tenant's answers hold only its own rows, a stream cannot reach another
// tenant's file, and a baton or stored SQL of one tenant is of no use on
// another's host.
func TestLibSQL_Isolation(t *testing.T) {
	e := startLibSQL(t, "a1", "b1") // a1 is also the default tenant
	ctx := context.Background()
	tokA, tokB := e.sqlToken(t, "a1", "write"), e.sqlToken(t, "b1", "write")
	dbA, dbB := e.openGo(t, "a1", tokA), e.openGo(t, "b1", tokB)
	for db, row := range map[*sql.DB]string{dbA: "a's row", dbB: "b's row"} {
		if _, err := db.ExecContext(ctx, "CREATE TABLE secrets (x TEXT)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO secrets VALUES (?)", row); err != nil {
			t.Fatal(err)
		}
	}
	secrets := func(t *testing.T, db *sql.DB) ([]string, error) {
		t.Helper()
		rows, err := db.QueryContext(ctx, "SELECT x FROM secrets ORDER BY x")
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var x string
			if err := rows.Scan(&x); err != nil {
				return nil, err
			}
			got = append(got, x)
		}
		return got, rows.Err()
	}

	t.Run("OwnRowsOnly", func(t *testing.T) {
		for db, want := range map[*sql.DB]string{dbA: "a's row", dbB: "b's row"} {
			if got, err := secrets(t, db); err != nil || !slices.Equal(got, []string{want}) {
				t.Errorf("secrets = %q, %v; want only %q", got, err, want)
			}
		}
	})

	t.Run("TokenOnAnotherHost", func(t *testing.T) {
		for name, db := range map[string]*sql.DB{
			"a's token on b's host":                e.openGo(t, "b1", tokA),
			"b's token on a's host":                e.openGo(t, "a1", tokB),
			"b's token on the default tenant's IP": e.openURL(t, e.url(), tokB),
		} {
			if got, err := secrets(t, db); err == nil {
				t.Errorf("%s read %q", name, got)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO secrets VALUES ('intruder')"); err == nil {
				t.Errorf("%s wrote", name)
			}
		}
		for db, want := range map[*sql.DB]string{dbA: "a's row", dbB: "b's row"} {
			if got, err := secrets(t, db); err != nil || !slices.Equal(got, []string{want}) {
				t.Errorf("after the refusals, secrets = %q, %v; want only %q", got, err, want)
			}
		}
	})

	t.Run("NoOtherTenantsFile", func(t *testing.T) {
		other := filepath.Join(e.data, "tenants", "b1", "tenant.db")
		for _, q := range []string{
			"ATTACH DATABASE '" + other + "' AS other",
			"ATTACH DATABASE 'file:" + other + "?mode=ro' AS other",
		} {
			if _, err := dbA.ExecContext(ctx, q); err == nil {
				t.Errorf("a1 ran %s", q)
			}
		}
		var n int
		if err := dbA.QueryRowContext(ctx, "SELECT count(*) FROM pragma_database_list WHERE name = 'other'").Scan(&n); err == nil && n != 0 {
			t.Errorf("b1's file is attached to a1's connection")
		}
	})

	t.Run("BatonAndStoredSQLOnAnotherHost", func(t *testing.T) {
		// Raw HTTP: the clients never send a baton elsewhere, an attacker
		// would. Open a stream on a1, then present its baton on b1.
		code, open, _ := e.sendJSON(t, "POST", e.host("a1"), "/v2/pipeline", tokA, map[string]any{
			"baton": nil,
			"requests": []any{
				map[string]any{"type": "store_sql", "sql_id": 1, "sql": "SELECT x FROM secrets"},
				map[string]any{"type": "execute", "stmt": map[string]any{"sql_id": 1}},
			},
		})
		baton := jsonStr(open, "baton")
		if code != 200 || baton == "" {
			t.Fatalf("open a stream on a1: %d %v", code, open)
		}
		code, body, _ := e.sendJSON(t, "POST", e.host("b1"), "/v2/pipeline", tokB, map[string]any{
			"baton":    baton,
			"requests": []any{map[string]any{"type": "execute", "stmt": map[string]any{"sql": "SELECT x FROM secrets"}}},
		})
		if code != 400 || jsonStr(body, "code") == "" {
			t.Errorf("a1's baton on b1: %d %v, want 400 with a code", code, body)
		}
		// Stored SQL belongs to its stream: a new stream on b1 does not
		// know a1's sql_id 1.
		code, body, _ = e.sendJSON(t, "POST", e.host("b1"), "/v2/pipeline", tokB, map[string]any{
			"requests": []any{map[string]any{"type": "execute", "stmt": map[string]any{"sql_id": 1}}, map[string]any{"type": "close"}},
		})
		results, _ := body["results"].([]any)
		if code == 200 && (len(results) == 0 || jsonStr(results[0], "type") != "error") {
			t.Errorf("a1's stored SQL ran on b1: %v", body)
		}
		if strings.Contains(mustJSON(t, body), "b's row") || strings.Contains(mustJSON(t, body), "a's row") {
			t.Errorf("a1's stored SQL answered rows on b1: %v", body)
		}
	})
}

// openURL opens a database/sql handle through libsql-client-go on a plain
// URL, as an application without a proxy setting would.
func (e *libsqlEnv) openURL(t *testing.T, url, token string) *sql.DB {
	t.Helper()
	db, err := sql.Open("libsql", url+"?authToken="+token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
