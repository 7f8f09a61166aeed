package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
)

func tenantID(i int) string { return fmt.Sprintf("t%05d", i) }

// provision creates n tenants at the embedded schema, each with rows items
// in its content table: the first through the store, filled with SQL, and
// the others as copies of its file recorded in the catalog.
func provision(ctx context.Context, data string, n, rows int) error {
	cat, err := catalog.Open(ctx, data, catalog.Config{})
	if err != nil {
		return err
	}
	defer cat.Close()
	store := tenantstore.New(cat, tenantstore.Config{DataDir: data, PoolSize: 1})
	defer store.Close(ctx)
	first, err := store.Create(ctx, catalog.NewTenant{ID: tenantID(0)})
	if err != nil {
		return err
	}
	path, _ := store.Path(first.ID)
	if err := fill(ctx, path, rows); err != nil {
		return err
	}
	img, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for i := 1; i < n; i++ {
		id := tenantID(i)
		_, err := cat.CreateTenant(ctx, catalog.NewTenant{ID: id, SchemaVersion: first.Schema.Version}, func() error {
			dir := filepath.Join(data, "tenants", id)
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "tenant.db"), img, 0o640)
		})
		if err != nil {
			return fmt.Errorf("provision %s: %w", id, err)
		}
	}
	return nil
}

// fill writes a collection and rows items into a tenant database and
// checkpoints it, so its file holds everything.
func fill(ctx context.Context, path string, rows int) error {
	db, err := sqlitedb.Open(path, sqlitedb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO collections (id, name, display_name, created_at, updated_at) VALUES ('posts', 'posts', 'Posts', 0, 0)`); err != nil {
		return err
	}
	ins, err := tx.Prepare(`INSERT INTO content (id, collection_id, slug, title, data, status, created_at, updated_at)
		VALUES (?, 'posts', ?, ?, ?, 'published', ?, ?)`)
	if err != nil {
		return err
	}
	for i := range rows {
		at := int64(1_700_000_000_000 + i*1000)
		if _, err := ins.Exec(fmt.Sprintf("c%05d", i), fmt.Sprintf("post-%d", i), fmt.Sprintf("Post number %d", i),
			fmt.Sprintf(`{"body": "Lorem ipsum dolor sit amet, post %d"}`, i), at, at); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return db.Checkpoint(ctx)
}

// verify checks the catalog has every tenant at the new version, and a
// sample of files has the new column.
func verify(ctx context.Context, data string, n int) error {
	cat, err := catalog.Open(ctx, data, catalog.Config{})
	if err != nil {
		return err
	}
	defer cat.Close()
	st, err := cat.SchemaStatus(ctx, 10)
	if err != nil {
		return err
	}
	want := migrations.Tenant().Latest() + 1
	if len(st.Versions) != 1 || st.Versions[0].Version != want || st.Versions[0].Tenants != n || st.ProblemCount != 0 {
		return fmt.Errorf("verify: catalog status %+v, want %d tenants at %d", st.Versions, n, want)
	}
	for i := 0; i < n; i += max(1, n/10) {
		db, err := sqlitedb.Open(filepath.Join(data, "tenants", tenantID(i), "tenant.db"), sqlitedb.Options{})
		if err != nil {
			return err
		}
		var c int
		err = db.Read.QueryRowContext(ctx, "SELECT count(*) FROM content WHERE word_count = 0").Scan(&c)
		db.Close()
		if err != nil {
			return fmt.Errorf("verify %s: %w", tenantID(i), err)
		}
	}
	return nil
}

func du(dir string) string {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// fsType names the file system holding dir, which decides what fsync costs.
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "an unknown file system"
	}
	names := map[int64]string{0xEF53: "ext4", 0x01021994: "tmpfs", 0x58465342: "xfs", 0x9123683E: "btrfs", 0x794C7630: "overlayfs"}
	if n, ok := names[int64(st.Type)]; ok {
		return n
	}
	return fmt.Sprintf("file system 0x%x", st.Type)
}
