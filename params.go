package condo

import (
	"net/url"
	"strconv"
	"strings"
)

// IntParam reads the integer query parameter name from v: def when it is
// absent or blank, else a whole number in [lo, hi]. Anything else is
// EINVALID with reason invalid_<name>, and a message naming the range.
func IntParam(v url.Values, name string, def, lo, hi int) (int, error) {
	raw := strings.TrimSpace(v.Get(name))
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, ReasonErrorf(EINVALID, "invalid_"+name, "%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}
