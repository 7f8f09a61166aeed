package cms_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/cms"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// plant writes a file in dir, last modified at mtime, and returns its name.
func plant(tb testing.TB, dir, name string, mtime time.Time) string {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("left over"), 0o640); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		tb.Fatal(err)
	}
	return name
}

func TestStore_SweepMedia(t *testing.T) {
	_, st := newMedia(t)
	ctx := context.Background()
	old, fresh := time.Now().Add(-2*time.Hour), time.Now()
	kept := mustUpload(t, st, cms.Upload{Name: "logo.png", Body: bytes.NewReader(MustPNG(t, 2, 2))})
	keptFile := kept.ID + ".png"
	os.Chtimes(filepath.Join(st.MediaDir, keptFile), old, old) // old, but it has its row

	dir := st.MediaDir
	oldTemp := plant(t, dir, ".upload-1234", old)                              // an upload that crashed mid-copy
	liveTemp := plant(t, dir, ".upload-5678", fresh)                           // an upload being written now
	orphan := plant(t, dir, condo.NewID()+".jpg", old)                         // renamed, then a crash before its row
	newOrphan := plant(t, dir, condo.NewID()+".jpg", fresh)                    // renamed a moment ago, its row comes next
	foreign := plant(t, dir, "notes.md", old)                                  // no name Condo gives
	noExt := plant(t, dir, "README", old)                                      // nor this
	if err := os.Mkdir(filepath.Join(dir, ".upload-dir"), 0o750); err != nil { // not a file
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, ".upload-dir"), old, old)

	res, err := st.SweepMedia(ctx, time.Now().Add(-cms.DefaultSweepGrace))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res, (cms.SweepResult{Temporary: 1, Orphans: 1, Bytes: 2 * int64(len("left over"))}); got != want {
		t.Errorf("result = %+v, want %+v", got, want)
	}
	want := []string{liveTemp, ".upload-dir", keptFile, newOrphan, foreign, noExt}
	got := files(t, dir)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("left = %v, want %v (removed: %s, %s)", got, want, oldTemp, orphan)
	}
	if path, _, err := st.MediaFile(ctx, kept.ID); err != nil {
		t.Fatal(err)
	} else if _, err := os.Stat(path); err != nil {
		t.Errorf("the file of a media row went: %v", err)
	}
	if res, err := st.SweepMedia(ctx, time.Now().Add(-cms.DefaultSweepGrace)); err != nil || res != (cms.SweepResult{}) {
		t.Errorf("second sweep = %+v, %v; want nothing", res, err)
	}
}

// The sweeper sweeps a tenant when its database is first opened (leftovers
// of a crash before this process started), and again while it stays open.
func TestMediaSweeper(t *testing.T) {
	sw := &cms.MediaSweeper{Interval: 20 * time.Millisecond}
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{PoolSize: 4, OnOpen: sw.Opened})
	env.MustCreate(t, "acme", "other")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sw.Run(ctx, env.Store) }()
	t.Cleanup(func() { cancel(); <-done })

	dir := env.Store.MediaDir("acme")
	old := time.Now().Add(-2 * time.Hour)
	plant(t, dir, ".upload-crashed", old)
	plant(t, dir, condo.NewID()+".png", old)
	live := plant(t, dir, ".upload-live", time.Now())
	untouched := plant(t, env.Store.MediaDir("other"), ".upload-crashed", old)

	// Nothing is swept before a tenant is opened...
	if got := files(t, dir); len(got) != 3 {
		t.Fatalf("swept before any open: %v", got)
	}
	// ...and opening one sweeps it, in the background.
	_, release, err := env.Store.Acquire(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	waitFor(t, func() bool { return slices.Equal(files(t, dir), []string{live}) })

	// While it stays open, later leftovers go too.
	plant(t, dir, ".upload-later", old)
	waitFor(t, func() bool { return slices.Equal(files(t, dir), []string{live}) })

	// A tenant nobody opened is not touched.
	if got := files(t, env.Store.MediaDir("other")); !slices.Equal(got, []string{untouched}) {
		t.Errorf("other tenant's folder = %v", got)
	}
}

// waitFor polls ok until it holds, failing after a generous deadline; only
// a sweeper that never does its work fails it.
func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
