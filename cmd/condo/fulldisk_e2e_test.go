package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"github.com/condohq/condo/internal/disktest"
)

// upload posts one small text file to POST /api/media and decodes the answer.
func (s *server) upload(t *testing.T, host, token, name, content string) (int, map[string]any) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(part, content)
	w.Close()
	req, err := http.NewRequest("POST", "http://"+s.addr+"/api/media", &b)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	body, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("upload: %d %q: %v", res.StatusCode, body, err)
	}
	return res.StatusCode, out
}

// A real server on a real full disk: item writes and uploads answer 507
// insufficient_storage with a message that names no path, reads go on,
// writes work again as soon as space is freed (no restart), and SIGTERM
// while the disk is full, when the final checkpoint cannot run, still
// exits 0.
func TestServe_DiskFull(t *testing.T) {
	data := disktest.MustMount(t, 16<<20)
	const email, password = "ops@example.com", "a long chosen password"
	srv := startServer(t, data, "CONDO_ADMIN_EMAIL="+email, "CONDO_ADMIN_PASSWORD="+password)
	const host = "default.localhost"
	code, login, _ := srv.sendJSON(t, "POST", host, "/auth/login", "", map[string]string{"email": email, "password": password})
	if code != 200 {
		t.Fatalf("login: %d %v", code, login)
	}
	token := jsonStr(login, "token")
	schema := map[string]any{"name": "posts", "public": true, "schema": map[string]any{"type": "object",
		"properties": map[string]any{"body": map[string]any{"type": "string"}}}}
	if code, body, _ := srv.sendJSON(t, "POST", host, "/api/collections", token, schema); code != 201 {
		t.Fatalf("create collection: %d %v", code, body)
	}
	// Rows of 16 KiB grow the database by several pages each.
	post := func(title string) (int, map[string]any) {
		t.Helper()
		item := map[string]any{"title": title, "status": "published", "data": map[string]any{"body": strings.Repeat("x", 16<<10)}}
		code, body, _ := srv.sendJSON(t, "POST", host, "/api/collections/posts/content", token, item)
		return code, body
	}
	code, first := post("First")
	if code != 201 {
		t.Fatalf("first item: %d %v", code, first)
	}
	itemPath := "/api/content/" + jsonStr(first, "data", "id")
	code, media := srv.upload(t, host, token, "notes.txt", "some notes")
	if code != 201 {
		t.Fatalf("first upload: %d %v", code, media)
	}
	mediaURL := jsonStr(media, "data", "url")

	// wantFull checks a refusal for lack of space.
	wantFull := func(what string, code int, body map[string]any) {
		t.Helper()
		if code != http.StatusInsufficientStorage || jsonStr(body, "error", "code") != "insufficient_storage" {
			t.Fatalf("%s on a full disk: %d %v, want 507 insufficient_storage", what, code, body)
		}
		if msg := jsonStr(body, "error", "message"); msg == "" || strings.ContainsAny(msg, `/\`) || strings.Contains(msg, data) {
			t.Errorf("%s on a full disk: message %q names a path or is empty", what, msg)
		}
	}

	free := disktest.MustFill(t, data)
	// The WAL may have room allocated already: write until it is used up.
	code, body := 201, map[string]any(nil)
	for i := 0; i < 200 && code == 201; i++ {
		code, body = post("Filler")
	}
	wantFull("POST item", code, body)
	code, body = srv.upload(t, host, token, "more.txt", "more notes")
	wantFull("upload", code, body)

	// Reads go on: the item, the list, the file, with the token.
	for _, path := range []string{itemPath, "/api/collections/posts/content", "/api/media"} {
		if code, body, _ := srv.sendJSON(t, "GET", host, path, token, nil); code != 200 {
			t.Errorf("GET %s on a full disk: %d %v", path, code, body)
		}
	}
	if code, body, _ := srv.sendJSON(t, "GET", host, itemPath, "", nil); code != 200 {
		t.Errorf("anonymous GET on a full disk: %d %v", code, body)
	}
	if res, err := http.Get("http://" + srv.addr + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Errorf("healthz on a full disk: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	req, _ := http.NewRequest("GET", "http://"+srv.addr+mediaURL, nil)
	req.Host = host
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("media file on a full disk: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	// Space comes back: writes work again, without a restart.
	free()
	for i := range 10 {
		if code, body := post("After"); code != 201 {
			t.Fatalf("item %d after freeing space: %d %v", i, code, body)
		}
	}
	if code, body := srv.upload(t, host, token, "again.txt", "notes again"); code != 201 {
		t.Fatalf("upload after freeing space: %d %v", code, body)
	}

	// Full again, with new pages in the WAL that the final checkpoint
	// would have to add to the database file: SIGTERM still stops cleanly.
	disktest.MustFill(t, data)
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM on a full disk: %v\n%s", err, srv.logs.String())
	}
	logs := srv.logs.String()
	if !strings.Contains(logs, "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs)
	}
	if !strings.Contains(logs, "cannot checkpoint") {
		t.Errorf("the final checkpoint did not fail, so this test proved nothing about it:\n%s", logs)
	}
}
