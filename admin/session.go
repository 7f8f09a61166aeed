package admin

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Cookie names. The tenant admin's cookies are scoped to /admin on the
// tenant's host, the console's to /platform/admin: neither is sent to the
// JSON API (which reads no cookie anyway) nor to the other admin.
const (
	tenantCookie  = "condo_admin"         // the tenant user's access JWT
	refreshCookie = "condo_admin_refresh" // its refresh token
	consoleCookie = "condo_console"       // the platform admin's JWT
	flashCookie   = "condo_flash"         // one message for the next page
)

// session is who is signed in to an admin page, as /auth/me (or the
// console's token) says.
type session struct {
	Token        string
	UserID       string
	Email        string
	Name         string
	Role         string
	Permissions  []string
	Impersonator string // the platform admin impersonating, if any
	// ImpersonatorEmail is that admin's email, for the banner.
	ImpersonatorEmail string
	Console           bool // a platform admin in the console
}

// Can reports whether the session holds perm (the console holds all).
func (s *session) Can(perm string) bool {
	if s.Console {
		return true
	}
	for _, p := range s.Permissions {
		if p == perm {
			return true
		}
	}
	return false
}

const ctxSession = "admin.session"

func sessionOf(c echo.Context) *session {
	s, _ := c.Get(ctxSession).(*session)
	return s
}

// setCookie sets a host-only cookie on path: HttpOnly, SameSite=Lax,
// Secure when the page was asked for over TLS (directly or, as on Fly.io,
// through a proxy that says so). maxAge 0 makes it a session cookie;
// negative deletes it.
func setCookie(c echo.Context, name, value, path string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: isTLS(c)})
}

func clearCookie(c echo.Context, name, path string) { setCookie(c, name, "", path, -1) }

func isTLS(c echo.Context) bool { return c.Scheme() == "https" }

// csrf is echo's double-submit CSRF middleware for forms under path: the
// token in a cookie scoped to path and in each form's _csrf field (or the
// X-CSRF-Token header htmx sends). Browsers that send Sec-Fetch-Site are
// also checked by it. Two instances, so the cookie is Secure behind TLS.
func (a *Admin) csrf(path string) echo.MiddlewareFunc {
	build := func(secure bool) echo.MiddlewareFunc {
		return middleware.CSRFWithConfig(middleware.CSRFConfig{
			// The impersonation and sign-up hand-overs come from the
			// console's host and carry their own credential
			// (impersonateEnter, welcomeEnter).
			Skipper:     func(c echo.Context) bool { return c.Path() == TenantPath+"/impersonate" || a.signupCSRFExempt(c) },
			TokenLookup: "form:_csrf,header:X-CSRF-Token", CookieName: "condo_csrf", CookiePath: path,
			CookieHTTPOnly: true, CookieSameSite: http.SameSiteLaxMode, CookieSecure: secure,
			ErrorHandler: func(err error, c echo.Context) error {
				return a.fail(c, http.StatusForbidden, "This form has expired or did not come from this site. Go back, reload the page and try again.")
			},
		})
	}
	plain, secure := build(false), build(true)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		p, s := plain(next), secure(next)
		return func(c echo.Context) error {
			if isTLS(c) {
				return s(c)
			}
			return p(c)
		}
	}
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get("csrf").(string)
	return t
}

// tenantSessionRoutes registers signing in and out of the tenant admin,
// and the pages a signed-out visitor may reach.
func (a *Admin) tenantSessionRoutes(g *echo.Group) {
	get(g, "/brand.css", a.brandCSS)
	get(g, "/login", a.loginPage)
	g.POST("/login", a.loginSubmit)
	g.POST("/logout", a.logout)
	g.POST("/impersonate", a.impersonateEnter)
	a.recoveryRoutes(g)
}

func (a *Admin) loginPage(c echo.Context) error {
	if _, err := c.Cookie(tenantCookie); err == nil {
		if s, _ := a.tenantSession(c); s != nil {
			return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next"), TenantPath))
		}
	}
	return a.render(c, http.StatusOK, "login", &Page{Title: "Sign in", Data: loginForm{Next: c.QueryParam("next")}})
}

type loginForm struct {
	Email, Next string
}

// loginSubmit signs in through POST /auth/login and keeps the session in
// the admin's cookies.
func (a *Admin) loginSubmit(c echo.Context) error {
	form := loginForm{Email: strings.TrimSpace(c.FormValue("email")), Next: c.FormValue("next")}
	var out struct {
		Token        string    `json:"token"`
		RefreshToken string    `json:"refresh_token"`
		ExpiresAt    time.Time `json:"expires_at"`
	}
	err := a.client(c, "").json(http.MethodPost, "/auth/login", map[string]string{"email": form.Email, "password": c.FormValue("password")}, &out)
	if err != nil {
		return a.renderError(c, "login", &Page{Title: "Sign in", Data: form}, err)
	}
	a.keepTenantSession(c, out.Token, out.RefreshToken)
	return c.Redirect(http.StatusSeeOther, safeNext(form.Next, TenantPath))
}

func (a *Admin) keepTenantSession(c echo.Context, token, refresh string) {
	setCookie(c, tenantCookie, token, TenantPath, 0)
	if refresh != "" {
		setCookie(c, refreshCookie, refresh, TenantPath, int(30*24*time.Hour/time.Second))
	} else {
		clearCookie(c, refreshCookie, TenantPath)
	}
}

// logout ends the session on the server (its refresh token) and in the
// browser.
func (a *Admin) logout(c echo.Context) error {
	if ck, err := c.Cookie(refreshCookie); err == nil && ck.Value != "" {
		// Best effort: the cookies go whatever the API says.
		a.client(c, "").json(http.MethodPost, "/auth/logout", map[string]string{"refresh_token": ck.Value}, nil)
	}
	clearCookie(c, tenantCookie, TenantPath)
	clearCookie(c, refreshCookie, TenantPath)
	return c.Redirect(http.StatusSeeOther, TenantPath+"/login")
}

// impersonateEnter takes the impersonation token the console's form posts
// across to the tenant's host and makes it this browser's session there.
// The token is the credential (a platform admin's, short-lived, without a
// refresh token), so this form has no CSRF token of this host: the
// middleware is told to let it through only with a token that /auth/me
// accepts as an impersonation.
func (a *Admin) impersonateEnter(c echo.Context) error {
	tok := c.FormValue("token")
	s, err := a.me(c, tok)
	if err != nil || s.Impersonator == "" {
		return a.fail(c, http.StatusUnauthorized, "This impersonation link has expired. Start again from the platform console.")
	}
	a.keepTenantSession(c, tok, "")
	return c.Redirect(http.StatusSeeOther, TenantPath)
}

// requireTenantSession lets a page through with a signed-in user of the
// request's tenant (refreshing an expiring access token on the way), else
// sends the browser to the sign-in page and back.
func (a *Admin) requireTenantSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, err := a.tenantSession(c)
		if e := apiError(err); err != nil && (e == nil || e.Status >= 500) {
			return err // the server's trouble, not the session's: it stays
		}
		if s == nil {
			clearCookie(c, tenantCookie, TenantPath)
			return a.toLogin(c, TenantPath+"/login")
		}
		c.Set(ctxSession, s)
		return next(c)
	}
}

// tenantSession reads the session cookies: nil without a valid session.
func (a *Admin) tenantSession(c echo.Context) (*session, error) {
	ck, err := c.Cookie(tenantCookie)
	if err != nil || ck.Value == "" {
		return nil, nil // no cookie: signed out
	}
	tok := ck.Value
	if a.expiring(tok) {
		rf, err := c.Cookie(refreshCookie)
		if err != nil || rf.Value == "" {
			return nil, nil // expiring without a way to refresh: signed out
		}
		pair, err := a.refresher.refresh(rf.Value, func() (tokenPair, error) {
			var out tokenPair
			err := a.client(c, "").json(http.MethodPost, "/auth/refresh", map[string]string{"refresh_token": rf.Value}, &out)
			return out, err
		})
		if err != nil {
			return nil, err
		}
		a.keepTenantSession(c, pair.Token, pair.RefreshToken)
		tok = pair.Token
	}
	return a.me(c, tok)
}

// me asks the API who tok is.
func (a *Admin) me(c echo.Context, tok string) (*session, error) {
	var out struct {
		Data struct {
			Kind           string   `json:"kind"`
			Role           string   `json:"role"`
			Permissions    []string `json:"permissions"`
			ImpersonatedBy string   `json:"impersonated_by"`
			ImpersonatorAt string   `json:"impersonated_by_email"`
			User           *struct {
				ID    string `json:"id"`
				Email string `json:"email"`
				Name  string `json:"name"`
			} `json:"user"`
		} `json:"data"`
	}
	if err := a.client(c, tok).get("/auth/me", nil, &out); err != nil {
		return nil, err
	}
	s := &session{Token: tok, Role: out.Data.Role, Permissions: out.Data.Permissions, Impersonator: out.Data.ImpersonatedBy,
		ImpersonatorEmail: out.Data.ImpersonatorAt}
	if u := out.Data.User; u != nil {
		s.UserID, s.Email, s.Name = u.ID, u.Email, u.Name
	}
	return s, nil
}

// expiring reports whether tok's expiry is under a minute away (or
// unreadable). It only decides when to refresh: the API verifies.
func (a *Admin) expiring(tok string) bool {
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil || claims.ExpiresAt == nil {
		return true
	}
	return claims.ExpiresAt.Time.Sub(a.now()) < time.Minute
}

// toLogin sends the browser to the sign-in page at login, coming back to
// the page it asked for. htmx requests are told to load it whole.
func (a *Admin) toLogin(c echo.Context, login string) error {
	target := login
	if c.Request().Method == http.MethodGet {
		target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", target)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// safeNext is next where it is a path of this admin, else fallback: a
// sign-in page must not send anyone to another site.
func safeNext(next, fallback string) string {
	if !strings.HasPrefix(next, fallback) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return fallback
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return fallback
	}
	return next
}

// flash keeps msg for the next page this browser loads under path.
func flash(c echo.Context, path, msg string) {
	setCookie(c, flashCookie, url.QueryEscape(msg), path, 60)
}

// takeFlash returns and clears the message a previous page left.
func takeFlash(c echo.Context, path string) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	clearCookie(c, flashCookie, path)
	msg, _ := url.QueryUnescape(ck.Value)
	return msg
}
