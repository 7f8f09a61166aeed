package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
)

// eventsPage is a decoded GET /platform/security-events reply.
type eventsPage struct {
	Status int                     `json:"-"`
	Data   []catalog.SecurityEvent `json:"data"`
	Meta   struct {
		NextBefore *string `json:"next_before"`
	} `json:"meta"`
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

func (p *platformEnv) securityEvents(t *testing.T, query string, auth bool) eventsPage {
	t.Helper()
	req, err := http.NewRequest("GET", p.srv.URL+"/platform/security-events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "localhost"
	if auth {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	res, err := p.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	page := eventsPage{Status: res.StatusCode}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v", query, err)
	}
	return page
}

func TestPlatform_SecurityEvents(t *testing.T) {
	ctx := context.Background()
	p := newPlatform(t, "wordcount", 1)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	recorded := []catalog.SecurityEvent{ // oldest first
		{TenantID: "t000", Kind: "login_failed", Actor: "ann@example.com", IP: "192.0.2.1", UserAgent: "curl/8", Detail: json.RawMessage(`{"attempts":1}`)},
		{TenantID: "t001", Kind: "login_failed", Actor: "bob@example.com"},
		{TenantID: "t000", Kind: "cross_tenant_token", Actor: "user-1", Detail: json.RawMessage(`{"token_tenant":"t001"}`)},
		{Kind: "login_failed", Actor: "ops@example.com"}, // the platform's own login
		{TenantID: "t000", Kind: "lockout", Actor: "ann@example.com"},
	}
	for i := range recorded {
		recorded[i].CreatedAt = base.Add(time.Duration(i) * time.Second)
		if err := p.Catalog.RecordSecurityEvent(ctx, &recorded[i]); err != nil {
			t.Fatal(err)
		}
	}
	id := func(i int) string { return recorded[i].ID }

	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantCode   string
		wantIDs    []string // newest first
		wantNext   string   // "" when absent
	}{
		{"All", "", 200, "", []string{id(4), id(3), id(2), id(1), id(0)}, ""},
		{"Tenant", "?tenant=t000", 200, "", []string{id(4), id(2), id(0)}, ""},
		{"Kind", "?kind=login_failed", 200, "", []string{id(3), id(1), id(0)}, ""},
		{"TenantAndKind", "?tenant=t000&kind=login_failed", 200, "", []string{id(0)}, ""},
		{"UnknownTenant", "?tenant=nobody", 200, "", []string{}, ""},
		{"Limit", "?limit=2", 200, "", []string{id(4), id(3)}, id(3)},
		{"Before", "?before=" + id(3) + "&limit=2", 200, "", []string{id(2), id(1)}, id(1)},
		{"LastPage", "?before=" + id(1) + "&limit=2", 200, "", []string{id(0)}, ""},
		{"LimitNotANumber", "?limit=ten", 400, "invalid_limit", nil, ""},
		{"LimitZero", "?limit=0", 400, "invalid_limit", nil, ""},
		{"LimitNegative", "?limit=-1", 400, "invalid_limit", nil, ""},
		{"LimitTooLarge", "?limit=1001", 400, "invalid_limit", nil, ""},
		{"BadTenant", "?tenant=" + url.QueryEscape("../t000"), 400, "invalid_tenant_id", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := p.securityEvents(t, tt.query, true)
			if page.Status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (%+v)", page.Status, tt.wantStatus, page)
			}
			if tt.wantCode != "" {
				if page.Error.Code != tt.wantCode {
					t.Errorf("error code = %q, want %q", page.Error.Code, tt.wantCode)
				}
				return
			}
			if page.Data == nil {
				t.Fatalf("data is absent or null, want a list")
			}
			var got []string
			for _, e := range page.Data {
				got = append(got, e.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("ids = %v, want %v", got, tt.wantIDs)
			}
			next := ""
			if page.Meta.NextBefore != nil {
				next = *page.Meta.NextBefore
			}
			if next != tt.wantNext {
				t.Errorf("next_before = %q, want %q", next, tt.wantNext)
			}
		})
	}

	t.Run("Fields", func(t *testing.T) {
		page := p.securityEvents(t, "?tenant=t000&kind=login_failed", true)
		if len(page.Data) != 1 {
			t.Fatalf("data = %+v", page.Data)
		}
		got, want := page.Data[0], recorded[0]
		if got.ID != want.ID || got.TenantID != want.TenantID || got.Kind != want.Kind || got.Actor != want.Actor ||
			got.IP != want.IP || got.UserAgent != want.UserAgent || !got.CreatedAt.Equal(want.CreatedAt) {
			t.Errorf("event = %+v, want %+v", got, want)
		}
		var detail map[string]any
		if err := json.Unmarshal(got.Detail, &detail); err != nil || detail["attempts"] != float64(1) {
			t.Errorf("detail = %s (%v)", got.Detail, err)
		}
	})
	t.Run("Paging", func(t *testing.T) {
		var all []string
		query := "?limit=2"
		for range 10 {
			page := p.securityEvents(t, query, true)
			for _, e := range page.Data {
				all = append(all, e.ID)
			}
			if page.Meta.NextBefore == nil {
				break
			}
			query = "?limit=2&before=" + *page.Meta.NextBefore
		}
		if got, want := strings.Join(all, ","), strings.Join([]string{id(4), id(3), id(2), id(1), id(0)}, ","); got != want {
			t.Errorf("paged ids = %v, want every event once, newest first", all)
		}
	})
	t.Run("NoToken", func(t *testing.T) {
		page := p.securityEvents(t, "", false)
		if page.Status != http.StatusUnauthorized || page.Error.Code != "missing_token" || page.Data != nil {
			t.Errorf("without a token: %d %+v", page.Status, page)
		}
	})
}
