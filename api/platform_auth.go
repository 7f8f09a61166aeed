package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
)

// PlatformTokenTTL is how long a platform admin's session token is valid.
const PlatformTokenTTL = time.Hour

// Claims of a platform admin token. Scope and audience keep it from being
// mistaken for a tenant token signed with the same secret.
const (
	platformScope    = "platform"
	ctxPlatformAdmin = "condo.platform_admin"
)

type platformClaims struct {
	Scope string `json:"scope"`
	Email string `json:"email"`
	jwt.RegisteredClaims
}

// issuePlatformToken signs a token for an admin and returns it with its
// expiry.
func (s *Server) issuePlatformToken(ctx context.Context, admin *catalog.Admin) (string, time.Time, error) {
	now := time.Now()
	exp := now.Add(PlatformTokenTTL).Truncate(time.Second)
	tok, err := s.keys.Sign(ctx, platformClaims{
		Scope: platformScope, Email: admin.Email,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: admin.ID, Audience: jwt.ClaimStrings{auth.PlatformAudience}, ID: condo.NewID(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
	})
	return tok, exp, err
}

// verifyPlatformToken checks a token's signature, algorithm, expiry,
// audience and scope.
func (s *Server) verifyPlatformToken(ctx context.Context, tok string) (*platformClaims, error) {
	var claims platformClaims
	if err := s.keys.Parse(ctx, tok, auth.PlatformAudience, &claims); err != nil {
		return nil, err
	}
	if claims.Scope != platformScope || claims.Subject == "" {
		return nil, condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_token", "this is not a platform admin token")
	}
	return &claims, nil
}

// platformLogin serves POST /platform/auth/login: {email, password} →
// {token, token_type, expires_at, admin}.
func (s *Server) platformLogin(c echo.Context) error {
	in, err := decodeLogin(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	keys := loginKeys("", in.Email, c.RealIP())
	if err := s.throttled(c, keys); err != nil {
		return err
	}
	admin, err := s.catalog.AuthenticateAdmin(ctx, in.Email, in.Password)
	if condo.ErrorCode(err) == condo.EUNAUTHORIZED {
		s.loginFailed(c, keys, in.Email)
	}
	if err != nil {
		return err
	}
	s.loginThrottle.Reset(keys.account)
	tok, exp, err := s.issuePlatformToken(ctx, admin)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"token": tok, "token_type": "Bearer", "expires_at": exp.UTC(), "admin": admin})
}

// requirePlatformAdmin lets a request through only with a valid platform
// admin token in Authorization: Bearer.
func (s *Server) requirePlatformAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok, ok := bearer(c)
		if !ok {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="condo-platform"`)
			return condo.ReasonErrorf(condo.EUNAUTHORIZED, "missing_token",
				"a platform admin token is required: get one from POST /platform/auth/login and send it as Authorization: Bearer <token>")
		}
		claims, err := s.verifyPlatformToken(c.Request().Context(), tok)
		var admin *catalog.Admin
		if err == nil {
			// A removed admin's tokens end with them.
			if admin, err = s.catalog.Admin(c.Request().Context(), claims.Subject); err != nil {
				err = condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_token", "this platform admin no longer exists")
			}
		}
		if err != nil {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="condo-platform", error="invalid_token"`)
			return err
		}
		c.Set(ctxPlatformAdmin, claims.Subject)
		// The catalog's audit trail names who changed what.
		c.SetRequest(c.Request().WithContext(catalog.WithActor(c.Request().Context(), "admin:"+admin.Email)))
		addLogAttrs(c, slog.String("admin", claims.Subject))
		return next(c)
	}
}

// decodeStrict decodes a JSON object body into v, refusing unknown fields,
// trailing data and invalid UTF-8 (which encoding/json would quietly turn
// into U+FFFD) with EINVALID. An empty body leaves v as it is. The
// server's body limit bounds what is read.
func decodeStrict(c echo.Context, v any) error {
	b, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeJSON(b, v)
}

// readBody reads the whole request body, within the server's body limit
// (whose 413 it passes on).
func readBody(c echo.Context) ([]byte, error) {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var he *echo.HTTPError // the body limit's 413
		if errors.As(err, &he) {
			return nil, he
		}
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_json", "could not read the body: %v", err)
	}
	return b, nil
}

// decodeJSON is decodeStrict's decoding of a body already read.
func decodeJSON(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if !utf8.Valid(b) {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_json", "invalid JSON body: not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("unexpected data after the JSON object")
	}
	if err != nil {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_json", "invalid JSON body: %v", err)
	}
	return nil
}

// platformMe serves GET /platform/auth/me: the signed-in platform admin.
func (s *Server) platformMe(c echo.Context) error {
	admin, err := s.catalog.Admin(c.Request().Context(), c.Get(ctxPlatformAdmin).(string))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": admin})
}
