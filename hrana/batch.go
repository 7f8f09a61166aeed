package hrana

import (
	"context"
	"errors"

	"github.com/condohq/condo/sqlitedb"
)

// checkBatch refuses, before any step runs, a batch the protocol does
// not allow: a step without exactly one of sql and sql_id, a condition of
// an unknown type, one that points at its own or a later step, or
// is_autocommit on version 2.
func checkBatch(b *Batch, version int) error {
	for i := range b.Steps {
		if err := checkStmt(&b.Steps[i].Stmt); err != nil {
			return protof("step %d: %v", i, err)
		}
		if c := b.Steps[i].Condition; c != nil {
			if err := checkCond(c, i, version, 0); err != nil {
				return protof("step %d: %v", i, err)
			}
		}
	}
	return nil
}

// maxCondDepth bounds how deeply conditions nest, so a hostile body
// cannot recurse without end.
const maxCondDepth = 100

func checkCond(c *Cond, step, version, depth int) error {
	if depth > maxCondDepth {
		return protof("conditions nest too deeply")
	}
	switch c.Type {
	case "ok", "error":
		if c.Step == nil {
			return protof("a condition %q needs a step", c.Type)
		}
		if *c.Step < 0 || *c.Step >= step {
			return protof("a condition may only refer to an earlier step, not step %d", *c.Step)
		}
	case "not":
		if c.Cond == nil {
			return protof("a condition \"not\" needs a cond")
		}
		return checkCond(c.Cond, step, version, depth+1)
	case "and", "or":
		for i := range c.Conds {
			if err := checkCond(&c.Conds[i], step, version, depth+1); err != nil {
				return err
			}
		}
	case "is_autocommit":
		if version < 3 {
			return protof("the condition is_autocommit needs version 3 of the protocol")
		}
	default:
		return protof("unknown condition type %q", c.Type)
	}
	return nil
}

// outcomes records which steps of a batch ran and how, for conditions.
type outcomes struct{ ok, failed []bool }

func (o outcomes) holds(c *Cond, r *sqlitedb.Raw) bool {
	switch c.Type {
	case "ok":
		return o.ok[*c.Step]
	case "error":
		return o.failed[*c.Step]
	case "not":
		return !o.holds(c.Cond, r)
	case "and":
		for i := range c.Conds {
			if !o.holds(&c.Conds[i], r) {
				return false
			}
		}
		return true
	case "or":
		for i := range c.Conds {
			if o.holds(&c.Conds[i], r) {
				return true
			}
		}
		return false
	case "is_autocommit":
		return r.Autocommit()
	}
	return false
}

// batch runs b's steps in order, each only if its condition holds (b was
// checked). A step's failure is its entry in StepErrors; the steps after
// it go on.
func (c *Conn) batch(r *sqlitedb.Raw, b *Batch) (*BatchResult, error) {
	n := len(b.Steps)
	res := &BatchResult{StepResults: make([]*StmtResult, n), StepErrors: make([]*Error, n)}
	o := outcomes{ok: make([]bool, n), failed: make([]bool, n)}
	room := &budget{left: c.MaxResponse}
	for i := range b.Steps {
		step := &b.Steps[i]
		if step.Condition != nil && !o.holds(step.Condition, r) {
			continue
		}
		sr, err := c.execute(r, &step.Stmt, room)
		var e *Error
		switch {
		case err == nil:
			res.StepResults[i], o.ok[i] = sr, true
		case errors.As(err, &e):
			if q, ok := quotaError(c.Quota, c.Dir, e); ok {
				e = q
			}
			res.StepErrors[i], o.failed[i] = e, true
		default:
			return nil, err
		}
	}
	return res, nil
}

// Cursor entries, one a line of /v3/cursor's answer.
type (
	// StepBeginEntry starts a step's rows.
	StepBeginEntry struct {
		Type string `json:"type"` // step_begin
		Step int    `json:"step"`
		Cols []Col  `json:"cols"`
	}
	// RowEntry is one row of the current step.
	RowEntry struct {
		Type string  `json:"type"` // row
		Row  []Value `json:"row"`
	}
	// StepEndEntry ends a step that ran.
	StepEndEntry struct {
		Type             string  `json:"type"` // step_end
		AffectedRowCount int64   `json:"affected_row_count"`
		LastInsertRowid  *string `json:"last_insert_rowid"`
	}
	// StepErrorEntry ends a step that failed.
	StepErrorEntry struct {
		Type  string `json:"type"` // step_error
		Step  int    `json:"step"`
		Error *Error `json:"error"`
	}
	// ErrorEntry ends a cursor that could not go on.
	ErrorEntry struct {
		Type  string `json:"type"` // error
		Error *Error `json:"error"`
	}
)

// Cursor runs b for POST /v3/cursor, handing emit each entry (step_begin,
// row, step_end, step_error, error) as it is produced, so rows stream
// with flat memory. A batch the protocol refuses returns a protocol error
// before any entry; otherwise Cursor returns emit's first error (the
// client went away), and a failure of the connection itself is a last
// error entry.
func (c *Conn) Cursor(ctx context.Context, b *Batch, emit func(entry any) error) error {
	if c.closed {
		return protof("the stream is closed")
	}
	if err := checkBatch(b, 3); err != nil {
		return err
	}
	var emitErr error
	err := sqlitedb.WithRaw(ctx, c.c, func(r *sqlitedb.Raw) error {
		n := len(b.Steps)
		o := outcomes{ok: make([]bool, n), failed: make([]bool, n)}
		for i := range b.Steps {
			step := &b.Steps[i]
			if step.Condition != nil && !o.holds(step.Condition, r) {
				continue
			}
			sink := &cursorSink{step: i, emit: emit}
			res, err := c.cursorStep(r, &step.Stmt, sink)
			if sink.err != nil {
				emitErr = sink.err
				return sink.err
			}
			var e *Error
			switch {
			case err == nil:
				o.ok[i] = true
				if emitErr = emit(&StepEndEntry{Type: "step_end", AffectedRowCount: res.AffectedRowCount, LastInsertRowid: res.LastInsertRowid}); emitErr != nil {
					return emitErr
				}
			case errors.As(err, &e):
				o.failed[i] = true
				if emitErr = emit(&StepErrorEntry{Type: "step_error", Step: i, Error: e}); emitErr != nil {
					return emitErr
				}
			default:
				return err
			}
		}
		return nil
	})
	if emitErr != nil {
		return emitErr
	}
	if err != nil {
		e, ok := sqlError(err).(*Error)
		if !ok {
			e = internalError()
		}
		if q, ok := quotaError(c.Quota, c.Dir, e); ok {
			e = q
		}
		return emit(&ErrorEntry{Type: "error", Error: e})
	}
	return nil
}

func (c *Conn) cursorStep(r *sqlitedb.Raw, st *Stmt, sink *cursorSink) (*StmtResult, error) {
	sql, err := c.stmtSQL(st)
	if err != nil {
		return nil, err
	}
	return c.runStmt(r, sql, st, sink)
}

// cursorSink emits a step's columns and rows as they come. err keeps
// emit's failure apart from the statement's own.
type cursorSink struct {
	step int
	emit func(any) error
	err  error
}

func (s *cursorSink) cols(cols []Col) error {
	s.err = s.emit(&StepBeginEntry{Type: "step_begin", Step: s.step, Cols: cols})
	return s.err
}

func (s *cursorSink) row(row []Value) error {
	s.err = s.emit(&RowEntry{Type: "row", Row: row})
	return s.err
}
