package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestAdminBrowser_People drives the dashboard, the media library and the
// users pages in chromium: an image uploaded through the form (media.js,
// with its progress bar) and one dropped on the drop zone show their
// thumbnails; a user invited on the users page accepts the invitation from
// the link in the mail, in a second browser context, and lands signed in.
// axe and screenshots on each page.
func TestAdminBrowser_People(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "CONDO_ADMIN_EMAIL=ops@example.com", "CONDO_ADMIN_PASSWORD=correct-horse-battery")
	if code, _, stderr := run(t, "admin-password-1\n", "users", "create", "default", "ada@example.com", "--role", "admin", "--data", data); code != 0 {
		t.Fatalf("users create: %s", stderr)
	}
	b := newBrowser(t)
	ctx := b.tab()
	signIn(t, ctx, s, "default", "/admin", "ada@example.com", "admin-password-1")

	// The dashboard.
	browse(t, ctx, "dashboard", chromedp.Navigate(s.adminURL("default", "/admin")), chromedp.WaitVisible("#storage-meter", chromedp.ByQuery),
		chromedp.WaitVisible("svg.dash-chart", chromedp.ByQuery))
	checkAccessible(t, ctx, "dashboard")
	screenshots(t, ctx, "people-dashboard")

	// Media: upload through the form, then drop a second file.
	img := filepath.Join(t.TempDir(), "sunset.png")
	if err := os.WriteFile(img, testPNG(t, 240, 160, color.RGBA{230, 120, 40, 255}), 0o644); err != nil {
		t.Fatal(err)
	}
	var progress float64
	browse(t, ctx, "upload an image",
		// From the dashboard by the menu: the page loads whole, media.js
		// with it (it marks the drop zone).
		chromedp.Click(`nav.main-nav a[href="/admin/media"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#drop-zone.droppable", chromedp.ByQuery),
		chromedp.SetUploadFiles("#upload-file", []string{img}, chromedp.ByQuery),
		chromedp.SendKeys("#upload-alt", "An orange sunset", chromedp.ByQuery),
		chromedp.Click("#upload-form button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible(`#media-grid img[alt="An orange sunset"]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("upload-bar").value`, &progress),
	)
	if progress != 100 {
		t.Errorf("progress bar at %v after the upload, want 100", progress)
	}
	waitThumbnail(t, ctx, `#media-grid img[alt="An orange sunset"]`)

	// A drop: the File is built in the page (chromedp cannot drag from the
	// desktop), the drop event is what a browser sends.
	var dropped bool
	browse(t, ctx, "drop a file",
		chromedp.Evaluate(`(() => {
			const c = document.createElement("canvas"); c.width = 64; c.height = 48;
			const g = c.getContext("2d"); g.fillStyle = "#2952cc"; g.fillRect(0, 0, 64, 48);
			const bin = atob(c.toDataURL("image/png").split(",")[1]);
			const bytes = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
			const dt = new DataTransfer(); dt.items.add(new File([bytes], "dropped-square.png", {type: "image/png"}));
			const zone = document.getElementById("drop-zone");
			zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
			return zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true})) === false;
		})()`, &dropped),
		chromedp.WaitVisible(`#media-grid .media-name`, chromedp.ByQuery),
	)
	if !dropped {
		t.Error("media.js did not take the drop")
	}
	var names string
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(names, "dropped-square") && time.Now().Before(deadline) {
		// The grid is swapped while it refreshes: a read that lands on the
		// old one fails, and is tried again.
		chromedp.Run(ctx, chromedp.Text("#media-grid", &names, chromedp.ByQuery))
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(names, "dropped-square") || !strings.Contains(names, "sunset") {
		t.Fatalf("grid = %q, want both files", names)
	}
	var status string
	browse(t, ctx, "upload status", chromedp.Text("#upload-status", &status, chromedp.ByQuery))
	if !strings.Contains(status, "Uploaded") {
		t.Errorf("upload status = %q", status)
	}
	checkAccessible(t, ctx, "media")
	screenshots(t, ctx, "people-media")

	// One file's page.
	browse(t, ctx, "media detail", chromedp.Click(`#media-grid a.media-thumb`, chromedp.ByQuery), chromedp.WaitVisible("#alt", chromedp.ByQuery))
	checkAccessible(t, ctx, "media detail")
	screenshots(t, ctx, "people-media-detail")

	// Users: invite someone as an editor.
	invitee := "newcomer@example.com"
	browse(t, ctx, "invite",
		chromedp.Navigate(s.adminURL("default", "/admin/users")),
		chromedp.WaitVisible("#invite-email", chromedp.ByQuery),
		chromedp.SendKeys("#invite-email", invitee, chromedp.ByQuery),
		chromedp.SetValue("#invite-role", "editor", chromedp.ByQuery),
		chromedp.Click(`form[action="/admin/users/invite"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("p.flash", chromedp.ByQuery),
	)
	var pending string
	browse(t, ctx, "pending", chromedp.Text("main", &pending, chromedp.ByQuery))
	if !strings.Contains(pending, "Invitation sent to "+invitee) || !strings.Contains(pending, "Pending invitations") {
		t.Fatalf("users page after inviting: %q", pending)
	}
	checkAccessible(t, ctx, "users")
	screenshots(t, ctx, "people-users")
	browse(t, ctx, "roles", chromedp.Navigate(s.adminURL("default", "/admin/users/roles")), chromedp.WaitVisible("table.perm-matrix", chromedp.ByQuery))
	checkAccessible(t, ctx, "roles")
	screenshots(t, ctx, "people-roles")

	// The mail, from the outbox the CLI reads.
	code, out, errOut := run(t, "", "mail", "outbox", "--data", data, "--to", invitee, "--json")
	if code != 0 {
		t.Fatalf("mail outbox: %s", errOut)
	}
	var outbox struct {
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(out), &outbox); err != nil || len(outbox.Messages) == 0 {
		t.Fatalf("outbox = %s (%v)", out, err)
	}
	link := regexp.MustCompile(`http://default\.localhost:\d+/admin/invitations/[a-z2-7]+`).FindString(outbox.Messages[0].Body)
	if link == "" {
		t.Fatalf("no admin link in %q", outbox.Messages[0].Body)
	}

	// A second person's browser accepts it.
	other := b.incognito()
	browse(t, other, "accept", chromedp.Navigate(link), chromedp.WaitVisible("#password", chromedp.ByQuery))
	checkAccessible(t, other, "accept invitation")
	screenshots(t, other, "people-accept")
	var who string
	browse(t, other, "accept",
		chromedp.SendKeys("#first_name", "Nia", chromedp.ByQuery),
		chromedp.SendKeys("#password", "newcomer password 1", chromedp.ByQuery),
		chromedp.SendKeys("#password_confirm", "newcomer password 1", chromedp.ByQuery),
		chromedp.Click(`main button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`nav.main-nav`, chromedp.ByQuery),
		chromedp.Text(".who", &who, chromedp.ByQuery),
	)
	if !strings.Contains(who, invitee) {
		t.Errorf("signed in as %q, want %s", who, invitee)
	}
	// The first browser is still the admin, and sees the new user.
	var users string
	browse(t, ctx, "users after", chromedp.Navigate(s.adminURL("default", "/admin/users")), chromedp.WaitVisible("#users-heading", chromedp.ByQuery),
		chromedp.Text("main table", &users, chromedp.ByQuery))
	if !strings.Contains(users, invitee) {
		t.Errorf("users = %q, want %s", users, invitee)
	}

	// The signed-out pages.
	browse(t, other, "sign out", chromedp.Click(`.who button[type=submit]`, chromedp.ByQuery), chromedp.WaitVisible("#email", chromedp.ByQuery),
		chromedp.Click(`a[href="/admin/forgot"]`, chromedp.ByQuery), chromedp.WaitVisible(`form[action="/admin/forgot"]`, chromedp.ByQuery))
	checkAccessible(t, other, "forgot password")
	screenshots(t, other, "people-forgot")
}

// waitThumbnail waits until the image of sel has loaded, with pixels.
func waitThumbnail(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	var w float64
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		browse(t, ctx, "thumbnail", chromedp.Evaluate(`(() => { const i = document.querySelector(`+"`"+sel+"`"+`); return i && i.complete ? i.naturalWidth : 0 })()`, &w))
		if w > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the thumbnail %s did not load", sel)
}

// testPNG is a w×h PNG of one colour.
func testPNG(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
