package catalog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

func TestCatalog_SetTenantSetting(t *testing.T) {
	ctx := context.Background()
	c := mustOpen(t, t.TempDir(), catalog.Config{})
	mustCreate(t, c, "acme", "acme.example.com")
	settingsOf := func() map[string]any {
		t.Helper()
		tn, err := c.ResolveHost(ctx, "acme.example.com", "") // what the edge reads
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(tn.Settings, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	c.ResolveHost(ctx, "acme.example.com", "") // cached before the change
	if _, err := c.SetTenantSetting(ctx, "acme", "cors", json.RawMessage(`{"allowed_origins": ["https://a.example"]}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetTenantSetting(ctx, "acme", "other", json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	if m := settingsOf(); m["other"] != 1.0 || m["cors"].(map[string]any)["allowed_origins"].([]any)[0] != "https://a.example" {
		t.Fatalf("settings %v", m)
	}
	if _, err := c.SetTenantSetting(ctx, "acme", "cors", json.RawMessage(`null`)); err != nil {
		t.Fatal(err)
	}
	if m := settingsOf(); m["cors"] != nil || m["other"] != 1.0 {
		t.Fatalf("after removing cors: %v", m)
	}
	for _, bad := range []struct {
		id, key, value, code string
	}{
		{"acme", "$.x", `1`, condo.EINVALID},
		{"acme", "cors", `{`, condo.EINVALID},
		{"acme", "cors", `"` + strings.Repeat("x", catalog.MaxTenantSetting) + `"`, condo.EINVALID},
		{"nobody", "cors", `1`, condo.ENOTFOUND},
	} {
		if _, err := c.SetTenantSetting(ctx, bad.id, bad.key, json.RawMessage(bad.value)); condo.ErrorCode(err) != bad.code {
			t.Errorf("SetTenantSetting(%s, %s, %.20s) = %v, want %s", bad.id, bad.key, bad.value, err, bad.code)
		}
	}
}
