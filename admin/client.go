package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// client calls the JSON API in process for one admin request: with its
// Host (so the API resolves the same tenant), its client address and
// user agent (so throttles and audit see the real client), its request id,
// and the session's token. It never forwards the request's cookies: the
// API does not read them, and a page cannot lend its session to anything
// but its own calls.
type client struct {
	api   http.Handler
	orig  *http.Request
	token string
}

func (a *Admin) client(c echo.Context, token string) *client {
	return &client{api: a.api, orig: c.Request(), token: token}
}

// APIError is the API's error answer, kept whole so a page can show the
// message and, beside each field, what the API said about it.
type APIError struct {
	Status  int
	Code    string
	Message string
	Fields  map[string]string
}

func (e *APIError) Error() string { return e.Message }

// apiError returns err's API error, or nil where err is not one.
func apiError(err error) *APIError {
	if e, ok := err.(*APIError); ok {
		return e
	}
	return nil
}

// errorCode is err's API error code ("" for other errors).
func errorCode(err error) string {
	if e := apiError(err); e != nil {
		return e.Code
	}
	return ""
}

// response is one in-process API answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// get calls GET path (with query) and decodes the answer into out.
func (cl *client) get(path string, query url.Values, out any) error {
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return cl.json(http.MethodGet, path, nil, out)
}

// json calls method path with in encoded as JSON (nil: no body) and
// decodes a 2xx answer into out (nil: ignored). A non-2xx answer is an
// *APIError. header is name, value pairs to send too (If-Match).
func (cl *client) json(method, path string, in, out any, header ...string) error {
	var body io.Reader
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body, ctype = bytes.NewReader(b), echo.MIMEApplicationJSON
	}
	res, err := cl.do(method, path, ctype, body, header...)
	if err != nil {
		return err
	}
	if out != nil && len(res.Body) > 0 {
		if err := json.Unmarshal(res.Body, out); err != nil {
			return fmt.Errorf("decode %s %s: %w", method, path, err)
		}
	}
	return nil
}

// do calls method path with body of type ctype; a non-2xx answer is an
// *APIError.
func (cl *client) do(method, path, ctype string, body io.Reader, header ...string) (*response, error) {
	res, err := cl.raw(method, path, ctype, body, header...)
	if err != nil {
		return nil, err
	}
	if res.Status >= 300 {
		return nil, decodeError(res)
	}
	return res, nil
}

// raw calls the API and returns its answer whatever its status.
func (cl *client) raw(method, path, ctype string, body io.Reader, header ...string) (*response, error) {
	req, err := http.NewRequestWithContext(cl.orig.Context(), method, path, body)
	if err != nil {
		return nil, fmt.Errorf("api request %s %s: %w", method, path, err)
	}
	req.Host = cl.orig.Host
	req.RemoteAddr = cl.orig.RemoteAddr
	req.TLS = cl.orig.TLS
	for _, h := range []string{"User-Agent", "X-Forwarded-For", "Fly-Client-IP", "X-Real-Ip", "X-Request-Id", "X-Forwarded-Proto", "X-Tenant-Id"} {
		if v := cl.orig.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	if ctype != "" {
		req.Header.Set(echo.HeaderContentType, ctype)
	}
	req.Header.Set(echo.HeaderAccept, echo.MIMEApplicationJSON)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if cl.token != "" {
		req.Header.Set(echo.HeaderAuthorization, "Bearer "+cl.token)
	}
	w := &recorder{header: http.Header{}}
	cl.api.ServeHTTP(w, req)
	return &response{Status: w.statusOr200(), Header: w.header, Body: w.body.Bytes()}, nil
}

func decodeError(res *response) error {
	var body struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	e := &APIError{Status: res.Status, Code: "error", Message: http.StatusText(res.Status)}
	if json.Unmarshal(res.Body, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message, e.Fields = body.Error.Code, body.Error.Message, body.Error.Fields
	}
	return e
}

// recorder is the ResponseWriter of an in-process call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) statusOr200() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// escape is url.PathEscape for one path segment of an API path.
func escape(segment string) string { return url.PathEscape(segment) }

// joinPath builds an API path from segments, each escaped.
func joinPath(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(escape(s))
	}
	return b.String()
}
