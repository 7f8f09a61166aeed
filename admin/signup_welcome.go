package admin

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
)

// welcomeRoutes registers, on the tenant admin's group and ahead of its
// session check, where a signed-up admin lands: POST /admin/welcome takes
// the session the platform host's page hands over (signupVerifySubmit),
// GET /admin/welcome shows the new site's first steps. Without --signup
// both answer 404.
func (a *Admin) welcomeRoutes(g *echo.Group) {
	if !a.signup {
		g.Any("/welcome", a.notFound)
		return
	}
	g.POST("/welcome", a.welcomeEnter)
	get(g, "/welcome", a.requireTenantSession(a.welcomePage))
}

// welcomeEnter makes the posted session (token and refresh token, a
// normal sign-in of this tenant's user, which the sign-up API answered)
// this browser's session on the tenant's host. It comes from another
// origin, so it has no CSRF token of this host; instead it must come from
// the platform host (the browser's Origin header says so; the ready page
// asks the browser to send it), and the token must be a real user
// session of this tenant (/auth/me), never an impersonation.
func (a *Admin) welcomeEnter(c echo.Context) error {
	if !a.fromPlatform(c) {
		return a.fail(c, http.StatusForbidden, "This sign-in did not come from the sign-up page. Sign in with your email and password instead.")
	}
	tok, refresh := c.FormValue("token"), c.FormValue("refresh_token")
	s, err := a.me(c, tok)
	if err != nil || s.Impersonator != "" || s.UserID == "" || refresh == "" {
		return a.fail(c, http.StatusUnauthorized, "This sign-in has expired. Sign in with your email and password instead.")
	}
	a.keepTenantSession(c, tok, refresh)
	return c.Redirect(http.StatusSeeOther, TenantPath+"/welcome")
}

// fromPlatform reports whether the request's Origin is the platform host
// of this base domain (any port: development servers keep theirs).
func (a *Admin) fromPlatform(c echo.Context) bool {
	o := c.Request().Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return condo.NormalizeHost(u.Host) == "platform."+a.baseDomain(c.Request().Context())
}

// welcomeData is the welcome page's: the tenant's collections (the
// starter one among them) and its drafts.
type welcomeData struct {
	Collections []welcomeCollection
	Drafts      []welcomeItem
}

type welcomeCollection struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	Description string `json:"description"`
}

type welcomeItem struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Collection string `json:"collection"`
	Status     string `json:"status"`
}

// welcomePage serves GET /admin/welcome: the first steps of a new site.
func (a *Admin) welcomePage(c echo.Context) error {
	cl := a.client(c, sessionOf(c).Token)
	var cols struct {
		Data []welcomeCollection `json:"data"`
	}
	if err := cl.get("/api/collections", nil, &cols); err != nil {
		return err
	}
	d := welcomeData{Collections: cols.Data}
	for _, col := range cols.Data {
		var items struct {
			Data []welcomeItem `json:"data"`
		}
		if err := cl.get(joinPath("api", "collections", col.Name, "content"), url.Values{"status": {"draft"}, "limit": {"5"}}, &items); err != nil {
			return err
		}
		d.Drafts = append(d.Drafts, items.Data...)
		if len(d.Drafts) >= 5 {
			break
		}
	}
	return a.render(c, http.StatusOK, "signup/welcome", &Page{Title: "Welcome", Nav: "dashboard", Data: d})
}
