package cms

// Media: files a tenant uploads, kept in its media folder.
//
// Trust nothing the client says about a file. Its type is detected from
// its bytes and must be on an allow-list (mediaTypes); the name it was
// sent with is only remembered (original_name, base name only) and
// sanitised into a display name (filename) of [A-Za-z0-9_-] and the
// extension of the detected type. The file on disk is named by the
// server alone, <MediaDir>/<id><ext>, so no input ever becomes a path.
//
// An upload streams into a temporary file in the media folder while its
// SHA-256 is computed, stops one byte past the limit, is synced and
// renamed into place (and the folder synced) before its row is inserted:
// a row always has its file. A crash between the rename and the insert
// leaves an unreferenced file, and one during the copy a .upload-* file;
// both only cost space until a sweep removes them (sweep.go).
//
// SVG is accepted (logos and icons are SVG) although it can carry script:
// MediaDisposition marks it as a download, and the API serves it with a
// sandboxing Content-Security-Policy, so a script in it never runs on the
// tenant's origin. An <img> ignores both and shows it.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registers the decoders DecodeConfig reads dimensions with
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	_ "golang.org/x/image/webp"
	"golang.org/x/text/unicode/norm"

	"github.com/condohq/condo"
	"github.com/condohq/condo/plans"
	"github.com/condohq/condo/webhooks"
)

// DefaultMaxUpload caps a file when Upload.MaxSize is not set.
const DefaultMaxUpload = 10 << 20

// Limits of media metadata.
const (
	MaxFolderLen  = 200  // bytes
	MaxAltLen     = 1000 // characters
	MaxCaptionLen = 4000 // characters
	MaxTags       = 50
	MaxTagLen     = 50 // characters
)

// sniffLen is how much of a file type detection reads: mimetype's default.
const sniffLen = 4096

// mediaType is how Condo stores and serves one accepted type.
type mediaType struct {
	ext      string // of the stored and displayed names
	download bool   // served as an attachment, never rendered by the browser
	image    bool   // DecodeConfig can read its dimensions
}

// mediaTypes is the allow-list, by the type mimetype detects. Anything
// else, executables and HTML above all, is refused.
var mediaTypes = map[string]mediaType{
	"image/jpeg":    {ext: ".jpg", image: true},
	"image/png":     {ext: ".png", image: true},
	"image/apng":    {ext: ".png", image: true},
	"image/gif":     {ext: ".gif", image: true},
	"image/webp":    {ext: ".webp", image: true},
	"image/avif":    {ext: ".avif"},
	"image/svg+xml": {ext: ".svg", download: true},

	"application/pdf":  {ext: ".pdf"},
	"text/plain":       {ext: ".txt"},
	"text/csv":         {ext: ".csv"},
	"application/json": {ext: ".json"},

	"video/mp4":       {ext: ".mp4"},
	"video/webm":      {ext: ".webm"},
	"video/ogg":       {ext: ".ogv"},
	"audio/mpeg":      {ext: ".mp3"},
	"audio/mp4":       {ext: ".m4a"},
	"audio/x-m4a":     {ext: ".m4a"},
	"audio/ogg":       {ext: ".ogg"},
	"application/ogg": {ext: ".ogg"},
	"audio/wav":       {ext: ".wav"},

	"application/zip": {ext: ".zip", download: true},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   {ext: ".docx", download: true},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {ext: ".xlsx", download: true},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {ext: ".pptx", download: true},
}

// baseType is a media type without its parameters.
func baseType(t string) string {
	b, _, _ := strings.Cut(t, ";")
	return strings.ToLower(strings.TrimSpace(b))
}

// MediaDisposition returns how a file of mimeType is served: "inline", or
// "attachment" for types a browser must not render on the tenant's
// origin (SVG, which can carry script) or cannot (archives, documents).
func MediaDisposition(mimeType string) string {
	if t, ok := mediaTypes[baseType(mimeType)]; ok && !t.download {
		return "inline"
	}
	return "attachment"
}

// Media is one uploaded file.
type Media struct {
	ID           string   `json:"id"`
	Filename     string   `json:"filename"`      // sanitised; the last segment of URL
	OriginalName string   `json:"original_name"` // as sent, base name only, for people
	MimeType     string   `json:"mime_type"`     // detected from the bytes
	Size         int64    `json:"size"`
	Width        int      `json:"width,omitempty"` // images only
	Height       int      `json:"height,omitempty"`
	Folder       string   `json:"folder"`
	Alt          string   `json:"alt"`
	Caption      string   `json:"caption"`
	Tags         []string `json:"tags"`
	UploadedBy   string   `json:"uploaded_by,omitempty"`
	SHA256       string   `json:"sha256"`
	// URL serves the file: /media/<id>/<filename> on the tenant's host.
	URL       string    `json:"url"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Upload is a file to add to the media library.
type Upload struct {
	Name       string    // the client's file name; only sanitised forms of it are kept
	Body       io.Reader // the bytes, read once, up to MaxSize+1
	Folder     string
	Alt        string
	Caption    string
	Tags       []string
	UploadedBy string // user id; "" for none
	// MaxSize caps this file in bytes; 0 means DefaultMaxUpload.
	MaxSize int64
	// Quota caps the bytes of all the tenant's media, this file included,
	// plus Database (the catalog's storage quota counts both): 0 allows
	// nothing. Database is the bytes the tenant's database takes
	// (plans.ReadUsage), measured by the caller before the upload.
	Quota, Database int64
	// ID and CreatedAt, for an import, keep the original's; empty: a new
	// id, and now.
	ID        string
	CreatedAt time.Time
}

// Upload stores a file and records it.
//
// Errors: EINVALID with reason file_too_large (past MaxSize),
// unsupported_media_type (a type not on the allow-list, whatever its name
// says), empty_file, invalid_image (an image whose header cannot be
// read), upload_incomplete (the body failed before its end) or
// invalid_<field>; EQUOTA quota_exceeded; a coded error the
// body's reader returned, as it is.
func (s *Store) Upload(ctx context.Context, in Upload) (*Media, error) {
	meta, err := cleanMediaMeta(MediaUpdate{Folder: &in.Folder, Alt: &in.Alt, Caption: &in.Caption, Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	maxSize := in.MaxSize
	if maxSize <= 0 {
		maxSize = DefaultMaxUpload
	}
	used, err := s.MediaUsage(ctx)
	if err != nil {
		return nil, err
	}
	room := in.Quota - in.Database - used
	if room <= 0 {
		return nil, quotaExceeded(in, used, 1)
	}
	limit := min(maxSize, room)

	// Detect the type before anything touches the disk.
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(in.Body, head)
	switch {
	case err == io.EOF:
		return nil, condo.ReasonErrorf(condo.EINVALID, "empty_file", "the file is empty")
	case err != nil && err != io.ErrUnexpectedEOF:
		return nil, readError(err)
	}
	head = head[:n]
	detected := mimetype.Detect(head).String()
	typ, ok := mediaTypes[baseType(detected)]
	if !ok {
		return nil, condo.ReasonErrorf(condo.EINVALID, "unsupported_media_type",
			"files of type %s cannot be uploaded: use an image, a video, audio, a PDF, text or an office document", baseType(detected))
	}
	switch {
	case !strings.HasPrefix(detected, "text/"):
		detected = baseType(detected) // charsets matter to text only
	case !strings.Contains(detected, "charset=") && validUTF8Head(head, n == sniffLen):
		detected += "; charset=utf-8"
	}

	id := in.ID
	if id == "" {
		id = condo.NewID()
	} else if !ValidMediaID(id) {
		return nil, condo.ReasonErrorf(condo.EINVALID, "invalid_id", "a media id is 1-64 letters, digits, dashes and underscores")
	}
	m := &Media{ID: id, Filename: safeFileName(in.Name, typ.ext), OriginalName: originalName(in.Name), MimeType: detected,
		Folder: *meta.Folder, Alt: *meta.Alt, Caption: *meta.Caption, Tags: meta.Tags, UploadedBy: in.UploadedBy}
	if m.Tags == nil {
		m.Tags = []string{}
	}
	path, err := s.writeMedia(id, typ, io.MultiReader(bytes.NewReader(head), in.Body), limit, m)
	if err != nil {
		if m.Size > maxSize {
			return nil, condo.ReasonErrorf(condo.EINVALID, "file_too_large", "the file is larger than %s, this tenant's limit", byteSize(maxSize))
		}
		if m.Size > limit {
			return nil, quotaExceeded(in, used, m.Size)
		}
		return nil, err
	}

	now := s.now()
	if !in.CreatedAt.IsZero() {
		now = in.CreatedAt
	}
	m.CreatedAt, m.UpdatedAt = condo.FromUnixMS(condo.UnixMS(now)), condo.FromUnixMS(condo.UnixMS(now))
	m.URL = mediaURL(m)
	err = s.transact(ctx, func(tx *sql.Tx) error {
		// Concurrent uploads take turns here (one writer), so together
		// they cannot pass the quota.
		var used int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(sum(size), 0) FROM media").Scan(&used); err != nil {
			return err
		}
		if in.Database+used+m.Size > in.Quota {
			return quotaExceeded(in, used, m.Size)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO media (id, filename, original_name, mime_type, size, width, height,
			folder, alt, caption, tags, uploaded_by, created_at, updated_at, sha256)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, m.Filename, m.OriginalName, m.MimeType, m.Size, nullInt(m.Width), nullInt(m.Height),
			m.Folder, m.Alt, m.Caption, rawJSON(m.Tags), nullString(m.UploadedBy), condo.UnixMS(now), condo.UnixMS(now), m.SHA256)
		if err != nil {
			return err
		}
		return s.emit(ctx, tx, webhooks.MediaUploaded, m)
	})
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("record media: %w", err)
	}
	if s.hooks != nil {
		s.hooks.AfterUpload(ctx, &MediaEvent{Tenant: s.TenantID, DB: s.DB, Media: m})
	}
	return m, nil
}

// writeMedia copies up to limit bytes of r into the media folder as the
// file of media id, filling m's size, checksum and dimensions, and
// returns its path. When r holds more than limit, m.Size is limit+1 and
// nothing is kept. On any error nothing is left behind.
func (s *Store) writeMedia(id string, typ mediaType, r io.Reader, limit int64, m *Media) (path string, err error) {
	if err := s.mediaFolder(); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(s.MediaDir, ".upload-*")
	if err != nil {
		return "", mediaStorageError(err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sum := sha256.New()
	m.Size, err = io.Copy(io.MultiWriter(tmp, sum), io.LimitReader(r, limit+1))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", mediaStorageError(err)
		}
		return "", readError(err)
	}
	if m.Size > limit {
		return "", errors.New("file past its limit") // the caller says which
	}
	m.SHA256 = hex.EncodeToString(sum.Sum(nil))
	if typ.image {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return "", mediaStorageError(err)
		}
		cfg, _, err := image.DecodeConfig(tmp)
		if err != nil {
			return "", condo.ReasonErrorf(condo.EINVALID, "invalid_image", "the image cannot be read: %v", err)
		}
		m.Width, m.Height = cfg.Width, cfg.Height
	}
	if err := tmp.Sync(); err != nil {
		return "", mediaStorageError(err)
	}
	if err := tmp.Close(); err != nil {
		return "", mediaStorageError(err)
	}
	path = filepath.Join(s.MediaDir, id+typ.ext)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", mediaStorageError(err)
	}
	if err := condo.SyncDir(s.MediaDir); err != nil {
		os.Remove(path)
		return "", mediaStorageError(err)
	}
	return path, nil
}

// validUTF8Head reports whether head is UTF-8; when it is cut from a
// longer file, a character cut at its end does not count against it.
func validUTF8Head(head []byte, cut bool) bool {
	for i := 0; i < utf8.UTFMax && cut && len(head) > 0 && !utf8.Valid(head); i++ {
		head = head[:len(head)-1]
	}
	return utf8.Valid(head)
}

// mediaFolder creates the media folder on first use, durably.
func (s *Store) mediaFolder() error {
	if s.MediaDir == "" {
		return errors.New("cms: the store has no media folder")
	}
	if _, err := os.Stat(s.MediaDir); err == nil {
		return nil
	}
	if err := os.MkdirAll(s.MediaDir, 0o750); err != nil {
		return mediaStorageError(err)
	}
	if err := condo.SyncDir(filepath.Dir(s.MediaDir)); err != nil {
		return mediaStorageError(err)
	}
	return nil
}

// mediaStorageError describes a media file that could not be written:
// EFULL when the file system, or the user's disk quota, has no room left
// (ENOSPC, EDQUOT), else EUNAVAILABLE storage_error. Neither message names
// the file, whose path is the server's; err stays in the chain for logs.
func mediaStorageError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return condo.FullError(err)
	}
	coded := condo.ReasonErrorf(condo.EUNAVAILABLE, "storage_error", "the media file cannot be written; retry later")
	return fmt.Errorf("%w: %w", coded, err)
}

// readError describes a body that failed before its end; a coded error
// (the API's body limit) passes as it is.
func readError(err error) error {
	if condo.ErrorCode(err) != condo.EINTERNAL {
		return err
	}
	return condo.ReasonErrorf(condo.EINVALID, "upload_incomplete", "the file could not be read to its end: %v", err)
}

// quotaExceeded refuses a file of size bytes (at least: the upload
// stopped reading past the room) with media bytes already stored.
func quotaExceeded(in Upload, media, size int64) error {
	return plans.QuotaExceeded(in.Quota, plans.Usage{Database: in.Database, Media: media}, size)
}

// byteSize writes n in the largest binary unit that divides it, or bytes.
func byteSize(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// safeFileName turns a client's file name into the display name: the base
// name (after the last slash or backslash), its own extension dropped,
// accents stripped, every other character outside [A-Za-z0-9_-] a dash,
// at most 80 characters, then ext. Nothing of it can climb out of a
// folder, hide, or confuse a header: there are no dots but ext's, no
// separators, no control or format characters.
func safeFileName(name, ext string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // the accent of a decomposed letter
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'):
			b.WriteRune(r)
			dash = r == '-'
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 80 {
			break
		}
	}
	stem := strings.Trim(b.String(), "-_")
	if len(stem) > 80 {
		stem = strings.TrimRight(stem[:80], "-_")
	}
	if stem == "" {
		stem = "file"
	}
	return stem + ext
}

// originalName keeps the base name a client sent, as text to show: valid
// UTF-8 without control characters, at most 255 characters.
func originalName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 255 {
		name = string(r[:255])
	}
	return name
}

// mediaURL is where a file is served on its tenant's host.
func mediaURL(m *Media) string { return "/media/" + m.ID + "/" + m.Filename }

// mediaPath is the file of a media row: <MediaDir>/<id><ext>. Ids are the
// server's own, but a row might come from an import, so one that could
// name anything but a file in the folder is refused.
func (s *Store) mediaPath(m *Media) (string, error) {
	if !ValidMediaID(m.ID) {
		return "", mediaNotFound(m.ID)
	}
	return filepath.Join(s.MediaDir, m.ID+mediaTypes[baseType(m.MimeType)].ext), nil
}

// ValidMediaID reports whether id can name a media file: 1-64 letters,
// digits, dashes and underscores.
func ValidMediaID(id string) bool {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return id != "" && len(id) <= 64
}

func mediaNotFound(id string) error {
	return condo.ReasonErrorf(condo.ENOTFOUND, "media_not_found", "no media %q", condo.Clip(id))
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const mediaColumns = `id, filename, original_name, mime_type, size, width, height, folder, alt, caption, tags,
	uploaded_by, sha256, created_at, updated_at`

func scanMedia(row interface{ Scan(...any) error }) (*Media, error) {
	var m Media
	var width, height sql.NullInt64
	var by sql.NullString
	var tags string
	var created, updated int64
	err := row.Scan(&m.ID, &m.Filename, &m.OriginalName, &m.MimeType, &m.Size, &width, &height, &m.Folder, &m.Alt,
		&m.Caption, &tags, &by, &m.SHA256, &created, &updated)
	if err != nil {
		return nil, err
	}
	m.Width, m.Height, m.UploadedBy = int(width.Int64), int(height.Int64), by.String
	if err := json.Unmarshal([]byte(tags), &m.Tags); err != nil || m.Tags == nil {
		m.Tags = []string{}
	}
	m.CreatedAt, m.UpdatedAt = condo.FromUnixMS(created), condo.FromUnixMS(updated)
	m.URL = mediaURL(&m)
	return &m, nil
}

// Media returns one file's record. Errors: ENOTFOUND (media_not_found).
func (s *Store) Media(ctx context.Context, id string) (*Media, error) {
	m, err := scanMedia(s.DB.Reader().QueryRowContext(ctx, "SELECT "+mediaColumns+" FROM media WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, mediaNotFound(id)
	}
	return m, err
}

// MediaExists reports whether media id exists; the schema's Resolver asks.
func (s *Store) MediaExists(ctx context.Context, id string) (bool, error) {
	var n int
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT count(*) FROM media WHERE id = ?", id).Scan(&n)
	return n > 0, err
}

// MediaUsage returns the bytes all the tenant's media take.
func (s *Store) MediaUsage(ctx context.Context) (int64, error) {
	var n int64
	err := s.DB.Reader().QueryRowContext(ctx, "SELECT coalesce(sum(size), 0) FROM media").Scan(&n)
	return n, err
}

// MediaFilter selects media to list.
type MediaFilter struct {
	Folder string // exactly this folder; "" for all
	Type   string // a type or its prefix: "image/", "application/pdf"
	Query  string // in the names, alt text, caption or tags
	Limit  int    // default 50, at most 1000
	Offset int
}

// MediaList returns a page of media, newest first, and how many match.
func (s *Store) MediaList(ctx context.Context, f MediaFilter) ([]*Media, int, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 1000)
	f.Offset = max(f.Offset, 0)
	var where []string
	var args []any
	if f.Folder != "" {
		folder, err := cleanFolder(f.Folder)
		if err != nil {
			return nil, 0, err
		}
		where, args = append(where, "folder = ?"), append(args, folder)
	}
	if f.Type != "" {
		where, args = append(where, `mime_type LIKE ? ESCAPE '\'`), append(args, escapeLikeText(strings.ToLower(f.Type))+"%")
	}
	if f.Query != "" {
		q := "%" + escapeLikeText(f.Query) + "%"
		where = append(where, `(original_name LIKE ? ESCAPE '\' OR filename LIKE ? ESCAPE '\' OR alt LIKE ? ESCAPE '\'
			OR caption LIKE ? ESCAPE '\' OR tags LIKE ? ESCAPE '\')`)
		args = append(args, q, q, q, q, q)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.DB.Reader().QueryRowContext(ctx, "SELECT count(*) FROM media"+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.DB.Reader().QueryContext(ctx, "SELECT "+mediaColumns+" FROM media"+cond+
		" ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?", append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []*Media{}
	for rows.Next() {
		m, err := scanMedia(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, m)
	}
	return out, total, rows.Err()
}

// escapeLikeText escapes LIKE's wildcards (with ESCAPE '\').
func escapeLikeText(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// MediaUpdate changes a file's metadata; nil fields stay as they are, and
// non-nil Tags (even empty) replace the tags.
type MediaUpdate struct {
	Alt, Caption, Folder *string
	Tags                 []string
}

// UpdateMedia changes a file's metadata.
// Errors: ENOTFOUND (media_not_found); EINVALID (invalid_<field>).
func (s *Store) UpdateMedia(ctx context.Context, id string, in MediaUpdate) (*Media, error) {
	in, err := cleanMediaMeta(in)
	if err != nil {
		return nil, err
	}
	var m *Media
	err = s.transact(ctx, func(tx *sql.Tx) error {
		m, err = scanMedia(tx.QueryRowContext(ctx, "SELECT "+mediaColumns+" FROM media WHERE id = ?", id))
		if errors.Is(err, sql.ErrNoRows) {
			return mediaNotFound(id)
		}
		if err != nil {
			return err
		}
		if in.Alt != nil {
			m.Alt = *in.Alt
		}
		if in.Caption != nil {
			m.Caption = *in.Caption
		}
		if in.Folder != nil {
			m.Folder = *in.Folder
		}
		if in.Tags != nil {
			m.Tags = in.Tags
		}
		m.UpdatedAt = condo.FromUnixMS(condo.UnixMS(s.now()))
		_, err = tx.ExecContext(ctx, "UPDATE media SET alt = ?, caption = ?, folder = ?, tags = ?, updated_at = ? WHERE id = ?",
			m.Alt, m.Caption, m.Folder, rawJSON(m.Tags), condo.UnixMS(m.UpdatedAt), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DeleteMedia removes a file's row, then, once that is committed, its
// file; a file already gone is no error. Content that referred to it
// keeps the dangling id. Errors: ENOTFOUND (media_not_found).
func (s *Store) DeleteMedia(ctx context.Context, id string) error {
	var m *Media
	err := s.transact(ctx, func(tx *sql.Tx) (err error) {
		m, err = scanMedia(tx.QueryRowContext(ctx, "DELETE FROM media WHERE id = ? RETURNING "+mediaColumns, id))
		if errors.Is(err, sql.ErrNoRows) {
			return mediaNotFound(id)
		}
		if err != nil {
			return err
		}
		return s.emit(ctx, tx, webhooks.MediaDeleted, m)
	})
	if err != nil {
		return err
	}
	path, err := s.mediaPath(m)
	if err != nil {
		return nil // a row whose id names no file of ours had none
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("media %s deleted, but not its file: %w", id, err)
	}
	if err := s.removeThumbnails(m.ID); err != nil {
		return fmt.Errorf("media %s deleted, but not its thumbnail: %w", id, err)
	}
	return nil
}

// MediaFile returns the path of a file to serve, with its record.
// Errors: ENOTFOUND (media_not_found).
func (s *Store) MediaFile(ctx context.Context, id string) (string, *Media, error) {
	m, err := s.Media(ctx, id)
	if err != nil {
		return "", nil, err
	}
	path, err := s.mediaPath(m)
	return path, m, err
}

// cleanMediaMeta validates and normalises the given metadata fields.
func cleanMediaMeta(in MediaUpdate) (MediaUpdate, error) {
	if in.Folder != nil {
		f, err := cleanFolder(*in.Folder)
		if err != nil {
			return in, err
		}
		in.Folder = &f
	}
	if in.Alt != nil {
		a := strings.TrimSpace(*in.Alt)
		if err := checkMediaText("alt", a, MaxAltLen, false); err != nil {
			return in, err
		}
		in.Alt = &a
	}
	if in.Caption != nil {
		c := strings.TrimSpace(*in.Caption)
		if err := checkMediaText("caption", c, MaxCaptionLen, true); err != nil {
			return in, err
		}
		in.Caption = &c
	}
	if in.Tags != nil {
		tags := make([]string, 0, len(in.Tags))
		seen := map[string]bool{}
		for _, t := range in.Tags {
			t = strings.TrimSpace(t)
			if t == "" || seen[t] {
				continue
			}
			if err := checkMediaText("tags", t, MaxTagLen, false); err != nil {
				return in, err
			}
			seen[t] = true
			tags = append(tags, t)
		}
		if len(tags) > MaxTags {
			return in, condo.ReasonErrorf(condo.EINVALID, "invalid_tags", "at most %d tags", MaxTags)
		}
		in.Tags = tags
	}
	return in, nil
}

// checkMediaText refuses text that is not valid UTF-8, is longer than max
// characters, or holds control characters (newlines and tabs only where
// multiline).
func checkMediaText(field, v string, max int, multiline bool) error {
	ok := utf8.ValidString(v) && utf8.RuneCountInString(v) <= max
	for _, r := range v {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			ok = false
		}
	}
	if !ok {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_"+field, "%s is at most %d characters of text without control characters", field, max)
	}
	return nil
}

// cleanFolder normalises a folder, a label like "blog/2024" (never a path
// on disk): trimmed of spaces and slashes; segments neither empty nor dot
// or dot-dot; no control characters.
func cleanFolder(f string) (string, error) {
	f = strings.Trim(strings.TrimSpace(f), "/")
	bad := len(f) > MaxFolderLen || !utf8.ValidString(f)
	for _, seg := range strings.Split(f, "/") {
		if f != "" && (strings.TrimSpace(seg) == "" || seg == "." || seg == "..") {
			bad = true
		}
	}
	if strings.ContainsFunc(f, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\\' }) {
		bad = true
	}
	if bad {
		return "", condo.ReasonErrorf(condo.EINVALID, "invalid_folder",
			"a folder is at most %d bytes of names separated by slashes, such as blog/2024", MaxFolderLen)
	}
	return f, nil
}
