package admin

import "github.com/labstack/echo/v4"

func (a *Admin) tokenRoutes(g *echo.Group) {}
