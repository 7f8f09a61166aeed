package condo_test

import (
	"strings"
	"testing"

	"github.com/condohq/condo"
)

func TestValidateTenantID(t *testing.T) {
	for _, id := range []string{"a", "acme", "a-b", "0", "x1-2y", strings.Repeat("a", 63)} {
		if err := condo.ValidateTenantID(id); err != nil {
			t.Errorf("ValidateTenantID(%q) = %v, want ok", id, err)
		}
	}
	for _, id := range []string{"", "-a", "a-", "A", "a_b", "a.b", "../x", "a/b", ".", "..", "a b", "é", "a\x00", strings.Repeat("a", 64)} {
		if err := condo.ValidateTenantID(id); condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("ValidateTenantID(%q) = %v, want EINVALID", id, err)
		}
	}
}

func TestNormalizeHost(t *testing.T) {
	for in, want := range map[string]string{
		"Acme.Example.COM":      "acme.example.com",
		"acme.example.com:8080": "acme.example.com",
		"acme.example.com.":     "acme.example.com",
		"ACME.localhost.:443":   "acme.localhost",
		"[::1]:8080":            "::1",
		" x.localhost ":         "x.localhost",
		"":                      "",
	} {
		if got := condo.NormalizeHost(in); got != want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzValidateTenantID(f *testing.F) {
	for _, s := range []string{"acme", "../x", "a/b", ".", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if condo.ValidateTenantID(id) != nil {
			return
		}
		// Whatever passes can name a directory and nothing else.
		if strings.ContainsAny(id, "/\\.\x00 ") || id == "" || len(id) > 63 || strings.ToLower(id) != id {
			t.Fatalf("accepted %q", id)
		}
	})
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"serve", "serve", 0}, {"", "abc", 3}, {"sevre", "serve", 2},
		{"tenant", "tenants", 1}, {"kitten", "sitting", 3},
	} {
		if got := condo.EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
