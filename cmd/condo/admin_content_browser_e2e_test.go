package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitFor polls the page until the JavaScript expression cond is true.
// The page may be navigating (a form posted, its redirect followed): an
// evaluation that lands between two documents fails, and is tried again.
func waitFor(cond string) chromedp.Action {
	// A condition met while the page is still being parsed (a flash at the
	// top, the form below not yet in the DOM) would let the next step read
	// half a page: the page must have loaded too.
	cond = `document.readyState === "complete" && (` + cond + `)`
	return chromedp.ActionFunc(func(ctx context.Context) error {
		deadline := time.Now().Add(20 * time.Second)
		for {
			var ok bool
			err := chromedp.Evaluate(cond, &ok).Do(ctx)
			if err == nil && ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("waited 20 s for %s (last error: %v)", cond, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// flashSays waits for the page's flash message to contain text.
func flashSays(text string) chromedp.Action {
	return waitFor(`(function(){var f=document.querySelector("p.flash");return !!f&&f.textContent.indexOf(` + jsString(text) + `)>=0})()`)
}

// setType picks a field row's type as a person does: the menu changes and
// the row shows that type's settings (content.js).
func setType(row, typ string) chromedp.Action {
	sel := `select[name="` + row + `.type"]`
	return chromedp.Tasks{
		chromedp.SetValue(sel, typ, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector(`+jsString(sel)+`).dispatchEvent(new Event("change", {bubbles: true}))`, nil),
	}
}

// TestAdminBrowser_Content creates a collection with three field types
// through the schema form, then an item: a validation message, a save,
// an edit, publishing, and restoring the first version. axe checks the
// collections list, the schema form, the content list, the editor, the
// versions and the diff; each gets screenshots.
func TestAdminBrowser_Content(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data, "CONDO_ADMIN_EMAIL=ops@example.com", "CONDO_ADMIN_PASSWORD=correct-horse-battery")
	if code, _, stderr := run(t, "editor-password-1\n", "users", "create", "default", "ed@example.com", "--role", "admin", "--data", data); code != 0 {
		t.Fatalf("users create: %s", stderr)
	}
	b := newBrowser(t)
	ctx := b.tab()
	signIn(t, ctx, s, "default", "/admin", "ed@example.com", "editor-password-1")

	// The schema form: title (string, there already), price (number),
	// body (markdown), notes (rich text); each added with "Add field".
	browse(t, ctx, "new collection form",
		chromedp.Navigate(s.adminURL("default", "/admin/collections/new")),
		chromedp.WaitVisible("#name", chromedp.ByQuery),
		chromedp.SendKeys("#name", "articles", chromedp.ByQuery),
		chromedp.SendKeys("#display_name", "Articles", chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "new collection")
	for i, f := range []struct{ name, typ string }{{"price", "number"}, {"body", "markdown"}, {"notes", "richtext"}} {
		row := "f." + string(rune('1'+i))
		browse(t, ctx, "add field "+f.name,
			chromedp.Click(`.form-actions button[value="add"]`, chromedp.ByQuery),
			chromedp.WaitVisible(`input[name="`+row+`.name"]`, chromedp.ByQuery),
			chromedp.SendKeys(`input[name="`+row+`.name"]`, f.name, chromedp.ByQuery),
			setType(row, f.typ),
		)
	}
	browse(t, ctx, "price minimum",
		chromedp.WaitVisible(`input[name="f.1.min"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="f.1.min"]`, "0", chromedp.ByQuery),
	)
	// A group (object) with a field of its own.
	browse(t, ctx, "add a group",
		chromedp.Click(`.form-actions button[value="add"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`input[name="f.4.name"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="f.4.name"]`, "seo", chromedp.ByQuery),
		setType("f.4", "object"),
		chromedp.WaitVisible(`button[value="add:f.4"]`, chromedp.ByQuery),
		chromedp.Click(`button[value="add:f.4"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`input[name="f.4.p.0.name"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="f.4.p.0.name"]`, "description", chromedp.ByQuery),
	)
	screenshots(t, ctx, "tenant-collection-new")
	browse(t, ctx, "create collection",
		chromedp.Click(`.form-actions button[value="save"]`, chromedp.ByQuery),
		flashSays("Collection created."),
	)
	var names []string
	browse(t, ctx, "created fields", chromedp.Evaluate(`[...document.querySelectorAll('fieldset.depth-1 > .row input[name$=".name"]')].map(e => e.value)`, &names))
	var nested string
	browse(t, ctx, "created group", chromedp.Value(`input[name="f.4.p.0.name"]`, &nested, chromedp.ByQuery))
	if nested != "description" {
		t.Errorf("the group's field after create: %q", nested)
	}
	if got, want := strings.Join(names, ","), "title,price,body,notes,seo"; got != want {
		t.Errorf("fields after create: %s, want %s", got, want)
	}
	checkAccessible(t, ctx, "collection fields")
	screenshots(t, ctx, "tenant-collection-edit")
	browse(t, ctx, "collections list",
		chromedp.Navigate(s.adminURL("default", "/admin/collections")),
		chromedp.WaitVisible(`a[href="/admin/collections/articles"]`, chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "collections list")
	screenshots(t, ctx, "tenant-collections")

	// A new item without its required title: the API's message is beside
	// the field.
	browse(t, ctx, "new item",
		chromedp.Navigate(s.adminURL("default", "/admin/content/articles/new")),
		chromedp.WaitVisible("#in-price", chromedp.ByQuery),
		chromedp.SendKeys("#in-price", "5", chromedp.ByQuery),
		chromedp.Click(`.editor-side button[value="save"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#err-in-title", chromedp.ByQuery),
	)
	var msg, invalid string
	browse(t, ctx, "validation message",
		chromedp.Text("#err-in-title", &msg, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("#in-title").getAttribute("aria-invalid") || ""`, &invalid),
	)
	if !strings.Contains(msg, "required") || invalid != "true" {
		t.Errorf("title's message %q, aria-invalid %q", msg, invalid)
	}
	checkAccessible(t, ctx, "editor with a validation message")
	screenshots(t, ctx, "tenant-editor-invalid")

	// Fill it in: markdown shows its preview, rich text has its editor.
	browse(t, ctx, "fill in the item",
		chromedp.SendKeys("#in-title", "First post", chromedp.ByQuery),
		chromedp.SendKeys("#in-body", "# Hello\n\nSome *markdown*.", chromedp.ByQuery),
		chromedp.WaitVisible("#preview-in-body h1", chromedp.ByQuery),
		chromedp.WaitVisible(".rt-editor", chromedp.ByQuery),
		chromedp.Click(".rt-editor", chromedp.ByQuery),
		chromedp.SendKeys(".rt-editor", "Rich words", chromedp.ByQuery),
		// Select the words and make them bold with the toolbar.
		chromedp.Evaluate(`(function(){var e=document.querySelector(".rt-editor");e.focus();var r=document.createRange();r.selectNodeContents(e);var s=getSelection();s.removeAllRanges();s.addRange(r)})()`, nil),
		chromedp.Click(`.rt-toolbar button[data-cmd="bold"]`, chromedp.ByQuery),
		waitFor(`document.querySelector('.rt-toolbar button[data-cmd="bold"]').getAttribute("aria-pressed") === "true"`),
		chromedp.Click(`.editor-side button[value="save"]`, chromedp.ByQuery),
		flashSays("Draft saved."),
	)
	var notes string
	browse(t, ctx, "saved rich text", chromedp.Evaluate(`document.querySelector("#in-notes").value`, &notes))
	if !strings.Contains(notes, "Rich words") || !strings.Contains(notes, "<b>") && !strings.Contains(notes, "<strong>") {
		t.Errorf("rich text saved as %q", notes)
	}
	checkAccessible(t, ctx, "editor")
	screenshots(t, ctx, "tenant-editor")

	// Edit, then publish.
	browse(t, ctx, "edit the item",
		chromedp.WaitVisible("#in-title", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("#in-title").value = ""`, nil),
		chromedp.SendKeys("#in-title", "First post, edited", chromedp.ByQuery),
		chromedp.Evaluate(`(function(){var b=document.querySelector("#in-body");b.focus();b.setSelectionRange(b.value.length,b.value.length)})()`, nil),
		chromedp.SendKeys("#in-body", "\n\nA second paragraph.", chromedp.ByQuery),
		chromedp.Click(`.editor-side button[value="save"]`, chromedp.ByQuery),
		waitFor(`document.querySelector("h1") && document.querySelector("h1").textContent.indexOf("First post, edited") >= 0`),
		chromedp.Click(`.editor-side button[value="to:published"]`, chromedp.ByQuery),
		chromedp.WaitVisible(".status-line .badge.published", chromedp.ByQuery),
		flashSays("Published."),
	)

	// The versions, a diff, and restoring the first version.
	browse(t, ctx, "versions",
		chromedp.Click(`.crumbs a[href$="/versions"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action$="/versions/1/restore"]`, chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "versions")
	screenshots(t, ctx, "tenant-versions")
	browse(t, ctx, "diff",
		chromedp.SetValue("#from", "1", chromedp.ByQuery),
		chromedp.SetValue("#to", "2", chromedp.ByQuery),
		chromedp.Click(`.compare-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("table.diff pre.linediff", chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "diff")
	screenshots(t, ctx, "tenant-diff")
	browse(t, ctx, "restore version 1",
		chromedp.Navigate(strings.Replace(currentURL(t, ctx), "/diff", "/versions", 1)),
		chromedp.WaitVisible(`form[action$="/versions/1/restore"]`, chromedp.ByQuery),
		chromedp.Click(`form[action$="/versions/1/restore"] button`, chromedp.ByQuery),
		flashSays("Version 1 restored"),
	)
	var title string
	browse(t, ctx, "restored title", chromedp.Evaluate(`document.querySelector("#in-title").value`, &title))
	if title != "First post" {
		t.Errorf("title after restoring version 1: %q", title)
	}

	// The list, with its search.
	browse(t, ctx, "content list",
		chromedp.Navigate(s.adminURL("default", "/admin/content/articles")),
		chromedp.WaitVisible("table.items", chromedp.ByQuery),
	)
	var list string
	browse(t, ctx, "list text", chromedp.Text("table.items", &list, chromedp.ByQuery))
	if !strings.Contains(list, "First post") || !strings.Contains(list, "published") {
		t.Errorf("list: %q", list)
	}
	checkAccessible(t, ctx, "content list")
	screenshots(t, ctx, "tenant-content-list")

	// Search as you type (htmx swaps the results in place).
	browse(t, ctx, "search as you type",
		chromedp.SendKeys("#q", "first", chromedp.ByQuery),
		waitFor(`document.querySelector("#results [role=status]").textContent.indexOf("for “first”") >= 0`),
		chromedp.WaitVisible(`#results table.items`, chromedp.ByQuery),
	)

	// The overview, then the trash: move the item there and back.
	browse(t, ctx, "overview",
		chromedp.Navigate(s.adminURL("default", "/admin/content")),
		chromedp.WaitVisible(`a[href="/admin/content/articles"]`, chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "content overview")
	browse(t, ctx, "move to trash",
		chromedp.Navigate(s.adminURL("default", "/admin/content/articles")),
		chromedp.WaitVisible("table.items tbody a", chromedp.ByQuery),
		chromedp.Click("table.items tbody a", chromedp.ByQuery),
		chromedp.WaitVisible(".delete-form button", chromedp.ByQuery),
		// The Markdown preview loads after the page and moves what is
		// below it: click once it is there.
		chromedp.WaitVisible("#preview-in-body h1", chromedp.ByQuery),
		chromedp.Click(".delete-form button", chromedp.ByQuery),
		flashSays("moved to the trash"),
		chromedp.Navigate(s.adminURL("default", "/admin/trash")),
		chromedp.WaitVisible(`form[action$="/restore"] button`, chromedp.ByQuery),
	)
	checkAccessible(t, ctx, "trash")
	screenshots(t, ctx, "tenant-trash")
	browse(t, ctx, "restore from the trash",
		chromedp.Click(`form[action$="/restore"] button`, chromedp.ByQuery),
		flashSays("Restored from the trash."),
		chromedp.WaitVisible("#in-title", chromedp.ByQuery),
	)
}

func currentURL(t *testing.T, ctx context.Context) string {
	t.Helper()
	var loc string
	browse(t, ctx, "location", chromedp.Location(&loc))
	return loc
}
