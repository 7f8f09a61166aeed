package api_test

import (
	"bytes"
	"image"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/cms"
)

// GET /media/:id/:filename?thumb=1: a wide image comes back cms.ThumbWidth
// wide, made once and kept, gone with its media; a small image, or a
// file that is no image, comes back as it is.
func TestMedia_Thumbnail(t *testing.T) {
	e := newIdentity(t, api.Config{})
	admin := e.AdminToken(t, "tenant-a")
	wide := e.uploadMedia(t, "tenant-a", admin, filePart("wide.png", pngBytes(t, 1000, 500)))
	small := e.uploadMedia(t, "tenant-a", admin, filePart("small.png", pngBytes(t, 100, 50)))
	if wide.Status != http.StatusCreated || small.Status != http.StatusCreated {
		t.Fatalf("uploads: %d %d", wide.Status, small.Status)
	}
	get := func(m apitest.Response) (*http.Response, []byte) {
		return apitest.Send(t, e.Srv.URL, "GET", "tenant-a.localhost", "/media/"+m.Data["id"].(string)+"/"+m.Data["filename"].(string)+"?thumb=1", "")
	}
	size := func(b []byte) image.Point {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return image.Pt(cfg.Width, cfg.Height)
	}
	for range 2 { // made, then served as kept
		res, body := get(wide)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || size(body) != image.Pt(cms.ThumbWidth, 160) {
			t.Fatalf("thumbnail: %d %s %v", res.StatusCode, res.Header.Get("Content-Type"), size(body))
		}
	}
	thumb := filepath.Join(e.Store.MediaDir("tenant-a"), "thumbs", wide.Data["id"].(string)+".png")
	if _, err := os.Stat(thumb); err != nil {
		t.Fatalf("the kept thumbnail: %v", err)
	}
	if res, body := get(small); res.StatusCode != http.StatusOK || size(body) != image.Pt(100, 50) {
		t.Fatalf("a small image's thumbnail: %d %v, want the image itself", res.StatusCode, size(body))
	}
	if res := e.Call(t, "tenant-a", "DELETE", "/api/media/"+wide.Data["id"].(string), admin, ""); res.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", res.Status)
	}
	if _, err := os.Stat(thumb); !os.IsNotExist(err) {
		t.Fatalf("the thumbnail after its media's delete: %v", err)
	}
}
