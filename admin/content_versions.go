package admin

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// version is one recorded state of an item, as the API answers it.
type version struct {
	Version     int             `json:"version"`
	AuthorID    string          `json:"author_id"`
	CreatedAt   time.Time       `json:"created_at"`
	Title       string          `json:"title"`
	Slug        string          `json:"slug"`
	Status      string          `json:"status"`
	Data        json.RawMessage `json:"data"`
	PublishAt   *time.Time      `json:"publish_at"`
	UnpublishAt *time.Time      `json:"unpublish_at"`
}

// versionsPage is an item's history.
type versionsPage struct {
	Item       *item
	Collection *collection
	Versions   []version // newest first
	From, To   int       // the pair the diff form proposes
	CanRestore bool
	Me         string
	People     map[string]string // user id → email, where the role may read users
	History    []historyEntry    // workflow moves, newest first
}

// Who names the user id for the page.
func (v *versionsPage) Who(id string) string {
	switch {
	case id == "":
		return "system"
	case id == v.Me:
		return "you"
	case v.People[id] != "":
		return v.People[id]
	case len(id) > 8:
		return "user " + id[:8]
	}
	return "user " + id
}

// historyEntry is one workflow move, as GET /api/content/:id/history
// answers it.
type historyEntry struct {
	Action    string    `json:"action"`
	From      string    `json:"from_status"`
	To        string    `json:"to_status"`
	UserID    string    `json:"user_id"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
}

// people maps user ids to emails (one page of the users, for the names
// of a history); nil when the role may not read users.
func (cl *client) people(s *session) map[string]string {
	if !s.Can("users.read") {
		return nil
	}
	var out struct {
		Data []struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"data"`
	}
	if cl.get("/api/users", url.Values{"limit": {"1000"}}, &out) != nil {
		return nil
	}
	m := make(map[string]string, len(out.Data))
	for _, u := range out.Data {
		m[u.ID] = u.Email
	}
	return m
}

func (a *Admin) versionsPage(c echo.Context) error {
	s := sessionOf(c)
	cl := a.client(c, s.Token)
	it, err := cl.item(c.Param("x"))
	if err != nil {
		return err
	}
	var out struct {
		Data []version `json:"data"`
	}
	if err := cl.get("/api/content/"+escape(it.ID)+"/versions", nil, &out); err != nil {
		return err
	}
	sort.Slice(out.Data, func(i, j int) bool { return out.Data[i].Version > out.Data[j].Version })
	v := &versionsPage{Item: it, Versions: out.Data, CanRestore: s.Can("content.update"), Me: s.UserID, People: cl.people(s)}
	var hist struct {
		Data []historyEntry `json:"data"`
	}
	if cl.get("/api/content/"+escape(it.ID)+"/history", nil, &hist) == nil {
		for i := len(hist.Data) - 1; i >= 0; i-- {
			v.History = append(v.History, hist.Data[i])
		}
	}
	if len(out.Data) > 1 {
		v.To, v.From = out.Data[0].Version, out.Data[1].Version
	}
	return a.render(c, http.StatusOK, "content/versions", &Page{Title: "Versions of " + it.Label(), Nav: "content", Data: v})
}

// diffRow is one field of two versions side by side.
type diffRow struct {
	Label, From, To string
	Changed         bool
	Lines           []diffLine // a changed text of several lines, line by line
}

// diffPage is two versions side by side.
type diffPage struct {
	Item       *item
	From, To   version
	Rows       []diffRow
	Changes    int
	CanRestore bool
	Versions   []int
}

func (cl *client) version(id string, n int) (*version, error) {
	var out struct {
		Data *version `json:"data"`
	}
	if err := cl.get("/api/content/"+escape(id)+"/versions/"+strconv.Itoa(n), nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

func (a *Admin) diffPage(c echo.Context) error {
	s := sessionOf(c)
	cl := a.client(c, s.Token)
	it, err := cl.item(c.Param("x"))
	if err != nil {
		return err
	}
	from, err1 := strconv.Atoi(c.QueryParam("from"))
	to, err2 := strconv.Atoi(c.QueryParam("to"))
	if err1 != nil || err2 != nil || from < 1 || to < 1 {
		return a.fail(c, http.StatusBadRequest, "Choose two versions to compare.")
	}
	if from > to {
		from, to = to, from
	}
	va, err := cl.version(it.ID, from)
	if err != nil {
		return err
	}
	vb, err := cl.version(it.ID, to)
	if err != nil {
		return err
	}
	d := &diffPage{Item: it, From: *va, To: *vb, CanRestore: s.Can("content.update")}
	for n := 1; n <= it.Version && n <= 1000; n++ {
		d.Versions = append(d.Versions, n)
	}
	var fields []*schemaField
	if col, err := cl.collection(it.Collection); err == nil {
		fields = parseFields(col.Schema)
	}
	d.Rows = diffRows(va, vb, fields)
	for _, r := range d.Rows {
		if r.Changed {
			d.Changes++
		}
	}
	return a.render(c, http.StatusOK, "content/diff", &Page{Title: "Compare versions of " + it.Label(), Nav: "content", Data: d})
}

// diffRows lists the item's own fields, then its data fields in the
// schema's order, then any others the versions hold.
func diffRows(a, b *version, fields []*schemaField) []diffRow {
	rows := []diffRow{
		row("Title", a.Title, b.Title), row("Slug", a.Slug, b.Slug), row("Status", a.Status, b.Status),
		row("Publish at", localTime(a.PublishAt), localTime(b.PublishAt)), row("Unpublish at", localTime(a.UnpublishAt), localTime(b.UnpublishAt)),
	}
	da, db := decodeData(a.Data), decodeData(b.Data)
	seen := map[string]bool{}
	add := func(name, label string) {
		seen[name] = true
		r := diffRow{Label: label, From: shown(da[name]), To: shown(db[name])}
		r.Changed = !reflect.DeepEqual(normalize(da[name]), normalize(db[name]))
		if r.Changed {
			r.Lines = lineDiff(r.From, r.To)
		}
		rows = append(rows, r)
	}
	for _, f := range fields {
		if f.Name == "title" && f.Type != "object" {
			seen[f.Name] = true // the item's title, above
			continue
		}
		add(f.Name, f.Label())
	}
	var rest []string
	for _, m := range []map[string]any{da, db} {
		for k := range m {
			if !seen[k] {
				rest = append(rest, k)
				seen[k] = true
			}
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		add(k, k)
	}
	return rows
}

// shown writes a data value for the diff: text as it is, the rest as
// JSON.
func shown(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonText(v)
}

func row(label, a, b string) diffRow { return diffRow{Label: label, From: a, To: b, Changed: a != b} }

func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// versionRestore makes version n the item's content again, as a new
// version.
func (a *Admin) versionRestore(c echo.Context) error {
	id, n := c.Param("x"), c.Param("n")
	cl := a.client(c, sessionOf(c).Token)
	if err := cl.json(http.MethodPost, "/api/content/"+escape(id)+"/versions/"+escape(n)+"/restore", nil, nil); err != nil {
		return err
	}
	return a.done(c, "/admin/content/"+url.PathEscape(id), "Version "+n+" restored, as a new version.")
}
