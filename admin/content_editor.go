package admin

// The item editor: a form generated from the collection's schema, an
// input per field type. The form's values become the item's data here;
// the API validates it, and its messages, by field path, go beside the
// inputs they name.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// editorPage is the editor's data.
type editorPage struct {
	New        bool
	Item       *item // nil when new
	Collection *collection
	Inputs     []*input
	// TitleField is true when the schema has a "title" field: its input is
	// the item's title (the API keeps the two the same).
	TitleField             bool
	Title, Slug            string
	PublishAt, UnpublishAt string // datetime-local values, UTC
	Version                int
	Status                 string
	Comment                string // for the workflow move, kept when the form comes back
	Actions                []action
	SaveLabel              string
	CanSave, CanSchedule   bool
	CanDelete, CanVersions bool
	Errors                 map[string]string // the API's field errors no input took
}

// action is a workflow button of the editor.
type action struct{ Op, Label, Class string }

// input is one field's input (or group of inputs) in the editor.
type input struct {
	Field    *schemaField
	Name     string // the form name: "d.price", "d.address.city"
	ID       string // the element id
	Path     string // the API's field path: "price", "address.city"
	Value    string
	Checked  bool
	Selected map[string]bool
	Children []*input // an object's fields
	Lines    bool     // an array of single values, one per line
	Error    string
	Repeat   bool     // an array of objects, one group of inputs per item
	Entries  []*input // Repeat's items, each an object input
	Choices  []choice // suggested ids (references, media)
	ListID   string   // the datalist of Choices
}

// Kind is the input the template draws for the field.
func (in *input) Kind() string {
	switch t := in.Field.Type; t {
	case "string", "email", "url", "slug", "color", "date", "datetime", "reference", "media", "file":
		return "text"
	case "array":
		switch {
		case in.Lines:
			return "lines"
		case in.Repeat:
			return "repeat"
		}
		return "json"
	case "":
		return "text"
	default:
		return t
	}
}

// HTMLType is the type attribute of a one-line input.
func (in *input) HTMLType() string {
	switch in.Field.Type {
	case "email":
		return "email"
	case "url":
		return "url"
	case "date":
		return "date"
	case "datetime":
		return "datetime-local"
	}
	return "text"
}

// Min, Max, MinLength and MaxLength are the field's limits as attributes.
func (in *input) Min() string { return formatNumber(in.Field.Min) }
func (in *input) Max() string { return formatNumber(in.Field.Max) }
func (in *input) MaxLength() string {
	if in.Field.MaxLength == nil {
		return ""
	}
	return strconv.Itoa(*in.Field.MaxLength)
}

// Hint is what the field's input expects, beyond its help text.
func (in *input) Hint() string {
	f := in.Field
	switch f.Type {
	case "reference":
		return "The id of an item of " + f.Collection + "."
	case "media", "file":
		return "The id of a file of the media library."
	case "datetime":
		return "In UTC."
	case "color":
		return "Like #1d4ed8."
	case "slug":
		return "Lower-case letters, digits and single dashes."
	case "array":
		if in.Lines {
			return "One per line."
		}
		return "A JSON list."
	case "json":
		return "Any JSON value."
	}
	var parts []string
	if f.MinLength != nil {
		parts = append(parts, "at least "+strconv.Itoa(*f.MinLength)+" characters")
	}
	if f.MaxLength != nil {
		parts = append(parts, "at most "+strconv.Itoa(*f.MaxLength)+" characters")
	}
	if f.Min != nil {
		parts = append(parts, "from "+formatNumber(f.Min))
	}
	if f.Max != nil {
		parts = append(parts, "up to "+formatNumber(f.Max))
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, ", ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// rawText is a posted value kept as typed for the form shown again (JSON
// that does not parse).
type rawText string

// linesItem reports whether an array's items are single values, edited
// one per line.
func linesItem(f *schemaField) bool {
	if f.Items == nil {
		return false
	}
	switch f.Items.Type {
	case "string", "email", "url", "slug", "color", "date", "datetime", "reference", "media", "file", "select", "radio", "number", "integer":
		return true
	}
	return false
}

// repeatItem reports whether an array's items are objects, edited as a
// group of inputs per item.
func repeatItem(f *schemaField) bool {
	return f.Items != nil && f.Items.Type == "object" && len(f.Items.Fields) > 0
}

// entriesFromForm reads the posted items of an array of objects: the
// groups under name.0, name.1, ... in the order of their indexes. A group
// left empty is sent as an empty object, so the API says which of its
// fields are required, at the item's own position.
func entriesFromForm(form url.Values, f *schemaField, name, path string, bad map[string]string) []any {
	seen := map[int]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, name+".")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < 10000 {
			seen[i] = true
		}
	}
	idx := make([]int, 0, len(seen))
	for i := range seen {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var list []any
	for _, i := range idx {
		k := len(list)
		list = append(list, dataFromForm(form, f.Items.Fields, name+"."+strconv.Itoa(i)+".", path+"["+strconv.Itoa(k)+"]", bad))
	}
	return list
}

// itemOp applies an editor button that changes the form, not the item:
// "additem:d.gallery" adds an empty group to the array of objects
// d.gallery, "removeitem:d.gallery.2" removes its third. It reports
// whether op was one.
func itemOp(data map[string]any, op string) bool {
	verb, target, _ := strings.Cut(op, ":")
	if verb != "additem" && verb != "removeitem" {
		return false
	}
	steps := strings.Split(strings.TrimPrefix(target, "d."), ".")
	remove := -1
	if verb == "removeitem" && len(steps) > 1 {
		n, err := strconv.Atoi(steps[len(steps)-1])
		if err != nil {
			return true
		}
		remove, steps = n, steps[:len(steps)-1]
	}
	// Walk to the map holding the array (through objects and items).
	var cur any = data
	for _, s := range steps[:len(steps)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[s]
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i >= len(c) {
				return true
			}
			cur = c[i]
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return true
	}
	last := steps[len(steps)-1]
	list, _ := m[last].([]any)
	if verb == "additem" {
		m[last] = append(list, map[string]any{})
	} else if remove >= 0 && remove < len(list) {
		m[last] = append(list[:remove:remove], list[remove+1:]...)
	}
	return true
}

// buildInputs makes the inputs of fields from data (as stored, or as
// posted), under the form prefix and API path.
func buildInputs(fields []*schemaField, data map[string]any, prefix, path string) []*input {
	out := make([]*input, 0, len(fields))
	for _, f := range fields {
		in := &input{Field: f, Name: prefix + f.Name, Path: joinField(path, f.Name)}
		in.ID = "in-" + strings.ReplaceAll(in.Path, ".", "-")
		v := data[f.Name]
		switch f.Type {
		case "object":
			m, _ := v.(map[string]any)
			in.Children = buildInputs(f.Fields, m, in.Name+".", in.Path)
		case "boolean":
			in.Checked = v == true
		case "multiselect":
			in.Selected = map[string]bool{}
			if list, ok := v.([]any); ok {
				for _, x := range list {
					in.Selected[textOf(x)] = true
				}
			}
		case "array":
			in.Lines, in.Repeat = linesItem(f), repeatItem(f)
			if in.Repeat {
				list, _ := v.([]any)
				for i, x := range list {
					m, _ := x.(map[string]any)
					en := &input{Field: f.Items, Name: in.Name + "." + strconv.Itoa(i), Path: in.Path + "[" + strconv.Itoa(i) + "]"}
					en.ID = in.ID + "-" + strconv.Itoa(i)
					en.Children = buildInputs(f.Items.Fields, m, en.Name+".", en.Path)
					in.Entries = append(in.Entries, en)
				}
				break
			}
			if list, ok := v.([]any); ok && in.Lines {
				parts := make([]string, len(list))
				for i, x := range list {
					parts[i] = valueText(f.Items.Type, x)
				}
				in.Value = strings.Join(parts, "\n")
			} else {
				in.Value = jsonText(v)
			}
		case "json":
			in.Value = jsonText(v)
		default:
			in.Value = valueText(f.Type, v)
		}
		out = append(out, in)
	}
	return out
}

// valueText writes a single value for its input.
func valueText(typ string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case rawText:
		return string(x)
	case string:
		if typ == "datetime" {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.UTC().Format("2006-01-02T15:04")
			}
		}
		return x
	case json.Number:
		return x.String()
	}
	return textOf(v)
}

func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case rawText:
		return string(x)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// placeErrors puts the API's field errors beside the inputs: an input
// takes the errors of its path and, for a list or JSON value, of the
// paths inside it ("tags[2]"). It returns those no input took.
func placeErrors(inputs []*input, errs map[string]string) map[string]string {
	left := map[string]string{}
	for k, v := range errs {
		left[k] = v
	}
	var walk func([]*input)
	walk = func(list []*input) {
		for _, in := range list {
			walk(in.Children)
			for _, en := range in.Entries {
				walk(en.Children)
			}
			var msgs []string
			for _, k := range sortedKeys(left) {
				inside := in.Children == nil && (strings.HasPrefix(k, in.Path+"[") || strings.HasPrefix(k, in.Path+"."))
				if k == in.Path || inside {
					if k == in.Path {
						msgs = append(msgs, left[k])
					} else {
						msgs = append(msgs, strings.TrimPrefix(k, in.Path)+": "+left[k])
					}
					delete(left, k)
				}
			}
			in.Error = strings.Join(msgs, "; ")
		}
	}
	walk(inputs)
	return left
}

// dataFromForm reads the posted inputs of fields into item data. A value
// the admin cannot turn into JSON (a JSON field that does not parse) is
// kept as rawText and named in bad. Numbers that are no numbers go to the
// API as typed, so its message says what is wrong.
func dataFromForm(form url.Values, fields []*schemaField, prefix, path string, bad map[string]string) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		name, p := prefix+f.Name, joinField(path, f.Name)
		raw := form.Get(name)
		val := strings.TrimSpace(raw)
		switch f.Type {
		case "object":
			if m := dataFromForm(form, f.Fields, name+".", p, bad); len(m) > 0 || f.Required {
				out[f.Name] = m
			}
		case "boolean":
			out[f.Name] = val != ""
		case "multiselect":
			var list []any
			for _, v := range form[name] {
				if v != "" {
					list = append(list, v)
				}
			}
			if len(list) > 0 {
				out[f.Name] = list
			}
		case "array":
			if repeatItem(f) {
				if list := entriesFromForm(form, f, name, p, bad); len(list) > 0 {
					out[f.Name] = list
				}
				continue
			}
			if val == "" {
				continue
			}
			if linesItem(f) {
				var list []any
				for _, line := range strings.Split(raw, "\n") {
					if line = strings.TrimSpace(line); line != "" {
						list = append(list, scalarOf(f.Items.Type, line))
					}
				}
				out[f.Name] = list
				continue
			}
			out[f.Name] = jsonOf(val, p, bad)
		case "json":
			if val != "" {
				out[f.Name] = jsonOf(val, p, bad)
			}
		case "textarea", "richtext", "markdown":
			if val != "" {
				out[f.Name] = strings.ReplaceAll(raw, "\r\n", "\n")
			}
		default:
			if val != "" {
				out[f.Name] = scalarOf(f.Type, val)
			}
		}
	}
	return out
}

// scalarOf turns a typed value into the JSON value of its type, or keeps
// the text where it is not one (the API then says why).
func scalarOf(typ, s string) any {
	switch typ {
	case "number":
		if x, err := strconv.ParseFloat(s, 64); err == nil {
			return x
		}
	case "integer":
		if x, err := strconv.ParseInt(s, 10, 64); err == nil {
			return x
		}
	case "datetime":
		if t, ok := parseLocal(s); ok {
			return t.Format(time.RFC3339)
		}
	}
	return s
}

func jsonOf(s, path string, bad map[string]string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		bad[path] = "not valid JSON"
		return rawText(s)
	}
	return v
}

// parseLocal reads a datetime-local value (or RFC 3339) as UTC.
func parseLocal(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func localTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}

// decodeData decodes an item's data keeping numbers as written.
func decodeData(raw json.RawMessage) map[string]any {
	m := map[string]any{}
	if len(raw) == 0 {
		return m
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.Decode(&m)
	return m
}

// transitionsFrom are the workflow's moves from a status, with the
// permission each needs (cms/workflow.go), as buttons.
var transitionsFrom = map[string][]struct{ to, label, perm string }{
	"draft":     {{"review", "Submit for review", "content.update"}, {"published", "Publish", "content.publish"}, {"archived", "Archive", "content.publish"}},
	"review":    {{"draft", "Back to draft", "content.update"}, {"published", "Publish", "content.publish"}, {"archived", "Archive", "content.publish"}},
	"published": {{"draft", "Unpublish", "content.publish"}, {"archived", "Archive", "content.publish"}},
	"archived":  {{"draft", "Restore to draft", "content.publish"}},
}

// newEditor fills what the editor shows around the inputs for s.
func newEditor(s *session, col *collection, it *item) *editorPage {
	e := &editorPage{Collection: col, Item: it, New: it == nil, Status: "draft"}
	fields := parseFields(col.Schema)
	if f := lookupField(fields, "title"); f != nil && f.Type != "object" {
		e.TitleField = true
	}
	if it != nil {
		e.Status, e.Version, e.Title, e.Slug = it.Status, it.Version, it.Title, it.Slug
		e.PublishAt, e.UnpublishAt = localTime(it.PublishAt), localTime(it.UnpublishAt)
		e.CanSave = s.Can("content.update")
		e.CanDelete = s.Can("content.delete")
		e.CanVersions = s.Can("content.read_drafts")
	} else {
		e.CanSave = s.Can("content.create")
	}
	e.CanSchedule = s.Can("content.publish")
	e.SaveLabel = "Save"
	if e.Status == "draft" {
		e.SaveLabel = "Save draft"
	}
	for _, t := range transitionsFrom[e.Status] {
		if !s.Can(t.perm) || e.New && t.to == "archived" {
			continue
		}
		class := "button"
		if t.to == "published" {
			class = "button accent"
		}
		label := t.label
		if !e.New && e.CanSave && (t.to == "review" || t.to == "published") {
			label = "Save and " + strings.ToLower(t.label[:1]) + t.label[1:]
		}
		e.Actions = append(e.Actions, action{Op: "to:" + t.to, Label: label, Class: class})
	}
	return e
}

func (a *Admin) itemEditPage(c echo.Context) error {
	s := sessionOf(c)
	cl := a.client(c, s.Token)
	it, err := cl.item(c.Param("x"))
	if err != nil {
		return a.apiFail(c, err)
	}
	col, err := cl.collection(it.Collection)
	if err != nil {
		return a.apiFail(c, err)
	}
	e := newEditor(s, col, it)
	e.Inputs = buildInputs(parseFields(col.Schema), decodeData(it.Data), "d.", "")
	fillChoices(cl, e.Inputs)
	return a.render(c, http.StatusOK, "content/edit", &Page{Title: "Edit " + it.Label(), Nav: "content", Data: e})
}

func (a *Admin) itemNewPage(c echo.Context) error {
	s := sessionOf(c)
	cl := a.client(c, s.Token)
	col, err := cl.collection(c.Param("x"))
	if err != nil {
		return a.apiFail(c, err)
	}
	e := newEditor(s, col, nil)
	e.Inputs = buildInputs(parseFields(col.Schema), nil, "d.", "")
	fillChoices(cl, e.Inputs)
	return a.render(c, http.StatusOK, "content/edit", &Page{Title: "New item: " + col.Label(), Nav: "content", Data: e})
}

// posted is what the editor's form says.
type posted struct {
	Title, Slug            string
	Data                   map[string]any
	PublishAt, UnpublishAt *time.Time
	Bad                    map[string]string
	// FormOp is true when the button pressed changed the form only (an
	// item added to or removed from a list of groups): the form is shown
	// again, nothing is saved.
	FormOp bool
}

func readEditor(c echo.Context, e *editorPage, cur *item) (*posted, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, err
	}
	fields := parseFields(e.Collection.Schema)
	p := &posted{Bad: map[string]string{}, Slug: strings.TrimSpace(form.Get("slug"))}
	p.Data = dataFromForm(form, fields, "d.", "", p.Bad)
	p.FormOp = itemOp(p.Data, form.Get("op"))
	if e.TitleField {
		p.Title, _ = p.Data["title"].(string)
	} else {
		p.Title = strings.TrimSpace(form.Get("title"))
	}
	if e.CanSchedule {
		for _, sc := range []struct {
			name string
			dst  **time.Time
		}{{"publish_at", &p.PublishAt}, {"unpublish_at", &p.UnpublishAt}} {
			v := strings.TrimSpace(form.Get(sc.name))
			if v == "" {
				continue
			}
			if t, ok := parseLocal(v); ok {
				*sc.dst = &t
			} else {
				p.Bad[sc.name] = "a date and time, like 2026-12-31T09:00"
			}
		}
	} else if cur != nil {
		p.PublishAt, p.UnpublishAt = cur.PublishAt, cur.UnpublishAt
	}
	// Shown again as posted, whatever happens next.
	e.Title, e.Slug, e.Comment = p.Title, p.Slug, form.Get("comment")
	e.PublishAt, e.UnpublishAt = form.Get("publish_at"), form.Get("unpublish_at")
	e.Inputs = buildInputs(fields, p.Data, "d.", "")
	return p, nil
}

// refuse renders the editor again with err (an API refusal or the
// admin's own), its field messages beside their inputs.
func (a *Admin) refuse(c echo.Context, e *editorPage, title string, err error) error {
	fillChoices(a.client(c, sessionOf(c).Token), e.Inputs)
	if ae := apiError(err); ae != nil && len(ae.Fields) > 0 {
		e.Errors = placeErrors(e.Inputs, ae.Fields)
		n := len(ae.Fields)
		msg := strconv.Itoa(n) + " fields need a correction: see the message beside each."
		if n == 1 {
			msg = "1 field needs a correction: see the message beside it."
		}
		err = &APIError{Status: ae.Status, Code: ae.Code, Message: msg, Fields: ae.Fields}
	}
	return a.renderError(c, "content/edit", &Page{Title: title, Nav: "content", Data: e}, err)
}

// reshow renders the editor again as posted, after a button that changes
// the form only.
func (a *Admin) reshow(c echo.Context, e *editorPage, title string) error {
	fillChoices(a.client(c, sessionOf(c).Token), e.Inputs)
	return a.render(c, http.StatusOK, "content/edit", &Page{Title: title, Nav: "content", Data: e})
}

func invalid(bad map[string]string) error {
	return &APIError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "Some fields need a correction.", Fields: bad}
}

// itemCreate serves POST /admin/content/:collection/new: the item is
// created as a draft, or straight in review or published when that
// button was pressed (the API checks the permission).
func (a *Admin) itemCreate(c echo.Context) error {
	s := sessionOf(c)
	cl := a.client(c, s.Token)
	col, err := cl.collection(c.Param("x"))
	if err != nil {
		return a.apiFail(c, err)
	}
	e := newEditor(s, col, nil)
	p, err := readEditor(c, e, nil)
	if err != nil {
		return err
	}
	title := "New item: " + col.Label()
	if p.FormOp {
		return a.reshow(c, e, title)
	}
	if len(p.Bad) > 0 {
		return a.refuse(c, e, title, invalid(p.Bad))
	}
	in := map[string]any{"title": p.Title, "slug": p.Slug, "data": p.Data, "publish_at": p.PublishAt, "unpublish_at": p.UnpublishAt}
	msg := "Draft saved."
	if to, ok := strings.CutPrefix(c.FormValue("op"), "to:"); ok && (to == "review" || to == "published") {
		in["status"] = to
		msg = map[string]string{"review": "Submitted for review.", "published": "Published."}[to]
	}
	var out struct {
		Data *item `json:"data"`
	}
	if err := cl.json(http.MethodPost, "/api/collections/"+escape(col.Name)+"/content", in, &out); err != nil {
		return a.refuse(c, e, title, err)
	}
	return a.done(c, "/admin/content/"+url.PathEscape(out.Data.ID), msg)
}

// itemSave serves POST /admin/content/:id: the form is saved as a new
// version (PUT), then moved through the workflow when a workflow button
// was pressed.
func (a *Admin) itemSave(c echo.Context) error {
	id := c.Param("x")
	if !isItemID(id) {
		return a.fail(c, http.StatusNotFound, "Not found.")
	}
	s := sessionOf(c)
	cl := a.client(c, s.Token)
	cur, err := cl.item(id)
	if err != nil {
		return a.apiFail(c, err)
	}
	col, err := cl.collection(cur.Collection)
	if err != nil {
		return a.apiFail(c, err)
	}
	e := newEditor(s, col, cur)
	p, err := readEditor(c, e, cur)
	if err != nil {
		return err
	}
	title := "Edit " + cur.Label()
	if p.FormOp {
		return a.reshow(c, e, title)
	}
	if v, err := strconv.Atoi(c.FormValue("version")); err == nil && v != cur.Version {
		e.Version = v // the form stays the one the editor had
		return a.refuse(c, e, title, &APIError{Status: http.StatusConflict, Code: "version_conflict",
			Message: "Someone saved this item since you opened it (it is at version " + strconv.Itoa(cur.Version) +
				"). Your changes are below and were not saved: open the item again in another tab to compare."})
	}
	if len(p.Bad) > 0 {
		return a.refuse(c, e, title, invalid(p.Bad))
	}
	op := c.FormValue("op")
	msg := "Saved."
	// A plain save always goes to the API (which refuses a role without
	// content.update); a workflow move saves first where the role may.
	if e.CanSave || !strings.HasPrefix(op, "to:") {
		in := map[string]any{"title": p.Title, "slug": p.Slug, "data": p.Data, "publish_at": p.PublishAt, "unpublish_at": p.UnpublishAt}
		if err := cl.json(http.MethodPut, "/api/content/"+escape(id), in, nil); err != nil {
			return a.refuse(c, e, title, err)
		}
	}
	if to, ok := strings.CutPrefix(op, "to:"); ok {
		move := map[string]string{"to": to, "comment": strings.TrimSpace(c.FormValue("comment"))}
		if err := cl.json(http.MethodPost, "/api/content/"+escape(id)+"/transition", move, nil); err != nil {
			if e.CanSave {
				e.Version = cur.Version + 1
			}
			return a.refuse(c, e, title, err)
		}
		msg = map[string]string{"draft": "Moved to draft.", "review": "Submitted for review.", "published": "Published.", "archived": "Archived."}[to]
		if e.CanSave {
			msg = "Saved. " + msg
		}
	}
	return a.done(c, "/admin/content/"+url.PathEscape(id), msg)
}

// itemDelete moves an item to the trash.
func (a *Admin) itemDelete(c echo.Context) error {
	id := c.Param("x")
	cl := a.client(c, sessionOf(c).Token)
	it, err := cl.item(id)
	if err != nil {
		return a.apiFail(c, err)
	}
	if err := cl.json(http.MethodDelete, "/api/content/"+escape(id), nil, nil); err != nil {
		return a.apiFail(c, err)
	}
	return a.done(c, "/admin/content/"+url.PathEscape(it.Collection), "“"+it.Label()+"” moved to the trash.")
}

// ErrorList is the API's field errors no input took, in order.
func (e *editorPage) ErrorList() []string {
	var out []string
	for _, k := range sortedKeys(e.Errors) {
		out = append(out, k+": "+e.Errors[k])
	}
	sort.Strings(out)
	return out
}
