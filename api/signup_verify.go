package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/sqlitedb"
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
	// Both may have changed since the mail was sent.
	s.signups.verifying.Lock()
	defer s.signups.verifying.Unlock()
	if err := s.subdomainFree(ctx, sg.Subdomain); err != nil {
		return err
	}
	if err := s.underEmailCap(ctx, sg.Email); err != nil {
		return err
	}
	// The first user and the starter content are written into the new
	// database before the tenant exists: it is created whole, or not at
	// all (a failure leaves the link spent, and nothing else).
	var admin *auth.User
	t, err := lifecycle.Provision(ctx, s.store, catalog.NewTenant{ID: sg.Subdomain, Name: sg.Name, Plan: s.signups.limits.Plan},
		func(ctx context.Context, db *sqlitedb.DB, media string) error {
			lim := auth.Limits{Users: s.plans.For(s.signups.limits.Plan).UserLimit, Policy: auth.DefaultPasswordPolicy}
			var err error
			if admin, err = auth.New(sg.Subdomain, db).CreateUser(ctx, auth.NewUser{Email: sg.Email, PasswordHash: sg.PasswordHash, Role: auth.RoleAdmin}, lim); err != nil {
				return err
			}
			return starterContent(ctx, cms.New(sg.Subdomain, db, media), sg.Name, admin.ID)
		})
	if condo.ErrorReason(err) == "tenant_exists" {
		return subdomainError(sg.Subdomain, sg.Subdomain+"."+s.catalog.BaseDomain(ctx), catalog.SubdomainTaken)
	}
	if err != nil {
		return fmt.Errorf("sign-up %s: %w", sg.Subdomain, err)
	}
	c.Set(ctxTenant, t)
	var sess *sessionResponse
	err = s.identity(c, func(ctx context.Context, st *auth.Store) error {
		sess, err = s.startSession(c, ctx, st, admin)
		return err
	})
	if err != nil {
		return fmt.Errorf("sign-up %s: first session: %w", t.ID, err)
	}
	c.Set(ctxPrincipal, &principal{Kind: "user", UserID: sess.User.ID})
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
