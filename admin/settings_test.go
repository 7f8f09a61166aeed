package admin_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/condohq/condo/api/apitest"
)

// branding is a tenant's branding as GET /api/tenant shows anyone.
func branding(t *testing.T, env *apitest.Env, tenant string) map[string]any {
	t.Helper()
	res := env.Call(t, tenant, "GET", "/api/tenant", "", "")
	apitest.WantStatus(t, res, 200, "")
	b, _ := res.Data["branding"].(map[string]any)
	return b
}

func TestAdminSettings_Branding(t *testing.T) {
	env := newEnv(t)
	admin := env.AdminToken(t, "tenant-a")
	apitest.WantStatus(t, env.Call(t, "tenant-a", "PUT", "/api/settings", admin, `{"branding": {"tagline": "kept for the site"}}`), 200, "")
	b := signedIn(t, env, "tenant-a")
	if p := b.get("/admin/settings"); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="branding-form"`) || !strings.Contains(p.Body, `class="brand-preview"`) {
		t.Fatalf("settings page: %d %s", p.Status, p.Body)
	}
	p := b.post("/admin/settings/branding", url.Values{"brand_name": {"Alpha Press"}, "primary_color": {"#B91C1C"}, "accent_color": {"#155e75"}})
	if p.Status != http.StatusSeeOther || p.Location != "/admin/settings" {
		t.Fatalf("save: %d %q %s", p.Status, p.Location, p.Body)
	}
	got := branding(t, env, "tenant-a")
	if got["name"] != "Alpha Press" || got["primary_color"] != "#b91c1c" || got["accent_color"] != "#155e75" || got["tagline"] != "kept for the site" {
		t.Fatalf("branding = %v", got)
	}
	if other := branding(t, env, "tenant-b"); other["primary_color"] != nil {
		t.Fatalf("tenant-b's branding changed: %v", other)
	}
	// The admin wears it: its name in the header, its colours in brand.css.
	page := b.get("/admin/settings")
	if !strings.Contains(page.Body, "Alpha Press") {
		t.Error("the header does not show the brand's name")
	}
	css := b.get("/admin/brand.css")
	if !strings.Contains(css.Body, "--brand:#b91c1c") || !strings.Contains(css.Body, "--accent:#155e75") {
		t.Errorf("brand.css = %s", css.Body)
	}
	if bcss := signedIn(t, env, "tenant-b").get("/admin/brand.css"); strings.Contains(bcss.Body, "#b91c1c") {
		t.Errorf("tenant-b's brand.css has tenant-a's colour: %s", bcss.Body)
	}

	t.Run("NotAColour", func(t *testing.T) {
		p := b.post("/admin/settings/branding", url.Values{"primary_color": {"red;}body{display:none"}, "logo_url": {"javascript:alert(1)"}})
		if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-primary_color"`) || !strings.Contains(p.Body, `id="err-logo_url"`) {
			t.Fatalf("got %d: %s", p.Status, p.Body)
		}
		if got := branding(t, env, "tenant-a"); got["primary_color"] != "#b91c1c" {
			t.Fatalf("a refused form changed the branding: %v", got)
		}
	})
	t.Run("Preview", func(t *testing.T) {
		form := url.Values{"brand_name": {"Preview Name"}, "primary_color": {"#0a7"}, "accent_color": {"nope"}, "_csrf": {b.csrf}}
		req, _ := http.NewRequest("POST", env.Srv.URL+"/admin/settings/preview", strings.NewReader(form.Encode()))
		req.Host = b.host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("HX-Request", "true")
		res, err := b.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(res.Body)
		frag := buf.String()
		if res.StatusCode != 200 || strings.Contains(frag, "<html") || !strings.Contains(frag, "Preview Name") ||
			!strings.Contains(frag, "/admin/brand-preview.css?accent=%230f766e&amp;primary=%230a7") || !strings.Contains(frag, "Not a colour") {
			t.Fatalf("preview fragment: %d %s", res.StatusCode, frag)
		}
		if got := branding(t, env, "tenant-a"); got["name"] != "Alpha Press" {
			t.Fatalf("the preview saved: %v", got)
		}
		css := b.get("/admin/brand-preview.css?primary=%230a7&accent=" + url.QueryEscape("red}body{x:y"))
		if !strings.HasPrefix(css.Body, ".brand-preview{--brand:#0a7;") || strings.Contains(css.Body, "body{") {
			t.Fatalf("preview css = %s", css.Body)
		}
		// Without JavaScript the preview is the whole page.
		if p := b.post("/admin/settings/preview", url.Values{"primary_color": {"#0a7"}}); p.Status != 200 || !strings.Contains(p.Body, `id="branding-form"`) {
			t.Fatalf("preview without htmx: %d", p.Status)
		}
	})
	t.Run("LogoUpload", func(t *testing.T) {
		img := image.NewRGBA(image.Rect(0, 0, 8, 8))
		img.Set(1, 1, color.RGBA{R: 200, A: 255})
		var pic bytes.Buffer
		png.Encode(&pic, img)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("_csrf", b.csrf)
		fw, _ := mw.CreateFormFile("logo", "logo.png")
		fw.Write(pic.Bytes())
		mw.Close()
		p := b.do("POST", "/admin/settings/logo", &body, mw.FormDataContentType())
		if p.Status != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", p.Status, p.Body)
		}
		logo, _ := branding(t, env, "tenant-a")["logo_url"].(string)
		if !strings.HasPrefix(logo, "/media/") {
			t.Fatalf("logo_url = %q", logo)
		}
		if page := b.get("/admin/settings"); !strings.Contains(page.Body, `<img src="`+logo+`" alt="" class="logo">`) || !strings.Contains(page.Body, `<option value="`+logo+`" selected>`) {
			t.Errorf("the admin does not show the logo, or the picker does not offer it: %s", page.Body)
		}
		// The picker starting on the stored logo leaves a typed URL alone;
		// emptied, the URL takes the picked one.
		b.post("/admin/settings/branding", url.Values{"logo_url": {"https://cdn.example.com/logo.svg"}, "logo_pick": {logo}})
		if got := branding(t, env, "tenant-a")["logo_url"]; got != "https://cdn.example.com/logo.svg" {
			t.Errorf("typed logo URL: logo_url = %v", got)
		}
		b.post("/admin/settings/branding", url.Values{"logo_url": {""}, "logo_pick": {logo}})
		if got := branding(t, env, "tenant-a")["logo_url"]; got != logo {
			t.Errorf("picked logo: logo_url = %v, want %s", got, logo)
		}
	})
}

func TestAdminSettings_GeneralAndCORS(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	admin := env.AdminToken(t, "tenant-a")
	p := b.post("/admin/settings/general", url.Values{"general": {`{"locale": "fr"`}, "default_role": {"viewer"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-general"`) {
		t.Fatalf("bad JSON: %d %s", p.Status, p.Body)
	}
	p = b.post("/admin/settings/general", url.Values{"general": {`{"locale": "fr"}`}, "default_role": {"viewer"}, "min_length": {"six"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-min_length"`) {
		t.Fatalf("a length that is no number: %d %s", p.Status, p.Body)
	}
	p = b.post("/admin/settings/general", url.Values{"general": {`{"locale": "fr"}`}, "default_role": {"viewer"}, "min_length": {"4"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `role="alert"`) {
		t.Fatalf("too short a length: %d %s", p.Status, p.Body)
	}
	p = b.post("/admin/settings/general", url.Values{"general": {`{"locale": "fr"}`}, "allow_signup": {"true"}, "default_role": {"author"},
		"min_length": {"12"}, "require_digit": {"true"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	res := env.Call(t, "tenant-a", "GET", "/api/settings", admin, "")
	general, _ := res.Data["general"].(map[string]any)
	auth, _ := res.Data["auth"].(map[string]any)
	policy, _ := auth["password_policy"].(map[string]any)
	if general["locale"] != "fr" || auth["allow_signup"] != true || auth["default_role"] != "author" ||
		policy["min_length"] != 12.0 || policy["require_digit"] != true || policy["require_upper"] != false {
		t.Fatalf("settings = %v", res.Data)
	}

	p = b.post("/admin/settings/cors", url.Values{"cors_custom": {"true"}, "origins": {"not an origin"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-origins"`) {
		t.Fatalf("bad origin: %d %s", p.Status, p.Body)
	}
	p = b.post("/admin/settings/cors", url.Values{"cors_custom": {"true"}, "origins": {"https://www.alpha.example\nhttps://app.alpha.example"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("cors: %d %s", p.Status, p.Body)
	}
	res = env.Call(t, "tenant-a", "GET", "/api/settings", admin, "")
	cors, _ := res.Data["cors"].(map[string]any)
	if origins, _ := cors["allowed_origins"].([]any); len(origins) != 2 || origins[1] != "https://app.alpha.example" {
		t.Fatalf("cors = %v", res.Data["cors"])
	}
	if res := env.Call(t, "tenant-b", "GET", "/api/settings", env.AdminToken(t, "tenant-b"), ""); res.Data["cors"] != nil {
		t.Fatalf("tenant-b's cors changed: %v", res.Data["cors"])
	}
	b.post("/admin/settings/cors", url.Values{"origins": {""}})
	if res := env.Call(t, "tenant-a", "GET", "/api/settings", admin, ""); res.Data["cors"] != nil {
		t.Fatalf("cors after going back to the server's: %v", res.Data["cors"])
	}
}
