package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
)

// The libSQL endpoint of a tenant at a remote location forwards to it only
// when the location honours the client's cap (X-Condo-Sql-Access): a
// location that does not say so (here a Condo server behind a proxy that
// drops X-Condo-Sql-Caps, as Turso or sqld would answer) is refused for
// sql.read and sql.write clients, which would otherwise run with the
// location token's power.
func TestHrana_RemoteLocationCap(t *testing.T) {
	ctx := context.Background()
	loc := apitest.New(t, api.Config{})
	var owner string
	loc.AuthStore(t, "tenant-a", func(st *auth.Store) {
		var err error
		_, owner, err = st.CreateAPIToken(ctx, auth.NewAPIToken{Name: "location", Permissions: auth.MustPerms(auth.SQLRead, auth.SQLWrite, auth.SQLOwner)})
		if err != nil {
			t.Fatal(err)
		}
	})
	target, _ := url.Parse(loc.Srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(res *http.Response) error { res.Header.Del(api.SQLCapsHeader); return nil }
	uncapped := httptest.NewServer(rp)
	t.Cleanup(uncapped.Close)

	home := apitest.New(t, api.Config{})
	for id, base := range map[string]string{"capped": loc.Srv.URL, "uncapped": uncapped.URL} {
		if _, err := home.Store.Create(ctx, catalog.NewTenant{ID: id, Location: base + api.TenantPathPrefix + "tenant-a", LocationToken: owner}); err != nil {
			t.Fatal(err)
		}
	}
	tokenOf := func(tenant string, perms ...string) string {
		var tok string
		home.AuthStore(t, tenant, func(st *auth.Store) {
			var err error
			if _, tok, err = st.CreateAPIToken(ctx, auth.NewAPIToken{Name: "client", Permissions: auth.MustPerms(perms...)}); err != nil {
				t.Fatal(err)
			}
		})
		return tok
	}
	const pipeline = `{"requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}}, {"type": "close"}]}`
	tests := []struct {
		tenant     string
		perms      []string
		wantStatus int
		wantCode   string
	}{
		{"capped", []string{auth.SQLRead}, 200, ""},
		{"capped", []string{auth.SQLRead, auth.SQLWrite}, 200, ""},
		{"uncapped", []string{auth.SQLRead}, 403, "REMOTE_SQL_UNSUPPORTED"},
		{"uncapped", []string{auth.SQLRead, auth.SQLWrite}, 403, "REMOTE_SQL_UNSUPPORTED"},
		{"uncapped", []string{auth.SQLRead, auth.SQLWrite, auth.SQLOwner}, 200, ""},
	}
	for _, tc := range tests {
		res := home.Call(t, tc.tenant, "POST", "/v2/pipeline", tokenOf(tc.tenant, tc.perms...), pipeline)
		if got, _ := res.Raw["code"].(string); res.Status != tc.wantStatus || got != tc.wantCode {
			t.Errorf("%s with %v: %d %q, want %d %q (%v)", tc.tenant, tc.perms, res.Status, got, tc.wantStatus, tc.wantCode, res.Raw)
		}
	}
}
