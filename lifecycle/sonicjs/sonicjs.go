// Package sonicjs imports an existing SonicJS installation into a new
// Condo tenant: its collections (schemas mapped), content with its
// versions and workflow history, media records, users, API tokens and
// settings, read from the SonicJS database as users have it (the SQLite
// file of D1 or its `wrangler d1 export` SQL text). The tenant is built in
// a staging directory and created with tenantstore.CreateFrom, so an
// import that fails anywhere leaves nothing behind; the Report says what
// was mapped, what was dropped and why.
package sonicjs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/condohq/condo"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// Options tune Import.
type Options struct {
	ID   string // the new tenant's id (required)
	Name string // its name; default: SonicJS's siteName setting, else the id
	// MediaDir, when set, is a copy of the site's R2 bucket: each media
	// record's file is read from MediaDir/<r2_key>.
	MediaDir string
}

// Report says what an import did.
type Report struct {
	Tenant *catalog.Tenant `json:"tenant"`
	Source string          `json:"source"` // "sqlite" (a database file) or "sql" (its SQL text)
	Mapped Counts          `json:"mapped"`
	// Dropped lists what was not carried over, with why.
	Dropped []Dropped `json:"dropped"`
	// Changed lists what was carried over differently, with why
	// (collection schemas fitted, slugs and statuses mapped).
	Changed []string `json:"changed"`
	// ResetRequired are the users who must set a new password (by the
	// forgot-password flow): SonicJS's hashes are not a format Condo
	// verifies.
	ResetRequired []string `json:"reset_required"`
	// RevokedTokens are the SonicJS API tokens, kept listed but revoked.
	RevokedTokens []string `json:"revoked_tokens"`
	// Media are the media records, whose files SonicJS keeps in R2, not
	// in its database: where each file is, to copy it.
	Media []MediaFile `json:"media"`
	Notes []string    `json:"notes"`
}

// Counts are the rows mapped, by kind.
type Counts struct {
	Collections int `json:"collections"`
	Content     int `json:"content"`
	Versions    int `json:"versions"`
	Workflow    int `json:"workflow_history"`
	Media       int `json:"media"`
	MediaFiles  int `json:"media_files"` // records whose bytes came from --media-dir
	Users       int `json:"users"`
	APITokens   int `json:"api_tokens"`
	Settings    int `json:"settings"`
}

// Dropped is something left out.
type Dropped struct {
	What  string `json:"what"`
	Count int    `json:"count"`
	Why   string `json:"why"`
}

// MediaFile is where a media record's bytes live in SonicJS.
type MediaFile struct {
	ID        string `json:"id"`
	Filename  string `json:"filename"`
	R2Key     string `json:"r2_key,omitempty"`
	PublicURL string `json:"public_url,omitempty"`
	Copied    bool   `json:"copied"` // its bytes came from --media-dir
}

func invalid(format string, args ...any) error {
	return condo.ReasonErrorf(condo.EINVALID, "invalid_import", format, args...)
}

// Import creates tenant opt.ID from the SonicJS database at path.
//
// Errors: EINVALID (invalid_import) for a file that is not a SonicJS
// database, naming why; ECONFLICT (tenant_exists) when the id is taken;
// those of tenantstore.CreateFrom.
func Import(ctx context.Context, store *tenantstore.Store, path string, opt Options) (*Report, error) {
	return catalog.Tracked(ctx, store.Catalog(), catalog.JobImportSonicJS, opt.ID, func(ctx context.Context, _ *catalog.TrackedJob) (*Report, error) {
		return importSite(ctx, store, path, opt)
	})
}

func importSite(ctx context.Context, store *tenantstore.Store, path string, opt Options) (*Report, error) {
	if err := condo.ValidateTenantID(opt.ID); err != nil {
		return nil, err
	}
	scratch, err := store.NewStaging()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	src, err := openSource(ctx, path, scratch)
	if err != nil {
		return nil, err
	}
	defer src.db.Close()
	for _, t := range []string{"collections", "content", "users"} {
		if src.cols[t] == nil {
			return nil, invalid("%s has no SonicJS tables (collections, content, users): it is not a SonicJS database", filepath.Base(path))
		}
	}
	for _, c := range []string{"schema", "name"} {
		if !src.has("collections", c) {
			return nil, invalid("%s has a collections table without SonicJS's %s column: it is not a SonicJS database", filepath.Base(path), c)
		}
	}

	staging, err := store.NewStaging()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging) // after a success it was moved into the tenant
	if _, err := store.WriteTemplate(filepath.Join(staging, "tenant.db")); err != nil {
		return nil, err
	}
	db, err := sqlitedb.Open(filepath.Join(staging, "tenant.db"), sqlitedb.Options{Readers: 1})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	im := &importer{src: src, db: db, cms: cms.New(opt.ID, db, filepath.Join(staging, "media")), auth: auth.New(opt.ID, db),
		rep: &Report{Source: src.kind, Dropped: []Dropped{}, Changed: []string{}, ResetRequired: []string{}, RevokedTokens: []string{},
			Media: []MediaFile{}, Notes: []string{}},
		mediaDir: opt.MediaDir, now: condo.UnixMS(time.Now()), users: map[string]bool{}, media: map[string]bool{}, items: map[string]string{}}
	if err := im.run(ctx); err != nil {
		return nil, err
	}
	if err := db.Checkpoint(ctx); err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	name := opt.Name
	if name == "" {
		name = im.siteName
	}
	if strings.TrimSpace(name) == "" || len(name) > 200 {
		name = opt.ID
	}
	t, err := store.CreateFrom(ctx, catalog.NewTenant{ID: opt.ID, Name: name}, staging)
	if err != nil {
		return nil, err
	}
	im.rep.Tenant = t
	if n := int64(im.rep.Mapped.Users); n > t.UserLimit {
		im.rep.Notes = append(im.rep.Notes, fmt.Sprintf("%d users were imported; the %s plan allows %d: no user can be added until the limit is raised (PATCH /platform/tenants/%s)",
			n, t.Plan, t.UserLimit, t.ID))
	}
	return im.rep, nil
}

// importer holds one import's state.
type importer struct {
	src      *source
	db       *sqlitedb.DB
	cms      *cms.Store
	auth     *auth.Store
	rep      *Report
	now      int64
	users    map[string]bool   // ids of the users imported
	media    map[string]bool   // ids of the media imported
	items    map[string]string // content id -> its Condo collection name
	siteName string
	mediaDir string
}

func (im *importer) drop(what string, n int, why string) {
	if n > 0 {
		im.rep.Dropped = append(im.rep.Dropped, Dropped{What: what, Count: n, Why: why})
	}
}

func (im *importer) run(ctx context.Context) error {
	steps := []func(context.Context) error{im.importUsers, im.importMedia, im.importContent, im.importTokens, im.importSettings}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	if err := im.dropRest(ctx); err != nil {
		return err
	}
	detail, _ := json.Marshal(map[string]any{"source": "sonicjs", "mapped": im.rep.Mapped, "reset_required": im.rep.ResetRequired})
	return im.auth.Record(ctx, auth.Event{Category: auth.CategoryAudit, Action: "tenant.imported", ActorType: "operator",
		Target: "sonicjs", Detail: detail})
}

// The password hashes Condo verifies (auth.CheckPassword).
func verifiable(hash string) bool {
	if strings.HasPrefix(hash, "$2") {
		_, err := bcrypt.Cost([]byte(hash)) // a well-formed bcrypt hash
		return err == nil
	}
	return strings.HasPrefix(hash, "$argon2id$")
}

var roles = map[string]string{auth.RoleAdmin: auth.RoleAdmin, auth.RoleEditor: auth.RoleEditor, auth.RoleAuthor: auth.RoleAuthor,
	auth.RoleViewer: auth.RoleViewer}

func (im *importer) importUsers(ctx context.Context) error {
	cols := []string{"id", "email", "username", "first_name", "last_name", "password_hash", "role", "avatar", "is_active",
		"last_login_at", "created_at", "updated_at"}
	var badEmail, dupEmail, otherRole int
	hasAdmin := false
	return im.db.Transact(ctx, func(tx *sql.Tx) error {
		err := im.src.each(ctx, "users", cols, "created_at, id", func(r row) error {
			email, err := catalog.NormalizeEmail(r.str("email"))
			if err != nil || r.str("id") == "" {
				badEmail++
				return nil
			}
			role, ok := roles[strings.ToLower(r.str("role"))]
			if !ok {
				role = auth.RoleViewer
				otherRole++
			}
			hash := r.str("password_hash")
			if !verifiable(hash) {
				// SonicJS hashes SHA-256(password + a fixed string), a scheme
				// Condo does not verify: no password until a reset.
				hash = ""
				im.rep.ResetRequired = append(im.rep.ResetRequired, email)
			}
			var username any
			if u := r.str("username"); u != "" {
				var n int
				if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE username = ?", u).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					username = u
				}
			}
			created := r.msOr("created_at", im.now)
			_, err = tx.ExecContext(ctx, `INSERT INTO users (id, email, username, first_name, last_name, password_hash, role, avatar, is_active,
				last_login_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				r.str("id"), email, username, plain(r.str("first_name"), 100), plain(r.str("last_name"), 100), hash, role, nullStr(r.str("avatar")),
				r.num("is_active", 1) != 0, r.ms("last_login_at"), created, r.msOr("updated_at", created))
			if im.db.IsUnique(err) {
				dupEmail++
				if hash == "" {
					im.rep.ResetRequired = im.rep.ResetRequired[:len(im.rep.ResetRequired)-1]
				}
				return nil
			}
			if err != nil {
				return err
			}
			im.users[r.str("id")] = true
			im.rep.Mapped.Users++
			hasAdmin = hasAdmin || role == auth.RoleAdmin
			return nil
		})
		im.drop("users", badEmail, "no valid email address (Condo users sign in by email)")
		im.drop("users", dupEmail, "the same email (ignoring case) as an earlier user, or the same id")
		if otherRole > 0 {
			im.rep.Changed = append(im.rep.Changed, fmt.Sprintf("%d users had a role Condo does not have built in: they are viewers", otherRole))
		}
		if im.rep.Mapped.Users > 0 && !hasAdmin {
			im.rep.Notes = append(im.rep.Notes, "no imported user is an admin: a platform admin can create one (condo users create ID EMAIL --role admin)")
		}
		if n := len(im.rep.ResetRequired); n > 0 {
			im.rep.Notes = append(im.rep.Notes, fmt.Sprintf("%d users have no usable password: SonicJS stores SHA-256(password + a fixed salt), which Condo does not verify; each must reset it (POST /auth/password/forgot) before signing in", n))
		}
		return err
	})
}

func (im *importer) importMedia(ctx context.Context) error {
	cols := []string{"id", "filename", "original_name", "mime_type", "size", "width", "height", "folder", "r2_key", "public_url",
		"alt", "caption", "tags", "uploaded_by", "uploaded_at", "created_at", "updated_at", "deleted_at"}
	var deleted, badID, missing int
	refused := map[string]int{}
	quota := plans.Builtin().For(plans.Fallback).StorageQuota // the new tenant is on free, its limits the built-in ones until the catalog row exists
	err := im.src.each(ctx, "media", cols, "id", func(r row) error {
		id := r.str("id")
		if r.ms("deleted_at") != nil {
			deleted++
			return nil
		}
		if !cms.ValidMediaID(id) {
			badID++
			return nil
		}
		var tags []string
		if json.Unmarshal([]byte(r.str("tags")), &tags) != nil || tags == nil {
			tags = []string{}
		}
		by := r.str("uploaded_by")
		if !im.users[by] {
			by = ""
		}
		created := r.msOr("uploaded_at", r.msOr("created_at", im.now))
		filename := r.str("filename")
		if filename == "" {
			filename = filepath.Base(r.str("r2_key"))
		}
		folder := strings.Trim(r.str("folder"), "/")
		file := MediaFile{ID: id, Filename: filename, R2Key: r.str("r2_key"), PublicURL: r.str("public_url")}
		if im.mediaDir != "" {
			// The bytes, from a copy of the R2 bucket: checked and stored
			// as any upload is (type from the bytes, dimensions, SHA-256).
			key := filepath.FromSlash(r.str("r2_key"))
			f, err := os.Open(filepath.Join(im.mediaDir, key))
			if err == nil && !filepath.IsLocal(key) { // a key must not reach out of the copy
				f.Close()
				err = os.ErrNotExist
			}
			if err == nil {
				_, err = im.cms.Upload(ctx, cms.Upload{ID: id, CreatedAt: condo.FromUnixMS(created), Name: orDefault(r.str("original_name"), filename),
					Body: f, Folder: folder, Alt: r.str("alt"), Caption: r.str("caption"), Tags: tags, UploadedBy: by, Quota: quota})
				f.Close()
				if err == nil {
					file.Copied = true
					im.media[id] = true
					im.rep.Mapped.Media++
					im.rep.Mapped.MediaFiles++
					im.rep.Media = append(im.rep.Media, file)
					return nil
				}
				if condo.ErrorCode(err) == "" {
					return err
				}
				refused[condo.ErrorMessage(err)]++
			} else {
				missing++
			}
		}
		_, err := im.db.Writer().ExecContext(ctx, `INSERT INTO media (id, filename, original_name, mime_type, size, width, height, folder, alt, caption,
			tags, uploaded_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, filename, orDefault(r.str("original_name"), filename), orDefault(r.str("mime_type"), "application/octet-stream"),
			r.num("size", 0), nullNum(r.num("width", 0)), nullNum(r.num("height", 0)), folder,
			r.str("alt"), r.str("caption"), mustJSON(tags), nullStr(by), created, r.msOr("updated_at", created))
		if err != nil {
			return err
		}
		im.media[id] = true
		im.rep.Mapped.Media++
		im.rep.Media = append(im.rep.Media, file)
		return nil
	})
	im.drop("media", deleted, "deleted in SonicJS (deleted_at set)")
	im.drop("media", badID, "an id Condo cannot name a file by (letters, digits, - and _, at most 64)")
	whys := make([]string, 0, len(refused))
	for why := range refused {
		whys = append(whys, why)
	}
	sort.Strings(whys)
	for _, why := range whys {
		im.rep.Changed = append(im.rep.Changed, fmt.Sprintf("%d media files in --media-dir were refused (%s): their records are kept without them", refused[why], why))
	}
	if missing > 0 {
		im.rep.Notes = append(im.rep.Notes, fmt.Sprintf("%d media files were not found in --media-dir at their r2_key", missing))
	}
	if n := im.rep.Mapped.Media - im.rep.Mapped.MediaFiles; n > 0 {
		im.rep.Notes = append(im.rep.Notes, fmt.Sprintf("%d media records were imported without their bytes, which SonicJS keeps in R2, not in its database: each record's r2_key and public_url are listed (--json); copy the bucket (rclone, say) and import with --media-dir DIR, else a record lists but its file answers 404", n))
	}
	return err
}

func (im *importer) importTokens(ctx context.Context) error {
	var orphan int
	err := im.db.Transact(ctx, func(tx *sql.Tx) error {
		return im.src.each(ctx, "api_tokens", []string{"id", "name", "user_id", "permissions", "last_used_at", "created_at"}, "created_at, id", func(r row) error {
			if !im.users[r.str("user_id")] {
				orphan++
				return nil
			}
			name := plain(orDefault(r.str("name"), "token"), 70) + " (SonicJS, revoked)"
			// Revoked: expired at the import, and its hash is of a secret
			// nobody holds. A SonicJS token is not a Condo one (condo_<tenant>_...),
			// and a credential read from a file is not one to keep alive.
			_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, name, token_hash, user_id, permissions, expires_at, last_used_at, created_at, prefix)
				VALUES (?, ?, ?, ?, '[]', ?, ?, ?, 'sonicjs')`, r.str("id"), name, auth.HashSecret("sonicjs-revoked-"+auth.NewSecret()),
				r.str("user_id"), im.now, r.ms("last_used_at"), r.msOr("created_at", im.now))
			if err != nil {
				return err
			}
			im.rep.Mapped.APITokens++
			im.rep.RevokedTokens = append(im.rep.RevokedTokens, fmt.Sprintf("%s (permissions %s)", r.str("name"), clip(r.str("permissions"), 200)))
			return nil
		})
	})
	im.drop("api_tokens", orphan, "their user was not imported")
	if im.rep.Mapped.APITokens > 0 {
		im.rep.Notes = append(im.rep.Notes, fmt.Sprintf("%d API tokens are listed but revoked (expired at the import, no permissions): SonicJS tokens do not work with Condo; issue new ones (POST /api/tokens)", im.rep.Mapped.APITokens))
	}
	return err
}

// importSettings maps SonicJS's settings (category, key, JSON value) to
// the tenant's general settings (GET /api/settings): the general
// category's keys at the top, each other category as an object.
func (im *importer) importSettings(ctx context.Context) error {
	general := map[string]any{}
	var bad int
	err := im.src.each(ctx, "settings", []string{"category", "key", "value"}, "category, key", func(r row) error {
		var v any
		if err := json.Unmarshal([]byte(r.str("value")), &v); err != nil {
			v = r.str("value") // stored unquoted: keep it as text
		}
		cat, key := orDefault(r.str("category"), "general"), r.str("key")
		if key == "" {
			bad++
			return nil
		}
		if cat == "general" {
			if _, taken := general[key]; taken {
				bad++
				return nil
			}
			general[key] = v
			if s, ok := v.(string); ok && key == "siteName" {
				im.siteName = s
			}
		} else {
			sub, ok := general[cat].(map[string]any)
			if !ok {
				if _, taken := general[cat]; taken {
					bad++
					return nil
				}
				sub = map[string]any{}
				general[cat] = sub
			}
			sub[key] = v
		}
		im.rep.Mapped.Settings++
		return nil
	})
	if err != nil {
		return err
	}
	im.drop("settings", bad, "no key, or a key another setting already took")
	if len(general) == 0 {
		return nil
	}
	return im.auth.SetSetting(ctx, "general", json.RawMessage(mustJSON(general)))
}

// dropped names the SonicJS tables Condo does not map, with why.
var dropped = map[string]string{
	"content_fields":           "SonicJS's field definitions per collection: Condo's live in the collection's schema, which was imported",
	"content_relationships":    "Condo keeps references in the items' data (reference fields)",
	"workflow_templates":       "Condo has one workflow (draft, review, published, archived)",
	"workflows":                "Condo has one workflow (draft, review, published, archived)",
	"workflow_states":          "Condo has one workflow (draft, review, published, archived)",
	"workflow_transitions":     "Condo has one workflow (draft, review, published, archived)",
	"content_workflow_status":  "the items' statuses were mapped instead",
	"scheduled_content":        "schedules were taken from the items' scheduled_publish_at and scheduled_unpublish_at",
	"user_sessions":            "sessions are not carried over: users sign in again",
	"password_history":         "password hashes in SonicJS's format, which Condo does not verify",
	"permissions":              "Condo's roles and permissions are its own",
	"role_permissions":         "Condo's roles and permissions are its own",
	"teams":                    "Condo has no teams",
	"team_memberships":         "Condo has no teams",
	"activity_logs":            "SonicJS's activity log: the tenant's audit log starts at the import",
	"system_logs":              "server logs, not content",
	"log_config":               "server log settings",
	"notifications":            "Condo has no in-app notifications",
	"notification_preferences": "Condo has no in-app notifications",
	"webhooks":                 "not carried over: create the endpoints again with POST /api/webhooks (each gets a new signing secret)",
	"webhook_deliveries":       "past deliveries of SonicJS's endpoints",
	"automation_rules":         "Condo has no automation rules",
	"auto_save_drafts":         "unsaved editor drafts",
	"plugins":                  "SonicJS plugins do not run on Condo",
}

// mapped are the tables the import reads.
var mapped = map[string]bool{"users": true, "collections": true, "content": true, "content_versions": true, "workflow_history": true,
	"media": true, "api_tokens": true, "settings": true}

// dropRest reports every other non-empty table as dropped.
func (im *importer) dropRest(ctx context.Context) error {
	names := make([]string, 0, len(im.src.cols))
	for t := range im.src.cols {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		if mapped[t] || strings.HasPrefix(t, "sqlite_") || strings.HasPrefix(t, "_cf_") || t == "d1_migrations" || t == "migrations" {
			continue
		}
		n, err := im.src.count(ctx, t)
		if err != nil {
			return err
		}
		why, ok := dropped[t]
		if !ok && strings.HasPrefix(t, "plugin") {
			why, ok = dropped["plugins"], true
		}
		if !ok {
			why = "not a part of SonicJS that Condo maps (a plugin's table, or the site's own)"
		}
		im.drop(t, n, why)
	}
	return nil
}

// clip shortens text to at most n bytes, marking the cut with "...".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return condo.ClipTo(s, n-3)
}

// cut shortens an identifier to at most n bytes (ASCII: no rune to split).
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullNum(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
