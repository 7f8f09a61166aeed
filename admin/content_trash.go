package admin

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// trashPage lists the trashed items (GET /api/trash), newest first, with
// restore and purge.
type trashPage struct {
	Items         []*item
	Collection    string
	Collections   []*collection
	RetentionDays int
}

func (a *Admin) trashPage(c echo.Context) error {
	cl := a.client(c, sessionOf(c).Token)
	t := &trashPage{Collection: c.QueryParam("collection")}
	t.Collections, _ = cl.collections()
	q := url.Values{"limit": {"200"}}
	if t.Collection != "" {
		q.Set("collection", t.Collection)
	}
	var out struct {
		Data []*item `json:"data"`
		Meta struct {
			RetentionDays int `json:"retention_days"`
		} `json:"meta"`
	}
	if err := cl.get("/api/trash", q, &out); err != nil {
		return err
	}
	t.Items, t.RetentionDays = out.Data, out.Meta.RetentionDays
	return a.render(c, http.StatusOK, "content/trash", &Page{Title: "Trash", Nav: "content", Data: t})
}

func (a *Admin) trashRestore(c echo.Context) error {
	id := c.Param("id")
	cl := a.client(c, sessionOf(c).Token)
	if err := cl.json(http.MethodPost, "/api/trash/"+escape(id)+"/restore", nil, nil); err != nil {
		return err
	}
	return a.done(c, "/admin/content/"+url.PathEscape(id), "Restored from the trash.")
}

func (a *Admin) trashPurge(c echo.Context) error {
	id := c.Param("id")
	cl := a.client(c, sessionOf(c).Token)
	if err := cl.json(http.MethodDelete, "/api/trash/"+escape(id), nil, nil); err != nil {
		return err
	}
	return a.done(c, "/admin/trash", "Deleted for good.")
}
