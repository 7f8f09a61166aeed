package main

import "testing"

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
