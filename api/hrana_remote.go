package api

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/libsqldb"
)

// The libSQL endpoint of a tenant at a remote location: this node checks
// the client's token as for any tenant, then forwards the Hrana request
// to the location with the location's token. The location holds the
// stream, so batons pass through untouched (the next request of the
// stream lands here again and goes there again).
//
// The location's token is the tenant's sql.owner credential there, which
// is more than a client of this node may have: the request carries
// SQLAccessHeader, the most the location may allow it (read or write).
// A Condo location applies it with SQLite itself (the connection's
// query_only and authorizer, as for its own clients), which is how a
// sql.read token stays read-only: this node has no connection to the
// database that could tell, by compiling a statement, whether it writes,
// and guessing from the SQL's text is not a check. A location that does
// not say it honours the header (another libSQL server: Turso, sqld) is
// not forwarded to at all but for a sql.owner client: 403
// remote_sql_unsupported, and its clients connect to it directly.

// SQLAccessHeader lowers what a libSQL request may do to read or write,
// whatever its credential allows more; SQLCapsHeader, on every answer of
// the endpoint, says that this server honours it.
const (
	SQLAccessHeader = "X-Condo-Sql-Access"
	SQLCapsHeader   = "X-Condo-Sql-Caps"
	sqlCaps         = "read, write"
)

// capAccess lowers a to what the request's SQLAccessHeader allows.
func capAccess(r *http.Request, a hrana.Access) hrana.Access {
	switch strings.TrimSpace(strings.ToLower(r.Header.Get(SQLAccessHeader))) {
	case "read":
		return hrana.ReadOnly
	case "write":
		return min(a, hrana.ReadWrite)
	}
	return a
}

// advertiseCaps names SQLCapsHeader's promise on the endpoint's answers.
func advertiseCaps(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(SQLCapsHeader, sqlCaps)
		return next(c)
	}
}

// remoteSQL forwards to remote locations: one transport, and which
// locations are known to honour SQLAccessHeader.
type remoteSQL struct {
	transport *http.Transport
	mu        sync.Mutex      // guards capped
	capped    map[string]bool // location URL → it answered SQLCapsHeader
}

func newRemoteSQL() *remoteSQL {
	return &remoteSQL{capped: map[string]bool{}, transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		ResponseHeaderTimeout: DefaultForwardTimeout,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
	}}
}

// httpURL is a location as an HTTP URL: libsql:// is HTTPS.
func httpURL(location string) (*url.URL, error) {
	u, err := url.Parse(location)
	if err != nil {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_location", "location %s is not a URL", libsqldb.Redact(location))
	}
	if strings.EqualFold(u.Scheme, "libsql") {
		u.Scheme = "https"
	}
	return u, nil
}

// honoursCap reports whether t's location honours SQLAccessHeader, asking
// it once (GET <location>/v2) and remembering a yes.
func (rs *remoteSQL) honoursCap(ctx context.Context, t *catalog.Tenant, u *url.URL) bool {
	rs.mu.Lock()
	ok := rs.capped[t.Location]
	rs.mu.Unlock()
	if ok {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.JoinPath("/v2").String(), nil)
	if err != nil {
		return false
	}
	if t.LocationToken != "" {
		req.Header.Set("Authorization", "Bearer "+t.LocationToken)
	}
	res, err := rs.transport.RoundTrip(req)
	if err != nil {
		return false
	}
	res.Body.Close()
	ok = res.StatusCode == http.StatusOK && res.Header.Get(SQLCapsHeader) != ""
	if ok {
		rs.mu.Lock()
		rs.capped[t.Location] = true
		rs.mu.Unlock()
	}
	return ok
}

// forwardSQL serves a libSQL request of remote tenant t, for a client
// with access a, by forwarding it to t's location; suffix is the
// endpoint's own path (/v2/pipeline, ...).
func (s *Server) forwardSQL(c echo.Context, t *catalog.Tenant, a hrana.Access, suffix string) error {
	u, err := httpURL(t.Location)
	if err != nil {
		return err
	}
	limit := ""
	switch a {
	case hrana.ReadOnly:
		limit = "read"
	case hrana.ReadWrite:
		limit = "write"
	}
	if limit != "" && !s.remote.honoursCap(c.Request().Context(), t, u) {
		return condo.ReasonErrorf(condo.EFORBIDDEN, "remote_sql_unsupported",
			"tenant %s lives at %s, which cannot limit this credential to sql.%s: connect to that location directly", t.ID, libsqldb.Redact(t.Location), limit)
	}
	var proxyErr error
	proxy := &httputil.ReverseProxy{
		Transport:     s.remote.transport,
		FlushInterval: -1, // cursors stream their entries
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Path, pr.Out.URL.RawPath, pr.Out.URL.RawQuery = suffix, "", ""
			pr.SetURL(u)
			pr.Out.Header.Del("Cookie")
			pr.Out.Header.Del("Authorization")
			if t.LocationToken != "" {
				pr.Out.Header.Set("Authorization", "Bearer "+t.LocationToken)
			}
			pr.Out.Header.Del(SQLAccessHeader)
			if limit != "" {
				pr.Out.Header.Set(SQLAccessHeader, limit)
			}
		},
		ModifyResponse: func(res *http.Response) error {
			res.Header.Del(SQLCapsHeader) // the promise is the location's, not this node's
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { proxyErr = err },
	}
	proxy.ServeHTTP(c.Response(), c.Request())
	if proxyErr != nil && !c.Response().Committed {
		logger(c).Warn("libSQL request to a remote location failed", "tenant", t.ID, "location", libsqldb.Redact(t.Location),
			"err", libsqldb.RedactError(proxyErr, t.LocationToken))
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_unavailable", "the database of tenant %s, at %s, does not answer", t.ID, libsqldb.Redact(t.Location))
	}
	return nil
}
