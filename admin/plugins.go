package admin

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// pluginRoutes registers the plugins pages: the list (enabled or not,
// what the plan allows), enable and disable, and each plugin's settings,
// a form built from its settings schema.
func (a *Admin) pluginRoutes(g *echo.Group) {
	get(g, "/plugins", a.pluginsPage)
	get(g, "/plugins/:name", a.pluginPage)
	g.POST("/plugins/:name", a.pluginSave)
	g.POST("/plugins/:name/enable", a.pluginToggle(true))
	g.POST("/plugins/:name/disable", a.pluginToggle(false))
}

// pluginStatus is one plugin as GET /api/plugins lists it.
type pluginStatus struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Hooks       []string        `json:"hooks"`
	Routes      []string        `json:"routes"`
	Schema      json.RawMessage `json:"settings_schema"`
	Enabled     bool            `json:"enabled"`
	Allowed     *bool           `json:"allowed"` // nil: the API did not say (GET /api/plugins/:name)
	Settings    json.RawMessage `json:"settings"`
	UpdatedAt   *time.Time      `json:"updated_at"`
}

// InPlan reports whether the tenant's plan lets it enable the plugin.
func (p pluginStatus) InPlan() bool { return p.Allowed == nil || *p.Allowed }

type pluginsData struct {
	Plugins []pluginStatus
	Plan    string
}

func (a *Admin) pluginsPage(c echo.Context) error {
	var out struct {
		Data []pluginStatus `json:"data"`
		Meta struct {
			Plan string `json:"plan"`
		} `json:"meta"`
	}
	if err := a.client(c, sessionOf(c).Token).get("/api/plugins", nil, &out); err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "plugins/list", &Page{Title: "Plugins", Nav: "plugins", Data: &pluginsData{Plugins: out.Data, Plan: out.Meta.Plan}})
}

// pluginToggle enables or disables a plugin (PUT /api/plugins/:name
// {"enabled": on}); the plan's refusal comes back as the API says it.
func (a *Admin) pluginToggle(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("name")
		err := a.client(c, sessionOf(c).Token).json(http.MethodPut, joinPath("api", "plugins", name), map[string]any{"enabled": on}, nil)
		if err != nil {
			// A refusal (the plan's) is told on the list; no such plugin
			// is a 404 page.
			if e := apiError(err); e != nil && e.Status < 500 && e.Status != http.StatusNotFound {
				flash(c, TenantPath, "Could not change "+name+": "+e.Message)
				return c.Redirect(http.StatusSeeOther, TenantPath+"/plugins")
			}
			return err
		}
		msg := "Plugin " + name + " enabled."
		if !on {
			msg = "Plugin " + name + " disabled."
		}
		return a.done(c, TenantPath+"/plugins", msg)
	}
}

type pluginData struct {
	Plugin pluginStatus
	Fields []settingField
}

func (a *Admin) plugin(c echo.Context) (pluginStatus, error) {
	var out struct {
		Data pluginStatus `json:"data"`
	}
	err := a.client(c, sessionOf(c).Token).get(joinPath("api", "plugins", c.Param("name")), nil, &out)
	return out.Data, err
}

func (a *Admin) pluginPage(c echo.Context) error {
	p, err := a.plugin(c)
	if err != nil {
		return err
	}
	fields, err := settingFields(p.Schema, p.Settings, nil)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "plugins/edit", &Page{Title: p.Name + " settings", Nav: "plugins", Data: &pluginData{Plugin: p, Fields: fields}})
}

// pluginSave stores a plugin's settings from the form (and its enabled
// box): PUT /api/plugins/:name, whose field errors go beside the inputs.
func (a *Admin) pluginSave(c echo.Context) error {
	p, err := a.plugin(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return a.fail(c, http.StatusBadRequest, "The form could not be read.")
	}
	settings, bad, err := settingsFromForm(p.Schema, form)
	if err != nil {
		return err
	}
	page := &Page{Title: p.Name + " settings", Nav: "plugins"}
	posted, _ := json.Marshal(settings)
	if len(bad) > 0 {
		fields, _ := settingFields(p.Schema, posted, bad)
		page.Data = &pluginData{Plugin: p, Fields: fields}
		page.Error = &APIError{Status: http.StatusBadRequest, Code: "validation_failed", Message: "Some settings need fixing."}
		return a.render(c, http.StatusBadRequest, "plugins/edit", page)
	}
	in := map[string]any{"settings": settings, "enabled": form.Get("enabled") != ""}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPut, joinPath("api", "plugins", p.Name), in, nil); err != nil {
		e := apiError(err)
		if e == nil || e.Status >= 500 {
			return err
		}
		fields, _ := settingFields(p.Schema, posted, e.Fields)
		p.Enabled = form.Get("enabled") != ""
		page.Data = &pluginData{Plugin: p, Fields: fields}
		page.Error = &APIError{Status: e.Status, Code: e.Code, Message: e.Message}
		return a.render(c, e.Status, "plugins/edit", page)
	}
	return a.done(c, TenantPath+"/plugins/"+escape(p.Name), "Settings of "+p.Name+" saved.")
}
