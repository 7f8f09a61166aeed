// Package condo holds the domain vocabulary every other package shares: coded
// errors, the validation of the names (tenant ids, domains, hosts) that may
// reach the disk or the catalog, and the tenant database interface (DB) the
// domain packages take. It imports no driver; its only I/O is SyncDir.
package condo

import (
	"errors"
	"fmt"
)

// Error codes name a category of failure. Domain packages return them; only
// the HTTP edge (package api) and the CLI turn them into statuses and exits.
const (
	EINVALID      = "invalid"      // the caller's input is malformed
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // credentials valid, action refused
	ENOTFOUND     = "not_found"    // no such thing
	ECONFLICT     = "conflict"     // it exists already, or its state forbids this
	EGONE         = "gone"         // it existed and was archived or deleted
	EPRECONDITION = "precondition" // it changed since the caller read it (If-Match)
	EUNAVAILABLE  = "unavailable"  // temporarily unable to serve; retry later
	ELIMITED      = "rate_limited" // too many attempts; retry later
	EQUOTA        = "quota"        // the change would pass a storage quota
	EINTERNAL     = "internal"     // a bug or an unexpected failure
)

// EFULL is the code of a write refused for lack of space: the disk, or the
// user's disk quota, is full (SQLite's SQLITE_FULL, ENOSPC, EDQUOT). Reads
// still work, and writes do again once space is freed, without a restart.
const EFULL = "insufficient_storage"

// FullError returns the EFULL error of a write that cause refused for lack
// of space. Its message says only that (no path, no driver text), so it can
// reach an API client; cause stays in the chain, and in Error(), for logs.
func FullError(cause error) error {
	coded := &Error{Code: EFULL, Message: "the server has no storage space left for this change: it was not saved; reads still work, retry later"}
	return fmt.Errorf("%w: %w", coded, cause)
}

// Error is a coded error. Code is one of the E* categories; Reason, when
// set, is the specific machine-readable code shown to API clients (for
// example "tenant_suspended"); Message is for people and never carries a
// secret.
type Error struct {
	Code    string
	Reason  string
	Message string
	// Fields names what is wrong with each bad input field, by path, when
	// the input was checked field by field (validation_failed).
	Fields map[string]string
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Message }

// Errorf returns a coded error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ReasonErrorf returns a coded error with a specific API reason.
func ReasonErrorf(code, reason, format string, args ...any) *Error {
	return &Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorReason returns the API reason of err: the Reason of its *Error when
// set, else its code.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Reason != "" {
		return e.Reason
	}
	return ErrorCode(err)
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic text for internal errors, whose details are for logs only.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the per-field problems of err, if it has any.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
