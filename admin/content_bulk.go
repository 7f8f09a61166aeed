package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// bulkAction is a choice of the list's "apply to selected" menu.
type bulkAction struct{ Value, Label, Perm string }

// bulkActions are the moves a list applies to the items selected; each
// is the API call the editor makes for one item.
var bulkActions = []bulkAction{
	{"published", "Publish", "content.publish"},
	{"review", "Submit for review", "content.update"},
	{"draft", "Move to draft (unpublish)", "content.publish"},
	{"archived", "Archive", "content.publish"},
	{"trash", "Move to trash", "content.delete"},
}

// maxBulk bounds the items of one bulk action (a page holds at most 100).
const maxBulk = 100

// itemBulk serves POST /admin/content/:collection/bulk: the action on
// each selected item, one API call each (so each is checked, audited and
// sent to webhooks as it would be alone); the flash counts what was done
// and says why the first refusal was refused.
func (a *Admin) itemBulk(c echo.Context) error {
	name := c.Param("x")
	back := "/admin/content/" + url.PathEscape(name)
	if q := c.FormValue("query"); q != "" && !strings.ContainsAny(q, "\r\n#") {
		back += "?" + q
	}
	cl := a.client(c, sessionOf(c).Token)
	// The collection must be one this user sees (else the page is a 404,
	// as the list's is), though each item is checked on its own below.
	if err := cl.get(joinPath("api", "collections", name), nil, nil); err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	ids, action := form["id"], form.Get("action")
	if len(ids) == 0 {
		return a.done(c, back, "Select the items first.")
	}
	if len(ids) > maxBulk {
		ids = ids[:maxBulk]
	}
	label := ""
	for _, b := range bulkActions {
		if b.Value == action {
			label = b.Label
		}
	}
	if label == "" {
		return a.done(c, back, "Choose what to do with the items.")
	}
	done, refused, why := 0, 0, ""
	for _, id := range ids {
		var err error
		if action == "trash" {
			err = cl.json(http.MethodDelete, "/api/content/"+escape(id), nil, nil)
		} else {
			err = cl.json(http.MethodPost, "/api/content/"+escape(id)+"/transition", map[string]string{"to": action}, nil)
		}
		switch e := apiError(err); {
		case err == nil:
			done++
		case e != nil && e.Status < 500:
			refused++
			if why == "" {
				why = e.Message
			}
		default:
			return err
		}
	}
	msg := fmt.Sprintf("%s: %d item%s done.", label, done, plural(done))
	if refused > 0 {
		msg += fmt.Sprintf(" %d refused (%s).", refused, why)
	}
	return a.done(c, back, msg)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
