package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/mail"
)

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 7 * 24 * time.Hour

func (s *Server) invitationRoutes() {
	s.tenantRoute(http.MethodGet, "/api/invitations", s.listInvitations, auth.UsersRead)
	s.tenantRoute(http.MethodPost, "/api/invitations", s.invite, auth.UsersCreate)
	s.tenantRoute(http.MethodDelete, "/api/invitations/:id", s.revokeInvitation, auth.UsersCreate)
}

func (s *Server) listInvitations(c echo.Context) error {
	out, err := s.catalog.PendingInvitations(c.Request().Context(), tenantOf(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// invite serves POST /api/invitations: {email, role}. The token goes to
// the invitee by mail only; if the mail cannot be sent the invitation is
// withdrawn and the answer says so.
func (s *Server) invite(c echo.Context) error {
	var in struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if err := required("email", in.Email); err != nil {
		return err
	}
	if in.Role == "" {
		in.Role = auth.RoleViewer
	}
	t := tenantOf(c)
	p := principalOf(c)
	inv := &catalog.Invitation{TenantID: t.ID, Email: in.Email, Role: in.Role, InvitedBy: p.UserID, ExpiresAt: time.Now().Add(InvitationTTL)}
	if inv.InvitedBy == "" {
		inv.InvitedBy = p.Kind + ":" + p.Impersonator
	}
	token := auth.NewSecret()
	err := s.identity(c, func(ctx context.Context, st *auth.Store) error {
		if err := s.grantableRole(c, ctx, st, in.Role); err != nil {
			return err
		}
		if _, err := st.UserByEmail(ctx, in.Email); err == nil {
			return condo.ReasonErrorf(condo.ECONFLICT, "user_exists", "a user with this email exists already")
		}
		if err := s.catalog.CreateInvitation(ctx, inv, auth.HashSecret(token)); err != nil {
			return err
		}
		err := s.mailer.Send(ctx, mail.Message{TenantID: t.ID, To: inv.Email, Subject: "You are invited to " + t.Name,
			Body: fmt.Sprintf("You have been invited to join %s as %s.\n\nTo accept, open this link and choose a password before %s:\n\n"+
				"  %s/admin/invitations/%s\n\nOr through the API:\n\n"+
				"  POST %[4]s/auth/invitations/%[5]s/accept\n  {\"password\": \"<your password>\", \"first_name\": \"\", \"last_name\": \"\"}\n",
				t.Name, inv.Role, inv.ExpiresAt.UTC().Format(time.RFC1123), s.origin(c), token)})
		if err != nil {
			logger(c).Error("send invitation", "invitation", inv.ID, "err", err)
			s.catalog.RevokeInvitation(context.WithoutCancel(ctx), t.ID, inv.ID)
			return condo.ReasonErrorf(condo.EUNAVAILABLE, "mail_failed", "the invitation could not be mailed, so it was withdrawn: try again later")
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "invitation.created", inv.ID, map[string]any{"email": inv.Email, "role": inv.Role})
	return c.JSON(http.StatusCreated, map[string]any{"data": inv})
}

func (s *Server) revokeInvitation(c echo.Context) error {
	if err := s.catalog.RevokeInvitation(c.Request().Context(), tenantOf(c).ID, c.Param("id")); err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "invitation.revoked", c.Param("id"), nil)
	return c.NoContent(http.StatusNoContent)
}

// acceptInvitation serves POST /auth/invitations/:token/accept: {password,
// first_name, last_name}. It creates the user with the invited email and
// role and signs them in. The claim on the invitation comes first, so two
// accepts race to one user; if the user cannot be created the claim is
// released.
func (s *Server) acceptInvitation(c echo.Context) error {
	var in credentials
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	if in.Email != "" {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_field", "the email is the invitation's: leave it out")
	}
	if err := required("password", in.Password); err != nil {
		return err
	}
	t := tenantOf(c)
	var out *sessionResponse
	var inv *catalog.Invitation
	err := s.identity(c, func(ctx context.Context, st *auth.Store) (err error) {
		lim, err := limits(c, ctx, st)
		if err != nil {
			return err
		}
		// Check the password before spending the invitation on it.
		if err := lim.Policy.Check(in.Password); err != nil {
			return err
		}
		inv, err = s.catalog.ClaimInvitation(ctx, t.ID, auth.HashSecret(c.Param("token")))
		if err != nil {
			return err
		}
		u, err := st.CreateUser(ctx, auth.NewUser{Email: inv.Email, Password: in.Password, FirstName: in.FirstName, LastName: in.LastName, Role: inv.Role}, lim)
		if err != nil {
			if rerr := s.catalog.ReleaseInvitation(context.WithoutCancel(ctx), t.ID, inv.ID); rerr != nil {
				logger(c).Error("release invitation", "invitation", inv.ID, "err", rerr)
			}
			return err
		}
		if err := s.catalog.FinishInvitation(ctx, t.ID, inv.ID, u.ID); err != nil {
			return err
		}
		out, err = s.startSession(c, ctx, st, u)
		return err
	})
	if err != nil {
		return err
	}
	c.Set(ctxPrincipal, &principal{Kind: "user", UserID: out.User.ID})
	s.audit(c, auth.CategoryAudit, "invitation.accepted", inv.ID, map[string]any{"email": inv.Email, "role": inv.Role})
	return c.JSON(http.StatusCreated, out)
}
