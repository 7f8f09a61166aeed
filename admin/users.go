package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// userRoutes registers users, invitations and roles.
func (a *Admin) userRoutes(g *echo.Group) {
	get(g, "/users", a.usersList)
	g.POST("/users/invite", a.usersInvite)
	g.POST("/users/invitations/:id/revoke", a.usersRevoke)
	g.POST("/users/:id/role", a.usersRole)
	g.POST("/users/:id/active", a.usersActive)
	get(g, "/users/:id/delete", a.usersDeletePage)
	g.POST("/users/:id/delete", a.usersDelete)
	a.roleRoutes(g)
}

// usersPageSize is how many users a page of the list shows.
const usersPageSize = 50

// user is one user as GET /api/users answers it.
type user struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	FirstName   string     `json:"first_name"`
	LastName    string     `json:"last_name"`
	Role        string     `json:"role"`
	Active      bool       `json:"is_active"`
	LastLoginAt *time.Time `json:"last_login_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Name is the user's full name ("" without one).
func (u *user) Name() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// invitation is one pending invitation.
type invitation struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	InvitedBy string    `json:"invited_by"`
	ExpiresAt time.Time `json:"expires_at"`
	CreatedAt time.Time `json:"created_at"`
}

// role is one role as GET /api/roles answers it.
type role struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
	OwnOnly     bool     `json:"own_content_only"`
	BuiltIn     bool     `json:"built_in"`
}

// Has reports whether the role holds perm.
func (r role) Has(perm string) bool {
	for _, p := range r.Permissions {
		if p == perm {
			return true
		}
	}
	return false
}

// usersData is the users page's Data.
type usersData struct {
	Query       string
	Users       []*user
	Total       int
	Invitations []*invitation
	Roles       []role
	Invite      struct{ Email, Role string }
	Prev, Next  string // page links, "" for none
	Me          string // the signed-in user's id: no deactivating or deleting oneself here
	CanCreate   bool
	CanUpdate   bool
	CanDelete   bool
}

// usersList serves GET /admin/users.
func (a *Admin) usersList(c echo.Context) error {
	p, err := a.usersPage(c)
	if err != nil {
		return a.peopleFail(c, err)
	}
	return a.render(c, http.StatusOK, "users/list", p)
}

// usersPage reads the users, the pending invitations and the roles.
func (a *Admin) usersPage(c echo.Context) (*Page, error) {
	s := sessionOf(c)
	cl := a.client(c, s.Token)
	d := &usersData{Query: strings.TrimSpace(c.QueryParam("q")), Me: s.UserID,
		CanCreate: s.Can("users.create"), CanUpdate: s.Can("users.update"), CanDelete: s.Can("users.delete")}
	var users struct {
		Data []*user `json:"data"`
		Meta struct {
			Total int `json:"total"`
		} `json:"meta"`
	}
	offset, _ := strconv.Atoi(c.QueryParam("offset"))
	offset = max(offset, 0)
	q := url.Values{"limit": {strconv.Itoa(usersPageSize)}, "offset": {strconv.Itoa(offset)}}
	if d.Query != "" {
		q.Set("q", d.Query)
	}
	if err := cl.get("/api/users", q, &users); err != nil {
		return nil, err
	}
	d.Users, d.Total = users.Data, users.Meta.Total
	link := func(offset int) string {
		v := url.Values{}
		if d.Query != "" {
			v.Set("q", d.Query)
		}
		if offset > 0 {
			v.Set("offset", strconv.Itoa(offset))
		}
		if len(v) == 0 {
			return TenantPath + "/users"
		}
		return TenantPath + "/users?" + v.Encode()
	}
	if offset > 0 {
		d.Prev = link(max(offset-usersPageSize, 0))
	}
	if offset+len(users.Data) < users.Meta.Total {
		d.Next = link(offset + usersPageSize)
	}
	var invs struct {
		Data []*invitation `json:"data"`
	}
	if err := cl.get("/api/invitations", nil, &invs); err != nil {
		return nil, err
	}
	d.Invitations = invs.Data
	roles, _, err := a.rolesRead(c)
	if err != nil {
		return nil, err
	}
	d.Roles = roles
	d.Invite.Role = "editor"
	return &Page{Title: "Users", Nav: "users", Data: d}, nil
}

// rolesRead reads the roles and every permission there is.
func (a *Admin) rolesRead(c echo.Context) ([]role, []string, error) {
	var out struct {
		Data []role `json:"data"`
		Meta struct {
			Permissions []string `json:"permissions"`
		} `json:"meta"`
	}
	err := a.client(c, sessionOf(c).Token).get("/api/roles", nil, &out)
	return out.Data, out.Meta.Permissions, err
}

// usersFormError renders the users page again with the API's refusal of
// one of its forms.
func (a *Admin) usersFormError(c echo.Context, err error, fill func(*usersData)) error {
	p, perr := a.usersPage(c)
	if perr != nil {
		return a.peopleFail(c, err)
	}
	if fill != nil {
		fill(p.Data.(*usersData))
	}
	return a.renderError(c, "users/list", p, err)
}

// usersInvite serves POST /admin/users/invite: {email, role} to POST
// /api/invitations, which mails the invitation (through the outbox).
func (a *Admin) usersInvite(c echo.Context) error {
	email, roleName := strings.TrimSpace(c.FormValue("email")), c.FormValue("role")
	err := a.client(c, sessionOf(c).Token).json(http.MethodPost, "/api/invitations", map[string]string{"email": email, "role": roleName}, nil)
	if err != nil {
		return a.usersFormError(c, err, func(d *usersData) { d.Invite.Email, d.Invite.Role = email, roleName })
	}
	return a.done(c, TenantPath+"/users", "Invitation sent to "+email+".")
}

// usersRevoke serves POST /admin/users/invitations/:id/revoke.
func (a *Admin) usersRevoke(c echo.Context) error {
	if _, err := a.client(c, sessionOf(c).Token).do(http.MethodDelete, joinPath("api", "invitations", c.Param("id")), "", nil); err != nil {
		return a.usersFormError(c, err, nil)
	}
	return a.done(c, TenantPath+"/users", "Invitation withdrawn.")
}

// usersPatch sends PATCH /api/users/:id with in.
func (a *Admin) usersPatch(c echo.Context, in map[string]any, msg string) error {
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPatch, joinPath("api", "users", c.Param("id")), in, nil); err != nil {
		return a.usersFormError(c, err, nil)
	}
	return a.done(c, TenantPath+"/users", msg)
}

// usersRole serves POST /admin/users/:id/role.
func (a *Admin) usersRole(c echo.Context) error {
	return a.usersPatch(c, map[string]any{"role": c.FormValue("role")}, "Role changed.")
}

// usersActive serves POST /admin/users/:id/active: active=true
// reactivates, anything else deactivates (the user's sessions end with
// it: the API refuses an inactive user's tokens).
func (a *Admin) usersActive(c echo.Context) error {
	on := c.FormValue("active") == "true"
	msg := "User deactivated."
	if on {
		msg = "User reactivated."
	}
	return a.usersPatch(c, map[string]any{"is_active": on}, msg)
}

// usersFetch reads the user of the path's id.
func (a *Admin) usersFetch(c echo.Context) (*user, error) {
	var out struct {
		Data *user `json:"data"`
	}
	err := a.client(c, sessionOf(c).Token).get(joinPath("api", "users", c.Param("id")), nil, &out)
	return out.Data, err
}

// usersDeletePage serves GET /admin/users/:id/delete: a confirmation.
func (a *Admin) usersDeletePage(c echo.Context) error {
	u, err := a.usersFetch(c)
	if err != nil {
		return a.peopleFail(c, err)
	}
	return a.render(c, http.StatusOK, "users/delete", &Page{Title: "Delete " + u.Email, Nav: "users", Data: u})
}

// usersDelete serves POST /admin/users/:id/delete.
func (a *Admin) usersDelete(c echo.Context) error {
	if _, err := a.client(c, sessionOf(c).Token).do(http.MethodDelete, joinPath("api", "users", c.Param("id")), "", nil); err != nil {
		return a.usersFormError(c, err, nil)
	}
	return a.done(c, TenantPath+"/users", "User deleted.")
}

// recoveryRoutes registers the signed-out pages: forgotten password,
// password reset, accepting an invitation.
func (a *Admin) recoveryRoutes(g *echo.Group) {
	get(g, "/forgot", a.forgotPage)
	g.POST("/forgot", a.forgotSubmit)
	get(g, "/reset", a.resetPage)
	g.POST("/reset", a.resetSubmit)
	get(g, "/invitations/:token", a.acceptPage)
	g.POST("/invitations/:token", a.acceptSubmit)
}
