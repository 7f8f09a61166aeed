package admin

import "github.com/labstack/echo/v4"

func (a *Admin) contentRoutes(g *echo.Group) {}
