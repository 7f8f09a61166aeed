// Command schemacost measures what each kind of object in the tenant
// schema costs a cold open: modernc's driver alone opens a file read-only,
// runs one query (which makes SQLite parse the whole schema) and closes
// it, for a one-table file, the tenant schema at the latest version and at
// 000004, and copies of the latest with triggers, explicit indexes, the
// FTS5 table, the status triggers, the CHECKs or the foreign keys removed
// (through writable_schema, which leaves the data alone). Rounds are
// interleaved so that load on a shared machine falls on every variant
// alike; it prints each variant's median and its ratio to the one-table
// file. docs/PERFORMANCE.md records a run.
//
//	go run ./scripts/schemacost
//	PROF=cpu.out go run ./scripts/schemacost   # profile opens of the tenant file
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"time"

	_ "modernc.org/sqlite"

	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func tenantFile(dir, name string) string {
	return tenantFileAt(dir, name, migrations.Tenant().Latest())
}

func tenantFileAt(dir, name string, v uint) string {
	p := filepath.Join(dir, name+".db")
	db, err := sqlitedb.Open(p, sqlitedb.Options{Create: true})
	must(err)
	_, err = migrations.Tenant().Apply(context.Background(), db.Write, v)
	must(err)
	db.Checkpoint(context.Background())
	db.Close()
	return p
}

func exec(p string, stmts ...string) {
	db, err := sql.Open("sqlite", "file:"+p)
	must(err)
	db.SetMaxOpenConns(1)
	for _, s := range stmts {
		_, err := db.Exec(s)
		must(err)
	}
	db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	db.Close()
}

func measure(p, q string, n int) time.Duration {
	ts := make([]time.Duration, n)
	for i := range n {
		t0 := time.Now()
		db, err := sql.Open("sqlite", "file:"+p+"?mode=ro")
		must(err)
		var x any
		must(db.QueryRow(q).Scan(&x))
		db.Close()
		ts[i] = time.Since(t0)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts[n/2]
}

func main() {
	dir, _ := os.MkdirTemp("", "condo-schemacost-")
	defer os.RemoveAll(dir)
	one := filepath.Join(dir, "one.db")
	exec(one, "PRAGMA journal_mode=WAL", "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT)")
	full := tenantFile(dir, "full")
	db, _ := sql.Open("sqlite", "file:"+full)
	rows, _ := db.Query("SELECT type, name, tbl_name, coalesce(sql,'') FROM sqlite_schema")
	var trig, idx []string
	cnt := map[string]int{}
	for rows.Next() {
		var typ, name, tbl, sq string
		rows.Scan(&typ, &name, &tbl, &sq)
		cnt[typ]++
		switch typ {
		case "trigger":
			trig = append(trig, "DROP TRIGGER "+name)
		case "index":
			if sq != "" {
				idx = append(idx, "DROP INDEX "+name)
			}
		}
	}
	db.Close()
	fmt.Println("schema rows", cnt)
	type v struct {
		name string
		p    string
		ts   []time.Duration
	}
	vs := []*v{{name: "one-table", p: one}, {name: "tenant", p: full}}
	add := func(name string, stmts ...string) {
		p := tenantFile(dir, name)
		exec(p, stmts...)
		vs = append(vs, &v{name: name, p: p})
	}
	add("no-triggers", trig...)
	add("no-explicit-indexes", idx...)
	add("no-fts+triggers", append(trig, "DROP TABLE content_fts")...)
	vs = append(vs, &v{name: "v4", p: tenantFileAt(dir, "v4", 4)})
	add("no-status-triggers", "DROP TRIGGER content_status_insert", "DROP TRIGGER content_status_update")
	add("no-checks", "PRAGMA writable_schema=ON",
		`UPDATE sqlite_schema SET sql = replace(replace(replace(replace(sql, 'CHECK (json_valid(schema))', ''), 'CHECK (json_valid(data))', ''), 'CHECK (data IS NULL OR json_valid(data))',''), 'CHECK (json_valid(value))','') WHERE type='table'`,
		`UPDATE sqlite_schema SET sql = replace(replace(replace(replace(sql, 'CHECK (json_valid(tags))', ''), 'CHECK (json_valid(permissions))', ''), 'CHECK (json_valid(detail))',''), 'CHECK (cache_max_age IS NULL OR cache_max_age >= 0)','') WHERE type='table'`,
		`UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (cache_stale IS NULL OR cache_stale >= 0)','') WHERE type='table'`)
	add("no-fk", "PRAGMA writable_schema=ON", `UPDATE sqlite_schema SET sql = replace(replace(replace(replace(sql, 'REFERENCES users (id) ON DELETE SET NULL', ''), 'REFERENCES users (id) ON DELETE CASCADE', ''), 'REFERENCES content (id) ON DELETE CASCADE',''), 'REFERENCES collections (id) ON DELETE CASCADE','') WHERE type='table'`)
	q := "SELECT count(*) FROM users"
	if os.Getenv("PROF") != "" {
		f, _ := os.Create(os.Getenv("PROF"))
		pprof.StartCPUProfile(f)
		measure(full, q, 3000)
		pprof.StopCPUProfile()
		return
	}
	for range 300 {
		for _, x := range vs {
			x.ts = append(x.ts, measure(x.p, q, 1))
		}
	}
	med := func(ts []time.Duration) time.Duration {
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		return ts[len(ts)/2]
	}
	base := med(vs[0].ts)
	for _, x := range vs {
		d := med(x.ts)
		fmt.Printf("%-22s %v (%.2fx)\n", x.name, d, float64(d)/float64(base))
	}
}
