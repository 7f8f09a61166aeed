package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

func (a *Admin) consoleMigrationRoutes(g *echo.Group) {
	get(g, "/migrations", a.migrationsPage)
	g.POST("/migrations/run", a.migrationStart)
	get(g, "/migrations/runs/:id", a.migrationRunPage)
	get(g, "/migrations/runs/:id/progress", a.migrationProgress)
}

// runForm is the form that starts a fleet run.
type runForm struct {
	Direction, To, Concurrency, Canary, MaxFailures string
}

type migrationsData struct {
	Status *migrationStatus
	// Unavailable says why there is no status: a server without jobs.
	Unavailable string
	Live        *migrationRun // the running run, if one is
	Form        runForm
}

// migrationsPage serves GET /platform/admin/migrations: GET
// /platform/migrations (the fleet's schema versions, problem tenants and
// recent runs) and the form that starts a run.
func (a *Admin) migrationsPage(c echo.Context) error {
	return a.showMigrations(c, nil, runForm{Direction: "up"})
}

func (a *Admin) showMigrations(c echo.Context, err error, f runForm) error {
	var out struct {
		Data migrationStatus `json:"data"`
	}
	d := &migrationsData{Form: f}
	p := &Page{Title: "Fleet migrations", Nav: "migrations", Data: d}
	if gerr := a.client(c, sessionOf(c).Token).get("/platform/migrations", nil, &out); errorCode(gerr) == "jobs_unavailable" {
		d.Unavailable = gerr.Error()
	} else if gerr != nil {
		if err == nil {
			err = gerr
		}
	} else {
		d.Status = &out.Data
		for i := range d.Status.Runs {
			if d.Status.Runs[i].Running() {
				d.Live = &d.Status.Runs[i]
				break
			}
		}
	}
	if err != nil {
		return a.renderError(c, "console/migrations", p, err)
	}
	return a.render(c, http.StatusOK, "console/migrations", p)
}

// migrationStart serves POST /platform/admin/migrations/run: POST
// /platform/migrations/run with the form's options (empty ones take the
// defaults of `condo migrate up`), then the run's page.
func (a *Admin) migrationStart(c echo.Context) error {
	f := runForm{Direction: c.FormValue("direction"), To: strings.TrimSpace(c.FormValue("to")), Concurrency: strings.TrimSpace(c.FormValue("concurrency")),
		Canary: strings.TrimSpace(c.FormValue("canary")), MaxFailures: strings.TrimSpace(c.FormValue("max_failures"))}
	body := map[string]any{}
	if f.Direction != "" {
		body["direction"] = f.Direction
	}
	for name, v := range map[string]string{"to": f.To, "concurrency": f.Concurrency, "canary": f.Canary, "max_failures": f.MaxFailures} {
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return a.showMigrations(c, &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid_" + name,
				Message: "Check the run's options.", Fields: map[string]string{name: "A whole number, please."}}, f)
		}
		body[name] = n
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPost, "/platform/migrations/run", body, &out); err != nil {
		return a.showMigrations(c, withField(err, "to", "concurrency", "canary", "max_failures", "direction"), f)
	}
	return a.done(c, ConsolePath+"/migrations/runs/"+escape(out.ID), "Fleet migration started.")
}

func (a *Admin) migrationRun(c echo.Context) (*migrationRun, error) {
	var out struct {
		Data migrationRun `json:"data"`
	}
	if err := a.client(c, sessionOf(c).Token).get("/platform/migrations/runs/"+escape(c.Param("id")), nil, &out); err != nil {
		return nil, err
	}
	return &out.Data, nil
}

// migrationRunPage serves GET /platform/admin/migrations/runs/:id.
func (a *Admin) migrationRunPage(c echo.Context) error {
	run, err := a.migrationRun(c)
	if err != nil {
		if e := apiError(err); e != nil && e.Status == http.StatusNotFound {
			return a.fail(c, http.StatusNotFound, "There is no such migration run.")
		}
		return err
	}
	return a.render(c, http.StatusOK, "console/migration_run", &Page{Title: "Migration run " + run.ID, Nav: "migrations", Data: run})
}

// migrationProgress serves the run's progress fragment, which htmx polls
// every second while the run is running (it stops polling once the
// fragment it gets back no longer asks to).
func (a *Admin) migrationProgress(c echo.Context) error {
	run, err := a.migrationRun(c)
	if err != nil {
		if e := apiError(err); e != nil && e.Status < 500 {
			return c.NoContent(e.Status)
		}
		return err
	}
	return a.renderFragment(c, http.StatusOK, "console/migration_run", "progress-fragment", &Page{Data: run})
}
