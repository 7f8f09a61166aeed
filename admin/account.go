package admin

import "github.com/labstack/echo/v4"

func (a *Admin) accountRoutes(g *echo.Group) {}
