package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// MediaUploadPath is where the media library's upload form posts. Like
// POST /api/media, to which it hands the file on, it is exempt from the
// server's body limit (the tenant's plan caps the file) and gets the
// longer upload timeout.
const MediaUploadPath = TenantPath + "/media/upload"

// mediaPageSize is how many files a page of the library shows.
const mediaPageSize = 48

// mediaRoutes registers the media library: the grid with its search, one
// file's page (metadata, alt text), upload and delete.
func (a *Admin) mediaRoutes(g *echo.Group) {
	get(g, "/media", a.mediaList)
	g.POST("/media/upload", a.mediaUpload)
	get(g, "/media/:id", a.mediaDetail)
	g.POST("/media/:id", a.mediaUpdate)
	g.POST("/media/:id/delete", a.mediaDelete)
}

// mediaFile is one file as GET /api/media answers it.
type mediaFile struct {
	ID           string    `json:"id"`
	Filename     string    `json:"filename"`
	OriginalName string    `json:"original_name"`
	MimeType     string    `json:"mime_type"`
	Size         int64     `json:"size"`
	Width        int       `json:"width"`
	Height       int       `json:"height"`
	Folder       string    `json:"folder"`
	Alt          string    `json:"alt"`
	Caption      string    `json:"caption"`
	Tags         []string  `json:"tags"`
	UploadedBy   string    `json:"uploaded_by"`
	SHA256       string    `json:"sha256"`
	URL          string    `json:"url"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Image reports whether a browser shows the file in an <img> (SVG too:
// an <img> runs none of its script).
func (m *mediaFile) Image() bool { return strings.HasPrefix(m.MimeType, "image/") }

// Kind is the file's type in a word, for the tile of a file without a
// thumbnail.
func (m *mediaFile) Kind() string {
	t, sub, _ := strings.Cut(m.MimeType, "/")
	switch {
	case t == "video" || t == "audio" || t == "image" || t == "text":
		return t
	case sub == "pdf":
		return "PDF"
	}
	return "file"
}

// Name is what people call the file: the name it was uploaded with.
func (m *mediaFile) Name() string {
	if m.OriginalName != "" {
		return m.OriginalName
	}
	return m.Filename
}

// mediaFilter is the library's search form.
type mediaFilter struct {
	Query, Type, Folder string
	Offset              int
}

func (f mediaFilter) values() url.Values {
	v := url.Values{}
	if f.Query != "" {
		v.Set("q", f.Query)
	}
	if f.Type != "" {
		v.Set("type", f.Type)
	}
	if f.Folder != "" {
		v.Set("folder", f.Folder)
	}
	return v
}

// mediaTypes are the type filter's choices.
var mediaTypes = []struct{ Value, Label string }{
	{"", "All types"}, {"image/", "Images"}, {"video/", "Video"}, {"audio/", "Audio"},
	{"application/pdf", "PDF"}, {"text/", "Text"}, {"application/", "Documents and archives"},
}

// mediaListData is the library page's Data.
type mediaListData struct {
	Filter     mediaFilter
	Types      any
	Files      []*mediaFile
	Total      int
	From, To   int
	Prev, Next string // page links, "" for none
	Uploadable bool
	MaxUpload  string
}

// mediaList serves GET /admin/media: the grid, filtered. An htmx request
// from the search form (HX-Target media-results) gets the results alone.
func (a *Admin) mediaList(c echo.Context) error {
	p, err := a.mediaListPage(c)
	if err != nil {
		return a.peopleFail(c, err)
	}
	if c.Request().Header.Get("HX-Request") == "true" && c.Request().Header.Get("HX-Target") == "media-results" {
		return a.renderFragment(c, http.StatusOK, "media/list", "results", p)
	}
	return a.render(c, http.StatusOK, "media/list", p)
}

// mediaListPage reads the page of the library the request's query asks
// for.
func (a *Admin) mediaListPage(c echo.Context) (*Page, error) {
	f := mediaFilter{Query: strings.TrimSpace(c.QueryParam("q")), Type: c.QueryParam("type"), Folder: strings.TrimSpace(c.QueryParam("folder"))}
	f.Offset, _ = strconv.Atoi(c.QueryParam("offset"))
	f.Offset = max(f.Offset, 0)
	q := f.values()
	q.Set("limit", strconv.Itoa(mediaPageSize))
	q.Set("offset", strconv.Itoa(f.Offset))
	var out struct {
		Data []*mediaFile `json:"data"`
		Meta struct {
			Total int `json:"total"`
		} `json:"meta"`
	}
	if err := a.client(c, sessionOf(c).Token).get("/api/media", q, &out); err != nil {
		return nil, err
	}
	d := &mediaListData{Filter: f, Types: mediaTypes, Files: out.Data, Total: out.Meta.Total, Uploadable: sessionOf(c).Can("media.create")}
	if len(out.Data) > 0 {
		d.From, d.To = f.Offset+1, f.Offset+len(out.Data)
	}
	link := func(offset int) string {
		v := f.values()
		if offset > 0 {
			v.Set("offset", strconv.Itoa(offset))
		}
		if len(v) == 0 {
			return TenantPath + "/media"
		}
		return TenantPath + "/media?" + v.Encode()
	}
	if f.Offset > 0 {
		d.Prev = link(max(f.Offset-mediaPageSize, 0))
	}
	if f.Offset+len(out.Data) < out.Meta.Total {
		d.Next = link(f.Offset + mediaPageSize)
	}
	return &Page{Title: "Media", Nav: "media", Data: d}, nil
}

// mediaDetailData is one file's page.
type mediaDetailData struct {
	File              *mediaFile
	Tags              string
	Editable, Deletes bool
}

func (a *Admin) mediaPage(c echo.Context, m *mediaFile) *Page {
	s := sessionOf(c)
	return &Page{Title: m.Name(), Nav: "media", Data: &mediaDetailData{File: m, Tags: strings.Join(m.Tags, ", "),
		Editable: s.Can("media.update"), Deletes: s.Can("media.delete")}}
}

func (a *Admin) mediaFetch(c echo.Context) (*mediaFile, error) {
	var out struct {
		Data *mediaFile `json:"data"`
	}
	err := a.client(c, sessionOf(c).Token).get(joinPath("api", "media", c.Param("id")), nil, &out)
	return out.Data, err
}

// mediaDetail serves GET /admin/media/:id.
func (a *Admin) mediaDetail(c echo.Context) error {
	m, err := a.mediaFetch(c)
	if err != nil {
		return a.peopleFail(c, err)
	}
	return a.render(c, http.StatusOK, "media/detail", a.mediaPage(c, m))
}

// mediaUpdate serves POST /admin/media/:id: the metadata form, sent as
// PATCH /api/media/:id.
func (a *Admin) mediaUpdate(c echo.Context) error {
	alt, caption, folder := c.FormValue("alt"), c.FormValue("caption"), strings.TrimSpace(c.FormValue("folder"))
	tags := splitTags(c.FormValue("tags"))
	in := map[string]any{"alt": alt, "caption": caption, "folder": folder, "tags": tags}
	var out struct {
		Data *mediaFile `json:"data"`
	}
	err := a.client(c, sessionOf(c).Token).json(http.MethodPatch, joinPath("api", "media", c.Param("id")), in, &out)
	if err != nil {
		m, ferr := a.mediaFetch(c)
		if ferr != nil {
			return a.peopleFail(c, err)
		}
		m.Alt, m.Caption, m.Folder, m.Tags = alt, caption, folder, tags
		return a.renderError(c, "media/detail", a.mediaPage(c, m), err)
	}
	return a.done(c, TenantPath+"/media/"+url.PathEscape(out.Data.ID), "Saved.")
}

// splitTags reads a comma-separated list of tags.
func splitTags(s string) []string {
	tags := []string{}
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// mediaDelete serves POST /admin/media/:id/delete.
func (a *Admin) mediaDelete(c echo.Context) error {
	if _, err := a.client(c, sessionOf(c).Token).do(http.MethodDelete, joinPath("api", "media", c.Param("id")), "", nil); err != nil {
		return a.peopleFail(c, err)
	}
	return a.done(c, TenantPath+"/media", "Deleted.")
}

// peopleFail shows an API refusal of a page (404 for another tenant's
// id, 403 for a missing permission) as a page that says so; anything
// else is the server's failure.
func (a *Admin) peopleFail(c echo.Context, err error) error {
	e := apiError(err)
	if e == nil || e.Status >= 500 {
		return err
	}
	if e.Status == http.StatusUnauthorized {
		return a.toLogin(c, TenantPath+"/login")
	}
	return a.fail(c, e.Status, e.Message)
}
