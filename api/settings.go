package api

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
)

func (s *Server) settingsRoutes() {
	s.tenantRoute(http.MethodGet, "/api/settings", s.getSettings, auth.SettingsRead)
	s.tenantRoute(http.MethodPut, "/api/settings", s.putSettings, auth.SettingsUpdate)
	s.tenantRoute(http.MethodGet, "/api/audit", s.listAudit, auth.AuditRead)
}

// tenantSettings is the body of GET and PUT /api/settings. auth holds the
// identity rules, general is the tenant's own free-form configuration
// (site name, locale, ...), branding is public (GET /api/tenant shows it).
type tenantSettings struct {
	Auth     json.RawMessage `json:"auth,omitempty"`
	General  json.RawMessage `json:"general,omitempty"`
	Branding json.RawMessage `json:"branding,omitempty"`
	CORS     json.RawMessage `json:"cors,omitempty"` // null: the server's policy (see cors.go)
}

const generalKey = "general"

// maxSettingsDepth bounds the nesting of general and branding: they are
// small configuration objects, and must stay well within what SQLite's
// JSON functions take.
const maxSettingsDepth = 100

// settingsBody is the answer of GET /api/settings. Its bytes are what the
// settings' ETag is made of, so GET and the precondition of PUT build it
// the same way.
func settingsBody(a auth.Settings, general json.RawMessage, t *catalog.Tenant) ([]byte, error) {
	out := tenantSettings{Branding: t.Branding, General: json.RawMessage("{}"), CORS: tenantCORS(t)}
	out.Auth, _ = json.Marshal(a)
	if general != nil {
		out.General = general
	}
	return json.Marshal(map[string]any{"data": out})
}

// getSettings serves GET /api/settings with a strong ETag of its body.
// Branding and CORS are read from the catalog, not the request's cached tenant, so
// that every process tags the same settings alike.
func (s *Server) getSettings(c echo.Context) error {
	var body []byte
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		a, err := st.Settings(ctx)
		if err != nil {
			return err
		}
		g, err := st.Setting(ctx, generalKey)
		if err != nil {
			return err
		}
		t, err := s.catalog.Tenant(ctx, tenantOf(c).ID)
		if err != nil {
			return err
		}
		body, err = settingsBody(a, g, t)
		return err
	})
	if err != nil {
		return err
	}
	setCacheControl(c, privateNoStore)
	return writeTagged(c, http.StatusOK, etagOf(body), body)
}

// putSettings serves PUT /api/settings: the fields of auth given change,
// general and branding present replace the stored ones, absent sections
// stay. Everything is validated before anything is written. It runs in
// one write transaction of the tenant's database, where If-Match (the
// ETag of GET's body) and If-Unmodified-Since are checked against the
// settings as they are, so two editors cannot overwrite each other
// unknowingly.
func (s *Server) putSettings(c echo.Context) error {
	var in tenantSettings
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	for name, v := range map[string]json.RawMessage{"general": in.General, "branding": in.Branding} {
		if v != nil && (len(v) == 0 || v[0] != '{' || len(v) > catalog.MaxBranding) {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_settings", "%s must be a JSON object of at most %d bytes", name, catalog.MaxBranding)
		}
		if cms.TooDeep(v, maxSettingsDepth) != nil {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_settings", "%s must nest at most %d levels deep", name, maxSettingsDepth)
		}
	}
	if in.CORS != nil {
		var err error
		if in.CORS, err = parseCORS(in.CORS); err != nil {
			return err
		}
	}
	pre := preconditionOf(c)
	t := tenantOf(c)
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		return st.UpdateSettings(ctx, func(tx auth.SettingsTx) error {
			a, authAt, err := tx.Settings(ctx)
			if err != nil {
				return err
			}
			g, generalAt, err := tx.Setting(ctx, generalKey)
			if err != nil {
				return err
			}
			cur, err := s.catalog.Tenant(ctx, t.ID)
			if err != nil {
				return err
			}
			body, err := settingsBody(a, g, cur)
			if err != nil {
				return err
			}
			modified := slices.MaxFunc([]time.Time{authAt, generalAt, cur.UpdatedAt}, time.Time.Compare)
			if err := pre.check(c, "the settings", etagOf(body), 0, modified); err != nil {
				return err
			}
			if in.Auth != nil {
				dec := json.NewDecoder(bytes.NewReader(in.Auth))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&a); err != nil {
					return condo.ReasonErrorf(condo.EINVALID, "invalid_settings", "invalid auth settings: %v", err)
				}
				if err := st.ValidateSettings(ctx, a); err != nil {
					return err
				}
				// Whoever sets who may sign up, and as what, grants that role.
				if err := s.grantableRole(c, ctx, st, a.DefaultRole); err != nil {
					return err
				}
				if err := tx.SaveSettings(ctx, a); err != nil {
					return err
				}
			}
			if in.General != nil {
				if err := tx.SetSetting(ctx, generalKey, in.General); err != nil {
					return err
				}
			}
			// The catalog's branding and CORS last, once the tenant's
			// writes have been made: only the commit can still fail after.
			if in.Branding != nil {
				if _, err := s.catalog.UpdateTenant(ctx, t.ID, catalog.TenantUpdate{Branding: in.Branding}); err != nil {
					return err
				}
			}
			if in.CORS != nil {
				if _, err := s.catalog.SetTenantSetting(ctx, t.ID, corsSetting, in.CORS); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "settings.updated", "", in)
	t, err = s.catalog.Tenant(c.Request().Context(), t.ID)
	if err != nil {
		return err
	}
	c.Set(ctxTenant, t)
	return s.getSettings(c)
}

// listAudit serves GET /api/audit?category=&action=&actor=&since=&until=&before=&limit=:
// since and until are RFC 3339 times or dates (2026-12-01, midnight UTC).
func (s *Server) listAudit(c echo.Context) error {
	limit, err := condo.IntParam(c.QueryParams(), "limit", 50, 1, 1000)
	if err != nil {
		return err
	}
	before, err := condo.IntParam(c.QueryParams(), "before", 0, 0, math.MaxInt)
	if err != nil {
		return err
	}
	f := auth.EventFilter{Category: c.QueryParam("category"), Action: c.QueryParam("action"), Actor: c.QueryParam("actor"),
		Before: int64(before), Limit: limit}
	for name, at := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		v := c.QueryParam(name)
		if v == "" {
			continue
		}
		if *at, err = time.Parse(time.RFC3339, v); err != nil {
			if *at, err = time.Parse(time.DateOnly, v); err != nil {
				return condo.ReasonErrorf(condo.EINVALID, "invalid_query", "%s is an RFC 3339 time or a date (2006-01-02)", name)
			}
		}
	}
	var events []auth.Event
	err = s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		events, err = st.Events(ctx, f)
		return err
	})
	if err != nil {
		return err
	}
	meta := map[string]any{}
	if len(events) > 0 {
		meta["next_before"] = events[len(events)-1].ID
	}
	return c.JSON(http.StatusOK, map[string]any{"data": events, "meta": meta})
}
