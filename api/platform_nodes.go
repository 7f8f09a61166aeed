package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// platformNodeRoutes registers GET /platform/nodes.
func (s *Server) platformNodeRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {
	e.Match(readMethods, "/platform/nodes", with(s.listNodes, admin))
}

// listNodes serves GET /platform/nodes: every registered node by region
// and id, each with its health (up, stale or stopped), as {"data": [...]}.
func (s *Server) listNodes(c echo.Context) error {
	nodes, err := s.catalog.Nodes(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": nodes})
}
