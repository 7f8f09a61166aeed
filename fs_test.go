package condo_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/condohq/condo"
)

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := condo.SyncDir(dir); err != nil {
		t.Errorf("SyncDir(%s): %v", dir, err)
	}
	if err := condo.SyncDir(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("SyncDir of a missing folder: %v, want not exist", err)
	}
}
