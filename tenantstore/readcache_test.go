package tenantstore

import (
	"testing"

	"github.com/condohq/condo/sqlitedb"
)

// TestReadCacheKiB: small tenants keep sqlitedb's default cache; a
// tenant's readers get 1/64 of its file, capped.
func TestReadCacheKiB(t *testing.T) {
	for _, tt := range []struct {
		size int64
		want int
	}{{0, 0}, {100 << 10, 1}, {16 << 20, 256}, {64 << 20, 1024}, {265e6, 4043}, {10 << 30, maxReadCacheKiB}} {
		got := readCacheKiB(tt.size)
		if got != tt.want {
			t.Errorf("readCacheKiB(%d) = %d, want %d", tt.size, got, tt.want)
		}
		if eff := max(got, sqlitedb.DefaultCacheKiB); tt.size <= 16<<20 && eff != sqlitedb.DefaultCacheKiB {
			t.Errorf("a %d-byte tenant's readers get %d KiB, not the default", tt.size, eff)
		}
	}
}
