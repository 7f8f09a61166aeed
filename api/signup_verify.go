package api

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
)

// signupResult is the answer of a verified sign-up: the new tenant, its
// admin's session (to hand over to the tenant's host, see admin's
// /admin/welcome) and where its admin is.
type signupResult struct {
	Tenant     *catalog.Tenant `json:"tenant"`
	AdminURL   string          `json:"admin_url"`
	WelcomeURL string          `json:"welcome_url"`
	*sessionResponse
}

// verifySignup serves POST /platform/signup/verify {token}: it spends the
// sign-up's link and creates what it asked for: the tenant on the
// sign-up plan, its first user as admin with the chosen password, the
// starter collection with a welcome draft, and the platform event
// tenant.signed_up. 201 {"data": {tenant, admin_url, welcome_url, token,
// refresh_token, expires_at, user}}: a normal session of the new admin.
// Refusals: 404 signup_not_found, 410 signup_used or signup_expired, 409
// subdomain_taken (someone took it meanwhile), 403 signup_limit_reached.
func (s *Server) verifySignup(c echo.Context) error {
	var in struct {
		Token string `json:"token"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("token", in.Token); err != nil {
		return err
	}
	ctx := c.Request().Context()
	sg, err := s.catalog.ClaimSignup(ctx, auth.HashSecret(in.Token), s.now())
	if err != nil {
		return err
	}
	password, err := openPassword(in.Token, sg.Sealed)
	if err != nil {
		return err
	}
	// Both may have changed since the mail was sent.
	if err := s.subdomainFree(ctx, sg.Subdomain); err != nil {
		return err
	}
	if err := s.underEmailCap(ctx, sg.Email); err != nil {
		return err
	}
	t, err := s.store.Create(ctx, catalog.NewTenant{ID: sg.Subdomain, Name: sg.Name, Plan: s.signups.limits.Plan})
	if condo.ErrorReason(err) == "tenant_exists" {
		return subdomainError(sg.Subdomain, sg.Subdomain+"."+s.catalog.BaseDomain(ctx), catalog.SubdomainTaken)
	}
	if err != nil {
		return err
	}
	c.Set(ctxTenant, t)
	var sess *sessionResponse
	err = s.identity(c, func(ctx context.Context, st *auth.Store) error {
		lim, err := limits(c, ctx, st)
		if err != nil {
			return err
		}
		u, err := st.CreateUser(ctx, auth.NewUser{Email: sg.Email, Password: password, Role: auth.RoleAdmin}, lim)
		if err != nil {
			return err
		}
		sess, err = s.startSession(c, ctx, st, u)
		return err
	})
	if err != nil {
		return fmt.Errorf("sign-up %s: first user: %w", t.ID, err)
	}
	c.Set(ctxPrincipal, &principal{Kind: "user", UserID: sess.User.ID})
	if err := s.withContent(c, func(ctx context.Context, st *cms.Store) error {
		return starterContent(ctx, st, t.Name, sess.User.ID)
	}); err != nil {
		return fmt.Errorf("sign-up %s: starter content: %w", t.ID, err)
	}
	event := map[string]any{"tenant": t, "email": sg.Email, "plan": t.Plan, "signed_up_at": s.now().UTC(), "requested_at": sg.CreatedAt.UTC()}
	if err := s.catalog.FinishSignup(ctx, sg.ID, t.ID, event); err != nil {
		return fmt.Errorf("sign-up %s: finish: %w", t.ID, err)
	}
	s.audit(c, auth.CategoryAudit, "tenant.signed_up", t.ID, map[string]any{"email": sg.Email, "plan": t.Plan})
	origin := s.origin(c)
	return c.JSON(http.StatusCreated, map[string]any{"data": signupResult{Tenant: t, AdminURL: origin + "/admin",
		WelcomeURL: origin + "/admin/welcome", sessionResponse: sess}})
}

// starterContent gives a new tenant something to edit: a posts
// collection (title, body) and a welcome draft in it.
func starterContent(ctx context.Context, st *cms.Store, site, author string) error {
	col, err := st.CreateCollection(ctx, cms.NewCollection{Name: StarterCollection, DisplayName: "Posts",
		Description: "Articles of " + site + ": a starter collection, yours to change or delete.",
		Schema: []byte(`{"type": "object", "properties": {"title": {"type": "string", "required": true, "maxLength": 200},
			"body": {"type": "richtext"}}, "required": ["title"]}`)})
	if err != nil {
		return err
	}
	_, err = st.CreateItem(ctx, col, cms.ItemInput{Title: "Welcome to " + site, Slug: "welcome", Status: cms.StatusDraft,
		Data: map[string]any{"title": "Welcome to " + site,
			"body": "<p>This is your first post, a draft. Edit it, publish it, or delete it and start your own.</p>"}}, author)
	return err
}

// sealPassword seals a sign-up's password with a key derived from its
// token: the catalog holds the token's hash and this, so the password
// opens only for whoever holds the mailed link. AES-256-GCM, nonce first.
func sealPassword(token, password string) ([]byte, error) {
	aead, err := signupAEAD(token)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(password), nil), nil
}

func openPassword(token string, sealed []byte) (string, error) {
	aead, err := signupAEAD(token)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("sealed sign-up password too short")
	}
	pw, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("open sign-up password: %w", err)
	}
	return string(pw), nil
}

func signupAEAD(token string) (cipher.AEAD, error) {
	// Another hash than HashSecret's, so the stored hash is not the key.
	key := sha256.Sum256([]byte("condo signup password\x00" + token))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
