// Package hrana serves a tenant's database over the libSQL remote protocol
// (Hrana over HTTP, versions 2 and 3), so libsql-client-go, @libsql/client
// and the tools built on them (Drizzle, Kysely) work against a tenant's
// host unchanged. ../shared/HRANA.md condenses the protocol as those
// clients use it; where it and the clients disagree, the clients win.
//
// The package has three layers: the wire types (proto.go, value.go), the
// execution of requests on one stream's connection (conn.go, batch.go),
// and the streams with their batons and the HTTP handlers (stream.go,
// http.go). What a stream may do to the database is policy.go's.
package hrana

// PipelineRequest is the body of POST /v2/pipeline and /v3/pipeline.
type PipelineRequest struct {
	Baton    *string         `json:"baton"`
	Requests []StreamRequest `json:"requests"`
}

// PipelineResponse answers a pipeline: one result per request, in order.
type PipelineResponse struct {
	Baton   *string        `json:"baton"`
	BaseURL *string        `json:"base_url"`
	Results []StreamResult `json:"results"`
}

// CursorRequest is the body of POST /v3/cursor.
type CursorRequest struct {
	Baton *string `json:"baton"`
	Batch Batch   `json:"batch"`
}

// CursorHead is the first line of a cursor's answer.
type CursorHead struct {
	Baton   *string `json:"baton"`
	BaseURL *string `json:"base_url"`
}

// StreamRequest is one request of a pipeline. Type says which fields
// matter: execute (Stmt), batch (Batch), sequence and describe (SQL or
// SQLID), store_sql (SQLID and SQL), close_sql (SQLID), close,
// get_autocommit (v3).
type StreamRequest struct {
	Type  string  `json:"type"`
	Stmt  *Stmt   `json:"stmt,omitempty"`
	Batch *Batch  `json:"batch,omitempty"`
	SQL   *string `json:"sql,omitempty"`
	SQLID *int32  `json:"sql_id,omitempty"`
}

// StreamResult is one request's outcome: Type "ok" with Response, or
// "error" with Error.
type StreamResult struct {
	Type     string `json:"type"`
	Response any    `json:"response,omitempty"`
	Error    *Error `json:"error,omitempty"`
}

// Error is a failed request, statement or step. Code is SQLite's base
// result code name (SQLITE_CONSTRAINT, ...) for SQL errors and one of the
// protocol's codes (ARGS_INVALID, SQL_MANY_STATEMENTS, STREAM_EXPIRED,
// ...) otherwise.
type Error struct {
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Stmt is one SQL statement and its arguments. One of SQL and SQLID is
// set; WantRows defaults to true.
type Stmt struct {
	SQL       *string    `json:"sql,omitempty"`
	SQLID     *int32     `json:"sql_id,omitempty"`
	Args      []Value    `json:"args,omitempty"`
	NamedArgs []NamedArg `json:"named_args,omitempty"`
	WantRows  *bool      `json:"want_rows,omitempty"`
}

// NamedArg binds Value to the parameter Name, which may come with or
// without its prefix (:, @ or $).
type NamedArg struct {
	Name  string `json:"name"`
	Value Value  `json:"value"`
}

// Batch is a list of steps run in order, each only if its condition holds.
type Batch struct {
	Steps []BatchStep `json:"steps"`
}

// BatchStep is one statement of a batch.
type BatchStep struct {
	Condition *Cond `json:"condition,omitempty"`
	Stmt      Stmt  `json:"stmt"`
}

// Cond is a batch step's condition: ok or error (of Step), not (Cond),
// and or or (Conds), is_autocommit (v3).
type Cond struct {
	Type  string `json:"type"`
	Step  *int   `json:"step,omitempty"`
	Cond  *Cond  `json:"cond,omitempty"`
	Conds []Cond `json:"conds,omitempty"`
}

// Col is a result column: its name and declared type (nil for an
// expression).
type Col struct {
	Name     *string `json:"name"`
	Decltype *string `json:"decltype"`
}

// StmtResult is a statement's outcome. Cols and Rows are always present;
// LastInsertRowid is a decimal string (INSERT only), as the clients expect.
type StmtResult struct {
	Cols             []Col     `json:"cols"`
	Rows             [][]Value `json:"rows"`
	AffectedRowCount int64     `json:"affected_row_count"`
	LastInsertRowid  *string   `json:"last_insert_rowid"`
	ReplicationIndex *string   `json:"replication_index"`
	RowsRead         int64     `json:"rows_read"`
	RowsWritten      int64     `json:"rows_written"`
	QueryDurationMS  float64   `json:"query_duration_ms"`
}

// BatchResult has one entry per step in each list: ran (result, nil),
// failed (nil, error) or skipped (nil, nil).
type BatchResult struct {
	StepResults      []*StmtResult `json:"step_results"`
	StepErrors       []*Error      `json:"step_errors"`
	ReplicationIndex *string       `json:"replication_index"`
}

// DescribeResult answers describe.
type DescribeResult struct {
	Params     []DescribeParam `json:"params"`
	Cols       []Col           `json:"cols"`
	IsExplain  bool            `json:"is_explain"`
	IsReadonly bool            `json:"is_readonly"`
}

// DescribeParam is one parameter of a described statement; Name is nil
// for an anonymous ?.
type DescribeParam struct {
	Name *string `json:"name"`
}

// Protocol error codes the clients act on.
const (
	CodeArgsInvalid        = "ARGS_INVALID"
	CodeArgsBoth           = "ARGS_BOTH_POSITIONAL_AND_NAMED"
	CodeManyStatements     = "SQL_MANY_STATEMENTS"
	CodeNoStatement        = "SQL_NO_STATEMENT"
	CodeSQLNotFound        = "SQL_NOT_FOUND"
	CodeSQLIDInUse         = "SQL_STORE_ID_IN_USE"
	CodeSQLStoreFull       = "SQL_STORE_FULL"
	CodeSQLTooLong         = "SQL_TOO_LONG"
	CodeResponseTooLarge   = "RESPONSE_TOO_LARGE"
	CodeStreamExpired      = "STREAM_EXPIRED"
	CodeStreamClosed       = "STREAM_CLOSED"
	CodeBatonInvalid       = "BATON_INVALID"
	CodeBatonReused        = "BATON_REUSED"
	CodeTransactionTimeout = "TRANSACTION_TIMEOUT"
	CodeProtocol           = "PROTO_ERROR"
)
