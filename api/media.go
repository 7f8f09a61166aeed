package api

import (
	"context"
	"errors"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/condohq/condo"
	"github.com/condohq/condo/admin"
	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/metrics"
)

// Media form limits: each text field of an upload, the room the form's
// boundaries and headers may take beyond the file, and its parts.
const (
	maxMediaField    = 8 << 10
	mediaFormRoom    = 64 << 10
	maxMediaFormPart = 16
)

// mediaStatuses are upload refusals whose status is more specific than
// their code's (EINVALID, 400).
var mediaStatuses = map[string]int{
	"file_too_large":         http.StatusRequestEntityTooLarge,
	"unsupported_media_type": http.StatusUnsupportedMediaType,
}

// mediaRoutes registers the media library and the serving of its files.
//
// Files are served to anyone who can reach the tenant's host, like
// SonicJS's: they are meant for <img> tags on public sites, which send
// no token, and a media id is a UUIDv7 with 74 random bits, so a URL is
// known only to whoever was given it. A token that is sent must still be
// valid for the tenant (401 otherwise), as on every tenant route.
//
// POST /api/media is exempt from the server's body limit (see New): the
// tenant's plan caps the file instead (media_file_size), plus
// mediaFormRoom for the rest of the form.
func (s *Server) mediaRoutes() {
	s.tenantRoute(http.MethodPost, "/api/media", s.uploadMedia, auth.MediaCreate)
	s.tenantRoute(http.MethodGet, "/api/media", s.listMedia, auth.MediaRead)
	s.tenantRoute(http.MethodGet, "/api/media/:id", s.getMedia, auth.MediaRead)
	s.tenantRoute(http.MethodPatch, "/api/media/:id", s.updateMedia, auth.MediaUpdate)
	s.tenantRoute(http.MethodDelete, "/api/media/:id", s.deleteMedia, auth.MediaDelete)
	s.tenantRoute(http.MethodGet, "/media/:id/:filename", s.serveMedia, anyone)
}

// isUpload reports a request to POST /api/media, or to the admin's
// upload form that passes its file on to it, which the server's body
// limit skips.
func isUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && (c.Path() == "/api/media" || c.Path() == admin.MediaUploadPath)
}

// withMedia runs fn with the content store of the request's tenant.
func (s *Server) withMedia(c echo.Context, fn func(ctx context.Context, st *cms.Store) error) error {
	t := tenantOf(c)
	return s.withTenantDB(c, func(ctx context.Context, h tenantHandle) error {
		return fn(ctx, s.content.Store(t.ID, h.DB, s.store.MediaDir(t.ID)))
	})
}

// mediaError answers the refusals of mediaStatuses with their status and
// hands every other error on.
func mediaError(c echo.Context, err error) error {
	status, ok := mediaStatuses[condo.ErrorReason(err)]
	if !ok || condo.ErrorCode(err) != condo.EINVALID {
		return err
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message = condo.ErrorReason(err), condo.ErrorMessage(err)
	return c.JSON(status, body)
}

// maxUpload is the largest file the tenant's plan accepts.
func (s *Server) maxUpload(t *catalog.Tenant) int64 { return s.plans.For(t.Plan).MediaFileSize }

// limitedBody is a request body capped at max bytes: reading past it
// fails with file_too_large.
type limitedBody struct {
	io.ReadCloser
	max int64
}

func (b limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = fileTooLarge(b.max)
	}
	return n, err
}

func fileTooLarge(max int64) error {
	return condo.ReasonErrorf(condo.EINVALID, "file_too_large", "the upload is larger than this tenant's plan allows (%d MiB)", max>>20)
}

// uploadForm is the metadata of an upload's form.
type uploadForm struct {
	folder, alt, caption *string
	tags                 []string
}

// set records one text field of the form.
func (f *uploadForm) set(p *multipart.Part) error {
	b, err := io.ReadAll(io.LimitReader(p, maxMediaField+1))
	if err != nil {
		return formError(err)
	}
	if len(b) > maxMediaField {
		return condo.ReasonErrorf(condo.EINVALID, "invalid_form", "the field %s is longer than %d bytes", p.FormName(), maxMediaField)
	}
	v := string(b)
	switch p.FormName() {
	case "folder":
		f.folder = &v
	case "alt":
		f.alt = &v
	case "caption":
		f.caption = &v
	case "tags": // repeated, or comma-separated
		f.tags = append(f.tags, strings.Split(v, ",")...)
	}
	return nil
}

func (f *uploadForm) empty() bool {
	return f.folder == nil && f.alt == nil && f.caption == nil && f.tags == nil
}

func formError(err error) error {
	if condo.ErrorCode(err) != condo.EINTERNAL {
		return err
	}
	return condo.ReasonErrorf(condo.EINVALID, "invalid_form",
		"send multipart/form-data with the file in a part named file (and optional folder, alt, caption and tags): %v", err)
}

// uploadMedia serves POST /api/media: a multipart form whose part "file"
// is streamed straight into the media folder (never to a temporary file
// of the form parser), with optional fields folder, alt, caption and tags
// (repeated or comma-separated). Fields after the file are applied once it
// is stored; if they are invalid, the upload is undone.
func (s *Server) uploadMedia(c echo.Context) error {
	t := tenantOf(c)
	max := s.maxUpload(t)
	// The quota counts the database with the media.
	usage, err := s.storageUsage(c)
	if err != nil {
		return err
	}
	r := c.Request()
	r.Body = limitedBody{http.MaxBytesReader(c.Response(), r.Body, max+mediaFormRoom), max}
	mr, err := r.MultipartReader()
	if err != nil {
		return formError(err)
	}
	uploader := principalOf(c).UserID
	var m *cms.Media
	err = s.withMedia(c, func(ctx context.Context, st *cms.Store) (err error) {
		var before, after uploadForm
		defer func() {
			if err != nil && m != nil { // undo: the request fails as a whole
				if derr := st.DeleteMedia(context.WithoutCancel(ctx), m.ID); derr != nil {
					logger(c).Error("undo media upload", "media", m.ID, "err", derr)
				}
				m = nil
			}
		}()
		for parts := 0; ; parts++ {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return formError(err)
			}
			if parts == maxMediaFormPart {
				return condo.ReasonErrorf(condo.EINVALID, "invalid_form", "a form has at most %d parts", maxMediaFormPart)
			}
			switch name := p.FormName(); {
			case name == "file" && m == nil:
				m, err = st.Upload(ctx, cms.Upload{Name: p.FileName(), Body: p, Folder: deref(before.folder), Alt: deref(before.alt),
					Caption: deref(before.caption), Tags: before.tags, UploadedBy: uploader, MaxSize: max, Quota: t.StorageQuota, Database: usage.Database})
				if err != nil {
					return err
				}
			case name == "file":
				return condo.ReasonErrorf(condo.EINVALID, "invalid_form", "send one file per request")
			case name == "folder" || name == "alt" || name == "caption" || name == "tags":
				f := &before
				if m != nil {
					f = &after
				}
				if err := f.set(p); err != nil {
					return err
				}
			default:
				return condo.ReasonErrorf(condo.EINVALID, "invalid_form", "unknown field %q: use file, folder, alt, caption and tags", condo.Clip(name))
			}
		}
		if m == nil {
			return condo.ReasonErrorf(condo.EINVALID, "missing_file", "the form has no part named file")
		}
		if after.empty() {
			return nil
		}
		updated, err := st.UpdateMedia(ctx, m.ID, cms.MediaUpdate{Folder: after.folder, Alt: after.alt, Caption: after.caption, Tags: after.tags})
		if err == nil {
			m = updated
		}
		return err
	})
	if err != nil {
		switch condo.ErrorReason(err) {
		case "quota_exceeded":
			metrics.QuotaRejections.WithLabelValues("media").Inc()
		case "file_too_large":
			metrics.QuotaRejections.WithLabelValues("media_file_size").Inc()
		}
		return mediaError(c, err)
	}
	s.audit(c, auth.CategoryAudit, "media.uploaded", m.ID, map[string]any{"filename": m.Filename, "mime_type": m.MimeType, "size": m.Size})
	return c.JSON(http.StatusCreated, map[string]any{"data": m})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *Server) listMedia(c echo.Context) error {
	limit, err := condo.IntParam(c.QueryParams(), "limit", 50, 1, 1000)
	if err != nil {
		return err
	}
	offset, err := condo.IntParam(c.QueryParams(), "offset", 0, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	f := cms.MediaFilter{Folder: c.QueryParam("folder"), Type: c.QueryParam("type"), Query: c.QueryParam("q"), Limit: limit, Offset: offset}
	var out []*cms.Media
	var total int
	err = s.withMedia(c, func(ctx context.Context, st *cms.Store) (err error) {
		out, total, err = st.MediaList(ctx, f)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out, "meta": map[string]int{"total": total, "limit": limit, "offset": offset}})
}

func (s *Server) getMedia(c echo.Context) error {
	var m *cms.Media
	err := s.withMedia(c, func(ctx context.Context, st *cms.Store) (err error) {
		m, err = st.Media(ctx, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": m})
}

// updateMedia serves PATCH /api/media/:id. Roles limited to their own
// content (authors) may change only the files they uploaded.
func (s *Server) updateMedia(c echo.Context) error {
	var in struct {
		Alt     *string   `json:"alt"`
		Caption *string   `json:"caption"`
		Folder  *string   `json:"folder"`
		Tags    *[]string `json:"tags"`
	}
	if err := decodeStrict(c, &in); err != nil {
		return err
	}
	up := cms.MediaUpdate{Alt: in.Alt, Caption: in.Caption, Folder: in.Folder}
	if in.Tags != nil {
		up.Tags = append([]string{}, *in.Tags...)
	}
	var m *cms.Media
	err := s.withMedia(c, func(ctx context.Context, st *cms.Store) error {
		cur, err := st.Media(ctx, c.Param("id"))
		if err != nil {
			return err
		}
		if p := principalOf(c); p.Role.OwnOnly && cur.UploadedBy != p.UserID {
			return condo.ReasonErrorf(condo.EFORBIDDEN, "permission_denied", "your role edits only the media you uploaded")
		}
		m, err = st.UpdateMedia(ctx, cur.ID, up)
		return err
	})
	if err != nil {
		return err
	}
	detail := map[string]any{}
	for k, v := range map[string]*string{"alt": in.Alt, "caption": in.Caption, "folder": in.Folder} {
		if v != nil {
			detail[k] = "changed"
		}
	}
	if in.Tags != nil {
		detail["tags"] = "changed"
	}
	s.audit(c, auth.CategoryAudit, "media.updated", m.ID, detail)
	return c.JSON(http.StatusOK, map[string]any{"data": m})
}

func (s *Server) deleteMedia(c echo.Context) error {
	var m *cms.Media
	err := s.withMedia(c, func(ctx context.Context, st *cms.Store) (err error) {
		if m, err = st.Media(ctx, c.Param("id")); err != nil {
			return err
		}
		return st.DeleteMedia(ctx, m.ID)
	})
	if err != nil {
		return err
	}
	s.audit(c, auth.CategoryAudit, "media.deleted", m.ID, map[string]any{"filename": m.Filename, "size": m.Size})
	return c.NoContent(http.StatusNoContent)
}

// serveMedia serves GET /media/:id/:filename: the file, if filename is its
// name. The URL names one content forever (a file is never replaced), so
// it may be cached for a year; the ETag is the file's SHA-256, and
// http.ServeContent answers If-None-Match and Range. SVG goes out as an
// attachment under a sandboxing Content-Security-Policy (see package cms).
// With ?thumb=1 an image wider than cms.ThumbWidth is answered with its
// thumbnail (made once, then kept), any other file with itself.
func (s *Server) serveMedia(c echo.Context) error {
	var path, thumbType string
	var m *cms.Media
	err := s.withMedia(c, func(ctx context.Context, st *cms.Store) (err error) {
		if c.QueryParam("thumb") != "" {
			var ok bool
			if path, thumbType, m, ok, err = st.MediaThumbnail(ctx, c.Param("id")); err != nil || ok {
				return err
			}
			thumbType = ""
		}
		path, m, err = st.MediaFile(ctx, c.Param("id"))
		return err
	})
	if err != nil {
		return err
	}
	if c.Param("filename") != m.Filename {
		return condo.ReasonErrorf(condo.ENOTFOUND, "media_not_found", "no media %s named %s", m.ID, condo.Clip(c.Param("filename")))
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		logger(c).Error("media file missing", "media", m.ID, "path", path)
		return condo.ReasonErrorf(condo.ENOTFOUND, "media_not_found", "the file of media %s is missing", m.ID)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, m.MimeType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	if m.SHA256 != "" {
		h.Set("ETag", `"`+m.SHA256+`"`)
	}
	if thumbType != "" {
		h.Set(echo.HeaderContentType, thumbType)
		h.Set("ETag", `"`+m.SHA256+`-thumb"`)
	}
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType(cms.MediaDisposition(m.MimeType), map[string]string{"filename": m.Filename}))
	if strings.HasPrefix(m.MimeType, "image/svg") {
		h.Set(echo.HeaderContentSecurityPolicy, "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	}
	http.ServeContent(c.Response(), c.Request(), m.Filename, m.CreatedAt, f)
	return nil
}
