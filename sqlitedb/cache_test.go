package sqlitedb

import (
	"path/filepath"
	"testing"
)

// TestReadCacheKiB: ReadCacheKiB sizes the readers' page cache and leaves
// the writer's at CacheKiB.
func TestReadCacheKiB(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "c.db"), Options{Create: true, ReadCacheKiB: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var read, write int
	if err := db.Write.QueryRow("PRAGMA cache_size").Scan(&write); err != nil {
		t.Fatal(err)
	}
	if err := db.Read.QueryRow("PRAGMA cache_size").Scan(&read); err != nil {
		t.Fatal(err)
	}
	if read != -4096 || write != -DefaultCacheKiB {
		t.Fatalf("cache_size: readers %d, writer %d; want -4096 and -%d", read, write, DefaultCacheKiB)
	}
}
