package hrana

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/condohq/condo"
	"github.com/condohq/condo/sqlitedb"
)

// Limits of the SQL texts stored on one stream, as sqld's.
const (
	MaxStoredSQL    = 50
	MaxStoredSQLLen = 5 << 10 // characters
)

// Conn is one stream's connection: one SQLite connection of the tenant's
// database, given to this stream alone, and the SQL texts stored on it.
// The stream's owner serializes its calls: a Conn is not safe for
// concurrent use.
type Conn struct {
	c     *sql.Conn
	guard *Guard

	// MaxResponse caps the encoded rows of one response (DefaultMaxResponse).
	MaxResponse int
	// Quota is the storage quota the connection's max_page_count was set
	// from (capPages; 0: none): SQLITE_FULL at that cap answers
	// QUOTA_EXCEEDED.
	Quota int64
	// Dir is the directory of the database file, whose disk quotaError
	// checks.
	Dir string

	sqls       map[int32]string // store_sql's texts by id
	readOnlyTx bool             // a BEGIN TRANSACTION READONLY is open: guard.ReadOnlyTx(true)
	closed     bool
}

// NewConn wraps c, guarded by g (policy.go; nil for none). Do calls
// g.ReadOnlyTx while it holds c (inside (*sql.Conn).Raw), so ReadOnlyTx
// must not run SQL on c.
func NewConn(c *sql.Conn, g *Guard) *Conn {
	return &Conn{c: c, guard: g, MaxResponse: DefaultMaxResponse}
}

// Responses of Do, by request type.
type (
	// ExecuteResponse answers execute.
	ExecuteResponse struct {
		Type   string      `json:"type"`
		Result *StmtResult `json:"result"`
	}
	// BatchResponse answers batch.
	BatchResponse struct {
		Type   string       `json:"type"`
		Result *BatchResult `json:"result"`
	}
	// DescribeResponse answers describe.
	DescribeResponse struct {
		Type   string          `json:"type"`
		Result *DescribeResult `json:"result"`
	}
	// GetAutocommitResponse answers get_autocommit.
	GetAutocommitResponse struct {
		Type         string `json:"type"`
		IsAutocommit bool   `json:"is_autocommit"`
	}
	// EmptyResponse answers sequence, store_sql, close_sql and close.
	EmptyResponse struct {
		Type string `json:"type"`
	}
)

// ProtocolError is a request the protocol refuses (Do's perr, Cursor's
// error before any entry): the whole pipeline fails with HTTP 400 and code
// PROTO_ERROR.
type ProtocolError struct{ Message string }

func (e *ProtocolError) Error() string { return e.Message }

func protof(format string, args ...any) error {
	return &ProtocolError{Message: fmt.Sprintf(format, args...)}
}

// Do runs one request of a pipeline: execute, batch, sequence, describe,
// store_sql, close_sql and (version 3) get_autocommit; close is the
// stream's owner's. A request the protocol refuses (a missing field, an
// unknown type, a condition pointing forward, a v3 request on v2) returns
// a non-nil perr, which fails the whole pipeline with HTTP 400; anything
// else that fails (SQL, arguments, stored SQL) is the result's *Error.
func (c *Conn) Do(ctx context.Context, version int, req *StreamRequest) (resp any, err *Error, perr error) {
	if c.closed {
		return nil, nil, protof("the stream is closed")
	}
	switch req.Type {
	case "execute":
		if req.Stmt == nil {
			return nil, nil, protof("execute needs a stmt")
		}
		if perr := checkStmt(req.Stmt); perr != nil {
			return nil, nil, perr
		}
		var res *StmtResult
		err = c.withRaw(ctx, func(r *sqlitedb.Raw) error {
			var e error
			res, e = c.execute(r, req.Stmt, &budget{left: c.MaxResponse})
			return e
		})
		if err != nil {
			return nil, err, nil
		}
		return &ExecuteResponse{Type: "execute", Result: res}, nil, nil
	case "batch":
		if req.Batch == nil {
			return nil, nil, protof("batch needs a batch")
		}
		if perr := checkBatch(req.Batch, version); perr != nil {
			return nil, nil, perr
		}
		var res *BatchResult
		err = c.withRaw(ctx, func(r *sqlitedb.Raw) error {
			var e error
			res, e = c.batch(r, req.Batch)
			return e
		})
		if err != nil {
			return nil, err, nil
		}
		return &BatchResponse{Type: "batch", Result: res}, nil, nil
	case "sequence":
		sql, err, perr := c.requestSQL(req)
		if err != nil || perr != nil {
			return nil, err, perr
		}
		if err := c.withRaw(ctx, func(r *sqlitedb.Raw) error { return c.sequence(r, sql) }); err != nil {
			return nil, err, nil
		}
		return &EmptyResponse{Type: "sequence"}, nil, nil
	case "describe":
		sql, err, perr := c.requestSQL(req)
		if err != nil || perr != nil {
			return nil, err, perr
		}
		var res *DescribeResult
		err = c.withRaw(ctx, func(r *sqlitedb.Raw) error {
			var e error
			res, e = describe(r, sql)
			return e
		})
		if err != nil {
			return nil, err, nil
		}
		return &DescribeResponse{Type: "describe", Result: res}, nil, nil
	case "store_sql":
		if req.SQLID == nil || req.SQL == nil {
			return nil, nil, protof("store_sql needs sql_id and sql")
		}
		if err := c.storeSQL(*req.SQLID, *req.SQL); err != nil {
			return nil, err, nil
		}
		return &EmptyResponse{Type: "store_sql"}, nil, nil
	case "close_sql":
		if req.SQLID == nil {
			return nil, nil, protof("close_sql needs sql_id")
		}
		delete(c.sqls, *req.SQLID)
		return &EmptyResponse{Type: "close_sql"}, nil, nil
	case "get_autocommit":
		if version < 3 {
			return nil, nil, protof("get_autocommit needs version 3 of the protocol")
		}
		auto, e := c.Autocommit(ctx)
		if e != nil {
			return nil, internalError(), nil
		}
		return &GetAutocommitResponse{Type: "get_autocommit", IsAutocommit: auto}, nil, nil
	case "close":
		return nil, nil, protof("close is the stream's own request, not its connection's")
	default:
		return nil, nil, protof("unknown request type %q", condo.Clip(req.Type))
	}
}

// withRaw runs fn on the connection's SQLite handle; an error becomes the
// result's *Error.
func (c *Conn) withRaw(ctx context.Context, fn func(r *sqlitedb.Raw) error) *Error {
	err := sqlitedb.WithRaw(ctx, c.c, fn)
	if err == nil {
		return nil
	}
	if e, ok := sqlError(err).(*Error); ok {
		if q, ok := quotaError(c.Quota, c.Dir, e); ok {
			return q
		}
		return e
	}
	return internalError()
}

// internalError is a failure that is not the client's (the connection
// broke): the result says so without details.
func internalError() *Error {
	return &Error{Message: "internal error running the request", Code: "INTERNAL"}
}

// checkStmt refuses a statement with neither or both of sql and sql_id.
func checkStmt(st *Stmt) error {
	if (st.SQL == nil) == (st.SQLID == nil) {
		return protof("a stmt needs exactly one of sql and sql_id")
	}
	return nil
}

// stmtSQL is the text st runs: its own or the stored one.
func (c *Conn) stmtSQL(st *Stmt) (string, error) {
	if st.SQL != nil {
		return *st.SQL, nil
	}
	return c.storedSQL(*st.SQLID)
}

func (c *Conn) storedSQL(id int32) (string, error) {
	sql, ok := c.sqls[id]
	if !ok {
		return "", &Error{Message: fmt.Sprintf("SQL text %d not found", id), Code: CodeSQLNotFound}
	}
	return sql, nil
}

// requestSQL is the text of a sequence or describe request.
func (c *Conn) requestSQL(req *StreamRequest) (string, *Error, error) {
	if (req.SQL == nil) == (req.SQLID == nil) {
		return "", nil, protof("%s needs exactly one of sql and sql_id", req.Type)
	}
	if req.SQL != nil {
		return *req.SQL, nil, nil
	}
	sql, err := c.storedSQL(*req.SQLID)
	if err != nil {
		return "", err.(*Error), nil
	}
	return sql, nil, nil
}

func (c *Conn) storeSQL(id int32, sql string) *Error {
	if _, ok := c.sqls[id]; ok {
		return &Error{Message: fmt.Sprintf("SQL text %d is stored already", id), Code: CodeSQLIDInUse}
	}
	if len(c.sqls) >= MaxStoredSQL {
		return &Error{Message: fmt.Sprintf("at most %d SQL texts may be stored on a stream", MaxStoredSQL), Code: CodeSQLStoreFull}
	}
	if len(sql) > MaxStoredSQLLen && utf8.RuneCountInString(sql) > MaxStoredSQLLen {
		return &Error{Message: fmt.Sprintf("a stored SQL text may have at most %d characters", MaxStoredSQLLen), Code: CodeSQLTooLong}
	}
	if c.sqls == nil {
		c.sqls = map[int32]string{}
	}
	c.sqls[id] = sql
	return nil
}

// execute runs an execute request's statement, collecting its rows.
func (c *Conn) execute(r *sqlitedb.Raw, st *Stmt, b *budget) (*StmtResult, error) {
	sql, err := c.stmtSQL(st)
	if err != nil {
		return nil, err
	}
	sink := &collector{budget: b}
	res, err := c.runStmt(r, sql, st, sink)
	b.left += sink.used // a failed statement's rows are dropped: give their room back
	if err != nil {
		return nil, err
	}
	b.left -= sink.used
	if sink.rows != nil {
		res.Rows = sink.rows
	}
	return res, nil
}

// budget is what is left of a response's room for rows, shared by the
// steps of a batch.
type budget struct{ left int }

// collector keeps a statement's rows for its result, within the budget.
type collector struct {
	budget *budget
	used   int
	rows   [][]Value
}

func (s *collector) cols([]Col) error { return nil }

func (s *collector) row(row []Value) error {
	n := 3
	for _, v := range row {
		n += valueSize(v)
	}
	s.used += n
	s.budget.left -= n
	if s.budget.left < 0 {
		return &Error{Message: "the response is too large", Code: CodeResponseTooLarge}
	}
	s.rows = append(s.rows, row)
	return nil
}

// sequence runs a script statement by statement: each is prepared only
// once the ones before it ran (so a table created early is there for the
// statements after it), and the first error stops it.
func (c *Conn) sequence(r *sqlitedb.Raw, sql string) error {
	text, err := r.Text(sql)
	if err != nil {
		return err
	}
	defer text.Close()
	for off := 0; off < len(sql); {
		s, end, err := text.Prepare(off)
		if err != nil {
			return sqlError(err)
		}
		if s == nil {
			return nil
		}
		if isBeginReadOnly(sql[off:end]) {
			s.Finalize()
			if _, err := c.runStmt(r, "BEGIN TRANSACTION READONLY", &Stmt{}, discard{}); err != nil {
				return err
			}
		} else if err := c.stepAll(r, s); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// stepAll runs s to its end, discarding rows, and finalizes it.
func (c *Conn) stepAll(r *sqlitedb.Raw, s *sqlitedb.RawStmt) error {
	defer c.noteTxnEnd(r)
	defer s.Finalize()
	// A parameter in a script stays NULL, as sqlite3_exec leaves it.
	for {
		more, err := s.Step()
		if err != nil {
			return sqlError(err)
		}
		if !more {
			return nil
		}
	}
}

// discard is the sink of a statement whose rows nobody reads.
type discard struct{}

func (discard) cols([]Col) error  { return nil }
func (discard) row([]Value) error { return nil }

// describe prepares sql's only statement and reports its parameters and
// columns.
func describe(r *sqlitedb.Raw, sql string) (*DescribeResult, error) {
	s, _, err := prepareOne(r, sql)
	if err != nil {
		return nil, err
	}
	defer s.Finalize()
	res := &DescribeResult{
		Params:     make([]DescribeParam, s.ParamCount()),
		Cols:       stmtCols(s),
		IsExplain:  s.IsExplain(),
		IsReadonly: s.ReadOnly(),
	}
	for i := range res.Params {
		if name := s.ParamName(i + 1); name != "" {
			res.Params[i].Name = &name
		}
	}
	return res, nil
}

// setReadOnlyTx turns the guard's read-only transaction on or off.
func (c *Conn) setReadOnlyTx(on bool) {
	if c.readOnlyTx == on {
		return
	}
	c.readOnlyTx = on
	if c.guard != nil {
		c.guard.ReadOnlyTx(on)
	}
}

// noteTxnEnd ends a read-only transaction once the connection is back in
// autocommit mode (COMMIT, ROLLBACK, or an error that rolled it back).
func (c *Conn) noteTxnEnd(r *sqlitedb.Raw) {
	if c.readOnlyTx && r.Autocommit() {
		c.setReadOnlyTx(false)
	}
}

// Autocommit reports whether no transaction is open on the connection.
func (c *Conn) Autocommit(ctx context.Context) (bool, error) {
	auto, _, err := sqlitedb.TxnState(ctx, c.c)
	return auto, err
}

// Writing reports whether the connection holds the database's write lock
// (a write transaction is open).
func (c *Conn) Writing(ctx context.Context) (bool, error) {
	_, writing, err := sqlitedb.TxnState(ctx, c.c)
	return writing, err
}

// Rollback rolls back the open transaction, if any: the stream's owner
// takes the write lock back from a stream that held it too long
// (TRANSACTION_TIMEOUT). The stream stays usable.
func (c *Conn) Rollback(ctx context.Context) error {
	if c.closed {
		return nil
	}
	return c.rollback(ctx)
}

func (c *Conn) rollback(ctx context.Context) error {
	return sqlitedb.WithRaw(ctx, c.c, func(r *sqlitedb.Raw) error {
		if r.Autocommit() {
			return nil
		}
		return c.stepAllText(r, "ROLLBACK")
	})
}

// Close rolls back an open transaction, forgets the stored SQL, releases
// the guard and returns the connection to its pool. A connection whose
// transaction would not roll back is discarded rather than pooled.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.sqls = nil
	return c.handBack(true)
}

// Detach hands the connection back to its pool between two requests and
// keeps the stored SQL, so that an idle stream holds no SQLite
// connection (a connection with the tenant schema costs about 90 KB).
// Call it only in autocommit mode, when the guard is not Stateful; Attach
// gives the stream a connection again before its next request.
func (c *Conn) Detach() error {
	if c.c == nil {
		return nil
	}
	return c.handBack(false)
}

// Attach gives a detached Conn the connection sc, guarded by g.
func (c *Conn) Attach(sc *sql.Conn, g *Guard) { c.c, c.guard = sc, g }

// Detached reports whether the Conn has no connection (see Detach).
func (c *Conn) Detached() bool { return c.c == nil }

// handBack returns the connection to its pool, rolling back first when
// rollback is set, and leaves the Conn without one.
func (c *Conn) handBack(rollback bool) error {
	if c.c == nil {
		return nil
	}
	ctx := context.Background()
	var errs []error
	if rollback {
		if err := c.rollback(ctx); err != nil {
			errs = append(errs, fmt.Errorf("roll back a stream's transaction: %w", err))
		}
	}
	c.setReadOnlyTx(false)
	if c.guard != nil {
		if err := c.guard.Release(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	sc := c.c
	c.c, c.guard = nil, nil
	if len(errs) > 0 {
		// database/sql closes a connection whose Raw returns ErrBadConn
		// (and the Conn with it) instead of pooling it.
		sc.Raw(func(any) error { return driver.ErrBadConn })
		return errors.Join(errs...)
	}
	return sc.Close()
}

// stepAllText runs sql, one statement without arguments.
func (c *Conn) stepAllText(r *sqlitedb.Raw, sql string) error {
	s, _, err := prepareOne(r, sql)
	if err != nil {
		return err
	}
	return c.stepAll(r, s)
}
