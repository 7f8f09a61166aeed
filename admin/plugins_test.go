package admin_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/condohq/condo/api"
	"github.com/condohq/condo/api/apitest"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/plans"
)

// pluginOf is a tenant's plugin as GET /api/plugins/:name says.
func pluginOf(t *testing.T, env *apitest.Env, tenant, name string) (enabled bool, settings map[string]any) {
	t.Helper()
	res := env.Call(t, tenant, "GET", "/api/plugins/"+name, env.AdminToken(t, tenant), "")
	apitest.WantStatus(t, res, 200, "")
	s, _ := res.Data["settings"].(map[string]any)
	return res.Data["enabled"] == true, s
}

func TestAdminPlugins_EnableAndDisable(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	p := b.get("/admin/plugins")
	for _, name := range []string{"reading-time", "seo", "forms"} {
		if !strings.Contains(p.Body, `id="plugin-`+name+`"`) {
			t.Errorf("plugins page does not list %s", name)
		}
	}
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "free") {
		t.Fatalf("plugins page: %d, want the plan named: %s", p.Status, p.Body)
	}
	if p := b.post("/admin/plugins/reading-time/enable", url.Values{}); p.Status != http.StatusSeeOther || p.Location != "/admin/plugins" {
		t.Fatalf("enable: %d %q", p.Status, p.Location)
	}
	if on, _ := pluginOf(t, env, "tenant-a", "reading-time"); !on {
		t.Fatal("reading-time is not enabled on tenant-a")
	}
	if on, _ := pluginOf(t, env, "tenant-b", "reading-time"); on {
		t.Fatal("enabling on tenant-a enabled it on tenant-b")
	}
	if p := b.get("/admin/plugins"); !strings.Contains(p.Body, "Plugin reading-time enabled.") || !strings.Contains(p.Body, `aria-label="Disable reading-time"`) {
		t.Fatalf("after enabling: %s", p.Body)
	}
	b.post("/admin/plugins/reading-time/disable", url.Values{})
	if on, _ := pluginOf(t, env, "tenant-a", "reading-time"); on {
		t.Fatal("reading-time is still enabled")
	}
	if p := b.post("/admin/plugins/no-such/enable", url.Values{}); p.Status != http.StatusNotFound {
		t.Fatalf("unknown plugin: %d", p.Status)
	}
}

func TestAdminPlugins_SettingsForm(t *testing.T) {
	env := newEnv(t)
	b := signedIn(t, env, "tenant-a")
	p := b.get("/admin/plugins/reading-time")
	for _, want := range []string{`name="s.words_per_minute"`, `type="number"`, `min="50"`, `max="2000"`, `value="200"`, `name="s.source_fields"`, `name="s.word_count_field"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the form has no %s", want)
		}
	}
	// The API's message goes beside the field.
	p = b.post("/admin/plugins/reading-time", url.Values{"enabled": {"true"}, "s.words_per_minute": {"10"}, "s.source_fields": {"body\nsummary"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-setting-words_per_minute"`) || !strings.Contains(p.Body, `aria-invalid="true"`) {
		t.Fatalf("too few words per minute: %d %s", p.Status, p.Body)
	}
	if !strings.Contains(p.Body, "body\nsummary") {
		t.Error("the refused form lost what was typed")
	}
	if on, _ := pluginOf(t, env, "tenant-a", "reading-time"); on {
		t.Fatal("a refused form enabled the plugin")
	}
	p = b.post("/admin/plugins/reading-time", url.Values{"enabled": {"true"}, "s.words_per_minute": {"250"}, "s.source_fields": {"body\nsummary"}, "s.word_count_field": {"words"}})
	if p.Status != http.StatusSeeOther || p.Location != "/admin/plugins/reading-time" {
		t.Fatalf("save: %d %q %s", p.Status, p.Location, p.Body)
	}
	on, s := pluginOf(t, env, "tenant-a", "reading-time")
	got, _ := json.Marshal(s)
	var want map[string]any
	json.Unmarshal([]byte(`{"words_per_minute": 250, "source_fields": ["body", "summary"], "word_count_field": "words", "reading_time_field": "reading_time"}`), &want)
	wantJSON, _ := json.Marshal(want)
	if !on || string(got) != string(wantJSON) {
		t.Fatalf("settings = %s (enabled %v), want %s", got, on, wantJSON)
	}
	// An array of objects is a row of inputs per item, and an empty row to add one.
	p = b.get("/admin/plugins/forms")
	if !strings.Contains(p.Body, `name="s.forms.0.name"`) || strings.Contains(p.Body, `name="s.forms.1.name"`) {
		t.Fatalf("forms' settings form has no empty row to add a form: %s", p.Body)
	}
	p = b.post("/admin/plugins/forms", url.Values{"s.forms.0.name": {"Contact Us"}, "s.forms.0.collection": {"messages"}})
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="err-setting-forms-0-name"`) || !strings.Contains(p.Body, `value="Contact Us"`) {
		t.Fatalf("a bad form name: %d %s", p.Status, p.Body)
	}
	p = b.post("/admin/plugins/forms", url.Values{"s.forms.0.name": {"contact"}, "s.forms.0.collection": {"messages"},
		"s.forms.1.name": {""}, "s.forms.1.collection": {""}, "s.forms.1.honeypot": {""}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("save forms: %d %s", p.Status, p.Body)
	}
	_, fs := pluginOf(t, env, "tenant-a", "forms")
	got, _ = json.Marshal(fs)
	if string(got) != `{"forms":[{"collection":"messages","honeypot":"website","name":"contact"}]}` {
		t.Fatalf("forms settings = %s", got)
	}
	if p := b.get("/admin/plugins/forms"); !strings.Contains(p.Body, `name="s.forms.1.name"`) || !strings.Contains(p.Body, `value="contact"`) {
		t.Fatalf("the saved form is not shown with a row to add: %s", p.Body)
	}
}

func TestAdminPlugins_CrossTenant(t *testing.T) {
	env := newEnv(t)
	apitest.WantStatus(t, env.Call(t, "tenant-b", "PUT", "/api/plugins/seo", env.AdminToken(t, "tenant-b"), `{"enabled": true, "settings": {"title_max": 99}}`), 200, "")
	b := signedIn(t, env, "tenant-a")
	if p := b.get("/admin/plugins/seo"); strings.Contains(p.Body, `value="99"`) || !strings.Contains(p.Body, `value="60"`) {
		t.Fatalf("tenant-a sees tenant-b's seo settings: %s", p.Body)
	}
	b.post("/admin/plugins/seo/disable", url.Values{})
	if on, _ := pluginOf(t, env, "tenant-b", "seo"); !on {
		t.Fatal("tenant-a disabled tenant-b's plugin")
	}
}

func TestAdminPlugins_PlanGate(t *testing.T) {
	ps, err := plans.Parse([]byte("plans:\n  free:\n    plugins: [reading-time]\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := apitest.NewWithPlans(t, api.Config{IPLoginBurst: 1000}, hrana.Config{}, ps)
	b := signedIn(t, env, "tenant-a")
	p := b.get("/admin/plugins")
	if !strings.Contains(p.Body, `aria-label="Enable reading-time"`) || strings.Contains(p.Body, `aria-label="Enable seo"`) || !strings.Contains(p.Body, "Not in your plan") {
		t.Fatalf("the plan's gate is not shown: %s", p.Body)
	}
	// Posted anyway, the API refuses, and the page says why.
	if p := b.post("/admin/plugins/seo/enable", url.Values{}); p.Status != http.StatusSeeOther {
		t.Fatalf("enable seo: %d", p.Status)
	}
	if p := b.get("/admin/plugins"); !strings.Contains(p.Body, "Could not change seo") {
		t.Fatalf("no refusal shown: %s", p.Body)
	}
	if on, _ := pluginOf(t, env, "tenant-a", "seo"); on {
		t.Fatal("seo was enabled past the plan")
	}
}
