package cms

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
)

// ThumbWidth is the width of a media thumbnail: a grid cell of the admin's
// media library at twice the pixel density.
const ThumbWidth = 320

// maxThumbPixels bounds the images a thumbnail is made of: decoding one
// takes memory in proportion (a 50-megapixel photo is 200 MB as RGBA).
const maxThumbPixels = 50_000_000

// thumbDir is where thumbnails are kept, inside the tenant's media folder
// so they go wherever its media go (export, archive, move) and with them.
const thumbDir = "thumbs"

// MediaThumbnail returns a copy of image media id at most ThumbWidth wide,
// and its type: made the first time it is asked for and kept under
// <media>/thumbs/. ok is false where there is none to make (not a raster
// image, one already that small, or too large to decode safely): serve
// the file itself. Errors: ENOTFOUND (media_not_found).
func (s *Store) MediaThumbnail(ctx context.Context, id string) (path, mimeType string, m *Media, ok bool, err error) {
	src, m, err := s.MediaFile(ctx, id)
	if err != nil {
		return "", "", nil, false, err
	}
	var ext string
	switch baseType(m.MimeType) {
	case "image/jpeg", "image/webp":
		ext, mimeType = ".jpg", "image/jpeg"
	case "image/png", "image/gif": // they may be transparent
		ext, mimeType = ".png", "image/png"
	default:
		return "", "", m, false, nil
	}
	if m.Width <= ThumbWidth || m.Width*m.Height > maxThumbPixels {
		return "", "", m, false, nil
	}
	path = filepath.Join(s.MediaDir, thumbDir, m.ID+ext)
	if _, err := os.Stat(path); err == nil {
		return path, mimeType, m, true, nil
	}
	if err := makeThumbnail(src, path, mimeType); err != nil {
		return "", "", m, false, fmt.Errorf("thumbnail of media %s: %w", id, err)
	}
	return path, mimeType, m, true, nil
}

// makeThumbnail writes src scaled to ThumbWidth wide to dst, whole or not
// at all (a temporary file renamed), so a crash or a concurrent request
// never serves half of one.
func makeThumbnail(src, dst, mimeType string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return err
	}
	b := img.Bounds()
	h := b.Dy() * ThumbWidth / b.Dx()
	if h < 1 {
		h = 1
	}
	out := image.NewRGBA(image.Rect(0, 0, ThumbWidth, h))
	draw.ApproxBiLinear.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".thumb-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing
	if mimeType == "image/png" {
		err = png.Encode(tmp, out)
	} else {
		err = jpeg.Encode(tmp, out, &jpeg.Options{Quality: 80})
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// removeThumbnails removes media id's thumbnails, if it has any.
func (s *Store) removeThumbnails(id string) error {
	var errs []error
	for _, ext := range []string{".jpg", ".png"} {
		if err := os.Remove(filepath.Join(s.MediaDir, thumbDir, id+ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
