package auth

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/webhooks"
)

// User is a tenant's user, as the API shows it (never the hash).
type User struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	FirstName   string     `json:"first_name"`
	LastName    string     `json:"last_name"`
	Role        string     `json:"role"`
	Active      bool       `json:"is_active"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// NewUser describes a user to create.
type NewUser struct {
	Email    string
	Password string
	// PasswordHash, instead of Password, is a password HashPassword hashed
	// when it was chosen and checked against the policy (a self-service
	// sign-up, verified later): the user gets it as it is.
	PasswordHash string
	FirstName    string
	LastName     string
	Role         string // default viewer
}

// Limits is what the tenant's plan allows, from the catalog.
type Limits struct {
	Users  int64 // at most this many users; 0 means none may be added
	Policy PasswordPolicy
}

// CreateUser validates and adds a user. The count against the plan's
// user limit and the insert run in one write transaction, so concurrent
// sign-ups cannot pass the limit together.
func (s *Store) CreateUser(ctx context.Context, in NewUser, lim Limits) (*User, error) {
	email, err := catalog.NormalizeEmail(in.Email)
	if err != nil {
		return nil, err
	}
	if in.Role == "" {
		in.Role = RoleViewer
	}
	if _, err := s.Role(ctx, in.Role); err != nil {
		return nil, err
	}
	if err := validateNames(in.FirstName, in.LastName); err != nil {
		return nil, err
	}
	hash := in.PasswordHash
	if hash == "" {
		if err := lim.Policy.Check(in.Password); err != nil {
			return nil, err
		}
		hash = HashPassword(in.Password)
	}
	now := s.now()
	u := &User{ID: condo.NewID(), Email: email, FirstName: in.FirstName, LastName: in.LastName, Role: in.Role,
		Active: true, CreatedAt: condo.FromUnixMS(condo.UnixMS(now)), UpdatedAt: condo.FromUnixMS(condo.UnixMS(now))}
	err = s.DB.Transact(ctx, func(tx *sql.Tx) error {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
			return err
		}
		if n >= lim.Users {
			return condo.ReasonErrorf(condo.EFORBIDDEN, "user_limit_reached",
				"this tenant's plan allows %d users: remove one or upgrade the plan", lim.Users)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, first_name, last_name, password_hash, role, is_active,
			created_at, updated_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`,
			u.ID, u.Email, u.FirstName, u.LastName, hash, u.Role, condo.UnixMS(now), condo.UnixMS(now), condo.UnixMS(now))
		if s.DB.IsUnique(err) {
			return condo.ReasonErrorf(condo.ECONFLICT, "user_exists", "a user with email %s exists already", email)
		}
		if err != nil {
			return err
		}
		return s.emit(ctx, tx, webhooks.UserCreated, u)
	})
	if err != nil {
		return nil, err
	}
	webhooks.Wake(s.TenantID)
	return u, nil
}

const selectUser = "SELECT id, email, first_name, last_name, role, is_active, last_login_at, created_at, updated_at FROM users"

func scanUser(row interface{ Scan(...any) error }) (*User, error) {
	var u User
	var last *int64
	var created, updated int64
	if err := row.Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Role, &u.Active, &last, &created, &updated); err != nil {
		return nil, err
	}
	u.LastLoginAt, u.CreatedAt, u.UpdatedAt = condo.FromNullUnixMS(last), condo.FromUnixMS(created), condo.FromUnixMS(updated)
	return &u, nil
}

// User returns one user by id.
func (s *Store) User(ctx context.Context, id string) (*User, error) {
	u, err := scanUser(s.DB.QueryRow(ctx, selectUser+" WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound(id)
	}
	return u, err
}

// UserByEmail returns one user by email.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	u, err := scanUser(s.DB.Reader().QueryRowContext(ctx, selectUser+" WHERE email = ?", strings.ToLower(strings.TrimSpace(email))))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "user_not_found", "no user with that email")
	}
	return u, err
}

// UserFilter narrows Users.
type UserFilter struct {
	Query  string // substring of email or name
	Role   string
	Limit  int // default 50, at most 1000
	Offset int
}

// Users lists users by email, with the total that match.
func (s *Store) Users(ctx context.Context, f UserFilter) ([]*User, int, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 1000 || f.Offset < 0 {
		return nil, 0, condo.ReasonErrorf(condo.EINVALID, "invalid_query", "limit must be at most 1000 and offset not negative")
	}
	where, args := " WHERE 1=1", []any{}
	if f.Query != "" {
		where += " AND (instr(lower(email), lower(?)) > 0 OR instr(lower(first_name || ' ' || last_name), lower(?)) > 0)"
		args = append(args, f.Query, f.Query)
	}
	if f.Role != "" {
		where += " AND role = ?"
		args = append(args, f.Role)
	}
	var total int
	if err := s.DB.Reader().QueryRowContext(ctx, "SELECT count(*) FROM users"+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.DB.Reader().QueryContext(ctx, selectUser+where+" ORDER BY email LIMIT ? OFFSET ?", append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}

// UserUpdate changes some of a user's fields; nil fields stay.
type UserUpdate struct {
	FirstName *string
	LastName  *string
	Role      *string
	Active    *bool
	Password  *string
}

// UpdateUser applies u. The tenant always keeps an active admin, and a
// deactivated user or a new password ends the user's sessions.
func (s *Store) UpdateUser(ctx context.Context, id string, u UserUpdate, policy PasswordPolicy) (*User, error) {
	cur, err := s.User(ctx, id)
	if err != nil {
		return nil, err
	}
	first, last, role, active := cur.FirstName, cur.LastName, cur.Role, cur.Active
	if u.FirstName != nil {
		first = *u.FirstName
	}
	if u.LastName != nil {
		last = *u.LastName
	}
	if err := validateNames(first, last); err != nil {
		return nil, err
	}
	if u.Role != nil {
		if _, err := s.Role(ctx, *u.Role); err != nil {
			return nil, err
		}
		role = *u.Role
	}
	if u.Active != nil {
		active = *u.Active
	}
	var hash string
	if u.Password != nil {
		if err := policy.Check(*u.Password); err != nil {
			return nil, err
		}
		hash = HashPassword(*u.Password)
	}
	now := condo.UnixMS(s.now())
	err = s.DB.Transact(ctx, func(tx *sql.Tx) error {
		if cur.Role == RoleAdmin && cur.Active && (role != RoleAdmin || !active) {
			if err := keepAnAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET first_name = ?, last_name = ?, role = ?, is_active = ?, updated_at = ? WHERE id = ?",
			first, last, role, active, now, id); err != nil {
			return err
		}
		if hash != "" {
			if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?", hash, now, id); err != nil {
				return err
			}
		}
		if hash != "" || !active {
			if err := revokeUserSessions(ctx, tx, id, "", now, "credentials changed"); err != nil {
				return err
			}
		}
		after, err := scanUser(tx.QueryRowContext(ctx, selectUser+" WHERE id = ?", id))
		if err != nil {
			return err
		}
		return s.emit(ctx, tx, webhooks.UserUpdated, after)
	})
	if err != nil {
		return nil, err
	}
	webhooks.Wake(s.TenantID)
	return s.User(ctx, id)
}

// DeleteUser removes a user with their sessions and API tokens. The last
// active admin cannot be removed.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	cur, err := s.User(ctx, id)
	if err != nil {
		return err
	}
	err = s.DB.Transact(ctx, func(tx *sql.Tx) error {
		if cur.Role == RoleAdmin && cur.Active {
			if err := keepAnAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM users WHERE id = ?", id); err != nil {
			return err
		}
		return s.emit(ctx, tx, webhooks.UserDeleted, cur)
	})
	if err == nil {
		webhooks.Wake(s.TenantID)
	}
	return err
}

// emit records a webhook event about user u in tx, the transaction of
// the change; the caller wakes the worker after the commit.
func (s *Store) emit(ctx context.Context, tx *sql.Tx, event string, u *User) error {
	wrote, err := webhooks.Emit(ctx, s.DB, tx, webhooks.Tenant, event, u)
	if wrote {
		webhooks.Emitted(s.TenantID)
	}
	return err
}

func keepAnAdmin(ctx context.Context, tx *sql.Tx, except string) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE role = ? AND is_active = 1 AND id <> ?", RoleAdmin, except).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return condo.ReasonErrorf(condo.ECONFLICT, "last_admin", "this is the tenant's last active admin: make another user admin first")
	}
	return nil
}

// Authenticate checks an email and password. Every failure is the same
// EUNAUTHORIZED and takes as long, so callers learn nothing about which
// emails exist. A hash with old parameters is upgraded.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*User, error) {
	denied := condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_credentials", "wrong email or password")
	if len(password) > MaxPasswordLen {
		return nil, denied
	}
	var hash string
	row := s.DB.Reader().QueryRowContext(ctx, `SELECT id, email, first_name, last_name, role, is_active, last_login_at,
		created_at, updated_at, password_hash FROM users WHERE email = ?`, strings.ToLower(strings.TrimSpace(email)))
	u, err := scanUser(scanExtra{row, &hash})
	if errors.Is(err, sql.ErrNoRows) {
		CheckPassword(dummyHash(), password)
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	if !CheckPassword(hash, password) || !u.Active {
		return nil, denied
	}
	now := condo.UnixMS(s.now())
	if _, err := s.DB.Writer().ExecContext(ctx, "UPDATE users SET last_login_at = ? WHERE id = ?", now, u.ID); err != nil {
		return nil, err
	}
	if needsRehash(hash) {
		if _, err := s.DB.Writer().ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
			HashPassword(password), u.ID, hash); err != nil {
			return nil, err
		}
	}
	u.LastLoginAt = condo.FromNullUnixMS(&now)
	return u, nil
}

// ChangePassword replaces a user's password after checking the current
// one, and ends every other session of theirs.
func (s *Store) ChangePassword(ctx context.Context, userID, keepSession, current, next string, policy PasswordPolicy) error {
	var hash string
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT password_hash FROM users WHERE id = ?", userID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return userNotFound(userID)
	}
	if err != nil {
		return err
	}
	if !CheckPassword(hash, current) {
		return condo.ReasonErrorf(condo.EINVALID, "wrong_password", "the current password is wrong")
	}
	if err := policy.Check(next); err != nil {
		return err
	}
	next = HashPassword(next)
	now := condo.UnixMS(s.now())
	return s.DB.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?",
			next, now, now, userID); err != nil {
			return err
		}
		return revokeUserSessions(ctx, tx, userID, keepSession, now, "password changed")
	})
}

// scanExtra scans a user row followed by more columns.
type scanExtra struct {
	row   interface{ Scan(...any) error }
	extra *string
}

func (s scanExtra) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra)...) }

func validateNames(names ...string) error {
	for _, n := range names {
		if len(n) > 100 || !validText(n) {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_name", "a name is at most 100 characters of valid UTF-8 without control characters")
		}
	}
	return nil
}

// validText refuses invalid UTF-8 and control characters.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

func userNotFound(id string) error {
	return condo.ReasonErrorf(condo.ENOTFOUND, "user_not_found", "user %q not found", condo.Clip(id))
}
