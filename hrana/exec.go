package hrana

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/condohq/condo"
	"github.com/condohq/condo/sqlitedb"
)

// DefaultMaxResponse caps the rows one response (an execute, a batch)
// carries, as encoded JSON, as sqld does: a statement past it fails with
// RESPONSE_TOO_LARGE instead of building an answer the size of a table.
const DefaultMaxResponse = 10 << 20

// rowSink receives a statement's columns before it runs and each row
// (only when the client wants rows) as it is read. An *Error from either
// fails the statement; any other error ends the request.
type rowSink interface {
	cols(cols []Col) error
	row(row []Value) error
}

// runStmt runs one statement on r: sql with st's arguments. It returns the
// result without rows (those went to sink), or an *Error when the
// statement failed, or another error when the request cannot go on.
func (c *Conn) runStmt(r *sqlitedb.Raw, sql string, st *Stmt, sink rowSink) (*StmtResult, error) {
	start := time.Now()
	defer c.noteTxnEnd(r)
	readOnlyBegin := isBeginReadOnly(sql)
	if readOnlyBegin {
		sql = "BEGIN DEFERRED"
	}
	s, end, err := prepareOne(r, sql)
	if err != nil {
		return nil, err
	}
	defer s.Finalize()
	if err := bindArgs(s, st); err != nil {
		return nil, err
	}
	cols := stmtCols(s)
	if err := sink.cols(cols); err != nil {
		return nil, err
	}
	wantRows := st.WantRows == nil || *st.WantRows
	kind := firstWord(sql[:end])
	changes0, rowid0 := r.TotalChanges(), r.LastInsertRowid()
	var read int64
	for {
		more, err := s.Step()
		if err != nil {
			return nil, sqlError(err)
		}
		if !more {
			break
		}
		read++
		if !wantRows {
			continue
		}
		row := make([]Value, len(cols))
		for i := range row {
			row[i].V = s.Column(i)
		}
		if err := sink.row(row); err != nil {
			return nil, err
		}
	}
	res := &StmtResult{Cols: cols, Rows: [][]Value{}, RowsRead: read}
	if r.TotalChanges() != changes0 {
		// Only an INSERT, UPDATE or DELETE moves the total; Changes is
		// then this statement's count (its triggers' rows not included).
		res.AffectedRowCount = r.Changes()
		res.RowsWritten = res.AffectedRowCount
	}
	rowid := r.LastInsertRowid()
	if kind == "INSERT" || kind == "REPLACE" || kind == "WITH" && rowid != rowid0 {
		s := strconv.FormatInt(rowid, 10)
		res.LastInsertRowid = &s
	}
	if readOnlyBegin {
		c.setReadOnlyTx(true)
	}
	res.QueryDurationMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// prepareOne prepares the only statement of sql: SQL_NO_STATEMENT when
// it holds none, SQL_MANY_STATEMENTS when anything but whitespace,
// comments and semicolons follows the first (a rest that fails to prepare
// is another statement too). end is where the statement ends in sql. The
// caller finalizes s.
func prepareOne(r *sqlitedb.Raw, sql string) (s *sqlitedb.RawStmt, end int, err error) {
	text, err := r.Text(sql)
	if err != nil {
		return nil, 0, err
	}
	defer text.Close()
	s, end, err = text.Prepare(0)
	if err == nil && s == nil {
		err = &Error{Message: "SQL string does not contain any statement", Code: CodeNoStatement}
	}
	if err != nil {
		return nil, 0, sqlError(err)
	}
	next, _, err := text.Prepare(end)
	if next != nil {
		next.Finalize()
	}
	if next != nil || err != nil {
		s.Finalize()
		return nil, 0, &Error{Message: "SQL string contains more than one statement", Code: CodeManyStatements}
	}
	return s, end, nil
}

// stmtCols describes s's result columns; Decltype is nil for an expression.
func stmtCols(s *sqlitedb.RawStmt) []Col {
	cols := make([]Col, s.ColumnCount())
	for i := range cols {
		name := s.ColumnName(i)
		cols[i].Name = &name
		if d, ok := s.ColumnDecltype(i); ok {
			cols[i].Decltype = &d
		}
	}
	return cols
}

// bindArgs binds st's arguments to s, as sqld does: positional arguments
// by index, one for each parameter (?NNN takes argument NNN, a named
// parameter its index); named arguments by the parameter's full name
// (":a"), then by its name without the prefix ("a", as the Go client sends
// it). A parameter left without a value or an argument matching none is
// ARGS_INVALID; both kinds at once are ARGS_BOTH_POSITIONAL_AND_NAMED.
func bindArgs(s *sqlitedb.RawStmt, st *Stmt) error {
	n := s.ParamCount()
	if len(st.Args) > 0 && len(st.NamedArgs) > 0 {
		return &Error{Message: "Specifying both positional and named arguments is not supported", Code: CodeArgsBoth}
	}
	if len(st.NamedArgs) == 0 {
		if len(st.Args) != n {
			return &Error{Message: fmt.Sprintf("Arguments do not match SQL parameters: the statement takes %d, got %d", n, len(st.Args)), Code: CodeArgsInvalid}
		}
		for i := range st.Args {
			if err := bindValue(s, i+1, st.Args[i]); err != nil {
				return err
			}
		}
		return nil
	}
	used := make([]bool, len(st.NamedArgs))
	var nameless []int // parameters without a name: anonymous ? or gaps left by ?NNN
	numbered := false  // some parameter is ?NNN, so nameless ones may be gaps
	for i := 1; i <= n; i++ {
		name := s.ParamName(i)
		if name == "" {
			nameless = append(nameless, i)
			continue
		}
		numbered = numbered || name[0] == '?'
		j := findNamed(st.NamedArgs, name)
		if j < 0 {
			return &Error{Message: fmt.Sprintf("Arguments do not match SQL parameters: no value for %s", condo.Clip(name)), Code: CodeArgsInvalid}
		}
		used[j] = true
		if err := bindValue(s, i, st.NamedArgs[j].Value); err != nil {
			return err
		}
	}
	if len(nameless) > 0 && !numbered {
		return &Error{Message: fmt.Sprintf("Arguments do not match SQL parameters: no value for the anonymous parameter %d", nameless[0]), Code: CodeArgsInvalid}
	}
	for j, ok := range used {
		if !ok {
			return &Error{Message: fmt.Sprintf("Arguments do not match SQL parameters: no parameter %s", condo.Clip(st.NamedArgs[j].Name)), Code: CodeArgsInvalid}
		}
	}
	return nil
}

// findNamed returns the index of the argument for the parameter name
// (with its prefix): the one named exactly so, else the one named without
// the prefix; -1 when none.
func findNamed(args []NamedArg, name string) int {
	bare := -1
	for j := range args {
		switch args[j].Name {
		case name:
			return j
		case name[1:]:
			if bare < 0 {
				bare = j
			}
		}
	}
	return bare
}

func bindValue(s *sqlitedb.RawStmt, i int, v Value) error {
	var err error
	switch x := v.V.(type) {
	case nil:
		err = s.BindNull(i)
	case int64:
		err = s.BindInt64(i, x)
	case float64:
		err = s.BindFloat(i, x)
	case string:
		err = s.BindText(i, x)
	case []byte:
		err = s.BindBlob(i, x)
	default:
		return &Error{Message: fmt.Sprintf("Arguments do not match SQL parameters: a value of type %T", v.V), Code: CodeArgsInvalid}
	}
	if err != nil {
		return sqlError(err)
	}
	return nil
}

// sqlError turns what SQLite reported into a statement's *Error, with the
// base result code's name (SQLITE_CONSTRAINT, not SQLITE_CONSTRAINT_UNIQUE)
// as the clients expect. An *Error passes as it is.
func sqlError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var re *sqlitedb.RawError
	if (errors.As(err, &re) && re.Code == int(sqlite3.SQLITE_CONSTRAINT_COMMITHOOK)) || sqlitedb.IsFenced(err) {
		// The only commit hook is the fence of a moved tenant (sqlitedb.Fence).
		return &Error{Message: "the tenant moved to another node: this stream's writes are refused; open a new stream", Code: "TENANT_MOVED"}
	}
	if errors.As(err, &re) {
		return &Error{Message: re.Message, Code: baseCodeName(re.Code)}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return &Error{Message: se.Error(), Code: baseCodeName(se.Code())}
	}
	return err
}

// baseCodeNames names SQLite's primary result codes.
var baseCodeNames = [...]string{
	1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT",
	5: "SQLITE_BUSY", 6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY",
	9: "SQLITE_INTERRUPT", 10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND",
	13: "SQLITE_FULL", 14: "SQLITE_CANTOPEN", 15: "SQLITE_PROTOCOL", 16: "SQLITE_EMPTY",
	17: "SQLITE_SCHEMA", 18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH",
	21: "SQLITE_MISUSE", 22: "SQLITE_NOLFS", 23: "SQLITE_AUTH", 24: "SQLITE_FORMAT",
	25: "SQLITE_RANGE", 26: "SQLITE_NOTADB", 27: "SQLITE_NOTICE", 28: "SQLITE_WARNING",
}

func baseCodeName(code int) string {
	if c := code & 0xff; c > 0 && c < len(baseCodeNames) {
		return baseCodeNames[c]
	}
	return "SQLITE_ERROR"
}

// valueSize estimates how many bytes v takes as JSON, cheaply: enough to
// stop a runaway result near the cap, not to the byte.
func valueSize(v Value) int {
	switch x := v.V.(type) {
	case string:
		return 28 + len(x) + len(x)/8 // escapes
	case []byte:
		return 30 + (len(x)*4+2)/3
	default:
		return 45
	}
}
