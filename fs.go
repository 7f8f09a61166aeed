package condo

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
)

// SyncDir fsyncs the directory dir, so the entries created, renamed or
// removed in it survive a crash: fsyncing a file makes its contents
// durable but not its name. Every package that creates files (tenant
// databases, media) needs it, hence here, below them all.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// FileSHA256 is the SHA-256 of the file at path, in hex.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
