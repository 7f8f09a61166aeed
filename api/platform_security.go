package api

import "github.com/labstack/echo/v4"

// platformSecurityRoutes registers GET /platform/security-events.
func (s *Server) platformSecurityRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {}
