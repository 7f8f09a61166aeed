package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// roleRoutes registers the roles page: what each role may do, and the
// tenant's custom roles (PUT and DELETE /api/roles/:name).
func (a *Admin) roleRoutes(g *echo.Group) {
	get(g, "/users/roles", a.rolesList)
	g.POST("/users/roles", a.roleSave)
	get(g, "/users/roles/:name", a.roleEdit)
	g.POST("/users/roles/:name/delete", a.roleDelete)
}

// roleForm is the custom role form.
type roleForm struct {
	Name, Description string
	Permissions       []string
	OwnOnly           bool
	Existing          bool // editing a role that exists: its name stays
}

// rolesData is the roles page's Data.
type rolesData struct {
	Roles       []role
	Permissions []string
	Form        roleForm
	Manage      bool // settings.update: may save and delete custom roles
}

func (a *Admin) rolesPage(c echo.Context, form roleForm) (*Page, error) {
	roles, perms, err := a.rolesRead(c)
	if err != nil {
		return nil, err
	}
	return &Page{Title: "Roles", Nav: "users", Data: &rolesData{Roles: roles, Permissions: perms, Form: form,
		Manage: sessionOf(c).Can("settings.update")}}, nil
}

// rolesList serves GET /admin/users/roles.
func (a *Admin) rolesList(c echo.Context) error {
	p, err := a.rolesPage(c, roleForm{})
	if err != nil {
		return a.peopleFail(c, err)
	}
	return a.render(c, http.StatusOK, "users/roles", p)
}

// roleEdit serves GET /admin/users/roles/:name: the form filled with a
// custom role.
func (a *Admin) roleEdit(c echo.Context) error {
	p, err := a.rolesPage(c, roleForm{})
	if err != nil {
		return a.peopleFail(c, err)
	}
	d := p.Data.(*rolesData)
	for _, r := range d.Roles {
		if r.Name == c.Param("name") && !r.BuiltIn {
			d.Form = roleForm{Name: r.Name, Description: r.Description, Permissions: r.Permissions, OwnOnly: r.OwnOnly, Existing: true}
			p.Title = "Role " + r.Name
			return a.render(c, http.StatusOK, "users/roles", p)
		}
	}
	return a.fail(c, http.StatusNotFound, "There is no custom role of this name.")
}

// roleSave serves POST /admin/users/roles: PUT /api/roles/:name.
func (a *Admin) roleSave(c echo.Context) error {
	form := roleForm{Name: strings.TrimSpace(c.FormValue("name")), Description: strings.TrimSpace(c.FormValue("description")),
		OwnOnly: c.FormValue("own_content_only") == "on", Existing: c.FormValue("existing") == "true"}
	if v, err := c.FormParams(); err == nil {
		form.Permissions = v["permissions"]
	}
	if form.Permissions == nil {
		form.Permissions = []string{}
	}
	if form.Name == "" {
		return a.roleRefused(c, form, &APIError{Status: http.StatusBadRequest, Code: "missing_fields", Message: "Name the role.",
			Fields: map[string]string{"name": "Name the role."}})
	}
	in := map[string]any{"description": form.Description, "permissions": form.Permissions, "own_content_only": form.OwnOnly}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPut, joinPath("api", "roles", form.Name), in, nil); err != nil {
		return a.roleRefused(c, form, err)
	}
	return a.done(c, TenantPath+"/users/roles", "Role "+form.Name+" saved.")
}

func (a *Admin) roleRefused(c echo.Context, form roleForm, err error) error {
	p, perr := a.rolesPage(c, form)
	if perr != nil {
		return a.peopleFail(c, err)
	}
	return a.renderError(c, "users/roles", p, err)
}

// roleDelete serves POST /admin/users/roles/:name/delete.
func (a *Admin) roleDelete(c echo.Context) error {
	if _, err := a.client(c, sessionOf(c).Token).do(http.MethodDelete, joinPath("api", "roles", c.Param("name")), "", nil); err != nil {
		return a.roleRefused(c, roleForm{}, err)
	}
	return a.done(c, TenantPath+"/users/roles", "Role deleted.")
}
