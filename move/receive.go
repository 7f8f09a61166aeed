package move

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/route"
)

// NodePath is the prefix of the move endpoint between nodes, under the
// /_condo/nodes/ prefix reserved for node-to-node calls.
const NodePath = "/_condo/nodes/moves/"

// NodeHeader carries a node-to-node request's signature.
const NodeHeader = "X-Condo-Node"

// nodeHost separates node signatures from forward markers, which sign the
// same way (route.Sign) with the same secret: one cannot pass for the other.
const nodeHost = "_condo-node"

// Sign signs a node-to-node request at now.
func Sign(key []byte, method, path string, now time.Time) string {
	return route.Sign(key, method, nodeHost, path, "node", now)
}

// Verify checks a node-to-node request's signature, made with key, the
// catalog's shared secret (EUNAUTHORIZED, node_auth, when it is missing
// or bad).
func Verify(key []byte, method, path, sig string) error {
	if sig == "" {
		return condo.ReasonErrorf(condo.EUNAUTHORIZED, "node_auth", "node-to-node requests must be signed (%s)", NodeHeader)
	}
	if _, err := route.Verify(key, sig, method, nodeHost, path, time.Now()); err != nil {
		return condo.ReasonErrorf(condo.EUNAUTHORIZED, "node_auth", "the node signature is not valid")
	}
	return nil
}

// incoming is where this node receives move id before installing it.
func (mv *Mover) incoming(id string) string { return filepath.Join(mv.cfg.DataDir, "incoming", id) }

// receiving returns a live move whose target is this node.
func (mv *Mover) receiving(ctx context.Context, id string) (*catalog.Move, error) {
	m, err := mv.cfg.Catalog.Move(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.ToNode != mv.cfg.NodeID || (m.State != catalog.MoveCopying && m.State != catalog.MoveCatchingUp) {
		return nil, condo.ReasonErrorf(condo.ECONFLICT, "move_not_receivable", "move %s is not coming to this node now", id)
	}
	return m, nil
}

// Receive takes one part of move id from its source: "db" (the first
// snapshot), "pages" (the pages changed since, see putPages) or "media"
// (a tar of media files).
//
// After "pages" it returns the SHA-256 of the copy, else "".
func (mv *Mover) Receive(ctx context.Context, id, part string, body io.Reader) (string, error) {
	if _, err := mv.receiving(ctx, id); err != nil {
		return "", err
	}
	dir := mv.incoming(id)
	if err := os.MkdirAll(filepath.Join(dir, "media"), 0o750); err != nil {
		return "", err
	}
	db := filepath.Join(dir, "tenant.db")
	switch part {
	case "db":
		crashAt("receive")
		return "", writeFile(db, body)
	case "pages":
		h := sha256.New() // of the body as applied: the source sums what it sent
		if err := applyPages(db, io.TeeReader(body, h)); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	case "media":
		return "", untar(filepath.Join(dir, "media"), body)
	}
	return "", condo.ReasonErrorf(condo.ENOTFOUND, "not_found", "no such part %q", condo.Clip(part))
}

// VerifyCopy sums the received copy of move id (see Checksums).
func (mv *Mover) VerifyCopy(ctx context.Context, id string, full bool) (Sums, error) {
	if _, err := mv.receiving(ctx, id); err != nil {
		return Sums{}, err
	}
	db := filepath.Join(mv.incoming(id), "tenant.db")
	s, err := Checksums(ctx, db, full)
	if err != nil {
		return s, err
	}
	s.File, err = condo.FileSHA256(db) // the catch-up patches this very file: it must be the source's byte for byte
	return s, err
}

// Install puts the verified copy of move id where the tenant store opens
// it, before the source flips the home: until the flip, nothing routes
// the tenant here. It refuses when this node's region is the tenant's
// home (its files here are live, never overwritten).
func (mv *Mover) Install(ctx context.Context, id string) error {
	m, err := mv.receiving(ctx, id)
	if err != nil {
		return err
	}
	t, err := mv.cfg.Catalog.Lookup(ctx, m.TenantID)
	if err != nil {
		return err
	}
	if t.Region == mv.cfg.Region || t.Epoch != m.Epoch {
		return condo.ReasonErrorf(condo.ECONFLICT, "stale_epoch", "tenant %s is served here or has moved since: not installing", m.TenantID)
	}
	crashAt("install")
	path, err := mv.cfg.Store.Path(m.TenantID)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	for _, f := range []string{"tenant.db-wal", "tenant.db-shm"} { // the checks opened it; its content is in tenant.db
		os.Remove(filepath.Join(mv.incoming(id), f))
	}
	if _, err := os.Stat(dir); err == nil { // a copy of an earlier attempt, never served
		trash := filepath.Join(mv.cfg.DataDir, "incoming", id+".old")
		os.RemoveAll(trash)
		if err := os.Rename(dir, trash); err != nil {
			return err
		}
		defer os.RemoveAll(trash)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return err
	}
	if err := os.Rename(mv.incoming(id), dir); err != nil {
		return err
	}
	syncDir(filepath.Dir(dir))
	return nil
}

// Abort removes what a failed move to this node left here: its incoming
// files and a copy it installed before the source stopped short of the
// flip (never served: the source stayed the home). It keeps everything
// while the move is live, while another move of the tenant is, and when
// the tenant's home is this node's region.
func (mv *Mover) Abort(ctx context.Context, id string) error {
	m, err := mv.cfg.Catalog.Move(ctx, id)
	if err != nil {
		return err
	}
	if m.ToNode != mv.cfg.NodeID || m.State != catalog.MoveFailed {
		return condo.ReasonErrorf(condo.ECONFLICT, "move_not_failed", "move %s is not a failed move to this node", id)
	}
	os.RemoveAll(mv.incoming(id))
	live, err := mv.cfg.Catalog.Moves(ctx, catalog.MoveFilter{TenantID: m.TenantID, Live: true})
	if err != nil || len(live) > 0 {
		return err
	}
	t, err := mv.cfg.Catalog.Lookup(ctx, m.TenantID)
	if err != nil {
		return err
	}
	if t.Region == mv.cfg.Region {
		return nil
	}
	path, err := mv.cfg.Store.Path(m.TenantID)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Dir(path)); err != nil {
		return err
	}
	mv.cfg.Logger.Info("removed the copy of a failed move", "move", id, "tenant", m.TenantID)
	return nil
}

func writeFile(path string, r io.Reader) error {
	tmp := path + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		os.Remove(tmp)
		return err
	}
	for _, s := range []string{"-wal", "-shm"} {
		os.Remove(path + s)
	}
	return os.Rename(tmp, path)
}

// applyPages writes the pages of a putPages body into the file at path
// and sets its size.
func applyPages(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	size, pageSize := int64(binary.BigEndian.Uint64(hdr[:8])), int64(binary.BigEndian.Uint32(hdr[8:]))
	if pageSize < 512 || pageSize > 65536 {
		return condo.ReasonErrorf(condo.EINVALID, "bad_pages", "page size %d", pageSize)
	}
	page := make([]byte, pageSize)
	var num [4]byte
	for {
		if _, err := io.ReadFull(r, num[:]); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if _, err := io.ReadFull(r, page); err != nil {
			return err
		}
		off := int64(binary.BigEndian.Uint32(num[:])) * pageSize
		if off >= size {
			return condo.ReasonErrorf(condo.EINVALID, "bad_pages", "page past the end")
		}
		if _, err := f.WriteAt(page, off); err != nil {
			return err
		}
	}
	if err := f.Truncate(size); err != nil {
		return err
	}
	for _, s := range []string{"-wal", "-shm"} {
		os.Remove(path + s)
	}
	return f.Sync()
}

// untar extracts regular files of a tar into dir, refusing any name that
// is not a plain relative path inside it.
func untar(dir string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.FromSlash(h.Name)
		if h.Typeflag != tar.TypeReg || filepath.IsAbs(name) || !filepath.IsLocal(name) || strings.Contains(h.Name, "\\") {
			return condo.ReasonErrorf(condo.EINVALID, "bad_media", "media entry %q is not a plain file inside the tenant", condo.Clip(h.Name))
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			return err
		}
		if err := writeFile(p, tr); err != nil {
			return err
		}
		os.Chtimes(p, h.ModTime, h.ModTime)
	}
}

// putMedia sends the media files changed since since (all for the zero
// time) as a tar.
func (mv *Mover) putMedia(ctx context.Context, target, id, dir string, since time.Time) error {
	pr, pw := io.Pipe()
	go func() { // ends when the tar is written or the request stopped reading
		pw.CloseWithError(tarDir(dir, since, pw))
	}()
	err := mv.call(ctx, "PUT", target, NodePath+id+"/media", pr, nil)
	pr.CloseWithError(errors.New("request ended"))
	return err
}

func tarDir(dir string, since time.Time, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil || fi.ModTime().Before(since) {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		f, err := os.Open(p)
		if err != nil {
			return nil // removed meanwhile
		}
		defer f.Close()
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o640, Size: fi.Size(), ModTime: fi.ModTime(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = io.CopyN(tw, f, fi.Size())
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
