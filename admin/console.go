package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// consoleSessionRoutes registers signing in and out of the console.
func (a *Admin) consoleSessionRoutes(g *echo.Group) {
	get(g, "/login", a.consoleLoginPage)
	g.POST("/login", a.consoleLoginSubmit)
	g.POST("/logout", a.consoleLogout)
}

func (a *Admin) consoleLoginPage(c echo.Context) error {
	return a.render(c, http.StatusOK, "login", &Page{Title: "Sign in", Data: loginForm{Next: c.QueryParam("next")}})
}

// consoleLoginSubmit signs in through POST /platform/auth/login. A
// platform admin's token lasts an hour (api.PlatformTokenTTL) and has no
// refresh token: the console asks to sign in again after it.
func (a *Admin) consoleLoginSubmit(c echo.Context) error {
	form := loginForm{Email: strings.TrimSpace(c.FormValue("email")), Next: c.FormValue("next")}
	var out struct {
		Token string `json:"token"`
	}
	err := a.client(c, "").json(http.MethodPost, "/platform/auth/login", map[string]string{"email": form.Email, "password": c.FormValue("password")}, &out)
	if err != nil {
		return a.renderError(c, "login", &Page{Title: "Sign in", Data: form}, err)
	}
	setCookie(c, consoleCookie, out.Token, ConsolePath, 0)
	return c.Redirect(http.StatusSeeOther, safeNext(form.Next, ConsolePath))
}

func (a *Admin) consoleLogout(c echo.Context) error {
	clearCookie(c, consoleCookie, ConsolePath)
	return c.Redirect(http.StatusSeeOther, ConsolePath+"/login")
}

// requireConsoleSession lets a console page through with a valid platform
// admin token (GET /platform/auth/me says so), else sends the browser to
// the console's sign-in page.
func (a *Admin) requireConsoleSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(consoleCookie)
		if err != nil || ck.Value == "" {
			return a.toLogin(c, ConsolePath+"/login")
		}
		var out struct {
			Data struct {
				ID    string `json:"id"`
				Email string `json:"email"`
			} `json:"data"`
		}
		if err := a.client(c, ck.Value).get("/platform/auth/me", nil, &out); err != nil {
			clearCookie(c, consoleCookie, ConsolePath)
			return a.toLogin(c, ConsolePath+"/login")
		}
		c.Set(ctxSession, &session{Token: ck.Value, UserID: out.Data.ID, Email: out.Data.Email, Role: "platform admin", Console: true})
		return next(c)
	}
}

// consoleRoutes registers the console's pages (console_*.go).
func (a *Admin) consoleRoutes(g *echo.Group) {
	get(g, "", a.consoleHome)
	get(g, "/", a.consoleHome)
	a.consoleTenantRoutes(g)
	a.consoleImpersonateRoutes(g)
	a.consoleMigrationRoutes(g)
	a.consoleFleetRoutes(g)
	a.consoleUsageRoutes(g)
}

// consoleHome serves GET /platform/admin: the tenants.
func (a *Admin) consoleHome(c echo.Context) error { return a.tenantList(c) }
