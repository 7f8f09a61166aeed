package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// collectionRoutes registers the collections pages: the list, creating
// one, editing its field schema (as a form of rows, or as JSON) and
// deleting it.
func (a *Admin) collectionRoutes(g *echo.Group) {
	get(g, "/collections", a.collectionsPage)
	get(g, "/collections/new", a.collectionNewPage)
	g.POST("/collections/new", a.collectionCreate)
	get(g, "/collections/:name", a.collectionEditPage)
	g.POST("/collections/:name", a.collectionUpdate)
	g.POST("/collections/:name/schema", a.collectionSchemaJSON)
	g.POST("/collections/:name/delete", a.collectionDelete)
}

// collection is a collection as GET /api/collections answers it.
type collection struct {
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name"`
	Description string          `json:"description"`
	Public      bool            `json:"public"`
	Schema      json.RawMessage `json:"schema"`
	Cache       cachePolicy     `json:"cache"`
	Version     int             `json:"version"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// cachePolicy is how long shared caches keep a collection's public reads
// (nil: the server's default).
type cachePolicy struct {
	MaxAge *int `json:"max_age,omitempty"`
	Stale  *int `json:"stale_while_revalidate,omitempty"`
}

// FieldCount is how many top-level fields the schema has.
func (c *collection) FieldCount() int {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	json.Unmarshal(c.Schema, &s)
	return len(s.Properties)
}

// Label is the collection's display name, else its name.
func (c *collection) Label() string {
	if c.DisplayName != "" {
		return c.DisplayName
	}
	return c.Name
}

func (cl *client) collections() ([]*collection, error) {
	var out struct {
		Data []*collection `json:"data"`
	}
	err := cl.get("/api/collections", nil, &out)
	return out.Data, err
}

func (cl *client) collection(name string) (*collection, error) {
	var out struct {
		Data *collection `json:"data"`
	}
	if err := cl.get("/api/collections/"+escape(name), nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

func (a *Admin) collectionsPage(c echo.Context) error {
	cols, err := a.client(c, sessionOf(c).Token).collections()
	if err != nil {
		return a.renderError(c, "collections/list", &Page{Title: "Collections", Nav: "collections"}, err)
	}
	return a.render(c, http.StatusOK, "collections/list", &Page{Title: "Collections", Nav: "collections", Data: cols})
}

// collectionForm is the create and edit page's data.
type collectionForm struct {
	New         bool
	Name        string
	DisplayName string
	Description string
	Public      bool
	MaxAge      string // the cache policy's seconds, as typed ("" for the default)
	Stale       string
	Rows        []*fieldRow
	JSON        string // the schema as JSON, for the expert form
	Types       []fieldType
	Collections []*collection // what a reference may point to
	// CanEdit and CanDelete say what the session may do (the API refuses
	// anyway).
	CanEdit, CanDelete bool
	Focus              string // the prefix of a row just added, for autofocus
}

// Constraint groups, by the types they apply to (for the template).
func (f *collectionForm) RangeTypes() string   { return rangeTypes }
func (f *collectionForm) LengthTypes() string  { return lengthTypes }
func (f *collectionForm) CountTypes() string   { return countTypes }
func (f *collectionForm) PatternTypes() string { return patternTypes }
func (f *collectionForm) OptionTypes() string  { return optionTypes }
func (f *collectionForm) IndexTypes() string   { return indexTypes }
func (f *collectionForm) DefaultTypes() string { return defaultTypes }

func (a *Admin) collectionNewPage(c echo.Context) error {
	s := sessionOf(c)
	cols, _ := a.client(c, s.Token).collections()
	form := &collectionForm{New: true, Rows: []*fieldRow{{Type: "string", Name: "title", Title: "Title", Required: true}},
		Types: fieldTypes, Collections: cols, CanEdit: s.Can("collections.create")}
	renumber(form.Rows, "f", "", 1)
	return a.render(c, http.StatusOK, "collections/edit", &Page{Title: "New collection", Nav: "collections", Data: form})
}

// formOf reads the posted collection form.
func formOf(c echo.Context) (*collectionForm, url.Values, error) {
	values, err := c.FormParams()
	if err != nil {
		return nil, nil, err
	}
	f := &collectionForm{Name: strings.TrimSpace(values.Get("name")), DisplayName: strings.TrimSpace(values.Get("display_name")),
		Description: strings.TrimSpace(values.Get("description")), Public: values.Get("public") != "", Types: fieldTypes,
		MaxAge: strings.TrimSpace(values.Get("max_age")), Stale: strings.TrimSpace(values.Get("stale"))}
	f.Rows = rowsFromForm(values, "f", "", 1)
	return f, values, nil
}

// rowOp re-renders the form when a row button (add, remove, move) was
// pressed rather than save: the rows entered so far come back, changed.
func (a *Admin) rowOp(c echo.Context, page string, p *Page, form *collectionForm, op string) (bool, error) {
	rows, ok := applyOp(form.Rows, op)
	if !ok {
		return false, nil
	}
	form.Rows = rows
	if verb, target, _ := strings.Cut(op, ":"); verb == "add" {
		form.Focus = lastAdded(rows, target)
	}
	return true, a.render(c, http.StatusOK, page, p)
}

// lastAdded is the prefix of the row an add put at the end of the top
// level (target "") or of the object at target.
func lastAdded(rows []*fieldRow, target string) string {
	if target == "" {
		if len(rows) == 0 {
			return ""
		}
		return rows[len(rows)-1].Prefix
	}
	var find func(list []*fieldRow) string
	find = func(list []*fieldRow) string {
		for _, r := range list {
			if r.Prefix == target && len(r.Props) > 0 {
				return r.Props[len(r.Props)-1].Prefix
			}
			if r.Items != nil && r.Items.Prefix == target && len(r.Items.Props) > 0 {
				return r.Items.Props[len(r.Items.Props)-1].Prefix
			}
			if p := find(r.Props); p != "" {
				return p
			}
			if r.Items != nil {
				if p := find(r.Items.Props); p != "" {
					return p
				}
			}
		}
		return ""
	}
	return find(rows)
}

func (a *Admin) collectionCreate(c echo.Context) error {
	s := sessionOf(c)
	form, values, err := formOf(c)
	if err != nil {
		return err
	}
	cl := a.client(c, s.Token)
	form.New, form.CanEdit = true, s.Can("collections.create")
	form.Collections, _ = cl.collections()
	p := &Page{Title: "New collection", Nav: "collections", Data: form}
	if done, err := a.rowOp(c, "collections/edit", p, form, values.Get("op")); done {
		return err
	}
	var schema json.RawMessage
	if raw := strings.TrimSpace(values.Get("schema_json")); raw != "" {
		form.JSON, schema = raw, json.RawMessage(raw)
	} else if schema, err = schemaFromRows(form.Rows); err != nil {
		return a.renderError(c, "collections/edit", p, err)
	}
	cache, err := form.cache()
	if err != nil {
		return a.renderError(c, "collections/edit", p, err)
	}
	in := map[string]any{"name": form.Name, "display_name": form.DisplayName, "description": form.Description,
		"public": form.Public, "schema": schema, "cache": cache}
	if err := cl.json(http.MethodPost, "/api/collections", in, nil); err != nil {
		// The name's refusals carry no field: put them beside the name.
		if e := apiError(err); e != nil && len(e.Fields) == 0 && (e.Code == "invalid_name" || e.Code == "collection_exists") {
			err = &APIError{Status: e.Status, Code: e.Code, Message: e.Message, Fields: map[string]string{"name": e.Message}}
		}
		return a.renderError(c, "collections/edit", p, err)
	}
	return a.done(c, "/admin/collections/"+url.PathEscape(form.Name), "Collection created.")
}

// cache is the form's cache policy for the API; seconds that are not a
// whole number are refused by name.
func (f *collectionForm) cache() (map[string]any, error) {
	out := map[string]any{}
	bad := map[string]string{}
	for _, x := range []struct{ key, field, v string }{{"max_age", "max_age", f.MaxAge}, {"stale_while_revalidate", "stale", f.Stale}} {
		if x.v == "" {
			continue
		}
		n, err := strconv.Atoi(x.v)
		if err != nil || n < 0 {
			bad[x.field] = "a whole number of seconds"
			continue
		}
		out[x.key] = n
	}
	if len(bad) > 0 {
		return nil, &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid_cache", Message: "The cache settings need a correction.", Fields: bad}
	}
	return out, nil
}

func seconds(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func (a *Admin) editForm(c echo.Context, cl *client, col *collection) *collectionForm {
	s := sessionOf(c)
	form := &collectionForm{Name: col.Name, DisplayName: col.DisplayName, Description: col.Description, Public: col.Public,
		MaxAge: seconds(col.Cache.MaxAge), Stale: seconds(col.Cache.Stale),
		Rows: rowsFromSchema(col.Schema), Types: fieldTypes, CanEdit: s.Can("collections.update"), CanDelete: s.Can("collections.delete")}
	form.JSON = indentJSON(col.Schema)
	form.Collections, _ = cl.collections()
	return form
}

// indentJSON indents raw, keeping the order of its members.
func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

func (a *Admin) collectionEditPage(c echo.Context) error {
	cl := a.client(c, sessionOf(c).Token)
	col, err := cl.collection(c.Param("name"))
	if err != nil {
		return err
	}
	form := a.editForm(c, cl, col)
	return a.render(c, http.StatusOK, "collections/edit", &Page{Title: col.Label() + ": fields", Nav: "collections", Data: form})
}

func (a *Admin) collectionUpdate(c echo.Context) error {
	s := sessionOf(c)
	name := c.Param("name")
	form, values, err := formOf(c)
	if err != nil {
		return err
	}
	cl := a.client(c, s.Token)
	form.Name, form.CanEdit, form.CanDelete = name, s.Can("collections.update"), s.Can("collections.delete")
	form.Collections, _ = cl.collections()
	if col, err := cl.collection(name); err == nil {
		form.JSON = indentJSON(col.Schema)
	}
	p := &Page{Title: name + ": fields", Nav: "collections", Data: form}
	if done, err := a.rowOp(c, "collections/edit", p, form, values.Get("op")); done {
		return err
	}
	schema, err := schemaFromRows(form.Rows)
	if err != nil {
		return a.renderError(c, "collections/edit", p, err)
	}
	cache, err := form.cache()
	if err != nil {
		return a.renderError(c, "collections/edit", p, err)
	}
	in := map[string]any{"display_name": form.DisplayName, "description": form.Description, "public": form.Public, "schema": schema, "cache": cache}
	if err := cl.json(http.MethodPut, "/api/collections/"+escape(name), in, nil); err != nil {
		return a.renderError(c, "collections/edit", p, err)
	}
	return a.done(c, "/admin/collections/"+url.PathEscape(name), "Fields saved.")
}

// collectionSchemaJSON saves the schema posted as JSON (the expert form).
func (a *Admin) collectionSchemaJSON(c echo.Context) error {
	name := c.Param("name")
	cl := a.client(c, sessionOf(c).Token)
	col, err := cl.collection(name)
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(c.FormValue("schema_json"))
	form := a.editForm(c, cl, col)
	form.JSON = raw
	p := &Page{Title: col.Label() + ": fields", Nav: "collections", Data: form}
	if !json.Valid([]byte(raw)) {
		return a.renderError(c, "collections/edit", p, &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid_json",
			Message: "The schema is not valid JSON.", Fields: map[string]string{"schema_json": "not valid JSON"}})
	}
	if err := cl.json(http.MethodPut, "/api/collections/"+escape(name), map[string]any{"schema": json.RawMessage(raw)}, nil); err != nil {
		return a.renderError(c, "collections/edit", p, err)
	}
	return a.done(c, "/admin/collections/"+url.PathEscape(name), "Schema saved.")
}

func (a *Admin) collectionDelete(c echo.Context) error {
	name := c.Param("name")
	cl := a.client(c, sessionOf(c).Token)
	if c.FormValue("confirm") != name {
		col, err := cl.collection(name)
		if err != nil {
			return err
		}
		p := &Page{Title: col.Label() + ": fields", Nav: "collections", Data: a.editForm(c, cl, col)}
		return a.renderError(c, "collections/edit", p, &APIError{Status: http.StatusUnprocessableEntity, Code: "confirm",
			Message: "Type the collection's name to delete it.", Fields: map[string]string{"confirm": "type " + name}})
	}
	if err := cl.json(http.MethodDelete, "/api/collections/"+escape(name), nil, nil); err != nil {
		return err
	}
	return a.done(c, "/admin/collections", "Collection "+name+" deleted.")
}

// LimitTypes are the types minimum and maximum apply to.
func (f *collectionForm) LimitTypes() string {
	return rangeTypes + " " + lengthTypes + " " + countTypes
}
