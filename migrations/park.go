package migrations

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
)

// Directives are SQL comment lines a migration file may hold, for what
// plain SQL cannot say. golang-migrate's own runner reads them as comments,
// so the files keep its format. Besides NoTransaction (which must be the
// first line) there are two, for indexes the application creates at run
// time and SQL cannot name in advance (the CMS's cx_<collection>__<field>
// expression indexes):
//
//	-- condo:park-indexes TABLE PREFIX
//
// runs before the step's SQL: every index on TABLE whose name starts with
// PREFIX is saved (its name and CREATE statement) in the table
// condo_parked_indexes and dropped, so that the step may drop or rebuild
// the columns they use. And
//
//	-- condo:restore-indexes TABLE PREFIX
//
// runs after the step's SQL: the indexes parked for TABLE and PREFIX are
// created again (those whose name exists already are left alone) and
// forgotten. Both run in the step's transaction, so a failure or a crash
// parks or restores nothing. A down file parks; the matching up file, the
// way back, restores.
const (
	ParkIndexes    = "-- condo:park-indexes"
	RestoreIndexes = "-- condo:restore-indexes"
)

// directive is one parsed park or restore line.
type directive struct {
	restore       bool
	table, prefix string
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// directives parses the condo: lines of one migration file.
func directives(src string) ([]directive, error) {
	var out []directive
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "-- condo:") {
			continue
		}
		f := strings.Fields(line)
		switch {
		case line == NoTransaction: // Apply reads it, as the file's first line
			continue
		case f[0]+" "+f[1] != ParkIndexes && f[0]+" "+f[1] != RestoreIndexes:
			return nil, fmt.Errorf("unknown directive %q", line)
		case len(f) != 4 || !identifier.MatchString(f[2]) || !identifier.MatchString(f[3]):
			return nil, fmt.Errorf("%q: want %s TABLE PREFIX, both identifiers", line, f[0]+" "+f[1])
		}
		out = append(out, directive{restore: f[1] == "condo:restore-indexes", table: f[2], prefix: f[3]})
	}
	if len(out) > 0 && strings.HasPrefix(strings.TrimSpace(src), NoTransaction) {
		return nil, fmt.Errorf("a %s step cannot park or restore indexes", NoTransaction)
	}
	return out, nil
}

// parkedTable holds parked indexes between a down step and its way back.
const parkedTable = "condo_parked_indexes"

// runDirectives runs the park (before, restore false) or restore (after,
// restore true) directives of a step inside tx.
func runDirectives(ctx context.Context, tx *sql.Tx, ds []directive, restore bool) error {
	for _, d := range ds {
		if d.restore != restore {
			continue
		}
		var err error
		if restore {
			err = restoreIndexes(ctx, tx, d.table, d.prefix)
		} else {
			err = parkIndexes(ctx, tx, d.table, d.prefix)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func parkIndexes(ctx context.Context, tx *sql.Tx, table, prefix string) error {
	idx, err := queryPairs(ctx, tx, `SELECT name, sql FROM sqlite_schema
		WHERE type = 'index' AND tbl_name = ? AND substr(name, 1, ?) = ? AND sql IS NOT NULL ORDER BY name`, table, len(prefix), prefix)
	if err != nil || len(idx) == 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+parkedTable+` (
		name TEXT PRIMARY KEY, tbl TEXT NOT NULL, sql TEXT NOT NULL)`); err != nil {
		return err
	}
	for _, ix := range idx {
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+parkedTable+` (name, tbl, sql) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET tbl = excluded.tbl, sql = excluded.sql`, ix[0], table, ix[1]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DROP INDEX "+quote(ix[0])); err != nil {
			return fmt.Errorf("park index %s: %w", ix[0], err)
		}
	}
	return nil
}

func restoreIndexes(ctx context.Context, tx *sql.Tx, table, prefix string) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", parkedTable).Scan(&n); err != nil || n == 0 {
		return err
	}
	idx, err := queryPairs(ctx, tx, `SELECT name, sql FROM `+parkedTable+`
		WHERE tbl = ? AND substr(name, 1, ?) = ? ORDER BY name`, table, len(prefix), prefix)
	if err != nil {
		return err
	}
	for _, ix := range idx {
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?", ix[0]).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, ix[1]); err != nil {
			return fmt.Errorf("restore index %s: %w", ix[0], err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+parkedTable+" WHERE tbl = ? AND substr(name, 1, ?) = ?", table, len(prefix), prefix); err != nil {
		return err
	}
	// Leave no empty table behind.
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+parkedTable).Scan(&n); err != nil || n > 0 {
		return err
	}
	_, err = tx.ExecContext(ctx, "DROP TABLE "+parkedTable)
	return err
}

// queryPairs returns the rows of a two-column text query.
func queryPairs(ctx context.Context, tx *sql.Tx, q string, args ...any) ([][2]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
