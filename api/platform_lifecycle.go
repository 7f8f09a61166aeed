package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/lifecycle/sonicjs"
	"github.com/condohq/condo/route"
)

// importPath and sonicImportPath are the platform routes that take a
// tenant archive, or a SonicJS database, as their body: like a media
// upload, they have no body limit of their own (the disk's space bounds
// them) and the upload's body timeout.
const (
	importPath      = "/platform/tenants/import"
	sonicImportPath = "/platform/tenants/import/sonicjs"
)

func isImport(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && (c.Path() == importPath || c.Path() == sonicImportPath)
}

// platformLifecycleRoutes registers export and import.
func (s *Server) platformLifecycleRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {
	e.Match(readMethods, "/platform/tenants/:id/export", with(s.exportTenant, admin))
	e.POST(importPath, with(s.importTenant, admin))
	e.POST(sonicImportPath, with(s.importSonicJS, admin))
	e.DELETE("/platform/tenants/:id", with(s.deleteTenant, admin))
	e.POST("/platform/tenants/:id/archive", with(s.archiveTenant, admin))
	e.POST("/platform/tenants/:id/restore", with(s.restoreTenant, admin))
	e.POST("/platform/tenants/:id/purge", with(s.purgeTenant, admin))
	s.platformBackupRoutes(e, admin)
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
	t, err := s.catalog.Tenant(ctx, id)
	if err != nil {
		return err
	}
	if s.elsewhere(c, t.Region) { // the files are on its home's nodes
		return s.forward(c, t.Region, t.ID, "")
	}
	if c.Request().Method == http.MethodHead {
		setExportHeaders(c, id)
		return c.NoContent(http.StatusOK)
	}
	w := &lazyStart{c: c, start: func() { setExportHeaders(c, id) }}
	_, err = lifecycle.Export(ctx, s.catalog, s.store, id, w, lifecycle.ExportOptions{CondoVersion: s.version})
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
	replace := c.QueryParam("replace")
	if replace != "" && replace != "true" && replace != "false" {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_replace", "replace is true or false")
	}
	rep, err := lifecycle.Import(c.Request().Context(), s.catalog, s.store, c.Request().Body, lifecycle.ImportOptions{ID: c.QueryParam("id"), Replace: replace == "true"})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/platform/tenants/"+rep.Tenant.ID)
	return c.JSON(http.StatusCreated, map[string]any{"data": rep.Tenant, "meta": rep})
}

// deleteTenant serves DELETE /platform/tenants/:id[?reason=]: the erasure
// of lifecycle.Delete, run by a node of the tenant's home region (this
// request goes there once, as a create does). 200 with the tombstone.
func (s *Server) deleteTenant(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.catalog.Tenant(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if s.elsewhere(c, t.Region) {
		return s.forward(c, t.Region, t.ID, "")
	}
	reason := c.QueryParam("reason")
	if len(reason) > condo.MaxStoredText {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_reason", "reason is at most %d bytes", condo.MaxStoredText)
	}
	ts, err := lifecycle.Delete(ctx, s.catalog, s.store, t.ID, reason)
	if err != nil {
		return err
	}
	s.content.Invalidate(t.ID) // no cached answer of it outlives it, even if the id returns
	return c.JSON(http.StatusOK, map[string]any{"data": ts})
}

// elsewhere reports whether a platform request about a tenant homed in
// region must go on to a node there: its files are there. A request that
// was forwarded already never goes on (the operation then refuses
// wrong_region if the regions still disagree).
func (s *Server) elsewhere(c echo.Context, region string) bool {
	rt := s.router
	return rt != nil && region != "" && region != rt.Region && c.Request().Header.Get(route.MarkerHeader) == ""
}

// archiveTenant serves POST /platform/tenants/:id/archive (lifecycle.Archive
// on the tenant's home node): 200 with the archived tenant.
func (s *Server) archiveTenant(c echo.Context) error {
	return s.atHome(c, func(ctx context.Context, id string) (*catalog.Tenant, error) {
		return lifecycle.Archive(ctx, s.catalog, s.store, id, s.version)
	})
}

// restoreTenant serves POST /platform/tenants/:id/restore.
func (s *Server) restoreTenant(c echo.Context) error {
	return s.atHome(c, func(ctx context.Context, id string) (*catalog.Tenant, error) {
		return lifecycle.Restore(ctx, s.catalog, s.store, id)
	})
}

// atHome runs op on the tenant of :id at a node of its home region.
func (s *Server) atHome(c echo.Context, op func(ctx context.Context, id string) (*catalog.Tenant, error)) error {
	ctx := c.Request().Context()
	t, err := s.catalog.Tenant(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if s.elsewhere(c, t.Region) {
		return s.forward(c, t.Region, t.ID, "")
	}
	if t, err = op(ctx, t.ID); err != nil {
		return err
	}
	s.content.Invalidate(t.ID)
	return c.JSON(http.StatusOK, map[string]any{"data": t})
}

// purgeTenant serves POST /platform/tenants/:id/purge: a deleted tenant's
// tombstone goes, and its id is free again.
func (s *Server) purgeTenant(c echo.Context) error {
	if err := s.catalog.Purge(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// importSonicJS serves POST /platform/tenants/import/sonicjs?id=ID[&name=N]
// with a SonicJS site's database as the body (its D1 SQLite file, or the
// SQL text of `wrangler d1 export`): 201 with the new tenant and the
// import's report (what was mapped, dropped and changed, and why).
func (s *Server) importSonicJS(c echo.Context) error {
	ctx := c.Request().Context()
	opt := sonicjs.Options{ID: c.QueryParam("id"), Name: c.QueryParam("name")}
	if err := condo.ValidateTenantID(opt.ID); err != nil {
		return err
	}
	dir, err := s.store.NewStaging()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sonicjs-upload")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, c.Request().Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	rep, err := sonicjs.Import(ctx, s.store, path, opt)
	if err != nil {
		return err
	}
	s.catalog.RecordAudit(ctx, "tenant.import_sonicjs", rep.Tenant.ID, "", rep.Mapped)
	c.Response().Header().Set(echo.HeaderLocation, "/platform/tenants/"+rep.Tenant.ID)
	return c.JSON(http.StatusCreated, map[string]any{"data": rep.Tenant, "meta": rep})
}
