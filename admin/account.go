package admin

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// accountRoutes registers closing the account, for the tenant's admins:
// an export first (GET /api/account/export, streamed through), then a
// typed confirmation that erases the tenant (POST /api/account/close).
func (a *Admin) accountRoutes(g *echo.Group) {
	get(g, "/account/close", a.accountClosePage)
	get(g, "/account/export", a.accountExport)
	g.POST("/account/close", a.accountClose)
}

type accountData struct {
	TenantID string
	Confirm  string
}

// accountAdmin lets only a tenant admin through; the API decides again.
func (a *Admin) accountAdmin(c echo.Context) error {
	if s := sessionOf(c); s == nil || s.Role != "admin" {
		return a.fail(c, http.StatusForbidden, "Only an admin of this site can close its account.")
	}
	return nil
}

func (a *Admin) accountClosePage(c echo.Context) error {
	if err := a.accountAdmin(c); err != nil {
		return err
	}
	t := a.tenantInfo(c)
	if t == nil {
		return a.fail(c, http.StatusNotFound, "This site is gone.")
	}
	return a.render(c, http.StatusOK, "account/close", &Page{Title: "Close the account", Nav: "settings", Data: &accountData{TenantID: t.ID}})
}

// accountExport streams the tenant's archive from the API to the
// browser as it is made (an archive can be larger than memory, so it
// does not go through client's buffered answer).
func (a *Admin) accountExport(c echo.Context) error {
	if err := a.accountAdmin(c); err != nil {
		return err
	}
	orig := c.Request()
	req, err := http.NewRequestWithContext(orig.Context(), orig.Method, "/api/account/export", nil)
	if err != nil {
		return err
	}
	req.Host, req.RemoteAddr, req.TLS = orig.Host, orig.RemoteAddr, orig.TLS
	for _, h := range []string{"User-Agent", "X-Forwarded-For", "Fly-Client-IP", "X-Real-Ip", "X-Request-Id", "X-Forwarded-Proto", "X-Tenant-Id"} {
		if v := orig.Header.Values(h); len(v) > 0 {
			req.Header[h] = v
		}
	}
	req.Header.Set(echo.HeaderAuthorization, "Bearer "+sessionOf(c).Token)
	w := &accountExportWriter{ResponseWriter: c.Response().Writer}
	a.api.ServeHTTP(w, req)
	if w.status >= 300 { // an error before the first byte: a page, not JSON
		return decodeError(&response{Status: w.status, Body: w.errBody.Bytes()})
	}
	c.Response().Committed = true
	return nil
}

// accountExportWriter passes a 2xx answer through to the browser and keeps an
// error answer for the page that explains it.
type accountExportWriter struct {
	http.ResponseWriter
	status  int
	errBody bytes.Buffer
}

func (w *accountExportWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	if status < 300 {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *accountExportWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.status >= 300 {
		return w.errBody.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *accountExportWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.status < 300 {
		f.Flush()
	}
}

var _ io.Writer = (*accountExportWriter)(nil)

// accountClose erases the tenant once its id is typed; the browser's
// session goes with it, and the answer is the goodbye page (the admin it
// came from no longer exists).
func (a *Admin) accountClose(c echo.Context) error {
	if err := a.accountAdmin(c); err != nil {
		return err
	}
	t := a.tenantInfo(c)
	if t == nil {
		return a.fail(c, http.StatusNotFound, "This site is gone.")
	}
	d := &accountData{TenantID: t.ID, Confirm: strings.TrimSpace(c.FormValue("confirm"))}
	page := &Page{Title: "Close the account", Nav: "settings", Data: d}
	if d.Confirm != t.ID {
		page.Error = &APIError{Status: http.StatusBadRequest, Code: "confirmation_mismatch", Message: "Type the site's id to close the account.",
			Fields: map[string]string{"confirm": "type " + t.ID + " exactly"}}
		return a.render(c, http.StatusBadRequest, "account/close", page)
	}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPost, "/api/account/close", map[string]string{"confirm": d.Confirm}, nil); err != nil {
		return a.renderError(c, "account/close", page, err)
	}
	clearCookie(c, tenantCookie, TenantPath)
	clearCookie(c, refreshCookie, TenantPath)
	c.Set(ctxSession, nil) // no menu of pages that are gone
	return a.render(c, http.StatusOK, "account/goodbye", &Page{Title: "Account closed", Data: &accountData{TenantID: t.ID}})
}
