package hrana

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/condohq/condo"
)

// Value is one SQL value on the wire: V is nil, int64, float64, string or
// []byte. Integers travel as decimal strings and blobs as base64 without
// padding (padded accepted), as the clients expect.
type Value struct {
	V any
}

// MarshalJSON writes {"type":"null"}, {"type":"integer","value":"42"},
// {"type":"float","value":1.5}, {"type":"text","value":"..."} or
// {"type":"blob","base64":"AQID"}. A float JSON cannot carry (±Inf, which
// SQLite can compute) goes out as null: a JSON number like 1e999 would fail
// the Go client's decoding of the whole response.
func (v Value) MarshalJSON() ([]byte, error) {
	return v.appendJSON(make([]byte, 0, 32))
}

func (v Value) appendJSON(b []byte) ([]byte, error) {
	switch x := v.V.(type) {
	case nil:
		return append(b, `{"type":"null"}`...), nil
	case int64:
		b = append(b, `{"type":"integer","value":"`...)
		b = strconv.AppendInt(b, x, 10)
		return append(b, `"}`...), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return append(b, `{"type":"null"}`...), nil
		}
		b = append(b, `{"type":"float","value":`...)
		b = strconv.AppendFloat(b, x, 'g', -1, 64)
		return append(b, '}'), nil
	case string:
		s, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		b = append(b, `{"type":"text","value":`...)
		b = append(b, s...)
		return append(b, '}'), nil
	case []byte:
		b = append(b, `{"type":"blob","base64":"`...)
		b = base64.RawStdEncoding.AppendEncode(b, x)
		return append(b, `"}`...), nil
	default:
		return nil, fmt.Errorf("hrana: value of type %T", v.V)
	}
}

// wireValue is a Value as it arrives.
type wireValue struct {
	Type   string          `json:"type"`
	Value  json.RawMessage `json:"value"`
	Base64 *string         `json:"base64"`
}

// UnmarshalJSON reads what MarshalJSON writes, and also an integer sent as
// a JSON number, and base64 with or without padding, standard or URL-safe.
func (v *Value) UnmarshalJSON(data []byte) error {
	var w wireValue
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	switch w.Type {
	case "null":
		v.V = nil
	case "integer":
		n, err := parseInteger(w.Value)
		if err != nil {
			return err
		}
		v.V = n
	case "float":
		f, err := parseFloat(w.Value)
		if err != nil {
			return err
		}
		v.V = f
	case "text":
		var s string
		if len(w.Value) == 0 || json.Unmarshal(w.Value, &s) != nil || bytes.Equal(w.Value, []byte("null")) {
			return errors.New("hrana: a text value needs a string value")
		}
		v.V = s
	case "blob":
		if w.Base64 == nil {
			return errors.New("hrana: a blob value needs base64")
		}
		b, err := decodeBase64(*w.Base64)
		if err != nil {
			return err
		}
		v.V = b
	default:
		return fmt.Errorf("hrana: unknown value type %q", w.Type)
	}
	return nil
}

// parseInteger reads an integer value: a decimal string, as the clients
// send it, or a JSON number without a fraction.
func parseInteger(raw json.RawMessage) (int64, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || len(raw) == 0 || raw[0] != '"' {
		s = string(raw)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("hrana: integer value %s is not a 64-bit integer", condo.Clip(string(raw)))
	}
	return n, nil
}

// parseFloat reads a float value: a JSON number (a numeric string too).
func parseFloat(raw json.RawMessage) (float64, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil && len(raw) > 0 && raw[0] != 'n' {
		return f, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("hrana: float value %s is not a number", condo.Clip(string(raw)))
}

// decodeBase64 accepts standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return nil, errors.New("hrana: blob value is not base64")
}
