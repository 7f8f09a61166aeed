package webhooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/condohq/condo"
)

// Endpoint is where a scope's events are sent. Its secret is shown once,
// in the answer to its creation (NewEndpoint's second result), and never
// again.
type Endpoint struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Events      []string  `json:"events"`
	Active      bool      `json:"active"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// EndpointInput creates an endpoint (URL and Events required; Active
// defaults to true) or changes one (nil fields are kept).
type EndpointInput struct {
	URL         *string   `json:"url"`
	Events      *[]string `json:"events"`
	Active      *bool     `json:"active"`
	Description *string   `json:"description"`
}

// Bounds of an endpoint's fields.
const (
	maxURL         = 2000
	maxDescription = 500
	maxEndpoints   = 50 // per scope: each is a delivery row per event
)

// CheckURL refuses what is not an absolute http(s) URL with a host, has
// credentials in it, or (unless allowPrivate) names a loopback, private
// or link-local address, or localhost, literally. A name that resolves to
// such an address is refused at each delivery's dial (see Dialer).
func CheckURL(raw string, allowPrivate bool) error {
	bad := func(format string, args ...any) error {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_url", format, args...)
	}
	if len(raw) > maxURL {
		return bad("url is longer than %d bytes", maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return bad("url must be an absolute http or https URL")
	}
	if u.User != nil {
		return bad("url must not carry credentials: the signature authenticates the sender")
	}
	if u.Fragment != "" {
		return bad("url must not have a fragment")
	}
	if allowPrivate {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return condo.ReasonErrorf(condo.EINVALID, "url_not_allowed", "url names this machine: webhooks go to public addresses only")
	}
	if ip, err := netip.ParseAddr(host); err == nil && !PublicAddr(ip) {
		return condo.ReasonErrorf(condo.EINVALID, "url_not_allowed", "url names a loopback, private or link-local address: webhooks go to public addresses only")
	}
	return nil
}

// PublicAddr reports whether ip may receive webhooks without
// --webhooks-allow-private: not loopback, private (RFC 1918, fc00::/7,
// 100.64.0.0/10), link-local (169.254.0.0/16, where cloud metadata
// lives), multicast or unspecified.
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() && !ip.IsLinkLocalMulticast() &&
		!ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() && !ip.IsUnspecified() && !cgnat.Contains(ip) &&
		!(ip.Is4() && ip.As4()[0] == 0)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// checkEvents refuses an empty list, an unknown type or a duplicate, and
// returns the list sorted.
func (s Scope) checkEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_events", "events must list at least one event type (or %q)", Wildcard)
	}
	out := slices.Clone(events)
	slices.Sort(out)
	for i, e := range out {
		if e != Wildcard && !s.events[e] {
			return nil, condo.ReasonErrorf(condo.EINVALID, "unknown_event", "unknown event type %q: use %s or %q",
				condo.Clip(e), strings.Join(s.eventList(), ", "), Wildcard)
		}
		if i > 0 && out[i-1] == e {
			return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_events", "event type %q is listed twice", e)
		}
	}
	return out, nil
}

func (s Scope) eventList() []string {
	if s.prefix == Platform.prefix {
		return PlatformEvents
	}
	return TenantEvents
}

func checkDescription(d string) error {
	if len(d) > maxDescription {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_description", "description is longer than %d bytes", maxDescription)
	}
	return nil
}

// Endpoints is a scope's endpoints in one database (a tenant's, or the
// catalog for Platform).
type Endpoints struct {
	DB           condo.DB
	Scope        Scope
	AllowPrivate bool // accept private addresses (--webhooks-allow-private)
}

const selectEndpoint = "SELECT id, url, events, active, description, created_at, updated_at FROM "

func scanEndpoint(row interface{ Scan(...any) error }) (*Endpoint, error) {
	var e Endpoint
	var events string
	var created, updated int64
	if err := row.Scan(&e.ID, &e.URL, &events, &e.Active, &e.Description, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &e.Events); err != nil {
		return nil, err
	}
	e.CreatedAt, e.UpdatedAt = condo.FromUnixMS(created), condo.FromUnixMS(updated)
	return &e, nil
}

func notFound(id string) error {
	return condo.ReasonErrorf(condo.ENOTFOUND, "webhook_not_found", "no webhook %q", condo.Clip(id))
}

// Create validates in and stores a new endpoint with a new secret,
// returned once here.
//
// Errors: EINVALID for a bad URL, event list or description; ECONFLICT
// (too_many_webhooks) past 50 endpoints.
func (e Endpoints) Create(ctx context.Context, in EndpointInput) (*Endpoint, string, error) {
	if in.URL == nil || in.Events == nil {
		return nil, "", condo.ReasonErrorf(condo.EINVALID, "invalid_webhook", "a webhook needs a url and its events")
	}
	if err := CheckURL(*in.URL, e.AllowPrivate); err != nil {
		return nil, "", err
	}
	events, err := e.Scope.checkEvents(*in.Events)
	if err != nil {
		return nil, "", err
	}
	ep := &Endpoint{ID: condo.NewID(), URL: *in.URL, Events: events, Active: in.Active == nil || *in.Active}
	if in.Description != nil {
		ep.Description = *in.Description
	}
	if err := checkDescription(ep.Description); err != nil {
		return nil, "", err
	}
	now := condo.FromUnixMS(condo.UnixMS(time.Now()))
	ep.CreatedAt, ep.UpdatedAt = now, now
	secret := NewSecret()
	list, _ := json.Marshal(events)
	err = e.DB.Transact(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+e.Scope.table("webhooks")).Scan(&n); err != nil {
			return err
		}
		if n >= maxEndpoints {
			return condo.ReasonErrorf(condo.ECONFLICT, "too_many_webhooks", "at most %d webhooks: delete one first", maxEndpoints)
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO "+e.Scope.table("webhooks")+
			" (id, url, events, secret, active, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			ep.ID, ep.URL, string(list), secret, ep.Active, ep.Description, condo.UnixMS(now), condo.UnixMS(now))
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return ep, secret, nil
}

// List returns the endpoints, oldest first.
func (e Endpoints) List(ctx context.Context) ([]*Endpoint, error) {
	rows, err := e.DB.Reader().QueryContext(ctx, selectEndpoint+e.Scope.table("webhooks")+" ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Endpoint{}
	for rows.Next() {
		ep, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ep)
	}
	return out, rows.Err()
}

// Get returns endpoint id. Errors: ENOTFOUND.
func (e Endpoints) Get(ctx context.Context, id string) (*Endpoint, error) {
	ep, err := scanEndpoint(e.DB.QueryRow(ctx, selectEndpoint+e.Scope.table("webhooks")+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(id)
	}
	return ep, err
}

// Update changes the fields of in that are set. Reactivating an endpoint
// resumes its pending deliveries.
//
// Errors: ENOTFOUND; EINVALID as Create.
func (e Endpoints) Update(ctx context.Context, id string, in EndpointInput) (*Endpoint, error) {
	if in.URL != nil {
		if err := CheckURL(*in.URL, e.AllowPrivate); err != nil {
			return nil, err
		}
	}
	var events []string
	if in.Events != nil {
		var err error
		if events, err = e.Scope.checkEvents(*in.Events); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		if err := checkDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	var out *Endpoint
	err := e.DB.Transact(ctx, func(tx *sql.Tx) error {
		cur, err := scanEndpoint(tx.QueryRowContext(ctx, selectEndpoint+e.Scope.table("webhooks")+" WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		if in.URL != nil {
			cur.URL = *in.URL
		}
		if events != nil {
			cur.Events = events
		}
		if in.Active != nil {
			cur.Active = *in.Active
		}
		if in.Description != nil {
			cur.Description = *in.Description
		}
		cur.UpdatedAt = condo.FromUnixMS(condo.UnixMS(time.Now()))
		list, _ := json.Marshal(cur.Events)
		_, err = tx.ExecContext(ctx, "UPDATE "+e.Scope.table("webhooks")+" SET url = ?, events = ?, active = ?, description = ?, updated_at = ? WHERE id = ?",
			cur.URL, string(list), cur.Active, cur.Description, condo.UnixMS(cur.UpdatedAt), id)
		out = cur
		return err
	})
	return out, err
}

// Delete removes endpoint id with its deliveries, pending ones included:
// nothing is sent to it afterwards (an attempt already on the wire may
// still arrive). It reports how many endpoints remain.
//
// Errors: ENOTFOUND.
func (e Endpoints) Delete(ctx context.Context, id string) (remaining int, err error) {
	err = e.DB.Transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM "+e.Scope.table("webhooks")+" WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound(id)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+e.Scope.table("webhook_deliveries")+" WHERE webhook_id = ?", id); err != nil {
			return err
		}
		// Events no endpoint still has to receive.
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+e.Scope.table("webhook_events")+" WHERE id NOT IN (SELECT event_id FROM "+
			e.Scope.table("webhook_deliveries")+")"); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM "+e.Scope.table("webhooks")).Scan(&remaining)
	})
	return remaining, err
}
