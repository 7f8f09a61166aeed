package sonicjs

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// The splitter ends statements where SQLite would: not at a semicolon in
// a string, a quoted name, a comment or a trigger's body.
func TestSplitter(t *testing.T) {
	text := `-- a dump
PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE "odd;name" ([semi;colon] TEXT, "a""b" TEXT, ` + "`x;y`" + ` TEXT);
/* a comment; with a semicolon */ INSERT INTO "odd;name" VALUES('it''s; fine', 'x', 'y');
CREATE TRIGGER t AFTER INSERT ON "odd;name" BEGIN
  UPDATE "odd;name" SET "a""b" = CASE WHEN 1 THEN 'z' END;
  SELECT 1;
END;
CREATE INDEX i ON "odd;name" ("a""b")`
	sp := splitter{r: bufio.NewReader(strings.NewReader(text)), line: 1}
	var got []string
	var lines []int
	for {
		s, line, err := sp.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
		lines = append(lines, line)
	}
	if len(got) != 5 || !strings.HasPrefix(got[0], "-- a dump\nPRAGMA") || !strings.HasSuffix(got[2], "'it''s; fine', 'x', 'y')") ||
		!strings.HasPrefix(got[3], "CREATE TRIGGER") || !strings.HasSuffix(got[3], "END") || !strings.HasPrefix(got[4], "CREATE INDEX") {
		t.Fatalf("statements: %q", got)
	}
	if lines[1] != 3 || lines[3] != 5 {
		t.Fatalf("lines: %v", lines)
	}

	// Loaded: the table and its row, not the trigger's effect.
	db, err := sql.Open("sqlite", fileURI(filepath.Join(t.TempDir(), "x.db"), "mode=rwc"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := loadDump(context.Background(), db, bufio.NewReader(strings.NewReader(text))); err != nil {
		t.Fatal(err)
	}
	var v, ab string
	if err := db.QueryRow(`SELECT "semi;colon", "a""b" FROM "odd;name"`).Scan(&v, &ab); err != nil || v != "it's; fine" || ab != "x" {
		t.Fatalf("row: %q %q %v", v, ab, err)
	}
	var n int
	db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type IN ('trigger', 'index')").Scan(&n)
	if n != 0 {
		t.Fatalf("%d triggers or indexes loaded", n)
	}
}
