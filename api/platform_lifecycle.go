package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/lifecycle"
)

// importPath is the platform route that takes a tenant archive as its
// body: like a media upload, it has no body limit of its own (the disk's
// space bounds it) and the upload's body timeout.
const importPath = "/platform/tenants/import"

func isImport(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == importPath
}

// platformLifecycleRoutes registers export and import.
func (s *Server) platformLifecycleRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {
	e.Match(readMethods, "/platform/tenants/:id/export", with(s.exportTenant, admin))
	e.POST(importPath, with(s.importTenant, admin))
}

// exportTenant serves GET /platform/tenants/:id/export: the archive of
// lifecycle.Export, streamed as it is made (application/zstd, a file name
// for browsers). An error before the first byte is the usual JSON error;
// one after it cuts the connection, so the client never takes a
// truncated archive for a whole one (and an import would refuse it).
func (s *Server) exportTenant(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	if err := condo.ValidateTenantID(id); err != nil {
		return err
	}
	if _, err := s.catalog.Tenant(ctx, id); err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		setExportHeaders(c, id)
		return c.NoContent(http.StatusOK)
	}
	w := &lazyStart{c: c, start: func() { setExportHeaders(c, id) }}
	_, err := lifecycle.Export(ctx, s.catalog, s.store, id, w, lifecycle.ExportOptions{CondoVersion: s.version})
	if err != nil && w.started {
		logger(c).Error("export cut short", "tenant", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

func setExportHeaders(c echo.Context, id string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zstd")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.tar.zst"`, id, time.Now().UTC().Format("20060102T150405Z")))
	h.Set("Cache-Control", "no-store")
}

// lazyStart sends the status line at the first write, so that what fails
// before it can still answer with an error.
type lazyStart struct {
	c       echo.Context
	start   func()
	started bool
}

func (l *lazyStart) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		l.start()
		l.c.Response().WriteHeader(http.StatusOK)
	}
	return l.c.Response().Write(b)
}

// importTenant serves POST /platform/tenants/import[?id=NEW] with an
// export archive as the body: 201 with the tenant and the import's report.
func (s *Server) importTenant(c echo.Context) error {
	rep, err := lifecycle.Import(c.Request().Context(), s.catalog, s.store, c.Request().Body, lifecycle.ImportOptions{ID: c.QueryParam("id")})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/platform/tenants/"+rep.Tenant.ID)
	return c.JSON(http.StatusCreated, map[string]any{"data": rep.Tenant, "meta": rep})
}
