package admin

import "github.com/labstack/echo/v4"

func (a *Admin) pluginRoutes(g *echo.Group) {}
