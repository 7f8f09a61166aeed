package admin

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// webhookRoutes registers the webhooks pages: endpoints (list, create
// with its signing secret shown once, delete) and each endpoint's
// deliveries with their attempts, and replay.
func (a *Admin) webhookRoutes(g *echo.Group) {
	get(g, "/webhooks", a.webhooksPage)
	g.POST("/webhooks", a.webhookCreate)
	get(g, "/webhooks/:id", a.webhookPage)
	g.POST("/webhooks/:id", a.webhookUpdate)
	g.POST("/webhooks/:id/delete", a.webhookDelete)
	g.POST("/webhooks/:id/active", a.webhookActive)
	g.POST("/webhooks/:id/deliveries/:delivery/replay", a.webhookReplay)
}

// webhookEvents are the event types of a tenant's endpoints
// (webhooks.TenantEvents; "*" is every one of them).
var webhookEvents = []string{"content.created", "content.updated", "content.published", "content.unpublished", "content.deleted",
	"content.restored", "media.uploaded", "media.deleted", "user.created", "user.updated", "user.deleted"}

// webhookEndpoint is an endpoint as the API lists it.
type webhookEndpoint struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Active      bool      `json:"active"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// webhookDelivery is one delivery with its attempts.
type webhookDelivery struct {
	ID        string     `json:"id"`
	WebhookID string     `json:"webhook_id"`
	EventID   string     `json:"event_id"`
	EventType string     `json:"event_type"`
	State     string     `json:"state"`
	NextAt    *time.Time `json:"next_attempt_at"`
	CreatedAt time.Time  `json:"created_at"`
	Attempts  []struct {
		At         time.Time `json:"at"`
		StatusCode int       `json:"status_code"`
		Error      string    `json:"error"`
		DurationMS int64     `json:"duration_ms"`
	} `json:"attempts"`
}

// Last is the delivery's last attempt, as one line.
func (d webhookDelivery) Last() string {
	if len(d.Attempts) == 0 {
		return "not tried yet"
	}
	at := d.Attempts[len(d.Attempts)-1]
	s := "no answer"
	if at.StatusCode > 0 {
		s = fmt.Sprintf("HTTP %d %s", at.StatusCode, http.StatusText(at.StatusCode))
	}
	if at.Error != "" {
		s += ": " + at.Error
	}
	return fmt.Sprintf("%s (%d ms)", s, at.DurationMS)
}

type webhookForm struct {
	URL, Description string
	Events           []string
}

type webhooksData struct {
	Endpoints []webhookEndpoint
	Events    []string
	Form      webhookForm
	Created   *createdWebhook
}

type createdWebhook struct {
	webhookEndpoint
	Secret string `json:"secret"`
}

func (a *Admin) webhooksData(c echo.Context, form webhookForm) (*webhooksData, error) {
	var out struct {
		Data []webhookEndpoint `json:"data"`
	}
	if err := a.client(c, sessionOf(c).Token).get("/api/webhooks", nil, &out); err != nil {
		return nil, err
	}
	return &webhooksData{Endpoints: out.Data, Events: webhookEvents, Form: form}, nil
}

func (a *Admin) webhooksPage(c echo.Context) error {
	d, err := a.webhooksData(c, webhookForm{})
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "webhooks/list", &Page{Title: "Webhooks", Nav: "webhooks", Data: d})
}

// webhookCreate adds an endpoint (POST /api/webhooks) and shows its
// signing secret on this answer only.
func (a *Admin) webhookCreate(c echo.Context) error {
	form := webhookForm{URL: strings.TrimSpace(c.FormValue("url")), Description: strings.TrimSpace(c.FormValue("description"))}
	if v, err := c.FormParams(); err == nil {
		form.Events = v["events"]
	}
	events := form.Events
	if events == nil {
		events = []string{}
	}
	var out struct {
		Data createdWebhook `json:"data"`
	}
	err := a.client(c, sessionOf(c).Token).json(http.MethodPost, "/api/webhooks",
		map[string]any{"url": form.URL, "events": events, "description": form.Description}, &out)
	d, lerr := a.webhooksData(c, form)
	if lerr != nil {
		return lerr
	}
	page := &Page{Title: "Webhooks", Nav: "webhooks", Data: d}
	if err != nil {
		return a.renderError(c, "webhooks/list", page, err)
	}
	d.Created, d.Form = &out.Data, webhookForm{}
	cfgNoStore(c)
	return a.render(c, http.StatusOK, "webhooks/list", page)
}

type webhookData struct {
	Endpoint   webhookEndpoint
	Deliveries []webhookDelivery
	Events     []string
	Form       webhookForm // the edit form
}

// webhookData reads one endpoint and its newest deliveries.
func (a *Admin) webhookData(c echo.Context) (*webhookData, error) {
	cl := a.client(c, sessionOf(c).Token)
	var ep struct {
		Data webhookEndpoint `json:"data"`
	}
	if err := cl.get(joinPath("api", "webhooks", c.Param("id")), nil, &ep); err != nil {
		return nil, err
	}
	var ds struct {
		Data []webhookDelivery `json:"data"`
	}
	if err := cl.get(joinPath("api", "webhooks", c.Param("id"), "deliveries"), nil, &ds); err != nil {
		return nil, err
	}
	return &webhookData{Endpoint: ep.Data, Deliveries: ds.Data, Events: webhookEvents,
		Form: webhookForm{URL: ep.Data.URL, Description: ep.Data.Description, Events: ep.Data.Events}}, nil
}

// webhookPage shows one endpoint, its edit form and its newest
// deliveries.
func (a *Admin) webhookPage(c echo.Context) error {
	d, err := a.webhookData(c)
	if err != nil {
		return err
	}
	return a.render(c, http.StatusOK, "webhooks/deliveries", &Page{Title: "Webhook deliveries", Nav: "webhooks", Data: d})
}

// webhookUpdate changes an endpoint's URL, events and description
// (PATCH /api/webhooks/:id); its secret stays.
func (a *Admin) webhookUpdate(c echo.Context) error {
	d, err := a.webhookData(c)
	if err != nil {
		return err
	}
	d.Form = webhookForm{URL: strings.TrimSpace(c.FormValue("url")), Description: strings.TrimSpace(c.FormValue("description"))}
	if v, err := c.FormParams(); err == nil {
		d.Form.Events = v["events"]
	}
	events := d.Form.Events
	if events == nil {
		events = []string{}
	}
	in := map[string]any{"url": d.Form.URL, "events": events, "description": d.Form.Description}
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPatch, joinPath("api", "webhooks", d.Endpoint.ID), in, nil); err != nil {
		return a.renderError(c, "webhooks/deliveries", &Page{Title: "Webhook deliveries", Nav: "webhooks", Data: d}, err)
	}
	return a.done(c, TenantPath+"/webhooks/"+escape(d.Endpoint.ID), "Webhook saved.")
}

func (a *Admin) webhookDelete(c echo.Context) error {
	if err := a.client(c, sessionOf(c).Token).json(http.MethodDelete, joinPath("api", "webhooks", c.Param("id")), nil, nil); err != nil {
		return err
	}
	return a.done(c, TenantPath+"/webhooks", "Webhook deleted.")
}

// webhookActive pauses or resumes an endpoint (PATCH {"active": ...}).
func (a *Admin) webhookActive(c echo.Context) error {
	on := c.FormValue("active") == "true"
	id := c.Param("id")
	if err := a.client(c, sessionOf(c).Token).json(http.MethodPatch, joinPath("api", "webhooks", id), map[string]any{"active": on}, nil); err != nil {
		return err
	}
	msg := "Webhook paused."
	if on {
		msg = "Webhook resumed."
	}
	return a.done(c, TenantPath+"/webhooks/"+escape(id), msg)
}

// webhookReplay sends a delivery again now.
func (a *Admin) webhookReplay(c echo.Context) error {
	id := c.Param("id")
	err := a.client(c, sessionOf(c).Token).json(http.MethodPost, joinPath("api", "webhooks", id, "deliveries", c.Param("delivery"), "replay"), nil, nil)
	if err != nil {
		return err
	}
	return a.done(c, TenantPath+"/webhooks/"+escape(id), "Delivery queued to be sent again.")
}
