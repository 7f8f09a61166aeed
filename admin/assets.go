package admin

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file under its content-hashed name.
type asset struct {
	body  []byte
	ctype string
}

// assets maps hashed names ("admin.3f9a0c1b2d.css") to files, and
// hashed maps a file's own name to its hashed one. Built once from the
// binary's embedded files: a new binary with a changed file gets a new
// name, so the old name can be cached for a year.
var assets, hashed = hashAssets()

func hashAssets() (map[string]asset, map[string]string) {
	byHash, names := map[string]asset{}, map[string]string{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		h := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		byHash[h] = asset{body: b, ctype: ctype}
		names[name] = h
		return nil
	})
	if err != nil {
		panic(err) // embedded files: a bug of the binary
	}
	return byHash, names
}

// assetURL is the URL of the embedded file name ("admin.css"); an unknown
// name is a template bug, and renders a URL that answers 404.
func assetURL(name string) string {
	if h, ok := hashed[name]; ok {
		return AssetsPath + "/" + h
	}
	return AssetsPath + "/missing/" + name
}

// Asset serves GET /admin/assets/:name on any host: immutable, cached
// for a year (the name changes with the content); compressed by the
// server's compression like any text answer.
func (a *Admin) Asset(c echo.Context) error {
	f, ok := assets[c.Param("name")]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Blob(http.StatusOK, f.ctype, f.body)
}
