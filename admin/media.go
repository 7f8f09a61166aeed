package admin

import "github.com/labstack/echo/v4"

func (a *Admin) mediaRoutes(g *echo.Group) {}
