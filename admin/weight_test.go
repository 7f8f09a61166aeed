package admin_test

import (
	"io"
	"net/http"
	"regexp"
	"testing"
)

// The budget: the tenant admin's first load under 150 KB on the
// wire (compressed), each later page under 20 KB. Sizes, not timings:
// the same on every machine.
const (
	firstLoadBudget = 150 << 10
	pageBudget      = 20 << 10
)

var assetRef = regexp.MustCompile(`(?:href|src)="(/admin/(?:assets/[^"]+|brand\.css[^"]*))"`)

// wire is the compressed size of path as a browser asking for gzip and
// zstd receives it, and its body's asset references.
func (b *browser) wire(path string) (int, []string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.env.Srv.URL+path, nil)
	req.Host = b.host
	req.Header.Set("Accept-Encoding", "zstd, gzip") // set by hand: the client leaves the body compressed
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	var refs []string
	if res.Header.Get("Content-Encoding") == "" {
		for _, m := range assetRef.FindAllStringSubmatch(string(raw), -1) {
			refs = append(refs, m[1])
		}
	} else {
		plain := b.get(path) // the references, from the uncompressed page
		for _, m := range assetRef.FindAllStringSubmatch(plain.Body, -1) {
			refs = append(refs, m[1])
		}
	}
	return len(raw), refs
}

func TestAdmin_PageWeight(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	cached := map[string]bool{} // assets the browser holds (cached for a year)
	load := func(path string) int {
		n, refs := b.wire(path)
		for _, ref := range refs {
			if !cached[ref] {
				m, _ := b.wire(ref)
				n += m
				cached[ref] = true
			}
		}
		return n
	}
	first := load("/admin")
	t.Logf("first load of /admin: %d bytes on the wire (%d assets)", first, len(cached))
	if first > firstLoadBudget {
		t.Errorf("first load of /admin: %d bytes, over the %d budget", first, firstLoadBudget)
	}
	// Later pages: the page, and the assets of its own it brings the first
	// time (the browser keeps the others).
	for _, p := range []string{"/admin/content", "/admin/collections", "/admin/media", "/admin/users", "/admin/tokens",
		"/admin/webhooks", "/admin/plugins", "/admin/settings", "/admin/audit", "/admin/trash"} {
		n := load(p)
		t.Logf("%s: %d bytes", p, n)
		if n > pageBudget {
			t.Errorf("%s: %d bytes on the wire, over the %d budget for a later page", p, n, pageBudget)
		}
	}
}
