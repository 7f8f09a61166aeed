package api

import "github.com/labstack/echo/v4"

// platformTenantRoutes registers the platform's tenant and domain routes.
func (s *Server) platformTenantRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {}
