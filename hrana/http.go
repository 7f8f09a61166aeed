package hrana

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/sqlitedb"
)

// Caps of what one HTTP request may carry.
const (
	// DefaultMaxBodyBytes caps a pipeline's body: room for large blobs
	// and 10,000 arguments, bounded so one request cannot hold much
	// memory. Past it: 413.
	DefaultMaxBodyBytes = 8 << 20
	// DefaultMaxSQLBytes caps each SQL text (a statement, a sequence's
	// script): past it the whole pipeline is refused (SQL_TOO_LONG)
	// before anything runs. Migrations that drizzle-kit or golang-migrate
	// generate are far smaller; a 1 MB text is a mistake or an attack.
	DefaultMaxSQLBytes = 512 << 10
	// DefaultMaxPipelineBytes caps a pipeline's whole answer. The
	// connection caps each response (10 MB, as sqld); this caps a
	// pipeline of many, so one request never builds hundreds of
	// megabytes: results past it answer RESPONSE_TOO_LARGE.
	DefaultMaxPipelineBytes = 16 << 20
)

// Caller is what the api layer established about one HTTP request: the
// tenant whose host it came to, what its credential may do, and whom to
// tell of what it did.
type Caller struct {
	Tenant *catalog.Tenant
	Access Access
	// DB, when set, is the database the streams run on instead of
	// Tenant's in the store: the catalog's own, served by the primary
	// node (Tenant then names it, with an id no tenant can have, so that
	// its batons verify on its endpoint only).
	DB *sqlitedb.DB
	// Quota, when Capped, is the tenant's storage quota in bytes
	// (database + media): its streams' connections may not grow the
	// database past Quota minus its media (SQLite's max_page_count), and
	// a write that would answers the statement error QUOTA_EXCEEDED.
	Quota  int64
	Capped bool
	// OnWrite is told, before the answer is written, that the request
	// may have changed the tenant's tables (or committed a transaction
	// that did): the api drops the tenant's cached CMS reads. Nil: no one.
	OnWrite func()
	// OnForeignBaton is told the tenant of a genuine baton presented on
	// another tenant's host (the request is refused as if the baton were
	// forged): the api records a security event. Nil: no one.
	OnForeignBaton func(batonTenant string)
	// OnStatements is told how many statements a request ran (the api
	// meters them per tenant). Nil: no one.
	OnStatements func(n int)
}

// statements counts the SQL statements of q: one for an execute or a
// sequence, a batch's steps.
func statements(q *StreamRequest) int {
	switch q.Type {
	case "execute", "sequence":
		return 1
	case "batch":
		if q.Batch != nil {
			return len(q.Batch.Steps)
		}
	}
	return 0
}

// HTTPError refuses a whole HTTP request with Status and the protocol's
// JSON error body, {"error": Message, "message": Message, "code": Code}
// (both clients read it only with Content-Type application/json exactly).
// RetryAfter, when not zero, is sent as Retry-After.
type HTTPError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string { return e.Message }

// WriteError writes e as the protocol's error answer: message and code
// at the top, where @libsql/client reads them, and again as an object
// under "error", Condo's own shape. That "error" is not a string matters:
// libsql-client-go reads a string "error" as a plain message and stops
// there, and only reads code (and retries a STREAM_EXPIRED stream on a
// new one, as database/sql's ErrBadConn) when it is not.
func WriteError(w http.ResponseWriter, e *HTTPError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(int(max(time.Second, e.RetryAfter)/time.Second)))
	}
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(errorBody{Error: errorDetail{e.Code, e.Message}, Message: e.Message, Code: e.Code})
}

type errorBody struct {
	Error   errorDetail `json:"error"`
	Message string      `json:"message"`
	Code    string      `json:"code"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// protoError is a 400 for a request the protocol refuses.
func protoError(code, format string, args ...any) *HTTPError {
	return &HTTPError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeIndex answers GET /v2 and GET /v3: the version is served.
func ServeIndex(w http.ResponseWriter, version int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Hello, this is Condo's libSQL endpoint: Hrana %d over HTTP (POST /v%d/pipeline)\n", version, version)
}

// ErrNoProtobuf answers the -protobuf routes, which @libsql/client probes
// before it falls back to JSON.
var ErrNoProtobuf = &HTTPError{Status: http.StatusNotFound, Code: "PROTOBUF_NOT_SUPPORTED",
	Message: "Hrana over protobuf is not served here: use the JSON endpoints, POST /v2/pipeline or /v3/pipeline"}

// ServePipeline serves POST /v2/pipeline and /v3/pipeline for c. It
// returns an error only before it has written anything: an *HTTPError
// (write it with WriteError) or a domain error of the tenant's database
// (unavailable, pool exhausted) for the api to answer in the same shape.
func (r *Registry) ServePipeline(w http.ResponseWriter, req *http.Request, version int, c *Caller) error {
	var p PipelineRequest
	if err := r.decode(w, req, &p); err != nil {
		return err
	}
	if perr := r.check(version, p.Requests); perr != nil {
		return r.refuse(req, p.Baton, c, perr)
	}
	st, ctx, err := r.stream(req, p.Baton, c)
	if err != nil {
		return err
	}
	defer r.recoverStream(st)
	w2 := &writes{st: st, c: c}
	results := make([]json.RawMessage, 0, len(p.Requests)) // encoded as they come, to cap their sum
	size, closing, ran := 0, false, 0
	if c.OnStatements != nil {
		defer func() { c.OnStatements(ran) }()
	}
	for i := range p.Requests {
		q := &p.Requests[i]
		res := StreamResult{Type: "ok", Response: &EmptyResponse{Type: "close"}}
		if q.Type == "close" {
			closing = true
		} else {
			resp, rerr, perr := st.conn.Do(ctx, version, q)
			ran += statements(q)
			w2.took()
			if perr != nil {
				e := requestError(i, perr)
				w2.tell()
				r.finish(st, e, false, false)
				return e
			}
			res.Response = resp
			if rerr != nil {
				res = StreamResult{Type: "error", Error: rerr}
			}
		}
		b, err := json.Marshal(res)
		if err != nil || size+len(b) > r.cfg.MaxPipelineBytes {
			b, _ = json.Marshal(StreamResult{Type: "error", Error: &Error{Code: CodeResponseTooLarge,
				Message: fmt.Sprintf("the pipeline's answer would pass %d bytes: fetch fewer rows per pipeline", r.cfg.MaxPipelineBytes)}})
		}
		size += len(b)
		results = append(results, b)
	}
	baton, fail := r.done(ctx, st, closing, w2)
	if fail != nil {
		return fail
	}
	w.Header().Set("Content-Type", "application/json")
	writePipeline(w, baton, results, size)
	return nil
}

// writePipeline writes a PipelineResponse whose results are encoded
// already (json.Marshal would compact each of them again).
func writePipeline(w io.Writer, baton *string, results []json.RawMessage, size int) {
	b := make([]byte, 0, size+len(results)+128)
	b = append(b, `{"baton":`...)
	if baton == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendQuote(b, *baton) // base64url: nothing to escape
	}
	b = append(b, `,"base_url":null,"results":[`...)
	for i, r := range results {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	b = append(b, "]}"...)
	w.Write(b) // a client gone meanwhile is no error of ours
}

// ServeCursor serves POST /v3/cursor for c: a first line with the baton,
// then one JSON entry a line as the batch runs, each flushed. Errors are
// ServePipeline's, before the first line; after it, a failure is an
// "error" entry.
func (r *Registry) ServeCursor(w http.ResponseWriter, req *http.Request, c *Caller) error {
	var p CursorRequest
	if err := r.decode(w, req, &p); err != nil {
		return err
	}
	if perr := r.check(3, []StreamRequest{{Type: "batch", Batch: &p.Batch}}); perr != nil {
		return r.refuse(req, p.Baton, c, perr)
	}
	st, ctx, err := r.stream(req, p.Baton, c)
	if err != nil {
		return err
	}
	defer r.recoverStream(st)
	// The next baton is known before the batch runs (take bumped the
	// sequence). The head line goes out with the first entry, so a batch
	// refused before any entry is still a 400.
	r.mu.Lock()
	next := r.baton(st.tenantID, st.id, st.seq)
	r.mu.Unlock()
	enc := json.NewEncoder(w) // one value a line
	flush := http.NewResponseController(w)
	started := false
	emit := func(entry any) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusOK)
			if err := enc.Encode(CursorHead{Baton: &next}); err != nil {
				return err
			}
		}
		if err := enc.Encode(entry); err != nil {
			return err
		}
		return flush.Flush()
	}
	w2 := &writes{st: st, c: c}
	if c.OnStatements != nil {
		c.OnStatements(len(p.Batch.Steps))
	}
	err = st.conn.Cursor(ctx, &p.Batch, emit)
	w2.took()
	var pe *ProtocolError
	if err != nil && !started && errors.As(err, &pe) {
		e := requestError(0, err)
		w2.tell()
		r.finish(st, e, false, false)
		return e
	}
	if err != nil {
		e := requestError(0, err)
		emit(map[string]any{"type": "error", "error": &Error{Message: e.Message, Code: e.Code}})
	}
	if _, fail := r.done(ctx, st, false, w2); fail != nil {
		emit(map[string]any{"type": "error", "error": &Error{Message: fail.Message, Code: fail.Code}})
	} else if !started { // an empty batch: the head line alone
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		enc.Encode(CursorHead{Baton: &next})
	}
	return nil
}

// requestError is the HTTP error of request i's protocol error.
func requestError(i int, perr error) *HTTPError {
	var he *HTTPError
	if errors.As(perr, &he) {
		return he
	}
	code := CodeProtocol
	var e *Error
	if errors.As(perr, &e) && e.Code != "" {
		code = e.Code
	}
	return protoError(code, "request %d: %v", i, perr)
}

// decode reads a request's JSON body, at most MaxBodyBytes of it.
// Unknown fields are ignored, as the clients of newer protocol versions
// expect; no Content-Type is required (libsql-client-go sends none).
func (r *Registry) decode(w http.ResponseWriter, req *http.Request, v any) error {
	body := http.MaxBytesReader(w, req.Body, r.cfg.MaxBodyBytes)
	err := json.NewDecoder(body).Decode(v)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return &HTTPError{Status: http.StatusRequestEntityTooLarge, Code: "BODY_TOO_LARGE",
			Message: fmt.Sprintf("the request body is over %d bytes", r.cfg.MaxBodyBytes)}
	case errors.Is(err, io.EOF):
		return protoError(CodeProtocol, `the body must be a JSON request: {"baton": null, "requests": [...]}`)
	case err != nil:
		return protoError(CodeProtocol, "the body is not a valid request: %v", err)
	}
	return nil
}

// stream returns the stream a request runs on: a new one for a null or
// missing baton, else the one the baton names.
func (r *Registry) stream(req *http.Request, baton *string, c *Caller) (*stream, context.Context, error) {
	if baton == nil {
		return r.open(req.Context(), c)
	}
	return r.take(req.Context(), *baton, c)
}

// refuse answers perr for a request refused before it ran: a new stream
// is not opened for it, and the stream its baton names is ended (any
// HTTP error ends the stream) unless the baton itself is refused first.
func (r *Registry) refuse(req *http.Request, baton *string, c *Caller, perr *HTTPError) error {
	if baton == nil {
		return perr
	}
	st, _, err := r.take(req.Context(), *baton, c)
	if err != nil {
		return err
	}
	defer r.recoverStream(st)
	r.finish(st, perr, false, false)
	return perr
}

// check refuses, before anything runs, a pipeline the protocol forbids:
// an unknown request type (or a v3 one on v2), a request after close, a
// batch condition that points at a later step, an SQL text over
// MaxSQLBytes.
func (r *Registry) check(version int, reqs []StreamRequest) *HTTPError {
	for i := range reqs {
		q := &reqs[i]
		switch q.Type {
		case "execute", "batch", "sequence", "describe", "store_sql", "close_sql", "close":
		case "get_autocommit":
			if version < 3 {
				return protoError(CodeProtocol, "request %d: get_autocommit needs Hrana 3 (POST /v3/pipeline)", i)
			}
		default:
			return protoError(CodeProtocol, "request %d: unknown request type %q", i, condo.Clip(q.Type))
		}
		if q.Type == "close" && i < len(reqs)-1 {
			return protoError(CodeStreamClosed, "request %d comes after close: close must be the last request", i+1)
		}
		for _, sql := range sqlTexts(q) {
			if len(sql) > r.cfg.MaxSQLBytes {
				return protoError(CodeSQLTooLong, "request %d: an SQL text of %d bytes is over the limit of %d bytes", i, len(sql), r.cfg.MaxSQLBytes)
			}
		}
		if q.Batch != nil {
			if err := checkBatch(q.Batch, version); err != nil {
				return protoError(CodeProtocol, "request %d: %v", i, err)
			}
		}
	}
	return nil
}

// sqlTexts returns every SQL text of a request.
func sqlTexts(q *StreamRequest) []string {
	var out []string
	if q.SQL != nil {
		out = append(out, *q.SQL)
	}
	if q.Stmt != nil && q.Stmt.SQL != nil {
		out = append(out, *q.Stmt.SQL)
	}
	if q.Batch != nil {
		for _, s := range q.Batch.Steps {
			if s.Stmt.SQL != nil {
				out = append(out, *s.Stmt.SQL)
			}
		}
	}
	return out
}

// writes tracks what the requests of one HTTP request wrote, to tell
// Caller.OnWrite once, before the answer.
type writes struct {
	st    *stream
	c     *Caller
	wrote bool
}

// took collects the guard's report on the request that just ran.
func (w *writes) took() {
	if w.st.guard.TakeWrote() {
		w.wrote = true
	}
}

// tell tells the caller, if anything was written.
func (w *writes) tell() {
	if w.wrote && w.c.OnWrite != nil {
		w.c.OnWrite()
	}
	w.wrote = false
}

// done ends a request that ran to its end: it reads what the connection
// holds, tells the caller of writes, and hands the stream back (closed if
// closing). A write inside a transaction is told twice: when it runs
// (readers caching meanwhile see the committed state) and when the
// transaction ends, since COMMIT itself writes no table.
func (r *Registry) done(ctx context.Context, st *stream, closing bool, w *writes) (*string, *HTTPError) {
	var end *HTTPError
	autocommit, writing := true, false
	if closing {
		end = errClosed
	} else {
		ctx := context.WithoutCancel(ctx)
		var err error
		if autocommit, err = st.conn.Autocommit(ctx); err == nil {
			writing, err = st.conn.Writing(ctx)
		}
		if err != nil {
			r.cfg.Logger.Warn("libSQL stream: cannot read its transaction state; closing it", "tenant", st.tenantID, "err", err)
			end = errInternal
			autocommit = true
		}
	}
	switch {
	case w.wrote && !autocommit:
		st.dirtyTx = true // the request owns st until finish
	case st.dirtyTx && autocommit:
		st.dirtyTx, w.wrote = false, true
	}
	w.tell()
	if end == nil && autocommit && !st.guard.Stateful() {
		// Between transactions the stream needs no connection of its
		// own: it goes back to the pool (and the next request takes
		// one), so idle streams cost little.
		if err := st.conn.Detach(); err != nil {
			r.cfg.Logger.Warn("libSQL stream: cannot hand its connection back; closing it", "tenant", st.tenantID, "err", err)
			end = errInternal
		}
		st.guard = nil
	}
	return r.finish(st, end, autocommit, writing)
}

var errClosed = protoError(CodeStreamClosed, "the stream was closed: send a null baton to open a new one")
