package admin

// The item editor: a form generated from the collection's schema, an
// input per field type. The form's values become the item's data here;
// the API validates it, and its messages, by field path, go beside the
// inputs they name.

import (
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
	CanCopy                bool
	Errors                 map[string]string // the API's field errors no input took
}

// action is a workflow button of the editor.
type action struct{ Op, Label, Class string }

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
		e.CanCopy = s.Can("content.create")
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
		return err
	}
	col, err := cl.collection(it.Collection)
	if err != nil {
		return err
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
		return err
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
		return err
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
	cur, tag, err := cl.taggedItem(id)
	if err != nil {
		return err
	}
	col, err := cl.collection(cur.Collection)
	if err != nil {
		return err
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
		// If-Match: a save that lands between the read above and this
		// write is not overwritten (412, told like the version check).
		if err := cl.json(http.MethodPut, "/api/content/"+escape(id), in, nil, "If-Match", tag); err != nil {
			if apiError(err) != nil && apiError(err).Status == http.StatusPreconditionFailed {
				err = &APIError{Status: http.StatusConflict, Code: "version_conflict",
					Message: "Someone saved this item while you were saving it. Your changes are below and were not saved: open the item again in another tab to compare."}
			}
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
		return err
	}
	if err := cl.json(http.MethodDelete, "/api/content/"+escape(id), nil, nil); err != nil {
		return err
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

// itemDuplicate serves POST /admin/content/:id/duplicate: a new draft
// with the item's data, titled "Copy of ...", its slug made anew.
func (a *Admin) itemDuplicate(c echo.Context) error {
	cl := a.client(c, sessionOf(c).Token)
	it, err := cl.item(c.Param("x"))
	if err != nil {
		return err
	}
	col, err := cl.collection(it.Collection)
	if err != nil {
		return err
	}
	data := decodeData(it.Data)
	title := "Copy of " + it.Title
	if f := lookupField(parseFields(col.Schema), "title"); f != nil && f.Type != "object" {
		data["title"] = title
	}
	var out struct {
		Data *item `json:"data"`
	}
	in := map[string]any{"title": title, "data": data}
	if err := cl.json(http.MethodPost, "/api/collections/"+escape(it.Collection)+"/content", in, &out); err != nil {
		return err
	}
	return a.done(c, "/admin/content/"+url.PathEscape(out.Data.ID), "Copied as a new draft.")
}
