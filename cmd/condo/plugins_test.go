package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPlugins(t *testing.T) {
	data := t.TempDir()
	mustCreateTenant(t, data, "acme")
	mustCreateTenant(t, data, "other")

	code, out, errOut := run(t, "", "plugins", "enable", "acme", "seo", "--settings", `{"title_max": 70}`, "--data", data)
	if code != 0 || !strings.Contains(out, "plugin seo enabled in tenant acme") {
		t.Fatalf("plugins enable: %d %q %s", code, out, errOut)
	}
	// Bad settings: refused, nothing changed; unknown plugins and tenants too.
	for _, args := range [][]string{
		{"plugins", "enable", "acme", "seo", "--settings", `{"title_max": 1}`},
		{"plugins", "enable", "acme", "seo", "--settings", `[1]`},
		{"plugins", "enable", "acme", "nope"},
		{"plugins", "disable", "ghost", "seo"},
		{"plugins", "enable", "acme"},
	} {
		if code, out, _ := run(t, "", append(args, "--data", data)...); code == 0 {
			t.Errorf("%v: exit 0, %q", args, out)
		}
	}
	list := func(id string) map[string]map[string]any {
		t.Helper()
		code, out, errOut := run(t, "", "plugins", "list", id, "--data", data, "--json")
		if code != 0 {
			t.Fatalf("plugins list: %d %s", code, errOut)
		}
		var ps []map[string]any
		if err := json.Unmarshal([]byte(out), &ps); err != nil {
			t.Fatalf("plugins list --json = %q: %v", out, err)
		}
		byName := map[string]map[string]any{}
		for _, p := range ps {
			byName[p["name"].(string)] = p
		}
		return byName
	}
	acme := list("acme")
	if len(acme) != 3 || acme["seo"]["enabled"] != true || acme["seo"]["settings"].(map[string]any)["title_max"] != float64(70) || acme["forms"]["enabled"] != false {
		t.Errorf("acme's plugins: %v", acme)
	}
	if other := list("other"); other["seo"]["enabled"] != false {
		t.Errorf("other's seo enabled by acme's command: %v", other["seo"])
	}
	if code, _, errOut := run(t, "", "plugins", "disable", "acme", "seo", "--data", data); code != 0 {
		t.Fatalf("plugins disable: %d %s", code, errOut)
	}
	if acme := list("acme"); acme["seo"]["enabled"] != false || acme["seo"]["settings"].(map[string]any)["title_max"] != float64(70) {
		t.Errorf("after disable (settings kept): %v", acme["seo"])
	}
}
