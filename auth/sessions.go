package auth

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/condohq/condo"
)

// Lifetimes of what a login hands out.
const (
	AccessTTL     = 15 * time.Minute    // an access JWT
	RefreshTTL    = 30 * 24 * time.Hour // a refresh token, renewed on each use
	SessionMaxAge = 90 * 24 * time.Hour // a session, however often refreshed
	ResetTTL      = time.Hour           // a password reset token
)

// Session is one login: what access tokens point at (sid).
type Session struct {
	ID        string
	UserID    string
	ExpiresAt time.Time
}

// Client describes where a request came from, for sessions and events.
type Client struct {
	IP        string
	UserAgent string
	RequestID string
}

// StartSession opens a session for a user and returns its first refresh
// token.
func (s *Store) StartSession(ctx context.Context, userID string, cl Client) (*Session, string, error) {
	now := s.now()
	sess := &Session{ID: condo.NewID(), UserID: userID, ExpiresAt: now.Add(SessionMaxAge)}
	refresh := NewSecret()
	err := s.DB.Transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, ip_address, user_agent, created_at, last_used_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, sess.ID, userID, condo.ClipTo(cl.IP, condo.MaxStoredText), condo.ClipTo(cl.UserAgent, condo.MaxStoredText), condo.UnixMS(now), condo.UnixMS(now), condo.UnixMS(sess.ExpiresAt)); err != nil {
			return err
		}
		return insertRefresh(ctx, tx, sess.ID, refresh, now)
	})
	return sess, refresh, err
}

func insertRefresh(ctx context.Context, tx *sql.Tx, sessionID, token string, now time.Time) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO refresh_tokens (token_hash, session_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
		HashSecret(token), sessionID, condo.UnixMS(now.Add(RefreshTTL)), condo.UnixMS(now))
	return err
}

// ErrRefreshReused is returned (wrapped in a coded error) when a rotated
// refresh token comes back: someone holds a stolen copy, so the whole
// session has been revoked.
var ErrRefreshReused = errors.New("refresh token reused")

// Refresh rotates a refresh token: the presented one is spent and a new one
// returned with the session and its user. A token that was already spent
// revokes the session (its family) and fails with ErrRefreshReused.
func (s *Store) Refresh(ctx context.Context, token string) (*Session, *User, string, error) {
	invalid := condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_refresh_token", "the refresh token is invalid, expired or revoked: log in again")
	now := s.now()
	var sess Session
	var next string
	var reused bool
	err := s.DB.Transact(ctx, func(tx *sql.Tx) error {
		var used, revoked *int64
		var expires, sessExpires int64
		err := tx.QueryRowContext(ctx, `SELECT r.session_id, r.used_at, r.expires_at, s.user_id, s.revoked_at, s.expires_at
			FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = ?`, HashSecret(token)).
			Scan(&sess.ID, &used, &expires, &sess.UserID, &revoked, &sessExpires)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid
		}
		if err != nil {
			return err
		}
		sess.ExpiresAt = condo.FromUnixMS(sessExpires)
		if used != nil {
			reused = true
			if revoked == nil {
				_, err := tx.ExecContext(ctx, "UPDATE sessions SET revoked_at = ?, revoke_reason = 'refresh token reused' WHERE id = ?", condo.UnixMS(now), sess.ID)
				return err
			}
			return nil
		}
		if revoked != nil || expires <= condo.UnixMS(now) || sessExpires <= condo.UnixMS(now) {
			return invalid
		}
		if _, err := tx.ExecContext(ctx, "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", condo.UnixMS(now), HashSecret(token)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE sessions SET last_used_at = ? WHERE id = ?", condo.UnixMS(now), sess.ID); err != nil {
			return err
		}
		next = NewSecret()
		return insertRefresh(ctx, tx, sess.ID, next, now)
	})
	if err != nil {
		return nil, nil, "", err
	}
	if reused {
		return &sess, nil, "", &condo.Error{Code: condo.EUNAUTHORIZED, Reason: "refresh_token_reused",
			Message: "this refresh token was already used, so the session has been ended: log in again"}
	}
	u, err := s.User(ctx, sess.UserID)
	if err != nil || !u.Active {
		return nil, nil, "", invalid
	}
	return &sess, u, next, nil
}

// RevokeSession ends a session; access tokens that name it stop working.
func (s *Store) RevokeSession(ctx context.Context, id, reason string) error {
	_, err := s.DB.Writer().ExecContext(ctx, "UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL",
		condo.UnixMS(s.now()), reason, id)
	return err
}

// RevokeRefresh ends the session a refresh token belongs to (logout with
// only the refresh token in hand). An unknown token is not an error.
func (s *Store) RevokeRefresh(ctx context.Context, token string) error {
	_, err := s.DB.Writer().ExecContext(ctx, `UPDATE sessions SET revoked_at = ?, revoke_reason = 'logout' WHERE revoked_at IS NULL
		AND id = (SELECT session_id FROM refresh_tokens WHERE token_hash = ?)`, condo.UnixMS(s.now()), HashSecret(token))
	return err
}

func revokeUserSessions(ctx context.Context, tx *sql.Tx, userID, except string, now int64, reason string) error {
	_, err := tx.ExecContext(ctx, "UPDATE sessions SET revoked_at = ?, revoke_reason = ? WHERE user_id = ? AND id <> ? AND revoked_at IS NULL",
		now, reason, userID, except)
	return err
}

// Active is what a request needs to know, on every request, about the
// user behind an access token: still active, the current role, and
// whether the token's session is still live.
type Active struct {
	User *User // nil for an operator's API token
	Role Role
}

// CheckSession confirms that a session is live and belongs to userID, and
// returns the user with their current role (a role change or deactivation
// takes effect on the next request, not at token expiry).
func (s *Store) CheckSession(ctx context.Context, sessionID, userID string) (*Active, error) {
	denied := condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_token", "the session has ended: log in again")
	var revoked *int64
	var expires int64
	err := s.DB.QueryRow(ctx, "SELECT revoked_at, expires_at FROM sessions WHERE id = ? AND user_id = ?", sessionID, userID).
		Scan(&revoked, &expires)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (revoked != nil || expires <= condo.UnixMS(s.now())) {
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	return s.activeUser(ctx, userID, denied)
}

// activeUser loads an active user and their role, or returns denied.
func (s *Store) activeUser(ctx context.Context, userID string, denied error) (*Active, error) {
	u, err := s.User(ctx, userID)
	if condo.ErrorCode(err) == condo.ENOTFOUND || err == nil && !u.Active {
		return nil, denied
	}
	if err != nil {
		return nil, err
	}
	r, err := s.Role(ctx, u.Role)
	if condo.ErrorCode(err) == condo.EINVALID { // a custom role deleted under the user: no permissions
		r, err = Role{Name: u.Role}, nil
	}
	return &Active{User: u, Role: r}, err
}

// ActiveUser loads an active user and their role, for a token that names
// no session (an impersonation).
func (s *Store) ActiveUser(ctx context.Context, userID string) (*Active, error) {
	return s.activeUser(ctx, userID, condo.ReasonErrorf(condo.EUNAUTHORIZED, "invalid_token", "the user is gone or inactive"))
}

// CreateReset makes a password reset token for the user with email, if
// there is an active one; ok is false otherwise (callers answer the same
// either way).
func (s *Store) CreateReset(ctx context.Context, email string) (u *User, token string, err error) {
	u, err = s.UserByEmail(ctx, email)
	if condo.ErrorCode(err) == condo.ENOTFOUND || err == nil && !u.Active {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	token = NewSecret()
	now := s.now()
	_, err = s.DB.Writer().ExecContext(ctx, "INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)",
		HashSecret(token), u.ID, condo.UnixMS(now.Add(ResetTTL)), condo.UnixMS(now))
	return u, token, err
}

// ResetPassword spends a reset token on a new password and ends every
// session of the user.
func (s *Store) ResetPassword(ctx context.Context, token, password string, policy PasswordPolicy) (*User, error) {
	if err := policy.Check(password); err != nil {
		return nil, err
	}
	hash := HashPassword(password)
	now := condo.UnixMS(s.now())
	var userID string
	err := s.DB.Transact(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
			RETURNING user_id`, now, HashSecret(token), now).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return condo.ReasonErrorf(condo.EINVALID, "invalid_reset_token", "the reset link is invalid, used or expired: ask for a new one")
		}
		if err != nil {
			return err
		}
		// Every other outstanding reset of the user dies with this one.
		if _, err := tx.ExecContext(ctx, "UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL", now, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?",
			hash, now, now, userID); err != nil {
			return err
		}
		return revokeUserSessions(ctx, tx, userID, "", now, "password reset")
	})
	if err != nil {
		return nil, err
	}
	return s.User(ctx, userID)
}
