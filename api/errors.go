package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/metrics"
	"github.com/condohq/condo/plugins"
	"github.com/condohq/condo/sqlitedb"
)

// statuses maps domain error codes to HTTP statuses; it is the only such
// table in Condo.
var statuses = map[string]int{
	condo.EINVALID:      http.StatusBadRequest,
	condo.EUNAUTHORIZED: http.StatusUnauthorized,
	condo.EFORBIDDEN:    http.StatusForbidden,
	condo.ENOTFOUND:     http.StatusNotFound,
	condo.ECONFLICT:     http.StatusConflict,
	condo.EGONE:         http.StatusGone,
	condo.EPRECONDITION: http.StatusPreconditionFailed,
	condo.EUNAVAILABLE:  http.StatusServiceUnavailable,
	condo.ELIMITED:      http.StatusTooManyRequests,
	condo.EQUOTA:        http.StatusRequestEntityTooLarge,
	condo.EFULL:         http.StatusInsufficientStorage,
	condo.EINTERNAL:     http.StatusInternalServerError,
}

// StatusClientClosedRequest is the access log's status of a request whose
// client went away before its answer (nginx's 499): no answer is sent.
const StatusClientClosedRequest = 499

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields,omitempty"`
	} `json:"error"`
}

// handleError writes err as {"error":{"code","message"}}. Echo's own errors
// (unknown route, body too large) keep their status; domain errors take
// theirs from the table above. Only internal errors are logged, with the
// request's tenant and id; their details never reach the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	err = sqlitedb.Classify(err) // a direct write (not through Transact) refused for lack of space
	if clientGone(c, err) {
		// The client closed the connection (or reset the stream) while the
		// handler worked, and the handler's failure is that cancellation
		// (an interrupted query, a context error): not a server error.
		logger(c).Debug("request cancelled by the client", "err", err)
		c.Response().WriteHeader(StatusClientClosedRequest)
		return
	}
	status, code, msg := http.StatusInternalServerError, condo.EINTERNAL, "internal error"
	var fields map[string]string
	var he *echo.HTTPError
	var failed *plugins.Failure
	switch {
	case errors.As(err, &he):
		status = he.Code
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		msg = strings.ToLower(http.StatusText(status))
		if m, ok := he.Message.(string); ok && status < 500 {
			msg = m
		}
		if status == http.StatusRequestEntityTooLarge {
			code = "body_too_large"
		}
		if he.Internal != nil && status >= 500 {
			logger(c).Error("request failed", "err", he.Internal)
		}
	case errors.As(err, &failed):
		// A plugin's fault: the client learns which plugin, the log why.
		code, msg = "plugin_failed", failed.Public()
		logger(c).Error("plugin failed", "plugin", failed.Plugin, "hook", failed.Hook, "err", err)
	case condo.ErrorCode(err) != condo.EINTERNAL:
		status = statuses[condo.ErrorCode(err)]
		code, msg = condo.ErrorReason(err), condo.ErrorMessage(err)
		fields = condo.ErrorFields(err)
		if code == "user_limit_reached" { // auth refuses it in several flows (signup, create, invitation)
			metrics.QuotaRejections.WithLabelValues("users").Inc()
		}
		if condo.ErrorCode(err) == condo.EFULL { // the operator must free space; the cause says where
			logger(c).Warn("write refused: no storage space left", "err", err)
		}
	default:
		logger(c).Error("request failed", "err", err)
	}
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "1")
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message, body.Error.Fields = code, msg, fields
	// A HEAD gets the same headers; net/http drops the body.
	if err := c.JSON(status, body); err != nil {
		logger(c).Error("write error response", "err", err)
	}
}

// clientGone reports a request whose context ended before its handler
// failed with what would be a server error. An error of the client's own
// (a 4xx) keeps its status: it says what was wrong with the request.
func clientGone(c echo.Context, err error) bool {
	if c.Request().Context().Err() == nil {
		return false
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code >= 500
	}
	return condo.ErrorCode(err) == condo.EINTERNAL || statuses[condo.ErrorCode(err)] >= 500
}
