package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/move"
)

// platformMoveRoutes registers the platform's move routes and the
// node-to-node endpoint a move's target receives it on.
func (s *Server) platformMoveRoutes(e *echo.Echo, admin echo.MiddlewareFunc) {
	e.POST("/platform/tenants/:id/move", with(s.startMove, admin))
	e.Match(readMethods, "/platform/tenants/:id/moves", with(s.listMoves, admin))
	e.Match(readMethods, "/platform/moves/:id", with(s.getMove, admin))
	e.Match(readMethods, "/platform/jobs", with(s.listJobs, admin))
	e.PUT(move.NodePath+":id/:part", with(s.receiveMove, s.requireNode))
	e.POST(move.NodePath+":id/:op", with(s.moveOp, s.requireNode))
}

// isNodePath reports a node-to-node path: its bodies are a tenant's
// database and media, bounded by the upload timeout, not the body limit.
func isNodePath(p string) bool { return strings.HasPrefix(p, "/_condo/nodes/") }

func (s *Server) mover() (*move.Mover, error) {
	if s.jobs == nil || s.jobs.Mover() == nil {
		return nil, errNoJobs
	}
	return s.jobs.Mover(), nil
}

// requireNode lets through only requests signed by a node of the fleet
// (move.Sign, with the catalog's shared secret).
func (s *Server) requireNode(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		key, err := s.nodeSecret.Key(r.Context())
		if err != nil {
			return err
		}
		if err := move.Verify(key, r.Method, r.URL.Path, r.Header.Get(move.NodeHeader)); err != nil {
			return err
		}
		return next(c)
	}
}

// startMove serves POST /platform/tenants/:id/move {"region": R}: it
// records the move and answers 202 with it; the tenant's home node runs
// it, and GET /platform/moves/:id follows it.
func (s *Server) startMove(c echo.Context) error {
	var in struct {
		Region   string `json:"region"`
		Location string `json:"location"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_json", "the body must be a JSON object such as {\"region\": \"fra\"}")
	}
	if s.jobs == nil {
		return errNoJobs
	}
	m, err := s.jobs.RequestMove(c.Request().Context(), c.Param("id"), in.Region, in.Location)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/platform/moves/"+m.ID)
	return c.JSON(http.StatusAccepted, map[string]any{"data": m})
}

// getMove serves GET /platform/moves/:id.
func (s *Server) getMove(c echo.Context) error {
	m, err := s.catalog.Move(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": m})
}

// listMoves serves GET /platform/tenants/:id/moves, newest first.
func (s *Server) listMoves(c echo.Context) error {
	if err := condo.ValidateTenantID(c.Param("id")); err != nil {
		return err
	}
	moves, err := s.catalog.Moves(c.Request().Context(), catalog.MoveFilter{TenantID: c.Param("id")})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": moves})
}

// receiveMove serves PUT /_condo/nodes/moves/:id/:part on the target.
func (s *Server) receiveMove(c echo.Context) error {
	mv, err := s.mover()
	if err != nil {
		return err
	}
	sum, err := mv.Receive(c.Request().Context(), c.Param("id"), c.Param("part"), c.Request().Body)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"file": sum})
}

// moveOp serves POST /_condo/nodes/moves/:id/verify, .../install and
// .../abort.
func (s *Server) moveOp(c echo.Context) error {
	mv, err := s.mover()
	if err != nil {
		return err
	}
	ctx, id := c.Request().Context(), c.Param("id")
	switch c.Param("op") {
	case "verify":
		var in struct{ Full bool }
		json.NewDecoder(c.Request().Body).Decode(&in)
		sums, err := mv.VerifyCopy(ctx, id, in.Full)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, sums)
	case "abort":
		if err := mv.Abort(ctx, id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	case "install":
		if err := mv.Install(ctx, id); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
	return condo.ReasonErrorf(condo.ENOTFOUND, "not_found", "no such operation")
}

// listJobs serves GET /platform/jobs?limit=&kind=&tenant=: fleet
// migration runs, tenant moves and tenant lifecycle operations (archive,
// restore, import, delete, restore-backup...), newest first, each with
// its state and progress.
func (s *Server) listJobs(c echo.Context) error {
	limit, err := condo.IntParam(c.QueryParams(), "limit", 50, 1, 1000)
	if err != nil {
		return err
	}
	f := catalog.JobFilter{Kind: c.QueryParam("kind"), TenantID: c.QueryParam("tenant"), Limit: limit}
	if f.TenantID != "" {
		if err := condo.ValidateTenantID(f.TenantID); err != nil {
			return err
		}
	}
	if f.Kind != "" && !catalog.IsJobKind(f.Kind) {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_kind", "kind is one of %s", strings.Join(catalog.JobKinds, ", "))
	}
	jobs, err := s.catalog.FindJobs(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": jobs})
}
