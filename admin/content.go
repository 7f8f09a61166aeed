package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// contentRoutes registers the content pages: the overview, a collection's
// list (filter, sort, search, pages), the item editor, its versions and
// the trash. /admin/content/:x is a collection when x is a collection name
// and an item when it is an item id (ids are UUIDs, with dashes, which a
// collection name never has).
func (a *Admin) contentRoutes(g *echo.Group) {
	get(g, "/content", a.contentOverview)
	get(g, "/content/:x", a.contentPage)
	g.POST("/content/:x", a.itemSave)
	get(g, "/content/:x/new", a.itemNewPage)
	g.POST("/content/:x/new", a.itemCreate)
	g.POST("/content/:x/delete", a.itemDelete)
	g.POST("/content/:x/bulk", a.itemBulk)
	g.POST("/content/:x/duplicate", a.itemDuplicate)
	get(g, "/content/:x/versions", a.versionsPage)
	get(g, "/content/:x/diff", a.diffPage)
	g.POST("/content/:x/versions/:n/restore", a.versionRestore)
	g.POST("/content-preview", a.markdownPreview)
	get(g, "/trash", a.trashPage)
	g.POST("/trash/:id/restore", a.trashRestore)
	g.POST("/trash/:id/purge", a.trashPurge)
}

// isItemID tells an item id from a collection name.
func isItemID(x string) bool { return strings.Contains(x, "-") }

// item is an item as the API answers it.
type item struct {
	ID          string          `json:"id"`
	Collection  string          `json:"collection"`
	Title       string          `json:"title"`
	Slug        string          `json:"slug"`
	Status      string          `json:"status"`
	Data        json.RawMessage `json:"data"`
	Version     int             `json:"version"`
	AuthorID    string          `json:"author_id"`
	PublishedAt *time.Time      `json:"published_at"`
	PublishAt   *time.Time      `json:"publish_at"`
	UnpublishAt *time.Time      `json:"unpublish_at"`
	DeletedAt   *time.Time      `json:"deleted_at"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Snippet     string          `json:"snippet"` // search hits
	// Included holds the items reference fields point at (include=).
	Included map[string]json.RawMessage `json:"included"`
}

// Label is the item's title, else its slug, else its id.
func (it *item) Label() string {
	switch {
	case it.Title != "":
		return it.Title
	case it.Slug != "":
		return it.Slug
	}
	return it.ID
}

func (cl *client) item(id string) (*item, error) {
	it, _, err := cl.taggedItem(id)
	return it, err
}

// taggedItem is item with its ETag, for a write that must not overwrite
// a change made since (If-Match).
func (cl *client) taggedItem(id string) (*item, string, error) {
	res, err := cl.do(http.MethodGet, "/api/content/"+escape(id), "", nil)
	if err != nil {
		return nil, "", err
	}
	var out struct {
		Data *item `json:"data"`
	}
	if err := json.Unmarshal(res.Body, &out); err != nil {
		return nil, "", fmt.Errorf("decode item %s: %w", id, err)
	}
	return out.Data, res.Header.Get("ETag"), nil
}

// statuses are the workflow's statuses, in its order.
var statuses = []string{"draft", "review", "published", "archived"}

// overview is /admin/content: each collection with its number of items,
// and a search across them.
type overview struct {
	Collections []overviewRow
	Q           string
	Hits        []*item
}

type overviewRow struct {
	*collection
	Total int
}

func (a *Admin) contentOverview(c echo.Context) error {
	cl := a.client(c, sessionOf(c).Token)
	cols, err := cl.collections()
	p := &Page{Title: "Content", Nav: "content"}
	if err != nil {
		return a.renderError(c, "content/overview", p, err)
	}
	ov := &overview{Q: strings.TrimSpace(c.QueryParam("q"))}
	p.Data = ov
	for _, col := range cols {
		var out struct {
			Meta struct {
				Total int `json:"total"`
			} `json:"meta"`
		}
		// fields= with an unknown-to-nobody item field keeps no data.
		if err := cl.get("/api/collections/"+escape(col.Name)+"/content", url.Values{"limit": {"1"}, "fields": {"id"}}, &out); err != nil {
			continue // a collection this role may not list
		}
		ov.Collections = append(ov.Collections, overviewRow{collection: col, Total: out.Meta.Total})
	}
	if ov.Q != "" {
		if ov.Hits, err = search(cl, ov.Q, ""); err != nil {
			return a.renderError(c, "content/overview", p, err)
		}
	}
	return a.render(c, http.StatusOK, "content/overview", p)
}

// searchLimit is how many matches a search shows, best first: a page's
// worth (the API ranks the same window whatever the limit).
const searchLimit = 50

func search(cl *client, q, collection string) ([]*item, error) {
	query := url.Values{"q": {q}, "limit": {strconv.Itoa(searchLimit)}}
	if collection != "" {
		query.Set("collection", collection)
	}
	var out struct {
		Data []*item `json:"data"`
	}
	err := cl.get("/api/search", query, &out)
	return out.Data, err
}

// contentPage serves /admin/content/:x: a collection's list, or an item's
// editor.
func (a *Admin) contentPage(c echo.Context) error {
	if isItemID(c.Param("x")) {
		return a.itemEditPage(c)
	}
	return a.contentList(c)
}

// column is a data field shown in the list.
type column struct {
	Name, Label, Key string // Key: the API's name for sort and where ("data.price", "title")
	Type             string
}

// contentListPage is a collection's list.
type contentListPage struct {
	Collection *collection
	Columns    []column // data fields shown, besides title and status
	Filterable []column // fields a where= condition may name
	Rows       []listRow
	Total      int
	Limit      int
	Offset     int
	Statuses   []string
	Operators  []string
	// The query, as the form and the links keep it.
	Status, Q, Sort, Field, Op, Value string
	Searching                         bool
	Prev, Next                        string // page links, "" at the ends
	From, To                          int    // 1-based positions shown
	CanCreate, CanTrash               bool
	Bulk                              []bulkAction // what the role may apply to selected items
	Query                             string       // the list's query, for the bulk form's way back
	sortBase                          url.Values
}

type listRow struct {
	*item
	Cells []string
}

// SortLink is the link of a column header: ascending, or descending when
// the list is sorted ascending by it already.
func (l *contentListPage) SortLink(key string) string {
	q := cloneValues(l.sortBase)
	if l.Sort == key {
		q.Set("sort", "-"+key)
	} else {
		q.Set("sort", key)
	}
	return "/admin/content/" + url.PathEscape(l.Collection.Name) + "?" + q.Encode()
}

// SortState is the aria-sort of a column header.
func (l *contentListPage) SortState(key string) string {
	switch l.Sort {
	case key:
		return "ascending"
	case "-" + key:
		return "descending"
	}
	return "none"
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// listLimits are the page sizes offered.
var listLimits = map[int]bool{10: true, 25: true, 50: true, 100: true}

func (a *Admin) contentList(c echo.Context) error {
	s := sessionOf(c)
	cl := a.client(c, s.Token)
	col, err := cl.collection(c.Param("x"))
	if err != nil {
		return err
	}
	q := c.QueryParams()
	l := &contentListPage{Collection: col, Statuses: statuses, Status: q.Get("status"), Q: strings.TrimSpace(q.Get("q")),
		Sort: q.Get("sort"), Field: q.Get("field"), Op: q.Get("op"), Value: q.Get("value"), Limit: 25,
		Operators: []string{"equals", "not_equals", "contains", "greater_than", "less_than"},
		CanCreate: s.Can("content.create"), CanTrash: s.Can("content.delete")}
	if !s.Can("content.read_drafts") {
		l.Statuses = []string{"published"} // the API lists nothing else to this role
	}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && listLimits[n] {
		l.Limit = n
	}
	if n, err := strconv.Atoi(q.Get("offset")); err == nil && n > 0 {
		l.Offset = n
	}
	fields := parseFields(col.Schema)
	l.Filterable = []column{{Name: "title", Label: "Title", Key: "title", Type: "string"}, {Name: "slug", Label: "Slug", Key: "slug", Type: "slug"}}
	for _, f := range fields {
		if !f.Scalar() {
			continue
		}
		cm := column{Name: f.Name, Label: f.Label(), Key: "data." + f.Name, Type: f.Type}
		l.Filterable = append(l.Filterable, cm)
		if len(l.Columns) < 3 && f.Name != "title" {
			l.Columns = append(l.Columns, cm)
		}
	}
	for _, b := range bulkActions {
		if s.Can(b.Perm) {
			l.Bulk = append(l.Bulk, b)
		}
	}
	l.Query = c.Request().URL.RawQuery
	p := &Page{Title: col.Label(), Nav: "content", Data: l}

	// What the links keep: everything but the page and the sort.
	l.sortBase = url.Values{}
	for _, k := range []string{"status", "q", "field", "op", "value"} {
		if v := q.Get(k); v != "" {
			l.sortBase.Set(k, v)
		}
	}
	if l.Limit != 25 {
		l.sortBase.Set("limit", strconv.Itoa(l.Limit))
	}

	var items []*item
	if l.Q != "" {
		// Full-text search ranks its matches itself: no sort, one page.
		l.Searching = true
		hits, err := search(cl, l.Q, col.Name)
		if err != nil {
			return a.renderError(c, "content/list", p, err)
		}
		for _, h := range hits {
			if l.Status == "" || h.Status == l.Status {
				items = append(items, h)
			}
		}
		l.Total = len(items)
	} else {
		api := url.Values{"limit": {strconv.Itoa(l.Limit)}, "offset": {strconv.Itoa(l.Offset)}}
		if l.Status != "" {
			api.Set("status", l.Status)
		}
		if l.Sort != "" {
			api.Set("sort", l.Sort)
		} else {
			// Newest first: the order the store's index keeps, so the
			// first page of a big collection costs no sort.
			api.Set("sort", "-created_at")
			l.Sort = "-created_at"
		}
		if where, err := whereOf(l, fields); err != nil {
			return a.renderError(c, "content/list", p, err)
		} else if where != "" {
			api.Set("where", where)
		}
		names := make([]string, 0, len(l.Columns)+1)
		for _, cm := range l.Columns {
			names = append(names, cm.Name)
		}
		if len(names) == 0 {
			names = append(names, "id") // an item field: keeps no data
		}
		api.Set("fields", strings.Join(names, ","))
		// A reference column shows the title of what it points at.
		var refs []string
		for _, cm := range l.Columns {
			if cm.Type == "reference" {
				refs = append(refs, cm.Name)
			}
		}
		if len(refs) > 0 {
			api.Set("include", strings.Join(refs, ","))
		}
		var out struct {
			Data []*item `json:"data"`
			Meta struct {
				Total int `json:"total"`
			} `json:"meta"`
		}
		if err := cl.get("/api/collections/"+escape(col.Name)+"/content", api, &out); err != nil {
			return a.renderError(c, "content/list", p, err)
		}
		items, l.Total = out.Data, out.Meta.Total
	}
	for _, it := range items {
		l.Rows = append(l.Rows, listRow{item: it, Cells: cells(it, l.Columns)})
	}
	l.pages(col.Name, len(items))
	return a.render(c, http.StatusOK, "content/list", p)
}

// pages sets the positions shown and the links to the pages around.
func (l *contentListPage) pages(name string, n int) {
	if n > 0 {
		l.From, l.To = l.Offset+1, l.Offset+n
	}
	if l.Searching {
		return
	}
	base := cloneValues(l.sortBase)
	if l.Sort != "" {
		base.Set("sort", l.Sort)
	}
	link := func(off int) string {
		q := cloneValues(base)
		if off > 0 {
			q.Set("offset", strconv.Itoa(off))
		}
		return "/admin/content/" + url.PathEscape(name) + "?" + q.Encode()
	}
	if l.Offset > 0 {
		l.Prev = link(max(0, l.Offset-l.Limit))
	}
	if l.Offset+n < l.Total {
		l.Next = link(l.Offset + l.Limit)
	}
}

// whereOf builds the where= of the list's field filter: the value is
// sent as a number or boolean where the field holds those.
func whereOf(l *contentListPage, fields []*schemaField) (string, error) {
	if l.Field == "" || l.Value == "" {
		return "", nil
	}
	var cm *column
	for i := range l.Filterable {
		if l.Filterable[i].Key == l.Field {
			cm = &l.Filterable[i]
		}
	}
	if cm == nil {
		return "", &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid_query", Message: "Choose a field to filter by.",
			Fields: map[string]string{"value": "choose a field first"}}
	}
	op := l.Op
	if op == "" {
		op = "equals"
	}
	var value any = l.Value
	switch cm.Type {
	case "number", "integer":
		x, err := strconv.ParseFloat(l.Value, 64)
		if err != nil {
			return "", &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid_query", Message: cm.Label + " is a number.",
				Fields: map[string]string{"value": "a number"}}
		}
		value = x
	case "boolean":
		value = l.Value == "true" || l.Value == "yes" || l.Value == "1"
	}
	b, err := json.Marshal(map[string]any{"and": []any{map[string]any{"field": cm.Key, "operator": op, "value": value}}})
	return string(b), err
}

// cells are the text of the list's data columns of one item: a
// reference's is the title of the item it points at, where included.
func cells(it *item, cols []column) []string {
	if len(cols) == 0 {
		return nil
	}
	var m map[string]any
	json.Unmarshal(it.Data, &m)
	out := make([]string, len(cols))
	for i, cm := range cols {
		out[i] = clip(textOf(m[cm.Name]), 80)
		if raw, ok := it.Included[cm.Name]; ok && cm.Type == "reference" {
			var ref item
			if json.Unmarshal(raw, &ref) == nil && ref.ID != "" {
				out[i] = clip(ref.Label(), 80)
			}
		}
	}
	return out
}

// textOf writes a data value as text.
func textOf(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// notFound is an APIError for a page's own 404.
func notFound(what string) error {
	return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("%s not found", what)}
}
