package plugins

import (
	"encoding/json"
	"math"
)

// Settings are a tenant's settings of one plugin, as its schema
// normalized them (integers are int64, numbers float64). The accessors
// take a fallback for a key left out, as settings stored before a schema
// gained a default are.
type Settings map[string]any

// String returns the string at key, or def.
func (s Settings) String(key, def string) string {
	if v, ok := s[key].(string); ok && v != "" {
		return v
	}
	return def
}

// Int returns the number at key as an int, or def.
func (s Settings) Int(key string, def int) int {
	switch v := s[key].(type) {
	case int64:
		return int(v)
	case float64:
		if !math.IsNaN(v) {
			return int(v)
		}
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return int(n)
		}
	}
	return def
}

// Strings returns the list of strings at key, or def.
func (s Settings) Strings(key string, def []string) []string {
	l, ok := s[key].([]any)
	if !ok {
		return def
	}
	out := make([]string, 0, len(l))
	for _, v := range l {
		if str, ok := v.(string); ok {
			out = append(out, str)
		}
	}
	return out
}

// Objects returns the list of objects at key.
func (s Settings) Objects(key string) []Settings {
	l, _ := s[key].([]any)
	out := make([]Settings, 0, len(l))
	for _, v := range l {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
