package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// The signed-out pages: a forgotten password, its reset with the token
// the mail links to (/admin/reset?token=...), and accepting an invitation
// (/admin/invitations/<token>, the link of the invitation mail). The
// access log blanks a route's :token parameter, and logs no query, so
// neither token is written to it.

// recoveryForm is what these pages' forms hold.
type recoveryForm struct {
	Email, Token, FirstName, LastName string
	Role                              string // the invitation's
	Sent                              bool   // the forgot form was sent
}

func (a *Admin) forgotPage(c echo.Context) error {
	return a.render(c, http.StatusOK, "recovery/forgot", &Page{Title: "Forgotten password", Data: recoveryForm{}})
}

// forgotSubmit serves POST /admin/forgot: POST /auth/password/forgot,
// which answers the same whether or not the address has an account, and
// so does this page.
func (a *Admin) forgotSubmit(c echo.Context) error {
	form := recoveryForm{Email: strings.TrimSpace(c.FormValue("email"))}
	p := &Page{Title: "Forgotten password", Data: form}
	if err := a.client(c, "").json(http.MethodPost, "/auth/password/forgot", map[string]string{"email": form.Email}, nil); err != nil {
		return a.renderError(c, "recovery/forgot", p, err)
	}
	form.Sent = true
	p.Data = form
	return a.render(c, http.StatusOK, "recovery/forgot", p)
}

func (a *Admin) resetPage(c echo.Context) error {
	return a.render(c, http.StatusOK, "recovery/reset", &Page{Title: "Choose a new password", Data: recoveryForm{Token: c.QueryParam("token")}})
}

// resetSubmit serves POST /admin/reset: POST /auth/password/reset, then
// the sign-in page (every session of the user has ended).
func (a *Admin) resetSubmit(c echo.Context) error {
	form := recoveryForm{Token: strings.TrimSpace(c.FormValue("token"))}
	p := &Page{Title: "Choose a new password", Data: form}
	password := c.FormValue("password")
	if err := passwordsMatch(password, c.FormValue("password_confirm")); err != nil {
		return a.renderError(c, "recovery/reset", p, err)
	}
	err := a.client(c, "").json(http.MethodPost, "/auth/password/reset", map[string]string{"token": form.Token, "password": password}, nil)
	if err != nil {
		return a.renderError(c, "recovery/reset", p, resetError(err))
	}
	return a.done(c, TenantPath+"/login", "Your password is changed: sign in with it.")
}

// resetError puts the API's refusal of a reset beside the field it is
// about.
func resetError(err error) error {
	e := apiError(err)
	if e == nil || len(e.Fields) > 0 {
		return err
	}
	switch e.Code {
	case "weak_password":
		e.Fields = map[string]string{"password": e.Message}
	case "invalid_reset_token":
		e.Fields = map[string]string{"token": e.Message}
	}
	return e
}

func passwordsMatch(password, confirm string) error {
	if password == confirm {
		return nil
	}
	const msg = "The two passwords are not the same."
	return &APIError{Status: http.StatusBadRequest, Code: "password_mismatch", Message: msg, Fields: map[string]string{"password_confirm": msg}}
}

// acceptPage serves GET /admin/invitations/:token: who is invited, as
// what (GET /auth/invitations/:token), and the form to accept.
func (a *Admin) acceptPage(c echo.Context) error {
	form, err := a.invitationOf(c)
	if err != nil {
		return a.invitationGone(c, err)
	}
	return a.render(c, http.StatusOK, "recovery/accept", &Page{Title: "Accept the invitation", Data: form})
}

// invitationOf reads the pending invitation of the path's token.
func (a *Admin) invitationOf(c echo.Context) (recoveryForm, error) {
	var out struct {
		Data struct {
			Role string `json:"role"`
		} `json:"data"`
	}
	err := a.client(c, "").get(joinPath("auth", "invitations", c.Param("token")), nil, &out)
	return recoveryForm{Token: c.Param("token"), Role: out.Data.Role}, err
}

// invitationGone answers a link whose invitation cannot be accepted.
func (a *Admin) invitationGone(c echo.Context, err error) error {
	if e := apiError(err); e != nil && e.Status == http.StatusNotFound {
		return a.fail(c, http.StatusNotFound, "This invitation link has been used, withdrawn or has expired. Ask whoever invited you for a new one.")
	}
	return a.peopleFail(c, err)
}

// acceptSubmit serves POST /admin/invitations/:token: POST
// /auth/invitations/:token/accept creates the user and signs them in,
// and the session is kept like a sign-in's.
func (a *Admin) acceptSubmit(c echo.Context) error {
	form, err := a.invitationOf(c)
	if err != nil {
		return a.invitationGone(c, err)
	}
	form.FirstName, form.LastName = strings.TrimSpace(c.FormValue("first_name")), strings.TrimSpace(c.FormValue("last_name"))
	p := &Page{Title: "Accept the invitation", Data: form}
	password := c.FormValue("password")
	if err := passwordsMatch(password, c.FormValue("password_confirm")); err != nil {
		return a.renderError(c, "recovery/accept", p, err)
	}
	var out tokenPair
	err = a.client(c, "").json(http.MethodPost, joinPath("auth", "invitations", form.Token, "accept"),
		map[string]string{"password": password, "first_name": form.FirstName, "last_name": form.LastName}, &out)
	if err != nil {
		return a.renderError(c, "recovery/accept", p, resetError(err))
	}
	a.keepTenantSession(c, out.Token, out.RefreshToken)
	return a.done(c, TenantPath, "Welcome: your account is ready.")
}
