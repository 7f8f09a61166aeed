package main

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// Leftovers of a crash in a tenant's media folder (a temporary upload, a
// complete file without its row) are gone soon after the next server opens
// the tenant; a file still being written and a file with its row stay.
func TestServe_SweepsMediaLeftovers(t *testing.T) {
	data := t.TempDir()
	const email, password = "ops@example.com", "a long chosen password"
	env := []string{"CONDO_ADMIN_EMAIL=" + email, "CONDO_ADMIN_PASSWORD=" + password}
	srv := startServer(t, data, env...)
	const host = "default.localhost"
	code, login, _ := srv.sendJSON(t, "POST", host, "/auth/login", "", map[string]string{"email": email, "password": password})
	if code != 200 {
		t.Fatalf("login: %d %v", code, login)
	}
	code, media := srv.upload(t, host, jsonStr(login, "token"), "notes.txt", "some notes")
	if code != 201 {
		t.Fatalf("upload: %d %v", code, media)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}

	dir := filepath.Join(data, "tenants", "default", "media")
	kept := jsonStr(media, "data", "id") + ".txt"
	old := time.Now().Add(-2 * time.Hour)
	for name, mtime := range map[string]time.Time{
		".upload-123": old, // a crash mid-copy
		"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b.png": old, // a crash between the rename and the row
		".upload-456": time.Now(), // a live upload, as far as anyone can tell
		kept:          old,        // has its row
	} {
		path := filepath.Join(dir, name)
		if name != kept {
			if err := os.WriteFile(path, []byte("left over"), 0o640); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}

	srv = startServer(t, data, env...)
	if code, body := srv.get(t, host, "/api/tenant"); code != 200 { // opens the tenant
		t.Fatalf("tenant: %d %v", code, body)
	}
	want := []string{".upload-456", kept}
	slices.Sort(want)
	eventually(t, func() bool {
		ents, _ := os.ReadDir(dir)
		var got []string
		for _, e := range ents {
			got = append(got, e.Name())
		}
		slices.Sort(got)
		return slices.Equal(got, want)
	})
}
