package api

import (
	"context"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
)

// userRoutes registers the tenant's user and role management.
func (s *Server) userRoutes() {
	s.tenantRoute(http.MethodGet, "/api/users", s.listUsers, auth.UsersRead)
	s.tenantRoute(http.MethodPost, "/api/users", s.createUser, auth.UsersCreate)
	s.tenantRoute(http.MethodGet, "/api/users/:id", s.getUser, auth.UsersRead)
	s.tenantRoute(http.MethodPatch, "/api/users/:id", s.updateUser, auth.UsersUpdate)
	s.tenantRoute(http.MethodDelete, "/api/users/:id", s.deleteUser, auth.UsersDelete)
	s.tenantRoute(http.MethodGet, "/api/roles", s.listRoles, auth.UsersRead)
	s.tenantRoute(http.MethodPut, "/api/roles/:name", s.putRole, auth.SettingsUpdate)
	s.tenantRoute(http.MethodDelete, "/api/roles/:name", s.deleteRole, auth.SettingsUpdate)
}

// grantable refuses to hand out a role (or a token scope) with a
// permission the principal lacks, so nobody can raise themselves or
// anyone else above their own rights.
func grantable(c echo.Context, perms auth.Perms) error {
	if p := principalOf(c); !p.Perms.Contains(perms) {
		return condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "you cannot grant permissions you do not hold: %v", (perms &^ p.Perms).Names())
	}
	return nil
}

func (s *Server) grantableRole(c echo.Context, ctx context.Context, st *auth.Store, name string) error {
	r, err := st.Role(ctx, name)
	if err != nil {
		return err
	}
	return grantable(c, r.Permissions)
}

func (s *Server) listUsers(c echo.Context) error {
	limit, err := condo.IntParam(c.QueryParams(), "limit", 50, 1, 1000)
	if err != nil {
		return err
	}
	offset, err := condo.IntParam(c.QueryParams(), "offset", 0, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	f := auth.UserFilter{Query: c.QueryParam("q"), Role: c.QueryParam("role"), Limit: limit, Offset: offset}
	var users []*auth.User
	var total int
	err = s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		users, total, err = st.Users(ctx, f)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": users, "meta": map[string]int{"total": total, "limit": limit, "offset": offset}})
}

func (s *Server) createUser(c echo.Context) error {
	var in struct {
		credentials
		Role string `json:"role"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("email", in.Email, "password", in.Password); err != nil {
		return err
	}
	var u *auth.User
	err := s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		lim, err := limits(c, ctx, st)
		if err != nil {
			return err
		}
		if in.Role == "" {
			in.Role = auth.RoleViewer
		}
		if err := s.grantableRole(c, ctx, st, in.Role); err != nil {
			return err
		}
		u, err = st.CreateUser(ctx, auth.NewUser{Email: in.Email, Password: in.Password, FirstName: in.FirstName, LastName: in.LastName, Role: in.Role}, lim)
		return err
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "user.created", u.ID, map[string]any{"email": u.Email, "role": u.Role})
	return c.JSON(http.StatusCreated, map[string]any{"data": u})
}

func (s *Server) getUser(c echo.Context) error {
	var u *auth.User
	err := s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		u, err = st.User(ctx, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": u})
}

func (s *Server) updateUser(c echo.Context) error {
	var in struct {
		FirstName *string `json:"first_name"`
		LastName  *string `json:"last_name"`
		Role      *string `json:"role"`
		Active    *bool   `json:"is_active"`
		Password  *string `json:"password"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	var u *auth.User
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		lim, err := limits(c, ctx, st)
		if err != nil {
			return err
		}
		cur, err := st.User(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		// Changing a user's role, or anything of a user who outranks you,
		// needs every permission involved.
		if err := s.grantableRole(c, ctx, st, cur.Role); err != nil {
			return err
		}
		if in.Role != nil {
			if err := s.grantableRole(c, ctx, st, *in.Role); err != nil {
				return err
			}
		}
		u, err = st.UpdateUser(ctx, cur.ID, auth.UserUpdate{FirstName: in.FirstName, LastName: in.LastName, Role: in.Role,
			Active: in.Active, Password: in.Password}, lim.Policy)
		return err
	})
	if err != nil {
		return err
	}
	detail := map[string]any{}
	if in.Role != nil {
		detail["role"] = *in.Role
	}
	if in.Active != nil {
		detail["is_active"] = *in.Active
	}
	if in.Password != nil {
		detail["password"] = "changed"
	}
	s.audit(c, auth.CategoryAudit, "user.updated", u.ID, detail)
	return c.JSON(http.StatusOK, map[string]any{"data": u})
}

func (s *Server) deleteUser(c echo.Context) error {
	var email string
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		cur, err := st.User(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		if err := s.grantableRole(c, ctx, st, cur.Role); err != nil {
			return err
		}
		email = cur.Email
		return st.DeleteUser(ctx, cur.ID)
	})
	if err != nil {
		return err
	}
	// The only write outside cms that changes what content reads answer:
	// the user's items lose their author.
	s.content.Invalidate(tenantOf(c).ID)
	s.audit(c, auth.CategoryAudit, "user.deleted", c.Param("id"), map[string]any{"email": email})
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) listRoles(c echo.Context) error {
	var roles []auth.Role
	err := s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		roles, err = st.Roles(ctx)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": roles, "meta": map[string]any{"permissions": auth.AllPermissions}})
}

// putRole serves PUT /api/roles/:name: {description, permissions,
// own_content_only} creates or replaces a custom role.
func (s *Server) putRole(c echo.Context) error {
	var in struct {
		Description string   `json:"description"`
		Permissions []string `json:"permissions"`
		OwnOnly     bool     `json:"own_content_only"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	perms, err := auth.PermsOf(in.Permissions...)
	if err != nil {
		return err
	}
	if err := grantable(c, perms); err != nil {
		return err
	}
	var r auth.Role
	err = s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		// Redefining a role changes what its holders may do: the caller
		// must hold what the role had as well as what it gets.
		if old, err := st.Role(ctx, c.Param("name")); err == nil {
			if err := grantable(c, old.Permissions); err != nil {
				return err
			}
		}
		r, err = st.PutRole(ctx, auth.Role{Name: c.Param("name"), Description: in.Description, Permissions: perms, OwnOnly: in.OwnOnly})
		return err
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "role.saved", r.Name, map[string]any{"permissions": r.Permissions})
	return c.JSON(http.StatusOK, map[string]any{"data": r})
}

func (s *Server) deleteRole(c echo.Context) error {
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		if err := s.grantableRole(c, ctx, st, c.Param("name")); err != nil && condo.ErrorCode(err) == condo.EFORBIDDEN {
			return err
		}
		return st.DeleteRole(ctx, c.Param("name"))
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "role.deleted", c.Param("name"), nil)
	return c.NoContent(http.StatusNoContent)
}
