package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// Self-service sign-up (serve --signup) on the platform host: a visitor
// picks a subdomain (checked as they type), names the site, gives an
// email and a password, opens the link mailed to them, and lands signed
// in to the new tenant's admin (signup_welcome.go). The pages call the
// public sign-up API (api/signup.go), which does every check.

// SignupPath is where the sign-up pages live, on the console's path.
const SignupPath = ConsolePath + "/signup"

// API paths of sign-up (api.SignupPath and friends; admin does not
// import api).
const (
	apiSignup       = "/platform/signup"
	apiSignupCheck  = apiSignup + "/check"
	apiSignupVerify = apiSignup + "/verify"
)

// signupRoutes registers the sign-up pages on the console's group, ahead
// of its session check: a visitor has no account. Without --signup they
// answer 404 (registered anyway, so the console's catch-all does not send
// the visitor to its sign-in page).
func (a *Admin) signupRoutes(g *echo.Group) {
	if !a.signup {
		g.Any("/signup", a.notFound)
		g.Any("/signup/*", a.notFound)
		return
	}
	get(g, "/signup", a.signupPage)
	g.POST("/signup", a.signupSubmit)
	get(g, "/signup/check", a.signupCheck)
	get(g, "/signup/sent", a.signupSent)
	get(g, "/signup/verify", a.signupVerifyPage)
	g.POST("/signup/verify", a.signupVerifySubmit)
}

func (a *Admin) notFound(c echo.Context) error {
	return a.fail(c, http.StatusNotFound, "There is no such page.")
}

// signupCSRFExempt lets through, without this host's CSRF token, the
// routes that carry their own credential or that only answer 404: the
// hand-over of a signed-up admin's session (welcomeEnter), which comes
// from the platform host; and, without --signup, the sign-up paths.
func (a *Admin) signupCSRFExempt(c echo.Context) bool {
	p := c.Path()
	return p == TenantPath+"/welcome" || (!a.signup && (p == SignupPath || strings.HasPrefix(p, SignupPath+"/")))
}

// signupForm is the sign-up form's data.
type signupForm struct {
	Subdomain, Name, Email string
	BaseDomain             string
	Check                  *subdomainCheck // the live check's last answer, if any
}

// subdomainCheck is GET /platform/signup/check's answer.
type subdomainCheck struct {
	Subdomain string `json:"subdomain"`
	Status    string `json:"status"`
	Available bool   `json:"available"`
	Host      string `json:"host"`
	Message   string `json:"message"`
}

func (a *Admin) signupFormPage(c echo.Context, f signupForm) *Page {
	f.BaseDomain = a.baseDomain(c.Request().Context())
	return &Page{Title: "Create your site", Nav: "signup", Data: f}
}

func (a *Admin) signupPage(c echo.Context) error {
	return a.render(c, http.StatusOK, "signup/form", a.signupFormPage(c, signupForm{Subdomain: strings.TrimSpace(c.QueryParam("subdomain"))}))
}

// signupCheck answers the live availability check: the status fragment
// for htmx, else the whole form with it (JavaScript off: the form's
// "Check" button).
func (a *Admin) signupCheck(c echo.Context) error {
	sub := strings.TrimSpace(c.QueryParam("subdomain"))
	var out struct {
		Data subdomainCheck `json:"data"`
	}
	if err := a.client(c, "").get(apiSignupCheck, url.Values{"subdomain": {sub}}, &out); err != nil {
		return err
	}
	f := signupForm{Subdomain: sub, Name: c.QueryParam("name"), Email: c.QueryParam("email")}
	if sub != "" {
		f.Check = &out.Data
	}
	p := a.signupFormPage(c, f)
	if c.Request().Header.Get("HX-Request") == "true" {
		return a.renderFragment(c, http.StatusOK, "signup/form", "signup-status", p)
	}
	return a.render(c, http.StatusOK, "signup/form", p)
}

// signupSubmit sends the form to POST /platform/signup: on a refusal the
// form again with the API's messages beside the fields; else the page
// that says to read the mail.
func (a *Admin) signupSubmit(c echo.Context) error {
	f := signupForm{Subdomain: strings.TrimSpace(c.FormValue("subdomain")), Name: strings.TrimSpace(c.FormValue("name")),
		Email: strings.TrimSpace(c.FormValue("email"))}
	var out struct {
		Data struct {
			Email     string `json:"email"`
			Subdomain string `json:"subdomain"`
		} `json:"data"`
	}
	err := a.client(c, "").json(http.MethodPost, apiSignup, map[string]string{"subdomain": f.Subdomain, "name": f.Name,
		"email": f.Email, "password": c.FormValue("password")}, &out)
	if err != nil {
		return a.renderError(c, "signup/form", a.signupFormPage(c, f), err)
	}
	q := url.Values{"email": {out.Data.Email}, "subdomain": {out.Data.Subdomain}}
	return c.Redirect(http.StatusSeeOther, SignupPath+"/sent?"+q.Encode())
}

// signupSentData is what the "check your mail" page shows.
type signupSentData struct {
	Email, Host string
}

func (a *Admin) signupSent(c echo.Context) error {
	d := signupSentData{Email: c.QueryParam("email")}
	if sub := c.QueryParam("subdomain"); sub != "" {
		d.Host = sub + "." + a.baseDomain(c.Request().Context())
	}
	return a.render(c, http.StatusOK, "signup/sent", &Page{Title: "Check your email", Nav: "signup", Data: d})
}

// signupVerifyPage is where the mailed link lands. It creates nothing:
// mail scanners open links, so the visitor confirms with a button (a
// POST), which spends the link.
func (a *Admin) signupVerifyPage(c echo.Context) error {
	tok := c.QueryParam("token")
	if tok == "" {
		return a.fail(c, http.StatusBadRequest, "This link has no token: copy the whole link from the mail.")
	}
	return a.render(c, http.StatusOK, "signup/verify", &Page{Title: "Create your site", Nav: "signup", Data: signupVerifyData{Token: tok}})
}

type signupVerifyData struct {
	Token string
}

// signupReady is the hand-over page's data: the new admin's session, to
// post to the tenant's host.
type signupReady struct {
	TenantID, TenantName string
	AdminURL, WelcomeURL string
	Token, RefreshToken  string
}

// signupVerifySubmit spends the link through POST /platform/signup/verify
// and hands the new admin's session to the tenant's host: a form posting
// it to <tenant>/admin/welcome, sent by signup.js at once, or by the
// visitor's click with JavaScript off. The page's CSP lets forms post to
// that origin only.
func (a *Admin) signupVerifySubmit(c echo.Context) error {
	tok := c.FormValue("token")
	var out struct {
		Data struct {
			Tenant struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"tenant"`
			AdminURL     string `json:"admin_url"`
			WelcomeURL   string `json:"welcome_url"`
			Token        string `json:"token"`
			RefreshToken string `json:"refresh_token"`
		} `json:"data"`
	}
	err := a.client(c, "").json(http.MethodPost, apiSignupVerify, map[string]string{"token": tok}, &out)
	if err != nil {
		return a.renderError(c, "signup/verify", &Page{Title: "Create your site", Nav: "signup", Data: signupVerifyData{Token: tok}}, err)
	}
	d := out.Data
	origin, err := originOf(d.WelcomeURL)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", withFormAction(contentSecurityPolicy, "'self' "+origin))
	// The tenant's host checks that the hand-over comes from this host:
	// let the browser say so (the server's default sends no referrer, and
	// then a cross-origin POST's Origin is "null").
	h.Set("Referrer-Policy", "origin")
	return a.render(c, http.StatusCreated, "signup/ready", &Page{Title: "Your site is ready", Nav: "signup", Data: signupReady{
		TenantID: d.Tenant.ID, TenantName: d.Tenant.Name, AdminURL: d.AdminURL, WelcomeURL: d.WelcomeURL,
		Token: d.Token, RefreshToken: d.RefreshToken}})
}

// withFormAction is the policy csp with its form-action directive set to
// sources (added if csp has none).
func withFormAction(csp, sources string) string {
	parts := strings.Split(csp, ";")
	for i, p := range parts {
		if f := strings.Fields(p); len(f) > 0 && f[0] == "form-action" {
			parts[i] = " form-action " + sources
			return strings.TrimSpace(strings.Join(parts, ";"))
		}
	}
	return strings.TrimRight(strings.TrimSpace(csp), ";") + "; form-action " + sources
}

// originOf is scheme://host[:port] of an absolute http(s) URL.
func originOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &APIError{Status: http.StatusBadGateway, Code: "bad_welcome_url", Message: "the new site's address is not a URL"}
	}
	return u.Scheme + "://" + u.Host, nil
}
