package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// dashboard serves GET /admin: the tenant at a glance.
func (a *Admin) dashboard(c echo.Context) error {
	return a.render(c, http.StatusOK, "dashboard", &Page{Title: "Dashboard", Nav: "dashboard"})
}
