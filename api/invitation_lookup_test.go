package api_test

import (
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
)

// GET /auth/invitations/:token says whether a link can still be accepted,
// and as what, to whoever holds it on the invitation's tenant only.
func TestAuth_InvitationLookup(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/api/invitations", admin, `{"email": "lu@example.com", "role": "author"}`), 201, "")
	token := secretIn(t, e.Mail(t, "lu@example.com"), "/auth/invitations/")

	res := e.Call(t, "tenant-a", "GET", "/auth/invitations/"+token, "", "")
	apitest.WantStatus(t, res, 200, "")
	if res.Data["role"] != "author" || res.Data["expires_at"] == nil {
		t.Errorf("invitation = %v", res.Data)
	}
	if _, ok := res.Data["email"]; ok {
		t.Errorf("the answer names the invitee: %v", res.Data)
	}
	apitest.WantStatus(t, e.Call(t, "tenant-b", "GET", "/auth/invitations/"+token, "", ""), 404, "invitation_not_found")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/auth/invitations/not-a-token", "", ""), 404, "invitation_not_found")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "POST", "/auth/invitations/"+token+"/accept", "", `{"password": "lu's password 1"}`), 201, "")
	apitest.WantStatus(t, e.Call(t, "tenant-a", "GET", "/auth/invitations/"+token, "", ""), 404, "invitation_not_found")
	if strings.Contains(e.Log.String(), token) {
		t.Fatal("the token is in the log")
	}
}
