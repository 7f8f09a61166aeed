package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/condohq/condo"
)

// Settings is a tenant's identity configuration, kept in its settings
// table under the key "auth".
type Settings struct {
	AllowSignup    bool           `json:"allow_signup"`
	DefaultRole    string         `json:"default_role"` // the role of self-registered users
	PasswordPolicy PasswordPolicy `json:"password_policy"`
}

// DefaultSettings: sign-up off (an operator opts in), new users are viewers.
var DefaultSettings = Settings{DefaultRole: RoleViewer, PasswordPolicy: DefaultPasswordPolicy}

const settingsKey = "auth"

// Settings returns the tenant's identity settings, defaults where unset.
func (s *Store) Settings(ctx context.Context) (Settings, error) {
	out := DefaultSettings
	v, err := s.Setting(ctx, settingsKey)
	if err != nil || v == nil {
		return out, err
	}
	return out, json.Unmarshal(v, &out)
}

// Limits is what the tenant allows a new user: its plan's user limit (from
// the catalog) and its password policy.
func (s *Store) Limits(ctx context.Context, userLimit int64) (Limits, error) {
	set, err := s.Settings(ctx)
	return Limits{Users: userLimit, Policy: set.PasswordPolicy}, err
}

// SaveSettings validates and stores the identity settings. Self-registered
// users never become admins, whatever default_role says.
func (s *Store) SaveSettings(ctx context.Context, in Settings) error {
	if err := s.ValidateSettings(ctx, in); err != nil {
		return err
	}
	b, _ := json.Marshal(in)
	return s.SetSetting(ctx, settingsKey, b)
}

// ValidateSettings checks settings without storing them.
func (s *Store) ValidateSettings(ctx context.Context, in Settings) error {
	if err := in.PasswordPolicy.validate(); err != nil {
		return err
	}
	r, err := s.Role(ctx, in.DefaultRole)
	if err != nil {
		return err
	}
	if r.Name == RoleAdmin || r.Permissions.Has(UsersUpdate) || r.Permissions.Has(SettingsUpdate) {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_settings", "default_role %q would let anyone who signs up manage the tenant", r.Name)
	}
	return nil
}

// Setting returns the raw JSON of one settings key, nil when unset.
func (s *Store) Setting(ctx context.Context, key string) (json.RawMessage, error) {
	var v string
	err := s.DB.QueryRow(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return json.RawMessage(v), err
}

// SetSetting stores the raw JSON value of one settings key.
func (s *Store) SetSetting(ctx context.Context, key string, value json.RawMessage) error {
	_, err := s.DB.Writer().ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, string(value), condo.UnixMS(s.now()))
	return err
}

// SettingsTx reads and writes a tenant's settings inside one write
// transaction (see UpdateSettings).
type SettingsTx struct {
	s  *Store
	tx *sql.Tx
}

// UpdateSettings runs fn inside a write transaction of the tenant's
// database, so that settings changes made through it apply one after the
// other and what fn reads is what it changes: a caller checks If-Match
// there. All of fn's writes commit together, or none does. fn must not
// write through the Store itself: the transaction holds the tenant's only
// write connection.
func (s *Store) UpdateSettings(ctx context.Context, fn func(tx SettingsTx) error) error {
	return s.DB.Transact(ctx, func(tx *sql.Tx) error { return fn(SettingsTx{s: s, tx: tx}) })
}

// Setting returns the raw JSON of one settings key and when it last
// changed; nil and the zero time when unset.
func (t SettingsTx) Setting(ctx context.Context, key string) (json.RawMessage, time.Time, error) {
	var v string
	var updated int64
	err := t.tx.QueryRowContext(ctx, "SELECT value, updated_at FROM settings WHERE key = ?", key).Scan(&v, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	return json.RawMessage(v), condo.FromUnixMS(updated), nil
}

// Settings returns the identity settings, defaults where unset, and when
// they last changed.
func (t SettingsTx) Settings(ctx context.Context) (Settings, time.Time, error) {
	out := DefaultSettings
	v, at, err := t.Setting(ctx, settingsKey)
	if err != nil || v == nil {
		return out, at, err
	}
	return out, at, json.Unmarshal(v, &out)
}

// SetSetting stores the raw JSON value of one settings key.
func (t SettingsTx) SetSetting(ctx context.Context, key string, value json.RawMessage) error {
	_, err := t.tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, string(value), condo.UnixMS(t.s.now()))
	return err
}

// SaveSettings validates and stores the identity settings, as
// Store.SaveSettings does.
func (t SettingsTx) SaveSettings(ctx context.Context, in Settings) error {
	if err := t.s.ValidateSettings(ctx, in); err != nil {
		return err
	}
	b, _ := json.Marshal(in)
	return t.SetSetting(ctx, settingsKey, b)
}
