package admin

import "github.com/labstack/echo/v4"

func (a *Admin) userRoutes(g *echo.Group) {}

// recoveryRoutes registers the signed-out pages: forgotten password,
// password reset, accepting an invitation.
func (a *Admin) recoveryRoutes(g *echo.Group) {}
