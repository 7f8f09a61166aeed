package auth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/condohq/condo"
)

// Permissions, named as SonicJS names them, plus Condo's own.
const (
	ContentCreate     = "content.create"
	ContentRead       = "content.read"
	ContentUpdate     = "content.update"
	ContentDelete     = "content.delete"
	ContentPublish    = "content.publish"
	ContentReadDrafts = "content.read_drafts"
	CollectionsCreate = "collections.create"
	CollectionsRead   = "collections.read"
	CollectionsUpdate = "collections.update"
	CollectionsDelete = "collections.delete"
	MediaCreate       = "media.create"
	MediaRead         = "media.read"
	MediaUpdate       = "media.update"
	MediaDelete       = "media.delete"
	UsersCreate       = "users.create"
	UsersRead         = "users.read"
	UsersUpdate       = "users.update"
	UsersDelete       = "users.delete"
	SettingsRead      = "settings.read"
	SettingsUpdate    = "settings.update"
	TokensManage      = "tokens.manage"
	AuditRead         = "audit.read"
	SQLRead           = "sql.read"
	SQLWrite          = "sql.write"
	// SQLOwner is sql.write over Condo's own tables too (the schema,
	// sessions, tokens, the audit log): the credential of a tenant's
	// remote location, which another Condo node uses as its database.
	// Only an operator's token carries it (condo tokens create --sql
	// owner); no role has it, so no user's session or token can.
	SQLOwner = "sql.owner"
)

// AllPermissions lists every permission, in a stable order.
var AllPermissions = []string{
	ContentCreate, ContentRead, ContentUpdate, ContentDelete, ContentPublish, ContentReadDrafts,
	CollectionsCreate, CollectionsRead, CollectionsUpdate, CollectionsDelete,
	MediaCreate, MediaRead, MediaUpdate, MediaDelete,
	UsersCreate, UsersRead, UsersUpdate, UsersDelete,
	SettingsRead, SettingsUpdate, TokensManage, AuditRead, SQLRead, SQLWrite, SQLOwner,
}

// Perms is a set of permissions as a bit set over AllPermissions, so a
// check on every request is one AND.
type Perms uint64

var permBit = func() map[string]Perms {
	m := make(map[string]Perms, len(AllPermissions))
	for i, p := range AllPermissions {
		m[p] = 1 << i
	}
	return m
}()

// PermsOf returns the set of the named permissions, refusing unknown ones.
func PermsOf(names ...string) (Perms, error) {
	var p Perms
	for _, n := range names {
		b, ok := permBit[n]
		if !ok {
			return 0, condo.ReasonErrorf(condo.EINVALID, "unknown_permission", "unknown permission %q", condo.Clip(n))
		}
		p |= b
	}
	return p, nil
}

// MustPerms is PermsOf for names known to be right; it panics otherwise.
func MustPerms(names ...string) Perms {
	p, err := PermsOf(names...)
	if err != nil {
		panic(err)
	}
	return p
}

// Has reports whether the set holds permission name.
func (p Perms) Has(name string) bool { b := permBit[name]; return b != 0 && p&b == b }

// Contains reports whether every permission of q is in p.
func (p Perms) Contains(q Perms) bool { return p&q == q }

// ReadOnly keeps the permissions that only read.
func (p Perms) ReadOnly() Perms {
	var out Perms
	for _, n := range p.Names() {
		if strings.HasSuffix(n, ".read") || n == ContentReadDrafts {
			out |= permBit[n]
		}
	}
	return out
}

// Names lists the set's permissions in AllPermissions order.
func (p Perms) Names() []string {
	out := []string{}
	for _, n := range AllPermissions {
		if p.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

// MarshalJSON writes the set as a list of names.
func (p Perms) MarshalJSON() ([]byte, error) { return json.Marshal(p.Names()) }

// Role is a named set of permissions. OwnOnly limits content updates and
// deletes to the items the user created (SonicJS's author).
type Role struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Permissions Perms  `json:"permissions"`
	OwnOnly     bool   `json:"own_content_only"`
	BuiltIn     bool   `json:"built_in"`
}

// The built-in roles, SonicJS's four.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleAuthor = "author"
	RoleViewer = "viewer"
)

var builtinRoles = []Role{
	{Name: RoleAdmin, Description: "everything, including users, settings, tokens and the audit log",
		Permissions: MustPerms(AllPermissions...) &^ MustPerms(SQLOwner), BuiltIn: true},
	{Name: RoleEditor, Description: "all content and media, publishing; reads collections, users and settings",
		Permissions: MustPerms(ContentCreate, ContentRead, ContentUpdate, ContentDelete, ContentPublish, ContentReadDrafts,
			CollectionsRead, MediaCreate, MediaRead, MediaUpdate, MediaDelete, UsersRead, SettingsRead, SQLRead), BuiltIn: true},
	{Name: RoleAuthor, Description: "writes and edits their own content and media; cannot publish",
		Permissions: MustPerms(ContentCreate, ContentRead, ContentUpdate, ContentDelete, ContentReadDrafts,
			CollectionsRead, MediaCreate, MediaRead, MediaUpdate), OwnOnly: true, BuiltIn: true},
	{Name: RoleViewer, Description: "reads published content, collections and media",
		Permissions: MustPerms(ContentRead, CollectionsRead, MediaRead), BuiltIn: true},
}

// BuiltinRole returns one of the four built-in roles.
func BuiltinRole(name string) (Role, bool) {
	i := slices.IndexFunc(builtinRoles, func(r Role) bool { return r.Name == name })
	if i < 0 {
		return Role{}, false
	}
	return builtinRoles[i], true
}

// Role returns a built-in or custom role by name.
func (s *Store) Role(ctx context.Context, name string) (Role, error) {
	if r, ok := BuiltinRole(name); ok {
		return r, nil
	}
	var perms, desc string
	var r Role
	err := s.DB.QueryRow(ctx, "SELECT description, permissions FROM roles WHERE name = ?", name).Scan(&desc, &perms)
	if errors.Is(err, sql.ErrNoRows) {
		return Role{}, condo.ReasonErrorf(condo.EINVALID, "unknown_role", "unknown role %q: use admin, editor, author, viewer or a custom role", condo.Clip(name))
	}
	if err != nil {
		return Role{}, err
	}
	r.Name, r.Description = name, desc
	if r.Permissions, r.OwnOnly, err = decodeRolePerms(perms); err != nil {
		return Role{}, err
	}
	return r, nil
}

// Roles lists the built-in roles, then the tenant's custom ones.
func (s *Store) Roles(ctx context.Context) ([]Role, error) {
	out := slices.Clone(builtinRoles)
	rows, err := s.DB.Reader().QueryContext(ctx, "SELECT name, description, permissions FROM roles ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r Role
		var perms string
		if err := rows.Scan(&r.Name, &r.Description, &perms); err != nil {
			return nil, err
		}
		if r.Permissions, r.OwnOnly, err = decodeRolePerms(perms); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutRole creates or replaces a custom role. Built-in names are reserved.
func (s *Store) PutRole(ctx context.Context, r Role) (Role, error) {
	if err := validateRoleName(r.Name); err != nil {
		return Role{}, err
	}
	if _, ok := BuiltinRole(r.Name); ok {
		return Role{}, condo.ReasonErrorf(condo.ECONFLICT, "builtin_role", "role %q is built in and cannot be changed", r.Name)
	}
	if len(r.Description) > 500 || !validText(r.Description) {
		return Role{}, condo.ReasonErrorf(condo.EINVALID, "invalid_description", "a description is at most 500 characters of valid UTF-8")
	}
	if r.Permissions.Has(SQLOwner) {
		return Role{}, condo.ReasonErrorf(condo.EINVALID, "invalid_permissions", "sql.owner belongs to an operator's token, never to a role")
	}
	r.BuiltIn = false
	perms, _ := json.Marshal(struct {
		Permissions []string `json:"permissions"`
		OwnOnly     bool     `json:"own_content_only"`
	}{r.Permissions.Names(), r.OwnOnly})
	now := condo.UnixMS(s.now())
	_, err := s.DB.Writer().ExecContext(ctx, `INSERT INTO roles (name, description, permissions, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET description = excluded.description, permissions = excluded.permissions, updated_at = excluded.updated_at`,
		r.Name, r.Description, string(perms), now, now)
	return r, err
}

// DeleteRole removes a custom role no user holds.
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	if _, ok := BuiltinRole(name); ok {
		return condo.ReasonErrorf(condo.ECONFLICT, "builtin_role", "role %q is built in and cannot be deleted", name)
	}
	return s.DB.Transact(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE role = ?", name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return condo.ReasonErrorf(condo.ECONFLICT, "role_in_use", "%d users hold role %q: give them another role first", n, name)
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM roles WHERE name = ?", name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return condo.ReasonErrorf(condo.ENOTFOUND, "role_not_found", "role %q not found", condo.Clip(name))
		}
		return nil
	})
}

func decodeRolePerms(s string) (Perms, bool, error) {
	var v struct {
		Permissions []string `json:"permissions"`
		OwnOnly     bool     `json:"own_content_only"`
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return 0, false, err
	}
	p, err := PermsOf(v.Permissions...)
	return p, v.OwnOnly, err
}

func validateRoleName(n string) error {
	if err := condo.ValidateTenantID(n); err != nil || len(n) > 40 {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_role_name", "a role name is 1-40 lower-case letters, digits and dashes")
	}
	return nil
}
