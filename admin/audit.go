package admin

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// auditRoutes registers the audit log page: the tenant's events (GET
// /api/audit), filtered by category, action, actor and day, newest first,
// a page at a time.
func (a *Admin) auditRoutes(g *echo.Group) {
	get(g, "/audit", a.auditPage)
}

// auditActions are the actions the filter offers (any other can be
// typed: the field takes free text).
var auditActions = []string{"account.exported", "collection.created", "collection.deleted", "collection.updated", "content.purged",
	"content.restored", "content.transition", "content.trashed", "content.updated", "impersonation", "invitation.accepted",
	"invitation.created", "invitation.revoked", "login_failed", "media.deleted", "media.updated", "media.uploaded", "permission_denied",
	"plugin.configured", "role.deleted", "role.saved", "settings.updated", "token.created", "token.revoked", "user.created",
	"user.deleted", "user.login", "user.password_changed", "user.password_reset", "user.registered", "user.updated",
	"webhook.created", "webhook.deleted", "webhook.replayed", "webhook.updated"}

// auditEvent is one event as the API lists it.
type auditEvent struct {
	ID             int64           `json:"id"`
	Category       string          `json:"category"`
	Action         string          `json:"action"`
	ActorType      string          `json:"actor_type"`
	ActorID        string          `json:"actor_id"`
	ImpersonatorID string          `json:"impersonator_id"`
	Target         string          `json:"target"`
	IP             string          `json:"ip_address"`
	Detail         json.RawMessage `json:"detail"`
	CreatedAt      time.Time       `json:"created_at"`
	Actor          string          `json:"-"` // the actor's email, where known
}

// DetailText is the event's detail, compact, "" when empty.
func (e auditEvent) DetailText() string {
	s := string(e.Detail)
	if s == "null" || s == "{}" || s == "" {
		return ""
	}
	return s
}

type auditFilter struct {
	Category, Action, Actor, Since, Until string
}

// query is the filter as GET /api/audit's parameters.
func (f auditFilter) query() (url.Values, error) {
	q := url.Values{}
	for k, v := range map[string]string{"category": f.Category, "action": f.Action, "actor": f.Actor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Since != "" {
		if _, err := time.Parse(time.DateOnly, f.Since); err != nil {
			return nil, err
		}
		q.Set("since", f.Since)
	}
	if f.Until != "" { // the day given is included
		d, err := time.Parse(time.DateOnly, f.Until)
		if err != nil {
			return nil, err
		}
		q.Set("until", d.AddDate(0, 0, 1).Format(time.DateOnly))
	}
	return q, nil
}

// link is this page's URL for the filter, from before (0: the newest).
func (f auditFilter) link(before int64) string {
	q := url.Values{}
	for k, v := range map[string]string{"category": f.Category, "action": f.Action, "actor": f.Actor, "since": f.Since, "until": f.Until} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
	}
	if len(q) == 0 {
		return TenantPath + "/audit"
	}
	return TenantPath + "/audit?" + q.Encode()
}

type auditUser struct {
	ID, Email string
}

type auditData struct {
	Events  []auditEvent
	Filter  auditFilter
	Actions []string
	Users   []auditUser
	Older   string // the next page's URL, "" on the last
	Newest  string // the first page's URL, "" on it
}

const auditPageSize = 50

func (a *Admin) auditPage(c echo.Context) error {
	f := auditFilter{Category: c.QueryParam("category"), Action: c.QueryParam("action"), Actor: c.QueryParam("actor"),
		Since: c.QueryParam("since"), Until: c.QueryParam("until")}
	d := &auditData{Filter: f, Actions: auditActions}
	page := &Page{Title: "Audit log", Nav: "audit", Data: d}
	q, err := f.query()
	if err != nil {
		page.Error = &APIError{Status: http.StatusBadRequest, Message: "Dates are written 2026-12-31.", Fields: map[string]string{"since": "a date like 2026-12-31"}}
		return a.render(c, http.StatusBadRequest, "audit/list", page)
	}
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if before > 0 {
		q.Set("before", strconv.FormatInt(before, 10))
		d.Newest = f.link(0)
	}
	q.Set("limit", strconv.Itoa(auditPageSize))
	cl := a.client(c, sessionOf(c).Token)
	var out struct {
		Data []auditEvent `json:"data"`
		Meta struct {
			NextBefore int64 `json:"next_before"`
		} `json:"meta"`
	}
	if err := cl.get("/api/audit", q, &out); err != nil {
		if e := apiError(err); e != nil && e.Status == http.StatusBadRequest {
			return a.renderError(c, "audit/list", page, err)
		}
		return err
	}
	d.Events = out.Data
	if len(out.Data) == auditPageSize && out.Meta.NextBefore > 0 {
		d.Older = f.link(out.Meta.NextBefore)
	}
	if sessionOf(c).Can("users.read") {
		var users struct {
			Data []struct {
				ID    string `json:"id"`
				Email string `json:"email"`
			} `json:"data"`
		}
		if cl.get("/api/users", url.Values{"limit": {"200"}}, &users) == nil {
			emails := map[string]string{}
			for _, u := range users.Data {
				d.Users = append(d.Users, auditUser{ID: u.ID, Email: u.Email})
				emails[u.ID] = u.Email
			}
			for i := range d.Events {
				d.Events[i].Actor = emails[d.Events[i].ActorID]
			}
		}
	}
	return a.render(c, http.StatusOK, "audit/list", page)
}
