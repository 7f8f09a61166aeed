package lifecycle_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/lifecycle"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// bigTenant makes a tenant of about dbMiB of database (text rows, which
// compress) and mediaMiB of media (random bytes, as images and video are
// already compressed).
func bigTenant(b *testing.B, env *tenantstoretest.Env, id string, dbMiB, mediaMiB int) {
	b.Helper()
	env.MustCreate(b, id)
	h, release, err := env.Store.Acquire(context.Background(), id)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := h.Writer().Exec("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, body TEXT)"); err != nil {
		b.Fatal(err)
	}
	row := strings.Repeat("a tenant's content, words and more words; ", 24) // ~1 KiB
	tx, _ := h.Writer().Begin()
	for i := range dbMiB << 10 {
		tx.Exec("INSERT INTO bench_rows (body) VALUES (?)", fmt.Sprint(i, row))
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	release()
	media := env.Store.MediaDir(id)
	os.MkdirAll(media, 0o750)
	chunk := make([]byte, 1<<20)
	for i := range mediaMiB / 4 {
		f, _ := os.Create(filepath.Join(media, fmt.Sprintf("m%03d.jpg", i)))
		for range 4 {
			rand.Read(chunk)
			f.Write(chunk)
		}
		f.Close()
	}
}

// BenchmarkExportImport100MB exports a 100 MB tenant (50 MB database,
// 50 MB media) and imports it under a new id, reporting each half.
//
//	go test ./lifecycle -run '^$' -bench ExportImport -benchtime 5x
func BenchmarkExportImport100MB(b *testing.B) {
	env := tenantstoretest.MustOpen(b, catalog.Config{}, storeConfig())
	bigTenant(b, env, "big", 50, 52)
	path, _ := env.Store.Path("big")
	fi, _ := os.Stat(path)
	mediaFiles, _ := filepath.Glob(filepath.Join(env.Store.MediaDir("big"), "*"))
	b.Logf("tenant: %.1f MiB database, %d MiB media", float64(fi.Size())/(1<<20), len(mediaFiles)*4)
	var exportNs, importNs, size int64
	for i := 0; b.Loop(); i++ {
		var buf bytes.Buffer
		start := nanotime()
		if _, err := lifecycle.Export(context.Background(), env.Catalog, env.Store, "big", &buf, lifecycle.ExportOptions{}); err != nil {
			b.Fatal(err)
		}
		mid := nanotime()
		size = int64(buf.Len())
		if _, err := lifecycle.Import(context.Background(), env.Catalog, env.Store, &buf, lifecycle.ImportOptions{ID: fmt.Sprintf("copy%d", i)}); err != nil {
			b.Fatal(err)
		}
		exportNs += mid - start
		importNs += nanotime() - mid
	}
	n := float64(b.N)
	b.ReportMetric(float64(exportNs)/n/1e6, "export-ms")
	b.ReportMetric(float64(importNs)/n/1e6, "import-ms")
	b.ReportMetric(float64(size)/(1<<20), "archive-MiB")
}

func nanotime() int64 { return time.Now().UnixNano() }
