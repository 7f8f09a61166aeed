package catalog

import (
	"context"
	"database/sql"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/condohq/condo"
)

// Admin is a platform administrator: an operator of the whole Condo
// installation, not a user of any one tenant.
type Admin struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

// MinPasswordLen is the shortest password accepted for a platform admin.
const MinPasswordLen = 12

// CreateAdmin adds a platform admin. The password is stored as a bcrypt
// hash (bcrypt reads at most 72 bytes, so longer passwords are refused
// rather than silently truncated).
func (c *Catalog) CreateAdmin(ctx context.Context, email, password string) (*Admin, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if len(password) < MinPasswordLen || len(password) > 72 {
		return nil, condo.ReasonErrorf(condo.EINVALID, "weak_password",
			"a platform admin's password is %d to 72 bytes long", MinPasswordLen)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	a := &Admin{ID: condo.NewID(), Email: email, CreatedAt: condo.FromUnixMS(condo.UnixMS(time.Now()))}
	err = c.db.Transact(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO platform_admins (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)",
			a.ID, a.Email, string(hash), condo.UnixMS(a.CreatedAt))
		if c.db.IsUnique(err) {
			return condo.ReasonErrorf(condo.ECONFLICT, "admin_exists", "a platform admin %s already exists", email)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, "admin.create", "", email, nil, a) // the Admin record holds no hash
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Admin returns one platform admin by id.
func (c *Catalog) Admin(ctx context.Context, id string) (*Admin, error) {
	var a Admin
	var created int64
	var last *int64
	err := c.db.Reader().QueryRowContext(ctx, "SELECT id, email, created_at, last_login_at FROM platform_admins WHERE id = ?", id).
		Scan(&a.ID, &a.Email, &created, &last)
	if err != nil {
		return nil, notFound(err, "platform admin %q", id)
	}
	a.CreatedAt, a.LastLoginAt = condo.FromUnixMS(created), condo.FromNullUnixMS(last)
	return &a, nil
}

// CountAdmins returns how many platform admins exist.
func (c *Catalog) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := c.db.Reader().QueryRowContext(ctx, "SELECT count(*) FROM platform_admins").Scan(&n)
	return n, err
}

// AuthenticateAdmin checks a platform admin's password and records the
// login. Any mismatch is the same EUNAUTHORIZED, so callers cannot learn
// which emails exist.
func (c *Catalog) AuthenticateAdmin(ctx context.Context, email, password string) (*Admin, error) {
	denied := condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_credentials", "wrong email or password")
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, denied
	}
	var a Admin
	var hash string
	var created int64
	err = c.db.Reader().QueryRowContext(ctx, "SELECT id, email, password_hash, created_at FROM platform_admins WHERE email = ?", email).
		Scan(&a.ID, &a.Email, &hash, &created)
	if err == sql.ErrNoRows {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password)) // same cost as a real check
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, denied
	}
	now := time.Now()
	if _, err := c.db.Writer().ExecContext(ctx, "UPDATE platform_admins SET last_login_at = ? WHERE id = ?", condo.UnixMS(now), a.ID); err != nil {
		return nil, err
	}
	last := condo.FromUnixMS(condo.UnixMS(now))
	a.CreatedAt, a.LastLoginAt = condo.FromUnixMS(created), &last
	return &a, nil
}

// dummyHash is compared against when no admin matches, so a wrong email
// takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("condo-timing-equaliser"), bcrypt.DefaultCost)
	return h
})

// NormalizeEmail lower-cases and checks an email address.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", condo.ReasonErrorf(condo.EINVALID, "invalid_email", "invalid email address %q", condo.Clip(s))
	}
	return s, nil
}
