package tenantstore

import "testing"

// The default pool takes the smaller of the descriptor and memory
// budgets, and never less than 16.
func TestPoolSize(t *testing.T) {
	for _, c := range []struct {
		files, mem uint64
		want       int
	}{
		{1024, 16 << 30, 64},                  // a default ulimit binds
		{20000, 16 << 30, 2436},               // (20000-512)/8
		{1 << 20, 2 << 30, 1024},              // a 2 GiB container: memory binds
		{1 << 20, 16 << 30, 8192},             // 16 GiB / 4 / 512 KiB
		{600, 1 << 30, 16},                    // the floor
		{1 << 40, 1 << 62, (1<<24 - 512) / 8}, // absurd limits are capped
	} {
		if got := poolSize(c.files, c.mem); got != c.want {
			t.Errorf("poolSize(%d files, %d B) = %d, want %d", c.files, c.mem, got, c.want)
		}
	}
	if n := DefaultPoolSize(); n < 16 {
		t.Errorf("DefaultPoolSize() = %d", n)
	}
	t.Logf("DefaultPoolSize() here = %d (files %d, memory %d)", DefaultPoolSize(), openFileLimit(), memoryLimit())
}
