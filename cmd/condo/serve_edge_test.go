package main

import (
	"strings"
	"testing"
)

func TestServerCORS(t *testing.T) {
	p, err := serverCORS(" https://App.example.com , http://localhost:3000,")
	if err != nil || len(p.AllowedOrigins) != 2 || p.AllowedOrigins[0] != "https://app.example.com" || p.AllowedOrigins[1] != "http://localhost:3000" {
		t.Fatalf("serverCORS = %+v, %v", p, err)
	}
	if p, err := serverCORS(""); p != nil || err != nil {
		t.Fatalf("empty: %+v, %v", p, err)
	}
	for _, bad := range []string{"app.example.com", "https://app.example.com/path", "ftp://x"} {
		if _, err := serverCORS(bad); err == nil {
			t.Errorf("serverCORS(%q) accepted", bad)
		}
	}
}

// serve refuses edge settings it cannot apply before it opens anything.
func TestServe_BadEdgeSettings(t *testing.T) {
	for _, args := range [][]string{
		{"--cors-origins", "https://app.example.com/path"},
		{"--cors-origins", "*,ftp://x"},
		{"--body-timeout", "0s"},
		{"--upload-timeout", "-1m"},
	} {
		code, _, errOut := run(t, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)...)
		if code != 2 || strings.Count(errOut, "\n") != 1 {
			t.Errorf("serve %v: exit %d, stderr %q; want 2 and one line", args, code, errOut)
		}
	}
}
