// Package move moves a tenant, live, from the node that serves it to a
// node of another region: issue 12's "live tenant move".
//
// The source node (the tenant's home) runs the move; the target receives
// it over the node-to-node endpoint (receive.go), signed with the
// catalog's shared forward secret. Steps, each recorded in the catalog's
// moves table so that a restart knows where a move stood:
//
//  1. copying: a snapshot (SQLite online backup) is taken while the tenant
//     serves and streamed to the target with the media; the target checks
//     every table's row count and checksum against the source's.
//  2. catching_up: the source takes the tenant's SQLite write lock (writes
//     wait behind it, up to their busy timeout; reads go on, WAL readers
//     never wait for a writer), takes a second snapshot and sends only
//     the pages that differ from the first, and the new media files; the
//     target applies them and both sides compare the file's SHA-256 and
//     each table's row count; the target installs the copy.
//  3. flipped: one catalog transaction sets the home region, location and
//     epoch+1, only if the epoch is still the move's (catalog.FlipHome).
//     Before it lets go of the write lock the source fences the file
//     (sqlitedb.Fence), so the writers that waited fail at commit rather
//     than write to the old copy: that is how a node of the old epoch can
//     no longer write. Its handle is taken out of the pool (TakeOut), the
//     store refuses to reopen that epoch (Retired), and the folder is
//     renamed to moved/<id>-<epoch>.
//  4. done: the old copy is kept until its retention ends; Sweep removes it.
//
// A crash before the flip leaves the source the home (the write lock dies
// with its process; Recover marks the move failed, and the target's
// partial copy is never served); a crash after it leaves the target the
// home with a copy installed before the flip, and Recover retires the
// source's copy. Rerunning a failed move starts again from step 1.
package move

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/route"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// DefaultRetention is how long the source keeps a moved tenant's old copy.
const DefaultRetention = 24 * time.Hour

// retireGrace is how long a moved tenant's fenced handle keeps serving
// the reads that were already on their way to it.
const retireGrace = 250 * time.Millisecond

// CrashEnv names the step at which a node kills itself (SIGKILL) in the
// crash tests: copied, paused, installed, flipped on the source,
// receive and install on the target. Only tests set it.
const CrashEnv = "CONDO_TEST_MOVE_CRASH_AT"

// Config sets up a Mover.
type Config struct {
	Catalog   *catalog.Catalog
	Store     *tenantstore.Store
	DataDir   string
	NodeID    string
	Region    string
	Retention time.Duration // zero: DefaultRetention
	Logger    *slog.Logger
	// Client calls the target node; nil is a client with no overall
	// timeout (a copy takes as long as it takes; ctx bounds it).
	Client *http.Client
}

// Mover runs the moves of the tenants this node serves, and receives the
// moves of tenants coming to it.
type Mover struct {
	cfg    Config
	secret *route.Secret
	mu     sync.Mutex
	active map[string]bool // move ids running here
}

// New builds a Mover; it does nothing until asked.
func New(cfg Config) *Mover {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	return &Mover{cfg: cfg, secret: route.NewSecret(cfg.Catalog), active: map[string]bool{}}
}

// Request records a move of tenant id to a node of region, to be run by
// the tenant's home node (whichever node asked). It refuses, before any
// byte moves, what CheckMove refuses (a region outside the tenant's
// residency set, among others), and EUNAVAILABLE (region_unavailable)
// when region has no healthy node.
func Request(ctx context.Context, cat *catalog.Catalog, id, region, location string) (*catalog.Move, error) {
	if _, err := cat.CheckMove(ctx, id, region); err != nil {
		return nil, err
	}
	if location != "" {
		return nil, condo.ReasonErrorf(condo.EINVALID, "unsupported", "moving a tenant to a remote --location is not supported yet: move it to a node")
	}
	nodes, err := cat.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if n.Region == region && n.Health == catalog.NodeUp && n.AdvertiseURL != "" {
			return cat.StartMove(ctx, catalog.NewMove{TenantID: id, ToRegion: region, ToNode: n.ID, Location: location})
		}
	}
	return nil, route.Unavailable(region)
}

// crashAt kills the process at step when the crash tests ask for it.
func crashAt(step string) { condo.CrashAt(CrashEnv, step) }

func (mv *Mover) workDir(id string) string { return filepath.Join(mv.cfg.DataDir, "moving", id) }

// Poll claims and runs the requested moves of tenants whose home is this
// node's region and whose files are here, one after another; run is how
// a claimed move is started (the jobs package's goroutine).
func (mv *Mover) Poll(ctx context.Context, run func(*catalog.Move)) {
	moves, err := mv.cfg.Catalog.Moves(ctx, catalog.MoveFilter{Unclaimed: true})
	if err != nil {
		mv.cfg.Logger.Warn("list requested moves", "err", err)
		return
	}
	for _, m := range moves {
		path, err := mv.cfg.Store.Path(m.TenantID)
		if err != nil || m.FromRegion != mv.cfg.Region {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			continue // another node of the region has it
		}
		if ok, err := mv.cfg.Catalog.ClaimMove(ctx, m.ID, mv.cfg.NodeID); err != nil || !ok {
			continue
		}
		m.FromNode = mv.cfg.NodeID
		run(m)
	}
}

// Run runs a claimed move to its end and records how it ended.
func (mv *Mover) Run(ctx context.Context, m *catalog.Move) {
	mv.mu.Lock()
	if mv.active[m.ID] {
		mv.mu.Unlock()
		return
	}
	mv.active[m.ID] = true
	mv.mu.Unlock()
	defer func() {
		mv.mu.Lock()
		delete(mv.active, m.ID)
		mv.mu.Unlock()
	}()
	log := mv.cfg.Logger.With("move", m.ID, "tenant", m.TenantID, "to", m.ToNode)
	log.Info("tenant move started", "region", m.ToRegion)
	flipped, err := mv.run(ctx, m, log)
	os.RemoveAll(mv.workDir(m.ID))
	if err != nil && flipped {
		// The target is the home: the move stays flipped, and the next
		// start's Recover retires the old copy.
		log.Error("retiring a moved tenant's old copy failed: it is fenced; a restart finishes it", "err", err)
	} else if err != nil {
		log.Error("tenant move failed", "err", err)
		msg := condo.ErrorMessage(err)
		if msg == "" {
			msg = err.Error()
		}
		mv.record(m.ID, catalog.MoveUpdate{State: ptr(catalog.MoveFailed), Error: ptr(msg)})
		mv.abort(ctx, m)
	}
}

// abort asks the target of a failed move to remove what it received, if
// it answers; a target that does not removes it when it restarts.
func (mv *Mover) abort(ctx context.Context, m *catalog.Move) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	target, err := mv.targetURL(actx, m)
	if err == nil {
		err = mv.post(actx, target, m.ID, "abort", nil, nil)
	}
	if err != nil {
		mv.cfg.Logger.Warn("could not clean up the target of a failed move", "move", m.ID, "err", err)
	}
}

func ptr[T any](v T) *T { return &v }

func (mv *Mover) record(id string, u catalog.MoveUpdate) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := mv.cfg.Catalog.UpdateMove(ctx, id, u); err != nil {
		mv.cfg.Logger.Warn("record move", "move", id, "err", err)
	}
}

// run is Run's work; an error before the flip leaves the source the home.
func (mv *Mover) run(ctx context.Context, m *catalog.Move, log *slog.Logger) (flipped bool, err error) {
	if err := mv.copy(ctx, m, log); err != nil {
		return false, err
	}
	return true, mv.retire(ctx, m, log)
}

// copy runs the steps up to the flip and the fence.
func (mv *Mover) copy(ctx context.Context, m *catalog.Move, log *slog.Logger) error {
	target, err := mv.targetURL(ctx, m)
	if err != nil {
		return err
	}
	path, err := mv.cfg.Store.Path(m.TenantID)
	if err != nil {
		return err
	}
	work := mv.workDir(m.ID)
	os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o750); err != nil {
		return err
	}
	src, err := sqlitedb.Open(path, sqlitedb.Options{Job: true, Readers: 1})
	if err != nil {
		return err
	}
	defer src.Close()

	// 1. Copy while the tenant serves. The catch-up finds what changed
	// since in the WAL, which it can read only while the WAL has not
	// started over: a checkpoint first leaves it nearly empty (a start
	// over then needs --wal_autocheckpoint's 4000 pages of writes), and a
	// copy overtaken by one is taken again (twice at most; after that the
	// catch-up compares every page).
	mediaDir := mv.cfg.Store.MediaDir(m.TenantID)
	snap1 := filepath.Join(work, "snap1.db")
	var mediaSince time.Time
	var salt string
	var hashes *pageHashes
	for attempt := 0; ; attempt++ {
		mv.record(m.ID, catalog.MoveUpdate{Step: ptr("snapshot")})
		src.Write.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)") // copies the WAL without blocking writers
		src.Write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		// The emptied WAL gets its salt from the next write: wait a moment
		// for one (an idle tenant has none, and its WAL stays empty).
		for i := 0; i < 50 && walSalt(src.Path) == ""; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		mediaSince = time.Now()
		salt = walSalt(src.Path) // before the snapshot: see changedPages
		os.Remove(snap1)
		if err := snapshot(ctx, src, snap1); err != nil {
			return err
		}
		size, err := mv.putFile(ctx, target, m.ID, "db", snap1)
		if err != nil {
			return err
		}
		mv.record(m.ID, catalog.MoveUpdate{Step: ptr("media"), Bytes: &size})
		if err := mv.putMedia(ctx, target, m.ID, mediaDir, time.Time{}); err != nil {
			return err
		}
		mv.record(m.ID, catalog.MoveUpdate{Step: ptr("verify")})
		local, err := Checksums(ctx, snap1, true)
		if err != nil {
			return err
		}
		if local.File, err = condo.FileSHA256(snap1); err != nil {
			return err
		}
		if err := mv.verify(ctx, target, m.ID, local, true); err != nil {
			return err
		}
		if hashes, err = hashPages(snap1, seed); err != nil { // compared with the live pages in the pause
			return err
		}
		if walSalt(src.Path) == salt || attempt == 2 {
			break
		}
		log.Info("the WAL started over during the copy: copying again", "attempt", attempt+1)
	}
	crashAt("copied")

	// 2. Pause writes for the catch-up only.
	mv.record(m.ID, catalog.MoveUpdate{State: ptr(catalog.MoveCatchingUp), Step: ptr("pause")})
	lock, err := src.Write.Conn(ctx)
	if err != nil {
		return err
	}
	defer lock.Close()
	paused := time.Now()
	if _, err := lock.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_busy", "could not pause the tenant's writes: %v", err)
	}
	fenced := false
	defer func() {
		if !fenced {
			lock.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	var laps []any // how the pause was spent, for the log
	lap := func(name string) { laps = append(laps, name, time.Since(paused).Round(time.Millisecond)) }
	lap("locked")
	crashAt("paused")
	// Only the pages that changed since the first copy cross; the target
	// answers with the SHA-256 of its copy, which must be the live file's.
	sum, pages, err := mv.putPages(ctx, target, m.ID, src, hashes, salt)
	if err != nil {
		return err
	}
	lap("pages")
	if err := mv.putMedia(ctx, target, m.ID, mediaDir, mediaSince); err != nil {
		return err
	}
	if sum.local != sum.remote {
		return condo.ReasonErrorf(condo.ECONFLICT, "verify_failed", "the target did not apply the pages the source sent")
	}
	lap("verify")
	if err := mv.post(ctx, target, m.ID, "install", nil, nil); err != nil {
		return err
	}
	crashAt("installed")

	// 3. Flip the home, then fence the old copy before writers get in.
	if err := mv.cfg.Catalog.FlipHome(ctx, m); err != nil {
		return err
	}
	lap("flip")
	crashAt("flipped")
	sqlitedb.Fence(src.Path)
	fenced = true
	lock.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	pause := time.Since(paused)
	lock.Close()
	log.Info("tenant move flipped", append([]any{"write_pause", pause, "changed_pages", pages}, laps...)...)
	mv.record(m.ID, catalog.MoveUpdate{Pause: &pause})
	return nil
}

// retire takes the source's copy out of service and keeps it under
// moved/ until the retention ends. It runs after the flip, in Run or in
// Recover after a crash, and may run twice.
func (mv *Mover) retire(ctx context.Context, m *catalog.Move, log *slog.Logger) error {
	path, _ := mv.cfg.Store.Path(m.TenantID)
	sqlitedb.Fence(path) // after a restart: nothing here may write it again
	mv.cfg.Store.Retired(m.TenantID, m.Epoch)
	// Requests resolved before the flip that are on their way to the
	// store still find the open (fenced) handle and read from it, at the
	// state of the flip; those that check later are sent to the new home
	// (tenantstore.MovedAway). Only then does the handle leave the pool.
	select {
	case <-ctx.Done():
	case <-time.After(retireGrace):
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	handBack, holders, err := mv.cfg.Store.TakeOut(tctx, m.TenantID)
	cancel()
	if err == nil {
		defer handBack()
	}
	dir := filepath.Dir(path)
	old := filepath.Join(mv.cfg.DataDir, "moved", fmt.Sprintf("%s-%d", m.TenantID, m.Epoch+1))
	if _, err := os.Stat(dir); err == nil {
		if err := os.MkdirAll(filepath.Dir(old), 0o750); err != nil {
			return err
		}
		os.RemoveAll(old) // a half-done earlier retire
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("keep the old copy: %w", err)
		}
		syncDir(filepath.Dir(dir))
	}
	if holders == 0 {
		// Nothing here holds the old file: the path may serve again (a
		// move back to this node installs a new file there).
		sqlitedb.Unfence(path)
	} else {
		log.Warn("libSQL streams still hold the moved tenant's old copy: their writes are refused", "streams", holders)
	}
	mv.record(m.ID, catalog.MoveUpdate{State: ptr(catalog.MoveDone), Step: ptr("done"), OldPath: &old,
		RemoveAfter: ptr(time.Now().Add(mv.cfg.Retention))})
	log.Info("tenant move done", "old_copy", old, "kept_for", mv.cfg.Retention)
	return nil
}

// Recover finishes or fails, at startup, the moves this node was running
// when it stopped: one that had flipped is retired here, any other is
// failed (its source is still the home; rerun it). Incoming copies of
// moves that are no longer live are removed.
func (mv *Mover) Recover(ctx context.Context) {
	moves, err := mv.cfg.Catalog.Moves(ctx, catalog.MoveFilter{FromNode: mv.cfg.NodeID, Live: true})
	if err != nil {
		mv.cfg.Logger.Warn("recover moves", "err", err)
		return
	}
	for _, m := range moves {
		log := mv.cfg.Logger.With("move", m.ID, "tenant", m.TenantID)
		os.RemoveAll(mv.workDir(m.ID))
		if m.State == catalog.MoveFlipped {
			if err := mv.retire(ctx, m, log); err != nil {
				log.Error("retire a moved tenant's old copy", "err", err)
			}
			continue
		}
		log.Warn("a move was interrupted by a restart: the tenant stays here; run it again")
		mv.record(m.ID, catalog.MoveUpdate{State: ptr(catalog.MoveFailed), Error: ptr("interrupted: the source node restarted before the move flipped; run it again")})
		mv.abort(ctx, m)
	}
	// Failed moves to this node whose source could not clean up here.
	if failed, err := mv.cfg.Catalog.Moves(ctx, catalog.MoveFilter{ToNode: mv.cfg.NodeID, Failed: true}); err == nil {
		for _, m := range failed {
			mv.Abort(ctx, m.ID)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(mv.cfg.DataDir, "incoming"))
	for _, e := range entries {
		m, err := mv.cfg.Catalog.Move(ctx, e.Name())
		if err == nil && m.Live() && m.State != catalog.MoveFlipped {
			continue
		}
		os.RemoveAll(filepath.Join(mv.cfg.DataDir, "incoming", e.Name()))
	}
}

// Sweep removes the old copies of finished moves whose retention ended.
func (mv *Mover) Sweep(ctx context.Context) {
	moves, err := mv.cfg.Catalog.Moves(ctx, catalog.MoveFilter{FromNode: mv.cfg.NodeID, Kept: true})
	if err != nil {
		return
	}
	for _, m := range moves {
		if m.RemoveAfter == nil || time.Now().Before(*m.RemoveAfter) {
			continue
		}
		if err := os.RemoveAll(m.OldPath); err != nil {
			mv.cfg.Logger.Warn("remove a moved tenant's old copy", "move", m.ID, "err", err)
			continue
		}
		mv.record(m.ID, catalog.MoveUpdate{OldPath: ptr("")})
		mv.cfg.Logger.Info("removed a moved tenant's old copy", "move", m.ID, "tenant", m.TenantID)
	}
}

func (mv *Mover) targetURL(ctx context.Context, m *catalog.Move) (string, error) {
	nodes, err := mv.cfg.Catalog.Nodes(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range nodes {
		if n.ID == m.ToNode && n.Health == catalog.NodeUp {
			return strings.TrimRight(n.AdvertiseURL, "/"), nil
		}
	}
	return "", condo.ReasonErrorf(condo.EUNAVAILABLE, "node_unavailable", "the target node %s is not up", m.ToNode)
}

// snapshot copies src to a new file at dst with the online backup.
func snapshot(ctx context.Context, src *sqlitedb.DB, dst string) error {
	conn, err := src.Read.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return sqlitedb.Snapshot(ctx, conn, dst)
}

// call sends one signed request to the target and decodes its JSON answer
// into out (when not nil).
func (mv *Mover) call(ctx context.Context, method, target, path string, body io.Reader, out any) error {
	key, err := mv.secret.Key(ctx)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, target+path, body)
	if err != nil {
		return err
	}
	req.Header.Set(NodeHeader, Sign(key, method, path, time.Now()))
	res, err := mv.cfg.Client.Do(req)
	if err != nil {
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "node_unavailable", "the target node did not answer: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string }
		}
		json.Unmarshal(b, &e)
		return fmt.Errorf("the target node answered %s to %s: %s", res.Status, path, condo.Clip(e.Error.Message))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (mv *Mover) post(ctx context.Context, target, id, what string, in, out any) error {
	b, _ := json.Marshal(in)
	return mv.call(ctx, http.MethodPost, target, NodePath+id+"/"+what, bytes.NewReader(b), out)
}

// putFile streams a file to the target as the move's part.
func (mv *Mover) putFile(ctx context.Context, target, id, part, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), mv.call(ctx, http.MethodPut, target, NodePath+id+"/"+part, f, nil)
}

// verify asks the target for its checksums and compares them with local.
func (mv *Mover) verify(ctx context.Context, target, id string, local Sums, full bool) error {
	var remote Sums
	what := "counts"
	if full {
		what = "checksums"
	}
	if err := mv.post(ctx, target, id, "verify", map[string]bool{"full": full}, &remote); err != nil {
		return err
	}
	if diff := local.Diff(remote); diff != "" {
		return condo.ReasonErrorf(condo.ECONFLICT, "verify_failed", "the target's copy differs from the source's (%s): %s", what, diff)
	}
	return nil
}

// seed keys the page hashes a move compares (within this process only).
var seed = maphash.MakeSeed()

// hashPages returns the hash of every page of the database file at path,
// page 1 first.
func hashPages(path string, seed maphash.Seed) (*pageHashes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 100)
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, fmt.Errorf("read snapshot header: %w", err)
	}
	size := int(head[16])<<8 | int(head[17])
	if size == 1 {
		size = 65536
	}
	if size < 512 {
		return nil, errors.New("snapshot has no valid page size")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	ph := &pageHashes{size: size}
	page := make([]byte, size)
	for {
		if _, err := io.ReadFull(f, page); err == io.EOF {
			return ph, nil
		} else if err != nil {
			return nil, err
		}
		ph.sums = append(ph.sums, maphash.Bytes(seed, page))
	}
}

// pageHashes are the page size and page hashes of the first copy.
type pageHashes struct {
	size int
	sums []uint64
}

// sums are the SHA-256 of the catch-up's pages as sent and as the
// target applied them.
type sums struct{ local, remote string }

// walSalt returns the salt of the WAL beside the database at path: it
// changes whenever SQLite starts the WAL over (after a checkpoint has
// copied every frame into the database), "" when there is no WAL.
func walSalt(path string) string {
	f, err := os.Open(path + "-wal")
	if err != nil {
		return ""
	}
	defer f.Close()
	var hdr [32]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return ""
	}
	return string(hdr[16:24])
}

// changedPages returns the numbers of the pages written since the WAL
// had salt, read from the frame headers of the WAL (the caller holds the
// write lock, so no frame is being appended), or ok false when the WAL
// started over since (its salt differs: pages may have been checkpointed
// into the database and left the WAL), and every page must be compared.
// Frames after the last one of this generation carry an older salt.
//
// An empty salt is an empty WAL: it still is when nothing was written.
func changedPages(path, salt string, pageSize int) (pages map[uint32]bool, ok bool) {
	if walSalt(path) != salt {
		return nil, false
	}
	if salt == "" {
		return map[uint32]bool{}, true
	}
	f, err := os.Open(path + "-wal")
	if err != nil {
		return nil, false
	}
	defer f.Close()
	pages = map[uint32]bool{}
	var fh [24]byte
	for off := int64(32); ; off += 24 + int64(pageSize) {
		if _, err := f.ReadAt(fh[:], off); err != nil {
			return pages, true // the end of the file
		}
		if string(fh[8:16]) != salt {
			return pages, true // a frame of an earlier generation: the end of this one
		}
		pages[binary.BigEndian.Uint32(fh[:4])] = true
	}
}

// putPages sends the target the pages of the live database that differ
// from the first copy: the pages the WAL names (changedPages), or every
// page when it cannot tell, each read through SQLite's sqlite_dbpage in
// one read transaction while the caller holds the write lock (so a
// consistent image, WAL included) and sent when its hash differs from
// the first copy's. It returns the SHA-256 of the body on both sides and
// the number of pages sent. The body is: the image's size (8 bytes,
// big-endian), its page size (4), then per page its number from 0 (4)
// and its bytes.
func (mv *Mover) putPages(ctx context.Context, target, id string, src *sqlitedb.DB, ph *pageHashes, salt string) (sums, int, error) {
	conn, err := src.Read.Conn(ctx)
	if err != nil {
		return sums{}, 0, err
	}
	defer conn.Close()
	var pageSize int64
	if err := conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return sums{}, 0, err
	}
	if pageSize != int64(ph.size) {
		return sums{}, 0, condo.ReasonErrorf(condo.ECONFLICT, "page_size_changed", "the tenant's page size changed during the move")
	}
	changed, known := changedPages(src.Path, salt, ph.size)
	pr, pw := io.Pipe()
	type result struct {
		sum   string
		pages int
	}
	done := make(chan result, 1)
	go func() { // ends when the pages are written or the request stopped reading them
		var r result
		h := sha256.New()
		w := io.MultiWriter(pw, h)
		err := func() error {
			tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // one read transaction for the count and the pages
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var pageCount int64
			if err := tx.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pageCount); err != nil {
				return err
			}
			var hdr [12]byte
			putUint64(hdr[:8], uint64(pageCount*pageSize))
			putUint32(hdr[8:], uint32(pageSize))
			if _, err := w.Write(hdr[:]); err != nil {
				return err
			}
			var num [4]byte
			send := func(pgno int64, data []byte) error {
				if len(data) != int(pageSize) {
					return fmt.Errorf("page %d has %d bytes", pgno, len(data))
				}
				n := pgno - 1
				if n < int64(len(ph.sums)) && ph.sums[n] == maphash.Bytes(seed, data) {
					return nil
				}
				putUint32(num[:], uint32(n))
				if _, err := w.Write(num[:]); err != nil {
					return err
				}
				_, err := w.Write(data)
				r.pages++
				return err
			}
			if !known {
				rows, err := tx.QueryContext(ctx, "SELECT pgno, data FROM sqlite_dbpage")
				if err != nil {
					return err
				}
				defer rows.Close()
				for rows.Next() {
					var pgno int64
					var data []byte
					if err := rows.Scan(&pgno, &data); err != nil {
						return err
					}
					if err := send(pgno, data); err != nil {
						return err
					}
				}
				return rows.Err()
			}
			for n := int64(len(ph.sums)) + 1; n <= pageCount; n++ {
				changed[uint32(n)] = true // pages the database grew by
			}
			nums := make([]int64, 0, len(changed))
			for n := range changed {
				if int64(n) <= pageCount {
					nums = append(nums, int64(n))
				}
			}
			slices.Sort(nums)
			stmt, err := tx.PrepareContext(ctx, "SELECT data FROM sqlite_dbpage WHERE pgno = ?")
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, n := range nums {
				var data []byte
				if err := stmt.QueryRowContext(ctx, n).Scan(&data); err != nil {
					return fmt.Errorf("read page %d: %w", n, err)
				}
				if err := send(n, data); err != nil {
					return err
				}
			}
			return nil
		}()
		r.sum = hex.EncodeToString(h.Sum(nil))
		pw.CloseWithError(err)
		done <- r
	}()
	var answer struct{ File string }
	err = mv.call(ctx, http.MethodPut, target, NodePath+id+"/pages", pr, &answer)
	pr.CloseWithError(errors.New("request ended"))
	r := <-done
	if err == nil && !known {
		mv.cfg.Logger.Info("the WAL started over during the move: the catch-up compared every page", "move", id)
	}
	return sums{local: r.sum, remote: answer.File}, r.pages, err
}

func putUint64(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}

func putUint32(b []byte, v uint32) {
	for i := range 4 {
		b[i] = byte(v >> (24 - 8*i))
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Catalog returns the mover's catalog.
func (mv *Mover) Catalog() *catalog.Catalog { return mv.cfg.Catalog }
