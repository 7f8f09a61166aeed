package backup

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/benbjohnson/litestream"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

// Level is what one Litestream level of a tenant's replica holds: level
// 0 one file per sync, 1-3 their compactions (30 s, 5 min, 1 h), 9 the
// daily snapshots. Any time between Earliest and Latest is a restore
// point; RestoreTenant picks the state at or before it.
type Level struct {
	Level    int       `json:"level"`
	Files    int       `json:"files"`
	MinTXID  uint64    `json:"min_txid"`
	MaxTXID  uint64    `json:"max_txid"`
	Earliest time.Time `json:"earliest"`
	Latest   time.Time `json:"latest"`
	Bytes    int64     `json:"bytes"`
}

// Points are the restore points of one tenant's replica.
type Points struct {
	Tenant   string     `json:"tenant"`
	URL      string     `json:"url"`
	Earliest *time.Time `json:"earliest,omitempty"`
	Latest   *time.Time `json:"latest,omitempty"`
	MaxTXID  uint64     `json:"max_txid"`
	Levels   []Level    `json:"levels"`
}

var listedLevels = []int{0, 1, 2, 3, litestream.SnapshotLevel}

// List reads tenant id's replica in the store.
func (r *Replicator) List(ctx context.Context, id string) (*Points, error) {
	c, err := r.Client(id)
	if err != nil {
		return nil, err
	}
	p := &Points{Tenant: id, URL: r.Redacted(), Levels: []Level{}}
	for _, lvl := range listedLevels {
		itr, err := c.LTXFiles(ctx, lvl, 0, false)
		if err != nil {
			return nil, storeError(err)
		}
		l := Level{Level: lvl}
		for itr.Next() {
			f := itr.Item()
			if l.Files == 0 || uint64(f.MinTXID) < l.MinTXID {
				l.MinTXID = uint64(f.MinTXID)
			}
			l.MaxTXID = max(l.MaxTXID, uint64(f.MaxTXID))
			if l.Files == 0 || f.CreatedAt.Before(l.Earliest) {
				l.Earliest = f.CreatedAt
			}
			if f.CreatedAt.After(l.Latest) {
				l.Latest = f.CreatedAt
			}
			l.Files++
			l.Bytes += f.Size
		}
		err = itr.Close()
		if err != nil {
			return nil, storeError(err)
		}
		if l.Files == 0 {
			continue
		}
		p.Levels = append(p.Levels, l)
		p.MaxTXID = max(p.MaxTXID, l.MaxTXID)
		if p.Earliest == nil || l.Earliest.Before(*p.Earliest) {
			e := l.Earliest
			p.Earliest = &e
		}
		if p.Latest == nil || l.Latest.After(*p.Latest) {
			e := l.Latest
			p.Latest = &e
		}
	}
	return p, nil
}

// storeError words a failure of the object store without its request
// details (which can name the bucket's endpoint with a signature).
func storeError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return condo.ReasonErrorf(condo.EUNAVAILABLE, "backup_unavailable", "the backup store cannot be read: %s", condo.Clip(msg))
}

// RestoreTo writes tenant id's replica as of at (zero: the latest) to the
// new file out. ENOTFOUND (no_backups) when the store has nothing of it,
// EINVALID (no_restore_point) for a time outside its range.
func (r *Replicator) RestoreTo(ctx context.Context, id, out string, at time.Time) error {
	c, err := r.Client(id)
	if err != nil {
		return err
	}
	if !at.IsZero() {
		p, err := r.List(ctx, id)
		if err != nil {
			return err
		}
		if p.Earliest == nil {
			return noBackups(id)
		}
		if at.Before(*p.Earliest) {
			return condo.ReasonErrorf(condo.EINVALID, "no_restore_point", "tenant %s's backups begin at %s, after %s", id, p.Earliest.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
		}
		if at.After(*p.Latest) {
			at = time.Time{} // later than the last sync: the latest state is the state at that time
		}
	}
	rep := litestream.NewReplicaWithClient(nil, c)
	opt := litestream.NewRestoreOptions()
	opt.OutputPath = out
	opt.Timestamp = at
	opt.IntegrityCheck = litestream.IntegrityCheckQuick
	if err := rep.Restore(ctx, opt); err != nil {
		if errors.Is(err, litestream.ErrTxNotAvailable) || errors.Is(err, litestream.ErrNoSnapshots) || strings.Contains(err.Error(), "no matching backup files") {
			return noBackups(id)
		}
		return storeError(err)
	}
	return nil
}

func noBackups(id string) error {
	return condo.ReasonErrorf(condo.ENOTFOUND, "no_backups", "the backup store has no backup of tenant %s", id)
}

// CrashEnv names the step at which RestoreTenant kills its process in
// the crash tests (condo.CrashAt): restore-backup:staged (the restored
// database is staged, the tenant out of service), restore-backup:swapped
// (the restored folder is live, the old one kept).
const CrashEnv = "CONDO_TEST_BACKUP_CRASH_AT"

// Restored is what RestoreTenant did.
type Restored struct {
	Tenant string    `json:"tenant"`
	At     time.Time `json:"at,omitempty"` // the point asked for; zero: the latest
	// Kept is where the state before the restore was kept (a local
	// snapshot of the whole folder: database, WAL, media).
	Kept     string `json:"kept"`
	Checksum string `json:"checksum"` // Checksum of the restored database
	// Snapshot is the local snapshot restored (RestoreSnapshot); empty
	// for a restore from the replica.
	Snapshot string `json:"snapshot,omitempty"`
}

// RestoreTenant brings tenant id back to its replica's state as of at
// (zero: the latest). The replica is restored into a staging folder
// while the tenant serves; then the tenant is taken out of service (its
// handle's final sync runs), its media are linked into the staging
// folder (media are not in the replica: they stay as they are), and the
// two folders trade places in one rename (tenantstore.Replace), which
// keeps the old one whole under <data>/replaced/. A kill -9 at any step
// leaves the tenant whole in exactly one place: before the swap the live
// folder is untouched (the staging folder is swept later), after it the
// restored one is live.
func RestoreTenant(ctx context.Context, r *Replicator, cat *catalog.Catalog, store *tenantstore.Store, id string, at time.Time) (*Restored, error) {
	return catalog.Tracked(ctx, cat, catalog.JobRestoreBackup, id, func(ctx context.Context, j *catalog.TrackedJob) (*Restored, error) {
		out := &Restored{Tenant: id, At: at}
		err := swapIn(ctx, cat, store, id, j, out, func(db string) error { return r.RestoreTo(ctx, id, db, at) })
		if err != nil {
			return nil, err
		}
		cat.RecordAudit(ctx, "tenant.restore_backup", id, "", map[string]any{"at": at, "kept": out.Kept, "checksum": out.Checksum})
		return out, nil
	})
}

// swapIn puts the database that fill writes into a staging folder in
// place of tenant id's, as RestoreTenant describes (the same steps and
// crash points for a replica and for a local snapshot), and records in
// out where the state before is kept and the new database's checksum.
func swapIn(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string, j *catalog.TrackedJob, out *Restored, fill func(db string) error) error {
	t, err := cat.Lookup(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case t.Location != "":
		return condo.ReasonErrorf(condo.ECONFLICT, "remote_location", "tenant %s lives at a remote location: it has no replica here", id)
	case t.Status == catalog.StatusArchived:
		return condo.ReasonErrorf(condo.ECONFLICT, "tenant_archived", "tenant %s is archived: restore it first", id)
	}
	staging, err := store.NewStaging()
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	db := filepath.Join(staging, "tenant.db")
	j.Progress(ctx, "staging the restored database")
	if err := fill(db); err != nil {
		return err
	}
	if out.Checksum, err = Checksum(ctx, db); err != nil {
		return err
	}
	handBack, busy, err := store.TakeOut(ctx, id)
	if err != nil {
		return err
	}
	defer handBack()
	if busy > 0 {
		return condo.ReasonErrorf(condo.ECONFLICT, "tenant_busy", "tenant %s has %d open libSQL streams: restore it once they end", id, busy)
	}
	if err := linkTree(store.MediaDir(id), filepath.Join(staging, "media")); err != nil {
		return condo.ReasonErrorf(condo.EUNAVAILABLE, "storage_error", "cannot stage tenant %s's media: %v", id, err)
	}
	condo.CrashAt(CrashEnv, "restore-backup:staged")
	j.Progress(ctx, "swapping the folders")
	if _, out.Kept, err = store.Replace(ctx, id, staging); err != nil {
		return err
	}
	condo.CrashAt(CrashEnv, "restore-backup:swapped")
	j.Progress(ctx, "restored; the state before is kept at "+out.Kept)
	return nil
}

// linkTree hard-links every file under src into dst (same file system:
// both under the data directory); a missing src is no media.
func linkTree(src, dst string) error {
	if _, err := os.Lstat(src); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o750)
		case d.Type().IsRegular():
			return os.Link(p, to)
		}
		return nil // nothing else belongs in media
	})
}

// Verified is the outcome of Verify and VerifyAll.
type Verified struct {
	Tenant string `json:"tenant"`
	OK     bool   `json:"ok"`
	// Replica: TXID, and the logical checksums of the live database and of
	// the replica restored (empty where continuous backups are off).
	TXID     uint64 `json:"txid,omitempty"`
	Live     string `json:"live_checksum,omitempty"`
	Restored string `json:"restored_checksum,omitempty"`
	// Snapshots are the local snapshots' checks (VerifyAll).
	Snapshots []SnapshotCheck `json:"snapshots,omitempty"`
}

// VerifyAll verifies what tenant id has of backups: its replica (Verify;
// r nil where continuous backups are off) and its local snapshots
// (VerifySnapshots). OK is all of them passing; with neither a replica nor
// a snapshot it is ENOTFOUND (no_backups).
func VerifyAll(ctx context.Context, r *Replicator, store *tenantstore.Store, id string) (*Verified, error) {
	v := &Verified{Tenant: id, OK: true}
	if r != nil {
		var err error
		if v, err = Verify(ctx, r, store, id); err != nil {
			return nil, err
		}
	}
	snaps, err := VerifySnapshots(ctx, store.DataDir(), id)
	if err != nil {
		return nil, err
	}
	if r == nil && len(snaps) == 0 {
		return nil, condo.ReasonErrorf(condo.ENOTFOUND, "no_backups", "tenant %s has no backup to verify: continuous backups are off (--backup-url) and it has no local snapshot (--snapshot-every)", id)
	}
	v.Snapshots = snaps
	for _, s := range snaps {
		v.OK = v.OK && s.OK
	}
	return v, nil
}

// Verify restores tenant id's latest replica into a scratch file and
// compares its Checksum with the live database's. A registered tenant is
// synced first; the live checksum is read after the restore, and a
// tenant written in between (its position moved) is tried again, up to
// three times.
func Verify(ctx context.Context, r *Replicator, store *tenantstore.Store, id string) (*Verified, error) {
	scratch, err := store.NewStaging()
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	var v *Verified
	for try := 0; try < 3; try++ {
		if _, err := r.Sync(ctx, id); err != nil {
			return nil, storeError(err)
		}
		before := r.Status(id).LocalTXID
		out := filepath.Join(scratch, fmt.Sprintf("verify-%d.db", try))
		if err := r.RestoreTo(ctx, id, out, time.Time{}); err != nil {
			return nil, err
		}
		got, err := Checksum(ctx, out)
		if err != nil {
			return nil, err
		}
		live, err := liveChecksum(ctx, store, id)
		if err != nil {
			return nil, err
		}
		txid, _ := restoredTXID(ctx, r, id)
		v = &Verified{Tenant: id, OK: got == live, TXID: txid, Live: live, Restored: got}
		if v.OK || r.Status(id).LocalTXID == before {
			return v, nil
		}
	}
	return v, nil
}

func restoredTXID(ctx context.Context, r *Replicator, id string) (uint64, error) {
	p, err := r.List(ctx, id)
	if err != nil {
		return 0, err
	}
	return p.MaxTXID, nil
}

func liveChecksum(ctx context.Context, store *tenantstore.Store, id string) (string, error) {
	h, release, err := store.Acquire(ctx, id)
	if err != nil {
		return "", err
	}
	defer release()
	conn, err := h.Reader().Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return checksumConn(ctx, conn)
}

// Checksum is a SHA-256 of a database's logical content: every table's
// name, columns and rows (in rowid or primary-key order), in name order,
// but Litestream's own bookkeeping tables (_litestream_*) and SQLite's
// internal ones. It is the same for two files that hold the same data
// whatever their page layout, free pages or journal mode.
func Checksum(ctx context.Context, path string) (string, error) {
	db, err := sqlitedb.Open(path, sqlitedb.Options{Job: true})
	if err != nil {
		return "", err
	}
	defer db.Close()
	conn, err := db.Read.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return checksumConn(ctx, conn)
}

func checksumConn(ctx context.Context, conn *sql.Conn) (string, error) {
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // one snapshot for every table
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_litestream\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return "", err
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return "", err
		}
		tables = append(tables, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	h := sha256.New()
	for _, t := range tables {
		if err := hashTable(ctx, tx, t, h); err != nil {
			return "", fmt.Errorf("checksum table %s: %w", t, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashTable writes table t's rows to h, ordered by every column (a
// stable order whether or not t has a rowid). Virtual tables' shadow
// tables are hashed as the tables they are; the virtual table itself is
// skipped (its content is theirs).
func hashTable(ctx context.Context, tx *sql.Tx, t string, h io.Writer) error {
	var sqlText string
	if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_schema WHERE name = ?`, t).Scan(&sqlText); err != nil {
		return err
	}
	if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(sqlText)), "CREATE VIRTUAL") {
		return nil
	}
	q := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	cols, err := tx.QueryContext(ctx, `SELECT count(*) FROM pragma_table_info(?)`, t)
	if err != nil {
		return err
	}
	var n int
	if cols.Next() {
		cols.Scan(&n)
	}
	cols.Close()
	order := make([]string, n)
	for i := range order {
		order[i] = fmt.Sprint(i + 1)
	}
	rows, err := tx.QueryContext(ctx, `SELECT * FROM `+q+` ORDER BY `+strings.Join(order, ","))
	if err != nil {
		return err
	}
	defer rows.Close()
	fmt.Fprintf(h, "table %q\n", t)
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for _, v := range vals {
			switch x := v.(type) {
			case []byte:
				fmt.Fprintf(h, "b%d:%x|", len(x), x)
			case string:
				fmt.Fprintf(h, "s%d:%s|", len(x), x)
			default:
				fmt.Fprintf(h, "%T:%v|", x, x)
			}
		}
		io.WriteString(h, "\n")
	}
	return rows.Err()
}

// Erase removes everything of tenant id from the store (a GDPR delete):
// idempotent, nothing there is fine.
func (r *Replicator) Erase(ctx context.Context, id string) error {
	c, err := r.Client(id)
	if err != nil {
		return err
	}
	if err := c.DeleteAll(ctx); err != nil && !errors.Is(err, os.ErrNotExist) {
		return storeError(err)
	}
	return nil
}
