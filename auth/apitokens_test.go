package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
)

// A token the operator makes (condo tokens create) has no user: it
// verifies with the operator's role, which holds SQL permissions only.
func TestAPIToken_Operator(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	tok, secret, err := st.CreateAPIToken(ctx, auth.NewAPIToken{Name: "ci", Permissions: auth.MustPerms(auth.SQLRead)})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Operator || tok.UserID != "" {
		t.Errorf("token = %+v, want the operator's", tok)
	}
	got, a, err := st.VerifyAPIToken(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if a.User != nil || a.Role.Name != auth.OperatorRole.Name || !got.Operator {
		t.Errorf("verified as %+v %+v, want the operator's role and no user", a, got)
	}
	if eff := got.Permissions & a.Role.Permissions; eff != auth.MustPerms(auth.SQLRead) {
		t.Errorf("effective permissions %v, want sql.read", eff)
	}
	list, err := st.APITokens(ctx)
	if err != nil || len(list) != 1 || !list[0].Operator || list[0].LastUsedAt == nil {
		t.Errorf("list = %+v %v, want the token, used", list, err)
	}

	// Only SQL permissions without a user.
	_, _, err = st.CreateAPIToken(ctx, auth.NewAPIToken{Name: "x", Permissions: auth.MustPerms(auth.SQLWrite, auth.UsersCreate)})
	if condo.ErrorCode(err) != condo.EINVALID {
		t.Errorf("a userless token with users.create: %v, want EINVALID", err)
	}

	// A revoked token stops verifying.
	soon := time.Now().Add(time.Hour)
	short, shortSecret, err := st.CreateAPIToken(ctx, auth.NewAPIToken{Name: "short", Permissions: auth.MustPerms(auth.SQLWrite), ExpiresAt: &soon})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RevokeAPIToken(ctx, short.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.VerifyAPIToken(ctx, shortSecret); condo.ErrorCode(err) != condo.EUNAUTHORIZED {
		t.Errorf("revoked token: %v, want EUNAUTHORIZED", err)
	}
}
