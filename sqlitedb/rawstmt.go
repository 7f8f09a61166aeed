package sqlitedb

import (
	"math"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// RawError is an error SQLite reported on a Raw connection: its result
// code (extended: modernc turns extended codes on for every connection;
// Code&0xff is the primary code) and its message.
type RawError struct {
	Code    int
	Message string
}

func (e *RawError) Error() string { return e.Message }

// err returns SQLite's error for rc, with the connection's message.
func (r *Raw) err(rc int32) error {
	msg := libc.GoString(sqlite3.Xsqlite3_errmsg(r.tls, r.db))
	if msg == "" || msg == "not an error" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(r.tls, rc))
	}
	return &RawError{Code: int(rc), Message: msg}
}

// Text is a SQL text copied into C memory once, so a script of many
// statements is prepared statement by statement without copying its rest
// again for each. Close frees it.
type Text struct {
	r   *Raw
	sql string
	p   uintptr
}

// Text copies sql for Prepare.
func (r *Raw) Text(sql string) (*Text, error) {
	p, err := libc.CString(sql)
	if err != nil {
		return nil, err
	}
	return &Text{r: r, sql: sql, p: p}, nil
}

// Close frees the text; statements prepared from it stay valid.
func (t *Text) Close() {
	if t.p != 0 {
		libc.Xfree(t.r.tls, t.p)
		t.p = 0
	}
}

// Prepare compiles the first statement of the text from byte offset off
// (sqlite3_prepare_v2). It returns the statement and the offset where the
// statement ends (the tail); a nil statement means the rest holds none
// (only whitespace, comments or empty statements), and end is then the
// text's length.
func (t *Text) Prepare(off int) (s *RawStmt, end int, err error) {
	r := t.r
	if r.scratch == 0 {
		r.scratch = libc.Xmalloc(r.tls, types.Size_t(2*unsafe.Sizeof(uintptr(0))))
		if r.scratch == 0 {
			return nil, 0, &RawError{Code: sqlite3.SQLITE_NOMEM, Message: "out of memory"}
		}
	}
	pstmt, ptail := r.scratch, r.scratch+unsafe.Sizeof(uintptr(0))
	for off < len(t.sql) {
		*(*uintptr)(cptr(pstmt)), *(*uintptr)(cptr(ptail)) = 0, 0
		n := len(t.sql) - off
		if n > math.MaxInt32 {
			return nil, 0, &RawError{Code: sqlite3.SQLITE_TOOBIG, Message: "string or blob too big"}
		}
		rc := sqlite3.Xsqlite3_prepare_v2(r.tls, r.db, t.p+uintptr(off), int32(n), pstmt, ptail)
		stmt := *(*uintptr)(cptr(pstmt))
		if rc != sqlite3.SQLITE_OK {
			if stmt != 0 {
				sqlite3.Xsqlite3_finalize(r.tls, stmt)
			}
			return nil, 0, r.err(rc)
		}
		tail := int(*(*uintptr)(cptr(ptail)) - t.p)
		if stmt != 0 {
			return &RawStmt{r: r, p: stmt}, tail, nil
		}
		if tail <= off { // nothing consumed: the rest is empty
			break
		}
		off = tail
	}
	return nil, len(t.sql), nil
}

// freeScratch frees what Prepare allocated on the Raw.
func (r *Raw) freeScratch() {
	if r.scratch != 0 {
		libc.Xfree(r.tls, r.scratch)
		r.scratch = 0
	}
}

// cptr turns the address of C memory (libc's allocator maps it outside
// Go's heap, so the garbage collector neither moves nor frees it) into a
// pointer, in the form go vet accepts.
func cptr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

// RawStmt is one prepared statement on a Raw connection. Finalize it,
// always, before the Raw's fn returns.
type RawStmt struct {
	r *Raw
	p uintptr // sqlite3_stmt*
}

// Finalize destroys the statement.
func (s *RawStmt) Finalize() {
	if s.p != 0 {
		sqlite3.Xsqlite3_finalize(s.r.tls, s.p)
		s.p = 0
	}
}

// ParamCount is the largest parameter index (sqlite3_bind_parameter_count).
func (s *RawStmt) ParamCount() int {
	return int(sqlite3.Xsqlite3_bind_parameter_count(s.r.tls, s.p))
}

// ParamName is parameter i's name with its prefix (":a", "@a", "$a",
// "?3"), or "" for an anonymous ?. i counts from 1.
func (s *RawStmt) ParamName(i int) string {
	return libc.GoString(sqlite3.Xsqlite3_bind_parameter_name(s.r.tls, s.p, int32(i)))
}

// ColumnCount is the number of result columns.
func (s *RawStmt) ColumnCount() int { return int(sqlite3.Xsqlite3_column_count(s.r.tls, s.p)) }

// ColumnName is result column i's name, from 0.
func (s *RawStmt) ColumnName(i int) string {
	return libc.GoString(sqlite3.Xsqlite3_column_name(s.r.tls, s.p, int32(i)))
}

// ColumnDecltype is result column i's declared type, and false when the
// column is an expression (or its table column has no declared type).
func (s *RawStmt) ColumnDecltype(i int) (string, bool) {
	p := sqlite3.Xsqlite3_column_decltype(s.r.tls, s.p, int32(i))
	if p == 0 {
		return "", false
	}
	return libc.GoString(p), true
}

// ReadOnly reports whether the statement makes no direct change to the
// database file (sqlite3_stmt_readonly).
func (s *RawStmt) ReadOnly() bool { return sqlite3.Xsqlite3_stmt_readonly(s.r.tls, s.p) != 0 }

// IsExplain reports whether the statement is an EXPLAIN or EXPLAIN QUERY PLAN.
func (s *RawStmt) IsExplain() bool { return sqlite3.Xsqlite3_stmt_isexplain(s.r.tls, s.p) != 0 }

// BindNull binds NULL to parameter i (from 1).
func (s *RawStmt) BindNull(i int) error {
	return s.bindRC(sqlite3.Xsqlite3_bind_null(s.r.tls, s.p, int32(i)))
}

// BindInt64 binds an INTEGER.
func (s *RawStmt) BindInt64(i int, v int64) error {
	return s.bindRC(sqlite3.Xsqlite3_bind_int64(s.r.tls, s.p, int32(i), v))
}

// BindFloat binds a REAL, so the column's affinity decides what is stored.
func (s *RawStmt) BindFloat(i int, v float64) error {
	return s.bindRC(sqlite3.Xsqlite3_bind_double(s.r.tls, s.p, int32(i), v))
}

// BindText binds TEXT.
func (s *RawStmt) BindText(i int, v string) error {
	return s.bindBytes(i, v, true)
}

// BindBlob binds a BLOB (an empty one for an empty v, never NULL).
func (s *RawStmt) BindBlob(i int, v []byte) error {
	if len(v) == 0 {
		return s.bindRC(sqlite3.Xsqlite3_bind_zeroblob(s.r.tls, s.p, int32(i), 0))
	}
	return s.bindBytes(i, unsafe.String(unsafe.SliceData(v), len(v)), false)
}

// bindBytes copies v into C memory and binds it with SQLITE_TRANSIENT, so
// SQLite makes its own copy and the C memory is freed at once; SQLite's
// transpiled code never sees Go memory. An empty text still gets one byte:
// a nil pointer would bind NULL.
func (s *RawStmt) bindBytes(i int, v string, text bool) error {
	if len(v) >= math.MaxInt32 {
		return &RawError{Code: sqlite3.SQLITE_TOOBIG, Message: "string or blob too big"}
	}
	tls := s.r.tls
	p := libc.Xmalloc(tls, types.Size_t(len(v)+1))
	if p == 0 {
		return &RawError{Code: sqlite3.SQLITE_NOMEM, Message: "out of memory"}
	}
	defer libc.Xfree(tls, p)
	copy(unsafe.Slice((*byte)(cptr(p)), len(v)), v)
	var rc int32
	if text {
		rc = sqlite3.Xsqlite3_bind_text(tls, s.p, int32(i), p, int32(len(v)), sqlite3.SQLITE_TRANSIENT)
	} else {
		rc = sqlite3.Xsqlite3_bind_blob(tls, s.p, int32(i), p, int32(len(v)), sqlite3.SQLITE_TRANSIENT)
	}
	return s.bindRC(rc)
}

func (s *RawStmt) bindRC(rc int32) error {
	if rc != sqlite3.SQLITE_OK {
		return s.r.err(rc)
	}
	return nil
}

// Step runs the statement to its next row: true with a row to read
// (Column), false when it is done. A ctx that has ended fails it with
// SQLITE_INTERRUPT before it starts.
func (s *RawStmt) Step() (bool, error) {
	if err := s.r.ctx.Err(); err != nil {
		return false, &RawError{Code: sqlite3.SQLITE_INTERRUPT, Message: "interrupted: " + err.Error()}
	}
	switch rc := sqlite3.Xsqlite3_step(s.r.tls, s.p); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		return false, nil
	default:
		return false, s.r.err(rc)
	}
}

// Column returns column i of the current row as nil, int64, float64,
// string or []byte, copied out of SQLite's memory.
func (s *RawStmt) Column(i int) any {
	tls, p, c := s.r.tls, s.p, int32(i)
	switch sqlite3.Xsqlite3_column_type(tls, p, c) {
	case sqlite3.SQLITE_INTEGER:
		return sqlite3.Xsqlite3_column_int64(tls, p, c)
	case sqlite3.SQLITE_FLOAT:
		return sqlite3.Xsqlite3_column_double(tls, p, c)
	case sqlite3.SQLITE_TEXT:
		v := sqlite3.Xsqlite3_column_text(tls, p, c)
		n := sqlite3.Xsqlite3_column_bytes(tls, p, c)
		if v == 0 || n == 0 {
			return ""
		}
		return string(unsafe.Slice((*byte)(cptr(v)), n))
	case sqlite3.SQLITE_BLOB:
		v := sqlite3.Xsqlite3_column_blob(tls, p, c)
		n := sqlite3.Xsqlite3_column_bytes(tls, p, c)
		b := make([]byte, n)
		if v != 0 {
			copy(b, unsafe.Slice((*byte)(cptr(v)), n))
		}
		return b
	default:
		return nil
	}
}
