package backup

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/condohq/condo"
	"github.com/condohq/condo/sqlitedb"
)

// A snapshot's SHA-256 is recorded beside it when it is taken
// (<name>.sha256), so a later check finds a file that changed since:
// a disk's bit rot, a bad copy, a hand that edited it.
const sumSuffix = ".sha256"

// SnapshotCheck is what VerifySnapshots found of one local snapshot.
type SnapshotCheck struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// SHA256 is the file's checksum now; Recorded is the one written when
	// it was taken ("" for a snapshot from before they were recorded,
	// which is checked for its integrity only).
	SHA256   string `json:"sha256"`
	Recorded string `json:"recorded_sha256,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

// VerifySnapshots checks each of tenant id's local snapshots, oldest
// first: its bytes against the checksum recorded when it was taken, then
// SQLite's integrity_check. A failed check is reported in its
// SnapshotCheck, not as an error; the error is for snapshots that could
// not be listed.
func VerifySnapshots(ctx context.Context, dataDir, id string) ([]SnapshotCheck, error) {
	snaps, err := LocalSnapshots(dataDir, id)
	if err != nil {
		return nil, err
	}
	out := make([]SnapshotCheck, 0, len(snaps))
	for _, sn := range snaps {
		out = append(out, verifySnapshot(ctx, sn))
	}
	return out, nil
}

func verifySnapshot(ctx context.Context, sn LocalSnapshot) SnapshotCheck {
	c := SnapshotCheck{Name: sn.Name}
	sum, err := condo.FileSHA256(sn.Path)
	if err != nil {
		c.Problem = fmt.Sprintf("cannot read it: %v", err)
		return c
	}
	c.SHA256 = sum
	if b, err := os.ReadFile(sn.Path + sumSuffix); err == nil {
		c.Recorded = strings.TrimSpace(string(b))
		if c.Recorded != sum {
			c.Problem = "it changed since it was taken: its SHA-256 differs from the one recorded then"
			return c
		}
	}
	if msg, err := integrity(ctx, sn.Path); err != nil {
		c.Problem = fmt.Sprintf("SQLite cannot open it: %v", err)
		return c
	} else if msg != "ok" {
		c.Problem = "SQLite's integrity_check: " + condo.Clip(msg)
		return c
	}
	c.OK = true
	return c
}

// recordSum writes path's SHA-256 beside it, durably, before the snapshot
// gets its final name.
func recordSum(path, final string) error {
	sum, err := condo.FileSHA256(path)
	if err != nil {
		return err
	}
	tmp := final + sumSuffix + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, sum+"\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final+sumSuffix)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// integrity runs PRAGMA integrity_check on a snapshot: "ok", or SQLite's
// first findings.
func integrity(ctx context.Context, path string) (string, error) {
	db, err := sqlitedb.Open(path, sqlitedb.Options{Job: true})
	if err != nil {
		return "", err
	}
	defer db.Close()
	var msg string
	err = db.Read.QueryRowContext(ctx, "PRAGMA integrity_check(5)").Scan(&msg)
	return msg, err
}
