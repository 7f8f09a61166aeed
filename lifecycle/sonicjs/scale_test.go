package sonicjs_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/condohq/condo/lifecycle/sonicjs"
)

// TestImportScale imports a bigger site: N items (with two versions and
// two workflow records each) on top of the fixture, 300 in the suite;
// SONICJS_SCALE=N makes it the measurement:
//
//	SONICJS_SCALE=20000 go test ./lifecycle/sonicjs -run TestImportScale -v
func TestImportScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SONICJS_SCALE"))
	if n <= 0 {
		n = 300
	}
	dir := t.TempDir()
	db := buildFixture(t, filepath.Join(dir, "big.sqlite"))
	_, err := db.Exec(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
		INSERT INTO content (id, collection_id, slug, title, data, status, author_id, created_at, updated_at)
		SELECT 'big-' || i, 'pages-collection', 'big-' || i, 'Big page ' || i,
			json_object('title', 'Big page ' || i, 'content', '<p>' || hex(randomblob(300)) || '</p>'), 'published', 'u-admin', ? + i, ? + i FROM k`,
		n, base, base)
	if err == nil {
		_, err = db.Exec(`INSERT INTO content_versions (id, content_id, version, data, author_id, created_at)
			SELECT id || '-v' || v.n, id, v.n, data, 'u-admin', created_at FROM content, (SELECT 1 AS n UNION ALL SELECT 2) AS v WHERE id LIKE 'big-%'`)
	}
	if err == nil {
		_, err = db.Exec(`INSERT INTO workflow_history (id, content_id, action, from_status, to_status, user_id, created_at)
			SELECT id || '-w' || v.n, id, 'status_changed', 'draft', 'published', 'u-admin', created_at FROM content, (SELECT 1 AS n UNION ALL SELECT 2) AS v WHERE id LIKE 'big-%'`)
	}
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "big.sqlite"))
	env := newEnv(t)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	cpu0, start := cpu(), time.Now()
	rep, err := sonicjs.Import(context.Background(), env.Store, filepath.Join(dir, "big.sqlite"), sonicjs.Options{ID: "big"})
	if err != nil {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("%d items, %d versions, %d workflow records from a %d MB file in %v (%v of CPU); %d MB allocated",
		rep.Mapped.Content, rep.Mapped.Versions, rep.Mapped.Workflow, fi.Size()>>20, time.Since(start).Round(time.Millisecond),
		(cpu() - cpu0).Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>20)
}
