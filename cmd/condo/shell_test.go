package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// shellResult is one statement's result as `condo shell --json` prints it.
type shellResult struct {
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
	Changes *int64   `json:"rows_changed"`
}

func shellJSON(t *testing.T, data string, args ...string) []shellResult {
	t.Helper()
	code, out, errOut := run(t, "", append([]string{"shell", "acme", "--data", data, "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("shell %v: %d %s", args, code, errOut)
	}
	var rs []shellResult
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("shell --json = %q: %v", out, err)
	}
	return rs
}

func TestShell_OneShot(t *testing.T) {
	data := t.TempDir()
	mustCreateTenant(t, data, "acme")

	// A script: statements, a ';' inside a string and a trigger's body.
	rs := shellJSON(t, data, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, raw BLOB);
		CREATE TRIGGER notes_upper AFTER INSERT ON notes BEGIN UPDATE notes SET body = upper(body) WHERE id = new.id; END;
		INSERT INTO notes (body, raw) VALUES ('a;b', x'0102'), ('c', NULL);
		SELECT id, body, raw, 1.5 AS f FROM notes ORDER BY id`)
	if len(rs) != 4 {
		t.Fatalf("%d results, want 4: %+v", len(rs), rs)
	}
	if rs[2].Changes == nil || *rs[2].Changes != 2 {
		t.Errorf("insert changed %v rows, want 2", rs[2].Changes)
	}
	sel := rs[3]
	if strings.Join(sel.Columns, ",") != "id,body,raw,f" || len(sel.Rows) != 2 {
		t.Fatalf("select = %+v", sel)
	}
	if sel.Rows[0][0] != float64(1) || sel.Rows[0][1] != "A;B" || sel.Rows[0][3] != 1.5 || sel.Rows[1][2] != nil {
		t.Errorf("rows = %v", sel.Rows)
	}
	if blob, _ := sel.Rows[0][2].(map[string]any); blob["base64"] != "AQI=" {
		t.Errorf("blob = %v, want {base64: AQI=}", sel.Rows[0][2])
	}

	code, out, errOut := run(t, "", "shell", "acme", "SELECT id, body, raw FROM notes ORDER BY id", "--data", data)
	if code != 0 {
		t.Fatalf("shell: %d %s", code, errOut)
	}
	want := "id  body  raw\n----  ----  ----\n1   A;B   x'0102'\n2   C     NULL\n(2 rows)\n"
	if got := normalizeSpaces(out); got != normalizeSpaces(want) {
		t.Errorf("table output = %q, want %q", out, want)
	}
}

func normalizeSpaces(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestShell_Protections(t *testing.T) {
	data := t.TempDir()
	mustCreateTenant(t, data, "acme")
	for _, q := range []string{"SELECT * FROM sessions", "DROP TABLE content", "ATTACH 'x.db' AS x", "PRAGMA synchronous = OFF"} {
		code, _, errOut := run(t, "", "shell", "acme", q, "--data", data)
		// Refused, saying why and how to lift it.
		wantOneLineError(t, code, 1, errOut, "--unsafe lifts this")
	}
	rs := shellJSON(t, data, "SELECT count(*) FROM sessions", "--unsafe")
	if len(rs) != 1 || rs[0].Rows[0][0] != float64(0) {
		t.Errorf("--unsafe: %+v", rs)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"UnknownTenant", []string{"shell", "nobody", "SELECT 1"}, 1, "not found"},
		{"SyntaxError", []string{"shell", "acme", "SELEC 1"}, 1, "syntax error"},
		{"NoStatement", []string{"shell", "acme", "  "}, 2, "no SQL statement"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := run(t, "", append(c.args, "--data", data)...)
			wantOneLineError(t, code, c.code, errOut, c.want)
		})
	}
}

func TestShell_Interactive(t *testing.T) {
	data := t.TempDir()
	mustCreateTenant(t, data, "acme")
	in := ".tables\nSELECT name,\n  display_name\n  FROM collections;\nSELECT password_hash FROM users;\n.schema roles\n.help\n.mode json\nSELECT 7 AS n;\n.quit\nSELECT 'after quit';\n"
	code, out, errOut := run(t, in, "shell", "acme", "--data", data)
	if code != 0 {
		t.Fatalf("shell: %d %s", code, errOut)
	}
	for _, want := range []string{"collections  table", "name  display_name", "(0 rows)", "password_hash", "CREATE TABLE roles (", ".mode json|table", `"n"`, "7"} {
		if !strings.Contains(normalizeSpaces(out), normalizeSpaces(want)) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "after quit") || errOut != "" {
		t.Errorf("after .quit: %q, stderr %q", out, errOut)
	}

	// Errors are reported and the shell goes on; the exit status says so.
	code, out, errOut = run(t, "SELECT * FROM sessions;\n.bogus\nSELECT 42 AS answer;\n", "shell", "acme", "--data", data)
	if code != 1 || !strings.Contains(out, "42") || strings.Count(errOut, "condo: ") != 3 {
		t.Errorf("exit %d, out %q, stderr %q", code, out, errOut)
	}
}
