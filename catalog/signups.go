package catalog

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/webhooks"
)

// SignupReservedIDs cannot be picked by a visitor signing up, on top of
// ReservedIDs: hosts a platform tends to want for itself, or that would
// pass for it in a phishing mail. An operator may still create them.
var SignupReservedIDs = []string{"admin", "api", "app", "mail", "status", "www", "smtp", "imap", "pop", "ftp",
	"ns1", "ns2", "mx", "cdn", "assets", "static", "docs", "help", "support", "billing", "dashboard",
	"console", "login", "signup", "auth", "account", "accounts", "root", "default", "condo"}

// Answers of CheckSubdomain.
const (
	SubdomainAvailable = "available" // no tenant has it, nothing reserves it
	SubdomainTaken     = "taken"     // a tenant has it (or had it, and its id is not purged yet)
	SubdomainReserved  = "reserved"  // ReservedIDs or SignupReservedIDs
	SubdomainInvalid   = "invalid"   // not a DNS label (condo.ValidateTenantID)
)

// CheckSubdomain says whether a visitor may sign up for the tenant id:
// one of the Subdomain* answers. It is a snapshot: the verification asks
// again, and CreateTenant decides.
func (c *Catalog) CheckSubdomain(ctx context.Context, id string) (string, error) {
	if condo.ValidateTenantID(id) != nil {
		return SubdomainInvalid, nil
	}
	if slices.Contains(ReservedIDs, id) || slices.Contains(SignupReservedIDs, id) {
		return SubdomainReserved, nil
	}
	var n int
	err := c.db.Reader().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM tenants WHERE id = ? OR subdomain = ?)
		+ (SELECT count(*) FROM tenant_tombstones WHERE id = ?)`, id, id, id).Scan(&n)
	if err != nil {
		return "", err
	}
	if n > 0 {
		return SubdomainTaken, nil
	}
	return SubdomainAvailable, nil
}

// Signup is a self-service sign-up: pending until its email is verified,
// then the record of the tenant it created.
type Signup struct {
	ID        string
	Subdomain string
	Name      string
	Email     string
	// PasswordHash is the chosen password as auth.HashPassword hashed
	// it: the catalog never holds the password itself.
	PasswordHash string
	ClientIP     string
	ExpiresAt    time.Time
	CreatedAt    time.Time
	UsedAt       *time.Time
	TenantID     string // set once verified
}

// signupPrune is how long an expired, unverified sign-up is kept.
const signupPrune = 7 * 24 * time.Hour

// CreateSignup records a pending sign-up whose token hashes to tokenHash,
// at now (the caller's clock, so expiry can be tested), and prunes pending
// sign-ups expired a week ago. Errors: EINVALID invalid_email,
// invalid_name or invalid_tenant_id.
func (c *Catalog) CreateSignup(ctx context.Context, s *Signup, tokenHash string, now time.Time) error {
	email, err := NormalizeEmail(s.Email)
	if err != nil {
		return err
	}
	if err := condo.ValidateTenantID(s.Subdomain); err != nil {
		return err
	}
	if err := validateName(s.Name); err != nil {
		return err
	}
	s.Email, s.ID = email, condo.NewID()
	s.CreatedAt = condo.FromUnixMS(condo.UnixMS(now))
	return c.db.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM signups WHERE tenant_id = '' AND expires_at < ?", condo.UnixMS(now.Add(-signupPrune))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO signups (id, token_hash, subdomain, name, email, password_hash, client_ip, expires_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, tokenHash, s.Subdomain, s.Name, email, s.PasswordHash, s.ClientIP,
			condo.UnixMS(s.ExpiresAt), condo.UnixMS(s.CreatedAt))
		return err
	})
}

// SignedUpTenants counts the tenants that sign-ups verified for email
// and that still exist (a deleted tenant frees its place under a cap).
func (c *Catalog) SignedUpTenants(ctx context.Context, email string) (int, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return 0, err
	}
	var n int
	err = c.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM signups s JOIN tenants t ON t.id = s.tenant_id
		WHERE s.email = ? AND s.tenant_id != ''`, email).Scan(&n)
	return n, err
}

const selectSignup = `SELECT id, subdomain, name, email, password_hash, client_ip, expires_at, created_at, used_at, tenant_id FROM signups`

func scanSignup(row interface{ Scan(...any) error }) (*Signup, error) {
	var s Signup
	var expires, created int64
	var used *int64
	if err := row.Scan(&s.ID, &s.Subdomain, &s.Name, &s.Email, &s.PasswordHash, &s.ClientIP, &expires, &created, &used, &s.TenantID); err != nil {
		return nil, err
	}
	s.ExpiresAt, s.CreatedAt, s.UsedAt = condo.FromUnixMS(expires), condo.FromUnixMS(created), condo.FromNullUnixMS(used)
	return &s, nil
}

// ClaimSignup spends the pending sign-up whose token hashes to tokenHash
// and returns it: exactly one caller can claim it, and only before its
// expiry (at now, the caller's clock). Errors: ENOTFOUND signup_not_found
// for an unknown token; EGONE signup_used or signup_expired.
func (c *Catalog) ClaimSignup(ctx context.Context, tokenHash string, now time.Time) (*Signup, error) {
	ms := condo.UnixMS(now)
	s, err := scanSignup(c.db.Writer().QueryRowContext(ctx, `UPDATE signups SET used_at = ?
		WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
		RETURNING id, subdomain, name, email, password_hash, client_ip, expires_at, created_at, used_at, tenant_id`, ms, tokenHash, ms))
	if !errors.Is(err, sql.ErrNoRows) {
		return s, err
	}
	// Say why, so the page can tell the visitor what to do.
	old, err := scanSignup(c.db.Reader().QueryRowContext(ctx, selectSignup+" WHERE token_hash = ?", tokenHash))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "signup_not_found", "this verification link is not valid: copy the whole link from the mail, or sign up again")
	case err != nil:
		return nil, err
	case old.UsedAt != nil:
		return nil, condo.ReasonErrorf(condo.EGONE, "signup_used", "this verification link was used already: sign in to your site's admin, or sign up again")
	}
	return nil, condo.ReasonErrorf(condo.EGONE, "signup_expired", "this verification link has expired: sign up again")
}

// FinishSignup records the tenant a verified sign-up created and emits
// the platform's tenant.signed_up event with data, in one transaction.
func (c *Catalog) FinishSignup(ctx context.Context, id, tenantID string, data any) error {
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE signups SET tenant_id = ? WHERE id = ?", tenantID, id); err != nil {
			return err
		}
		return c.emitPlatform(ctx, tx, webhooks.TenantSignedUp, data)
	})
	if err != nil {
		return err
	}
	webhooks.Wake(webhooks.PlatformKey)
	return nil
}
