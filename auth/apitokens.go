package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/condohq/condo"
)

// An API token reads condo_<tenant id>_<52 base32 characters>. The tenant
// id in clear lets the server tell a token of another tenant from a typo
// (and record it); the secret part is what is checked, by its hash.
const apiTokenPrefix = "condo_"

// IsAPIToken reports whether a bearer credential looks like an API token
// rather than a JWT.
func IsAPIToken(s string) bool { return strings.HasPrefix(s, apiTokenPrefix) }

// APITokenTenant returns the tenant id an API token names, "" if none.
func APITokenTenant(s string) string {
	rest, ok := strings.CutPrefix(s, apiTokenPrefix)
	i := strings.LastIndexByte(rest, '_')
	if !ok || i < 0 || condo.ValidateTenantID(rest[:i]) != nil {
		return ""
	}
	return rest[:i]
}

// APIToken is a token as listed: never its secret.
type APIToken struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"` // the first characters, to recognise it
	UserID      string     `json:"user_id"`
	Operator    bool       `json:"operator,omitempty"` // the operator's (no user): an SQL credential
	Permissions Perms      `json:"permissions"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// NewAPIToken describes a token to create.
type NewAPIToken struct {
	Name        string
	UserID      string // the creator; the token dies with them. "" for the operator's
	Permissions Perms
	ExpiresAt   *time.Time
}

// OperatorRole is what a token the operator made (condo tokens create)
// may do: it has no user, so no user's role limits it, and it carries
// sql.read, sql.write or sql.owner only, for the tenant's libSQL endpoint.
var OperatorRole = Role{Name: "operator", Description: "a token the operator made: SQL on the tenant's database",
	Permissions: MustPerms(SQLRead, SQLWrite, SQLOwner), BuiltIn: true}

// CreateAPIToken stores a new token and returns it with its secret, which
// is never shown again. A token without a user is the operator's, and
// carries SQL permissions only.
func (s *Store) CreateAPIToken(ctx context.Context, in NewAPIToken) (*APIToken, string, error) {
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 100 || !validText(in.Name) {
		return nil, "", condo.ReasonErrorf(condo.EINVALID, "invalid_name", "a token name is 1-100 characters of valid UTF-8")
	}
	if in.Permissions == 0 {
		return nil, "", condo.ReasonErrorf(condo.EINVALID, "invalid_permissions", "a token needs at least one permission")
	}
	if in.Permissions.Has(TokensManage) {
		return nil, "", condo.ReasonErrorf(condo.EINVALID, "invalid_permissions", "an API token cannot manage tokens")
	}
	if in.UserID == "" && in.Permissions&^OperatorRole.Permissions != 0 {
		return nil, "", condo.ReasonErrorf(condo.EINVALID, "invalid_permissions", "a token without a user carries sql.read, sql.write or sql.owner only")
	}
	if in.UserID != "" && in.Permissions.Has(SQLOwner) {
		return nil, "", condo.ReasonErrorf(condo.EINVALID, "invalid_permissions", "sql.owner belongs to an operator's token only")
	}
	now := s.now()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return nil, "", condo.ReasonErrorf(condo.EINVALID, "invalid_expiry", "expires_at must be in the future")
	}
	secret := apiTokenPrefix + s.TenantID + "_" + NewSecret()
	t := &APIToken{ID: condo.NewID(), Name: in.Name, Prefix: secret[:len(apiTokenPrefix)+len(s.TenantID)+7], UserID: in.UserID,
		Operator: in.UserID == "", Permissions: in.Permissions, ExpiresAt: in.ExpiresAt, CreatedAt: condo.FromUnixMS(condo.UnixMS(now))}
	var user *string // NULL: the operator's
	if in.UserID != "" {
		user = &in.UserID
	}
	perms, _ := json.Marshal(in.Permissions)
	var exp *int64
	if in.ExpiresAt != nil {
		v := condo.UnixMS(*in.ExpiresAt)
		exp = &v
	}
	_, err := s.DB.Writer().ExecContext(ctx, `INSERT INTO api_tokens (id, name, token_hash, user_id, permissions, expires_at, created_at, prefix)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Name, HashSecret(secret), user, string(perms), exp, condo.UnixMS(now), t.Prefix)
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

const selectToken = "SELECT id, name, prefix, user_id, permissions, expires_at, last_used_at, created_at FROM api_tokens"

func scanToken(row interface{ Scan(...any) error }) (*APIToken, error) {
	var t APIToken
	var perms string
	var exp, used *int64
	var created int64
	var user sql.NullString
	if err := row.Scan(&t.ID, &t.Name, &t.Prefix, &user, &perms, &exp, &used, &created); err != nil {
		return nil, err
	}
	var names []string
	if err := json.Unmarshal([]byte(perms), &names); err != nil {
		return nil, err
	}
	p, err := PermsOf(names...)
	t.UserID, t.Operator, t.Permissions, t.ExpiresAt, t.LastUsedAt, t.CreatedAt = user.String, !user.Valid, p, condo.FromNullUnixMS(exp), condo.FromNullUnixMS(used), condo.FromUnixMS(created)
	return &t, err
}

// APITokens lists the tenant's tokens, newest first.
func (s *Store) APITokens(ctx context.Context) ([]*APIToken, error) {
	rows, err := s.DB.Reader().QueryContext(ctx, selectToken+" ORDER BY created_at DESC, id DESC")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken deletes one token; the others keep working.
func (s *Store) RevokeAPIToken(ctx context.Context, id string) (*APIToken, error) {
	t, err := scanToken(s.DB.Writer().QueryRowContext(ctx, "DELETE FROM api_tokens WHERE id = ? RETURNING id, name, prefix, user_id, permissions, expires_at, last_used_at, created_at", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "token_not_found", "API token %q not found", condo.Clip(id))
	}
	return t, err
}

// lastUsedEvery limits last_used_at writes to one a minute per token, so
// a busy token does not turn every read into a write.
const lastUsedEvery = time.Minute

// VerifyAPIToken finds the token with this secret and its user. The
// token's effective permissions are its own scope intersected with its
// user's current role, so a demoted user's tokens shrink with them. An
// operator's token has no user: its Active has a nil User and the role
// OperatorRole.
func (s *Store) VerifyAPIToken(ctx context.Context, secret string) (*APIToken, *Active, error) {
	t, a, err := s.CheckAPIToken(ctx, secret)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > lastUsedEvery {
		// Bookkeeping only: on a full disk the token still reads. Through
		// Transact, which says EFULL whatever database is underneath.
		err := s.DB.Transact(ctx, func(tx *sql.Tx) error {
			_, err := s.DB.ExecTx(ctx, tx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", condo.UnixMS(now), t.ID)
			return err
		})
		if err != nil && condo.ErrorCode(err) != condo.EFULL {
			return nil, nil, err
		}
	}
	return t, a, nil
}

// CheckAPIToken is VerifyAPIToken without recording a use: it tells
// whether secret is a live token of this tenant, for a token presented to
// another tenant, which must not count as this tenant's use of it.
func (s *Store) CheckAPIToken(ctx context.Context, secret string) (*APIToken, *Active, error) {
	denied := condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_token", "the API token is invalid, expired or revoked")
	t, err := scanToken(s.DB.QueryRow(ctx, selectToken+" WHERE token_hash = ?", HashSecret(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, denied
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if t.ExpiresAt != nil && !t.ExpiresAt.After(now) {
		return nil, nil, denied
	}
	if t.Operator {
		return t, &Active{Role: OperatorRole}, nil
	}
	if t.UserID == "" {
		return nil, nil, denied
	}
	a, err := s.activeUser(ctx, t.UserID, denied)
	if err != nil {
		return nil, nil, err
	}
	return t, a, nil
}
