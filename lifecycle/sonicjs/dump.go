package sonicjs

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"io"
	"strings"

	"github.com/condohq/condo"
)

// maxStatement bounds one statement of a dump: a row of SonicJS content
// is kilobytes; a statement past this is not a dump's.
const maxStatement = 64 << 20

// loadDump runs the SQL text of a `wrangler d1 export` (or sqlite3's
// .dump) into db, in one transaction. Only what builds tables and their
// rows runs: CREATE TABLE and INSERT. Indexes, triggers, views and virtual
// tables are skipped (reading rows needs none of them; a trigger would
// change rows as they load), and so are the PRAGMAs and transaction
// statements a dump wraps itself in. Any other statement (ATTACH, UPDATE,
// DELETE, ...) is not a dump's and refuses the whole file: the text is
// the user's, and nothing in it may do more than fill this scratch
// database.
func loadDump(ctx context.Context, db *sql.DB, r *bufio.Reader) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	created := map[string]bool{}
	sp := splitter{r: r, line: 1}
	n := 0
	for {
		stmt, line, err := sp.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		words, names := head(stmt, 8)
		run, err := dumpStatement(words, names, created)
		if err != nil {
			return invalid("line %d: %v", line, err)
		}
		if !run {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			// One line, whatever the statement held.
			return invalid("line %d: %s", line, strings.Join(strings.Fields(condo.ClipTo(err.Error(), 300)), " "))
		}
		n++
		if n%1000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	if len(created) == 0 {
		return invalid("the SQL text creates no table: it is not a `wrangler d1 export` of a SonicJS database")
	}
	return tx.Commit()
}

// dumpStatement decides about one statement by its first words (upper
// case) and names (as written, unquoted): whether to run it, or an error
// for one a dump does not hold.
func dumpStatement(w, names []string, created map[string]bool) (bool, error) {
	at := func(i int) string {
		if i < len(w) {
			return w[i]
		}
		return ""
	}
	switch at(0) {
	case "PRAGMA", "BEGIN", "COMMIT", "END", "ANALYZE":
		return false, nil
	case "DELETE":
		// sqlite3's .dump empties sqlite_sequence before refilling it.
		if at(1) == "FROM" && len(names) > 2 && strings.EqualFold(names[2], "sqlite_sequence") {
			return false, nil
		}
	case "CREATE":
		i := 1
		if at(i) == "TEMP" || at(i) == "TEMPORARY" || at(i) == "UNIQUE" || at(i) == "VIRTUAL" {
			if at(i) == "VIRTUAL" {
				return false, nil
			}
			i++
		}
		switch at(i) {
		case "INDEX", "TRIGGER", "VIEW":
			return false, nil
		case "TABLE":
			i++
			if at(i) == "IF" && at(i+1) == "NOT" && at(i+2) == "EXISTS" {
				i += 3
			}
			if i >= len(names) {
				return false, errors.New("CREATE TABLE without a name")
			}
			name := strings.ToLower(names[i])
			if strings.HasPrefix(name, "sqlite_") || strings.HasPrefix(name, "_cf_") {
				return false, nil // SQLite's own, and D1's internal tables
			}
			created[name] = true
			return true, nil
		}
	case "INSERT", "REPLACE":
		i := 1
		if at(i) == "OR" {
			i += 2
		}
		if at(i) == "INTO" && i+1 < len(names) {
			// Rows of a table the dump did not create (sqlite_sequence, a
			// virtual table's storage) are skipped with it.
			return created[strings.ToLower(names[i+1])], nil
		}
	}
	first := strings.Join(w[:min(len(w), 3)], " ")
	return false, errors.New("a `wrangler d1 export` holds CREATE TABLE and INSERT statements, not " + first)
}

// splitter reads SQL text one statement at a time, honouring SQLite's
// quotes ('text', "name", `name`, [name]) and comments, and the BEGIN ...
// END body of a trigger, whose statements end in semicolons too.
type splitter struct {
	r    *bufio.Reader
	line int
}

// next returns the next statement (without its semicolon) and the line it
// starts on; io.EOF after the last.
func (s *splitter) next() (string, int, error) {
	var b strings.Builder
	start := 0
	var quote rune // the closing quote awaited, 0 outside one
	comment := ""  // "--" or "/*" while in one
	var prev rune
	for {
		c, _, err := s.r.ReadRune()
		if err == io.EOF {
			rest := strings.TrimSpace(b.String())
			if rest == "" || onlyComments(rest) {
				return "", 0, io.EOF
			}
			if quote != 0 || comment == "/*" {
				return "", 0, invalid("line %d: the SQL text ends inside a quoted string or comment: it was cut short", start)
			}
			return rest, start, nil
		}
		if err != nil {
			return "", 0, err
		}
		if c == '\n' {
			s.line++
		}
		if b.Len() >= maxStatement {
			return "", 0, invalid("line %d: a statement longer than %d MiB is not part of a database dump", start, maxStatement>>20)
		}
		if start == 0 && c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			start = s.line
		}
		switch {
		case comment == "--":
			if c == '\n' {
				comment = ""
			}
		case comment == "/*":
			if prev == '*' && c == '/' {
				comment = ""
				b.WriteRune(c)
				prev = 0 // "*/*" does not open another
				continue
			}
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '[':
			quote = ']'
		case c == '-' && prev == '-':
			comment = "--"
		case c == '*' && prev == '/':
			comment = "/*"
			b.WriteRune(c)
			prev = 0 // "/*/" does not close it
			continue
		case c == ';':
			stmt := strings.TrimSpace(b.String())
			if stmt == "" || onlyComments(stmt) {
				b.Reset()
				start = 0
				prev = 0
				continue
			}
			if !inTriggerBody(stmt) {
				return stmt, start, nil
			}
		}
		b.WriteRune(c)
		prev = c
	}
}

func onlyComments(s string) bool {
	w, _ := head(s, 1)
	return len(w) == 0
}

// inTriggerBody reports whether stmt, cut at a semicolon, is a CREATE
// TRIGGER whose BEGIN ... END is still open.
func inTriggerBody(stmt string) bool {
	w, _ := head(stmt, 3)
	if len(w) < 2 || w[0] != "CREATE" || !(w[1] == "TRIGGER" || len(w) > 2 && w[2] == "TRIGGER") {
		return false
	}
	depth, begun := 0, false
	tokens(stmt, func(word string, quoted bool) bool {
		if quoted {
			return true
		}
		switch strings.ToUpper(word) {
		case "BEGIN":
			depth, begun = depth+1, true
		case "CASE":
			depth++
		case "END":
			depth--
		}
		return true
	})
	return !begun || depth > 0
}

// head returns the first n tokens of stmt, upper-cased (words) and as
// written, unquoted (names).
func head(stmt string, n int) (words, names []string) {
	tokens(stmt, func(word string, quoted bool) bool {
		names = append(names, word)
		if quoted {
			words = append(words, "")
		} else {
			words = append(words, strings.ToUpper(word))
		}
		return len(words) < n
	})
	return words, names
}

// tokens calls fn with each word (a bare identifier or keyword) and quoted
// string or name of s, skipping comments and punctuation, until fn
// returns false.
func tokens(s string, fn func(word string, quoted bool) bool) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				return
			}
			i += j + 1
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return
			}
			i += j + 4
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(s[i+1:], end)
			if j < 0 {
				return
			}
			if !fn(s[i+1:i+1+j], true) {
				return
			}
			i += j + 2
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80:
			j := i
			for j < len(s) && (s[j] == '_' || s[j] == '$' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9' || s[j] >= 0x80) {
				j++
			}
			if !fn(s[i:j], false) {
				return
			}
			i = j
		default:
			i++
		}
	}
}
