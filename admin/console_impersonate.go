package admin

import (
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

func (a *Admin) consoleImpersonateRoutes(g *echo.Group) {
	g.POST("/tenants/:id/impersonate", a.impersonateStart)
}

// handOver is the page that takes an impersonation token across to the
// tenant's host.
type handOver struct {
	TenantID, Name string
	Action         string // <tenant origin>/admin/impersonate
	Origin         string
	Token          string
	ExpiresAt      time.Time
}

// impersonateStart serves POST /platform/admin/tenants/:id/impersonate:
// POST /platform/tenants/:id/impersonate with the form's reason, then a
// page whose form posts the token to the tenant admin's
// /admin/impersonate (impersonateEnter), which makes it that browser's
// session there. The console's CSP lets forms post to the console's own
// host only: this one page also allows exactly that tenant's origin.
func (a *Admin) impersonateStart(c echo.Context) error {
	id, reason := c.Param("id"), strings.TrimSpace(c.FormValue("reason"))
	var out struct {
		Data struct {
			Token     string    `json:"token"`
			ExpiresAt time.Time `json:"expires_at"`
			Tenant    string    `json:"tenant"`
		} `json:"data"`
	}
	err := a.client(c, sessionOf(c).Token).json(http.MethodPost, "/platform/tenants/"+escape(id)+"/impersonate", map[string]string{"reason": reason}, &out)
	if err != nil {
		if e := apiError(err); e != nil && len(e.Fields) == 0 && (e.Code == "missing_fields" || e.Code == "invalid_reason") {
			e.Fields = map[string]string{"reason": "Give the reason for impersonating (at most 500 characters)."}
		}
		return a.showTenant(c, 0, err, &tenantData{Reason: reason})
	}
	origin := a.tenantOrigin(c, out.Data.Tenant)
	h := &handOver{TenantID: out.Data.Tenant, Action: origin + TenantPath + "/impersonate", Origin: origin, Token: out.Data.Token, ExpiresAt: out.Data.ExpiresAt}
	c.Response().Header().Set("Content-Security-Policy",
		strings.Replace(contentSecurityPolicy, "form-action 'self'", "form-action 'self' "+origin, 1))
	return a.render(c, http.StatusOK, "console/impersonate", &Page{Title: "Impersonate " + h.TenantID, Nav: "tenants", Data: h})
}

// tenantOrigin is the origin of tenant id's admin: <id>.<base-domain>,
// with this request's scheme and port.
func (a *Admin) tenantOrigin(c echo.Context, id string) string {
	host := id + "." + a.baseDomain(c.Request().Context())
	if _, port, err := net.SplitHostPort(c.Request().Host); err == nil && port != "" {
		host = net.JoinHostPort(host, port)
	}
	return c.Scheme() + "://" + host
}
