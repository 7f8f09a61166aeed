package api

import (
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// clientIP picks the client's address: from header when a trusted proxy
// sets it, else the connection's.
func clientIP(header string) echo.IPExtractor {
	direct := echo.ExtractIPDirect()
	if header == "" {
		return direct
	}
	return func(r *http.Request) string {
		if ip := net.ParseIP(strings.TrimSpace(r.Header.Get(header))); ip != nil {
			return ip.String()
		}
		return direct(r)
	}
}
