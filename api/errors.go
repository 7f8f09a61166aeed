package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
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
	condo.EUNAVAILABLE:  http.StatusServiceUnavailable,
	condo.ELIMITED:      http.StatusTooManyRequests,
	condo.EFULL:         http.StatusInsufficientStorage,
	condo.EINTERNAL:     http.StatusInternalServerError,
}

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
	status, code, msg := http.StatusInternalServerError, condo.EINTERNAL, "internal error"
	var fields map[string]string
	var he *echo.HTTPError
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
	case condo.ErrorCode(err) != condo.EINTERNAL:
		status = statuses[condo.ErrorCode(err)]
		code, msg = condo.ErrorReason(err), condo.ErrorMessage(err)
		fields = condo.ErrorFields(err)
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
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(status)
	} else {
		err = c.JSON(status, body)
	}
	if err != nil {
		logger(c).Error("write error response", "err", err)
	}
}
