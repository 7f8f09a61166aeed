package cms

// Items written as JSON without encoding/json's reflection, and with their
// stored data passed through: encoding/json validates and compacts every
// json.RawMessage byte by byte (13% of a list's CPU, docs/PERFORMANCE.md),
// where data read from the database is valid JSON already (a CHECK
// json_valid keeps it so) and, written by this package, compact and
// HTML-escaped as encoding/json leaves it. The output is byte for byte
// what json.Marshal writes (TestAppendJSON_MatchesEncodingJSON); anything
// this file does not handle on its fast path goes through json.Marshal.

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends json.Marshal(it) to b.
func (it *Item) AppendJSON(b []byte) ([]byte, error) {
	if it.Included != nil {
		return appendMarshal(b, it)
	}
	b = append(b, `{"id":`...)
	b = appendString(b, it.ID)
	b = append(b, `,"collection":`...)
	b = appendString(b, it.Collection)
	b = append(b, `,"title":`...)
	b = appendString(b, it.Title)
	b = append(b, `,"slug":`...)
	b = appendString(b, it.Slug)
	b = append(b, `,"status":`...)
	b = appendString(b, it.Status)
	b = append(b, `,"data":`...)
	var err error
	if b, err = appendRaw(b, it.Data); err != nil {
		return nil, err
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(it.Version), 10)
	if it.AuthorID != "" {
		b = append(b, `,"author_id":`...)
		b = appendString(b, it.AuthorID)
	}
	for _, t := range []struct {
		name string
		t    *time.Time
	}{{`,"published_at":`, it.PublishedAt}, {`,"publish_at":`, it.PublishAt}, {`,"unpublish_at":`, it.UnpublishAt}, {`,"deleted_at":`, it.DeletedAt}} {
		if t.t != nil {
			b = append(b, t.name...)
			if b, err = appendTime(b, *t.t); err != nil {
				return nil, err
			}
		}
	}
	b = append(b, `,"created_at":`...)
	if b, err = appendTime(b, it.CreatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendTime(b, it.UpdatedAt); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// AppendItemsJSON appends json.Marshal(items) to b.
func AppendItemsJSON(b []byte, items []*Item) ([]byte, error) {
	if items == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if it == nil {
			b = append(b, "null"...)
		} else if b, err = it.AppendJSON(b); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// AppendHitsJSON appends json.Marshal(hits) to b.
func AppendHitsJSON(b []byte, hits []Hit) ([]byte, error) {
	if hits == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, h := range hits {
		if i > 0 {
			b = append(b, ',')
		}
		if h.Item == nil || h.Included != nil || math.IsInf(h.Rank, 0) || math.IsNaN(h.Rank) {
			var err error
			if b, err = appendMarshal(b, h); err != nil {
				return nil, err
			}
			continue
		}
		var err error
		if b, err = h.Item.AppendJSON(b); err != nil {
			return nil, err
		}
		b = append(b[:len(b)-1], `,"snippet":`...) // the item's closing brace
		b = appendString(b, h.Snippet)
		b = append(b, `,"rank":`...)
		b = appendFloat(b, h.Rank)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

func appendMarshal(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// appendString appends s as encoding/json quotes it. Printable ASCII
// without the characters it escapes is copied; anything else goes through
// json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s) // a string always marshals
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendRaw appends stored JSON data as json.Marshal(json.RawMessage)
// would: as it is when it is already compact and escaped as encoding/json
// escapes (no whitespace outside strings; no control characters, <, > or
// &; valid UTF-8 without U+2028 or U+2029), else through json.Marshal,
// which compacts, escapes and validates it.
func appendRaw(b []byte, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || !passable(raw) {
		return appendMarshal(b, raw)
	}
	return append(b, raw...), nil
}

func passable(raw []byte) bool {
	in, ascii := false, true
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c >= 0x80:
			ascii = false
			// U+2028 and U+2029 (E2 80 A8/A9) are escaped by encoding/json.
			if c == 0xe2 && i+2 < len(raw) && raw[i+1] == 0x80 && (raw[i+2] == 0xa8 || raw[i+2] == 0xa9) {
				return false
			}
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			return false
		case in && c == '\\':
			i++ // the escaped character
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return !in && (ascii || utf8.Valid(raw))
}

// appendTime appends t as time.Time's MarshalJSON does.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return appendMarshal(b, t) // reports the error MarshalJSON does
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// appendFloat appends a finite f as encoding/json writes a float64.
func appendFloat(b []byte, f float64) []byte {
	abs, format := math.Abs(f), byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
