package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
)

// The control plane's libSQL endpoint. The primary node serves its own
// catalog at CatalogPath on any host, so that the other nodes open it
// with --catalog http://primary:8080/_condo/catalog (libsql-client-go
// adds /v2/pipeline to that path). It is package hrana's endpoint over
// the catalog's file, with its own registry (a tenant's streams can never
// use up the control plane's), guarded by the catalog token, which every
// node of the fleet holds. It never resolves a tenant nor opens a
// tenant's database.
//
// Paths under CondoPrefix are Condo's own, on every host: no tenant route
// lives there (another is /_condo/tenants/<id>, tenant databases by path).

// CondoPrefix is the path prefix reserved for Condo's node-to-node routes.
const CondoPrefix = "/_condo/"

// CatalogPath is where the primary node serves its catalog.
const CatalogPath = "/_condo/catalog"

// CatalogStreams bounds the catalog endpoint's open streams (its
// registry's MaxStreams and MaxTenantStreams): every node keeps a few,
// and past sqlitedb's stream connections they wait for one rather than
// fail.
const CatalogStreams = 512

// catalogTenant names the catalog's streams: an id no tenant can have (it
// is not a DNS label), so a tenant's baton never verifies here, nor the
// catalog's on a tenant's host.
var catalogTenant = &catalog.Tenant{ID: "_catalog"}

// CatalogEndpoint is what the server needs to serve CatalogPath.
type CatalogEndpoint struct {
	// Token is the bearer token every request must carry; empty: the
	// endpoint is off (404).
	Token string
	// Streams is the catalog's own registry; whoever built it runs and
	// stops it (serve does).
	Streams *hrana.Registry
}

var errCatalogNotServed = condo.ReasonErrorf(condo.ENOTFOUND, "catalog_not_served",
	"this node does not serve its catalog (start the primary with --serve-catalog)")

func (s *Server) catalogRoutes() {
	index := func(version int) echo.HandlerFunc {
		return func(c echo.Context) error {
			hrana.ServeIndex(c.Response(), version)
			return nil
		}
	}
	pipeline := func(version int) echo.HandlerFunc {
		return func(c echo.Context) error {
			return s.catalogEP.Streams.ServePipeline(c.Response(), c.Request(), version, s.catalogCaller())
		}
	}
	cursor := func(c echo.Context) error {
		return s.catalogEP.Streams.ServeCursor(c.Response(), c.Request(), s.catalogCaller())
	}
	noProtobuf := func(echo.Context) error { return hrana.ErrNoProtobuf }
	mw := []echo.MiddlewareFunc{hranaErrors, s.catalogToken}
	e, p := s.echo, CatalogPath
	e.Match(readMethods, p+"/v2", with(index(2), mw...))
	e.Match(readMethods, p+"/v3", with(index(3), mw...))
	e.POST(p+"/v2/pipeline", with(pipeline(2), mw...))
	e.POST(p+"/v3/pipeline", with(pipeline(3), mw...))
	e.POST(p+"/v3/cursor", with(cursor, mw...))
	e.Match(append([]string{http.MethodPost}, readMethods...), p+"/v2-protobuf/*", with(noProtobuf, mw...))
	e.Match(append([]string{http.MethodPost}, readMethods...), p+"/v3-protobuf/*", with(noProtobuf, mw...))
}

func (s *Server) catalogCaller() *hrana.Caller {
	return &hrana.Caller{Tenant: catalogTenant, Access: hrana.Catalog, DB: s.catalog.LocalDB()}
}

// catalogToken lets through requests that carry the catalog token, on a
// node that serves its catalog; it compares in constant time (over the
// tokens' hashes, so their lengths do not show either).
func (s *Server) catalogToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ep := s.catalogEP
		if ep.Token == "" || ep.Streams == nil || s.catalog.LocalDB() == nil {
			return errCatalogNotServed
		}
		got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		want := sha256.Sum256([]byte(ep.Token))
		have := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(have[:], want[:]) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="condo-catalog"`)
			return condo.ReasonErrorf(condo.EUNAUTHORIZED, "catalog_token_refused", "this endpoint needs the catalog token: Authorization: Bearer $CONDO_CATALOG_TOKEN")
		}
		return next(c)
	}
}

// isCondoPath reports Condo's own node-to-node paths, which tenant
// middleware (CORS, the body limit) leaves alone.
func isCondoPath(p string) bool { return strings.HasPrefix(p, CondoPrefix) }
