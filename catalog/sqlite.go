package catalog

import (
	"strings"
	"unicode/utf8"
)

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }
