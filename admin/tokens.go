package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// tokenRoutes registers the API and libSQL tokens page: list, create
// (the secret shown once), revoke.
func (a *Admin) tokenRoutes(g *echo.Group) {
	get(g, "/tokens", a.tokensPage)
	g.POST("/tokens", a.tokenCreate)
	g.POST("/tokens/:id/revoke", a.tokenRevoke)
}

// tokenRow is a token as GET /api/tokens lists it (never its secret).
type tokenRow struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"`
	UserID      string     `json:"user_id"`
	Operator    bool       `json:"operator"`
	Permissions []string   `json:"permissions"`
	ExpiresAt   *time.Time `json:"expires_at"`
	LastUsedAt  *time.Time `json:"last_used_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

// SQL reports whether the token is a libSQL credential only.
func (t tokenRow) SQL() bool {
	for _, p := range t.Permissions {
		if !strings.HasPrefix(p, "sql.") {
			return false
		}
	}
	return len(t.Permissions) > 0
}

// Expired reports whether the token's expiry has passed.
func (t tokenRow) Expired() bool { return t.ExpiresAt != nil && t.ExpiresAt.Before(time.Now()) }

// tokenForm is the create form as sent, kept when the API refuses it.
type tokenForm struct {
	Name, Access, Expires, ExpiresOn string
	Permissions                      []string
}

// tokenChoice is one choice of what a token may do.
type tokenChoice struct{ Value, Label, Hint string }

// tokenAccess are the form's choices of what a token may do.
var tokenAccess = []tokenChoice{
	{"all", "Everything you can do", "Your own permissions, except managing tokens."},
	{"read", "Read only", "Your permissions that only read."},
	{"sql-read", "libSQL: read", "SQL reads on the site's database over the libSQL protocol (sql.read)."},
	{"sql-write", "libSQL: read and write", "SQL reads and writes over the libSQL protocol (sql.read, sql.write)."},
	{"custom", "Chosen permissions", "Only the permissions ticked below."},
}

// tokenExpiries are the form's expiry choices, in days ("" never).
var tokenExpiries = []struct{ Value, Label string }{
	{"", "Never"}, {"7", "In 7 days"}, {"30", "In 30 days"}, {"90", "In 90 days"}, {"365", "In a year"}, {"date", "On a date…"},
}

type tokensData struct {
	Tokens      []tokenRow
	Form        tokenForm
	Access      []tokenChoice
	Expiries    any
	Permissions []string // what the signed-in user could grant
	Created     *createdToken
	Origin      string
}

// createdToken is a token just made: its secret, shown this once.
type createdToken struct {
	tokenRow
	Token string `json:"token"`
}

func (a *Admin) tokensData(c echo.Context, form tokenForm) (*tokensData, error) {
	var out struct {
		Data []tokenRow `json:"data"`
	}
	if err := a.client(c, sessionOf(c).Token).get("/api/tokens", nil, &out); err != nil {
		return nil, err
	}
	if form.Access == "" {
		form.Access = "all"
	}
	var perms []string
	for _, p := range sessionOf(c).Permissions {
		if p != "tokens.manage" && p != "sql.owner" {
			perms = append(perms, p)
		}
	}
	access := append([]tokenChoice{}, tokenAccess[:2]...)
	for _, r := range a.tokenRoles(c) {
		access = append(access, tokenChoice{Value: "role:" + r.Name, Label: "The permissions of the " + r.Name + " role", Hint: strings.Join(r.Permissions, ", ")})
	}
	access = append(access, tokenAccess[2:]...)
	return &tokensData{Tokens: out.Data, Form: form, Access: access, Expiries: tokenExpiries, Permissions: perms, Origin: cfgOrigin(c)}, nil
}

// tokenRole is a role whose permissions a token can take: the ones the
// signed-in user holds all of (the API refuses more), without managing
// tokens.
type tokenRole struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

// tokenRoles lists the roles (GET /api/roles) the session could give a
// token, other than admin (that is "everything you can do").
func (a *Admin) tokenRoles(c echo.Context) []tokenRole {
	s := sessionOf(c)
	if !s.Can("users.read") {
		return nil
	}
	var out struct {
		Data []tokenRole `json:"data"`
	}
	if a.client(c, s.Token).get("/api/roles", nil, &out) != nil {
		return nil
	}
	var roles []tokenRole
	for _, r := range out.Data {
		var perms []string
		held := r.Name != "admin"
		for _, p := range r.Permissions {
			if p == "tokens.manage" || p == "sql.owner" {
				continue
			}
			held = held && s.Can(p)
			perms = append(perms, p)
		}
		if held && len(perms) > 0 {
			roles = append(roles, tokenRole{Name: r.Name, Permissions: perms})
		}
	}
	return roles
}

func (a *Admin) tokensPage(c echo.Context) error {
	d, err := a.tokensData(c, tokenForm{})
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "tokens/list", &Page{Title: "Tokens", Nav: "tokens", Data: d})
}

// tokenCreate makes a token through POST /api/tokens and shows its
// secret on the answer itself, never stored nor sent again.
func (a *Admin) tokenCreate(c echo.Context) error {
	form := tokenForm{Name: strings.TrimSpace(c.FormValue("name")), Access: c.FormValue("access"), Expires: c.FormValue("expires"),
		ExpiresOn: c.FormValue("expires_on")}
	if v, err := c.FormParams(); err == nil {
		form.Permissions = v["permissions"]
	}
	in := map[string]any{"name": form.Name}
	switch form.Access {
	case "read":
		in["read_only"] = true
	case "sql-read":
		in["permissions"] = []string{"sql.read"}
	case "sql-write":
		in["permissions"] = []string{"sql.read", "sql.write"}
	case "custom":
		in["permissions"] = append([]string{}, form.Permissions...)
	default:
		if name, ok := strings.CutPrefix(form.Access, "role:"); ok {
			in["permissions"] = []string{} // an unknown role: the API says a token needs one
			for _, r := range a.tokenRoles(c) {
				if r.Name == name {
					in["permissions"] = r.Permissions
				}
			}
		}
	}
	switch {
	case form.Expires == "date":
		// The end of the day chosen, in UTC.
		day, err := time.Parse(time.DateOnly, form.ExpiresOn)
		if err != nil {
			d, lerr := a.tokensData(c, form)
			if lerr != nil {
				return lerr
			}
			return a.render(c, http.StatusBadRequest, "tokens/list", &Page{Title: "Tokens", Nav: "tokens", Data: d,
				Error: &APIError{Status: http.StatusBadRequest, Code: "invalid_expiry", Message: "Choose the day the token expires.",
					Fields: map[string]string{"expires_on": "a date like 2027-06-30"}}})
		}
		in["expires_at"] = day.Add(24*time.Hour - time.Second).UTC().Format(time.RFC3339)
	case form.Expires != "":
		days, err := strconv.Atoi(form.Expires)
		if err != nil {
			days = -1 // the API explains the range
		}
		in["expires_in_days"] = days
	}
	cl := a.client(c, sessionOf(c).Token)
	var out struct {
		Data createdToken `json:"data"`
	}
	err := cl.json(http.MethodPost, "/api/tokens", in, &out)
	d, lerr := a.tokensData(c, form)
	if lerr != nil {
		return lerr
	}
	page := &Page{Title: "Tokens", Nav: "tokens", Data: d}
	if err != nil {
		return a.renderError(c, "tokens/list", page, err)
	}
	d.Created, d.Form = &out.Data, tokenForm{Access: "all"}
	cfgNoStore(c)
	return a.render(c, http.StatusOK, "tokens/list", page)
}

// tokenRevoke revokes one of the tenant's tokens (DELETE /api/tokens/:id).
func (a *Admin) tokenRevoke(c echo.Context) error {
	err := a.client(c, sessionOf(c).Token).json(http.MethodDelete, joinPath("api", "tokens", c.Param("id")), nil, nil)
	if err != nil {
		return err
	}
	return a.done(c, TenantPath+"/tokens", "Token revoked.")
}
