package condo

import (
	"net"
	"strings"

	"github.com/google/uuid"
)

// MaxLabel is the longest DNS label, and so the longest tenant id.
const MaxLabel = 63

// ValidateTenantID reports whether id is a DNS label: 1-63 characters of
// lower-case letters, digits and dashes, no dash at either end. A tenant id
// is the only thing that names a tenant's files, so this check stands
// between user input and every path on disk.
func ValidateTenantID(id string) error {
	if !isLabel(id) {
		return ReasonErrorf(EINVALID, "invalid_tenant_id",
			"invalid tenant id %q: use 1-63 lower-case letters, digits and dashes, not starting or ending with a dash", Clip(id))
	}
	return nil
}

// ValidateDomain reports whether d is a lower-case host name of at least two
// labels (for example "blog.example.com"), at most 253 characters, without
// port, scheme, path or trailing dot.
func ValidateDomain(d string) error {
	labels := strings.Split(d, ".")
	ok := len(d) <= 253 && len(labels) >= 2
	for _, l := range labels {
		ok = ok && isLabel(l)
	}
	if !ok {
		return ReasonErrorf(EINVALID, "invalid_domain",
			"invalid domain %q: use a lower-case host name such as blog.example.com", Clip(d))
	}
	return nil
}

// NormalizeHost lower-cases a Host header value and strips its port and
// trailing dot: "Blog.Example.COM.:8080" becomes "blog.example.com".
func NormalizeHost(host string) string {
	host = strings.TrimSpace(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

func isLabel(s string) bool {
	if len(s) == 0 || len(s) > MaxLabel || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Clip shortens user input quoted in an error or a log line, so a huge
// value cannot flood either, and makes it valid UTF-8.
func Clip(s string) string { return ClipTo(s, 80) }

// MaxStoredText is how many bytes of a client-supplied header or field
// (a User-Agent, say) an audit or security event row keeps.
const MaxStoredText = 256

// ClipTo is Clip with a limit of n bytes, for text kept in a row rather
// than quoted in a message.
func ClipTo(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

// NewID returns a new random identifier: a UUIDv7, so ids sort by creation
// time.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// EditDistance is the Levenshtein distance between a and b, in bytes: it
// suggests a near name (a command, a schema keyword) for a mistyped one,
// and those are ASCII.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
