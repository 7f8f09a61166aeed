package cms

// Checking item data against a schema. Validate runs on every write, so
// what is stored is always valid and normalized: rich text is sanitised
// here, once, so that reads stay cheap and never need the schema.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
)

// FieldErrors names what is wrong with each bad field, by path: "title",
// "address.city", "tags[2]", "gallery[0].caption".
type FieldErrors map[string]string

// Resolver answers the questions validation asks of the database.
type Resolver interface {
	// ItemExists reports whether a live item of the named collection has
	// the id. Its errors are internal failures, not invalid data.
	ItemExists(ctx context.Context, collection, id string) (bool, error)
	// MediaExists reports whether a media file has the id. Its errors are
	// internal failures, not invalid data.
	MediaExists(ctx context.Context, id string) (bool, error)
}

// ugc sanitises rich text. A bluemonday policy is safe for concurrent use
// once built, and this one is never changed after.
var ugc = bluemonday.UGCPolicy()

// Value formats.
var (
	colorPattern = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
	slugPattern  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// Value limits.
const (
	// maxSafeInteger is the largest integer every JSON reader (JavaScript
	// included) holds exactly: 2^53.
	maxSafeInteger = 1 << 53
	// maxID bounds a reference or media id.
	maxID = 200
	// datetimeLayout is how datetimes are stored: UTC with milliseconds,
	// fixed width, as JavaScript's toISOString writes them, so that they
	// sort as text in the order of time (json_extract filters, sorts and
	// indexes compare them as text).
	datetimeLayout = "2006-01-02T15:04:05.000Z"
)

// Validate checks data against the schema and returns its normalized copy,
// or every problem found by field path. The error is for Resolver
// failures only; invalid data is reported in FieldErrors, never as an
// error.
//
// data is as encoding/json decodes it (numbers as float64 or, with
// UseNumber, json.Number). The copy returned:
//   - leaves out absent fields and fills in their default. Null counts as
//     absent, and so does an empty string for a required field or for a
//     single-value field that is not plain text (email, url, date, select,
//     reference, number, boolean, ...), as forms send them;
//   - sanitises richtext with bluemonday's UGC policy (scripts, event
//     handlers and javascript: links removed); markdown is kept as text,
//     and whoever renders it to HTML sanitises that;
//   - keeps strings exactly as given, not trimmed; lengths count
//     characters, not bytes;
//   - holds integers as int64 (within ±2^53), numbers as float64,
//     datetimes in UTC as 2006-01-02T15:04:05.000Z, colors lower-case.
//
// Unknown fields are refused, at the top level and inside objects.
// References and media are checked through r; a nil r skips those
// existence checks (their shape is still checked).
func (s *Schema) Validate(ctx context.Context, data map[string]any, r Resolver) (map[string]any, FieldErrors, error) {
	v := &validator{ctx: ctx, r: r, errs: FieldErrors{}, depth: 1}
	var fields []*Field
	if s != nil {
		fields = s.Fields
	}
	out := v.object("", fields, data)
	if v.err != nil {
		return nil, nil, v.err
	}
	if len(v.errs) > 0 {
		return nil, v.errs, nil
	}
	return out, nil, nil
}

// Render prepares stored data for output. Stored data was validated and
// sanitised when written, so there is nothing left to do: it returns data
// as is.
func (s *Schema) Render(data map[string]any) map[string]any { return data }

// validator holds one run of Validate (or the check of a default).
type validator struct {
	ctx    context.Context
	r      Resolver // nil: existence is not asked
	errs   FieldErrors
	err    error           // the first Resolver failure; stops the checks
	exists map[string]bool // Resolver answers, so each id is asked once
	depth  int             // the nesting level of the value being checked; data is 1
}

// fail records the first problem of a path.
func (v *validator) fail(path, format string, args ...any) {
	if _, ok := v.errs[path]; !ok {
		v.errs[path] = fmt.Sprintf(format, args...)
	}
}

// object checks the members of an object against fields.
func (v *validator) object(path string, fields []*Field, data map[string]any) map[string]any {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		p := joinPath(path, f.Name)
		val, present := data[f.Name]
		if present && isAbsent(f, val) {
			present = false
		}
		if !present && f.Default != nil {
			val, present = f.Default, true
		}
		if !present {
			if f.Required {
				v.fail(p, "required")
			}
			continue
		}
		if norm, ok := v.value(p, f, val); ok {
			out[f.Name] = norm
		}
	}
	for _, k := range sortedNames(data) {
		if findField(fields, k) == nil {
			v.fail(joinPath(path, clipName(k)), "unknown field")
		}
	}
	return out
}

// isAbsent reports whether a member counts as left out.
func isAbsent(f *Field, val any) bool {
	if val == nil {
		return true
	}
	s, ok := val.(string)
	return ok && s == "" && (f.Required || f.Scalar() && !plainText(f.Type))
}

// plainText reports whether an empty string is a value of typ.
func plainText(typ string) bool {
	switch typ {
	case TypeString, TypeTextarea, TypeRichtext, TypeMarkdown:
		return true
	}
	return false
}

// value checks one value against its field and returns it normalized; ok
// is false when it was refused.
func (v *validator) value(path string, f *Field, val any) (any, bool) {
	if v.err != nil {
		return nil, false
	}
	switch f.Type {
	case TypeString, TypeTextarea, TypeMarkdown, TypeRichtext, TypeEmail, TypeURL, TypeSlug:
		s, ok := v.str(path, val)
		if !ok {
			return nil, false
		}
		if f.Type == TypeRichtext {
			s = ugc.Sanitize(s)
		}
		if msg := textFormat(f.Type, s); msg != "" {
			v.fail(path, "%s", msg)
			return nil, false
		}
		return s, v.text(path, f, s)
	case TypeColor:
		s, ok := v.str(path, val)
		if ok && !colorPattern.MatchString(s) {
			v.fail(path, "must be a color: #rgb or #rrggbb")
			ok = false
		}
		return strings.ToLower(s), ok
	case TypeDate:
		s, ok := v.str(path, val)
		if !ok {
			return nil, false
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil || len(s) != len(time.DateOnly) {
			v.fail(path, "must be a date: YYYY-MM-DD")
			return nil, false
		}
		return s, true
	case TypeDatetime:
		s, ok := v.str(path, val)
		if !ok {
			return nil, false
		}
		t, err := time.Parse(time.RFC3339, s)
		if err == nil {
			t = t.UTC()
		}
		if err != nil || t.Year() < 0 || t.Year() > 9999 {
			v.fail(path, "must be an RFC 3339 date and time with a time zone, like 2024-05-01T12:00:00Z")
			return nil, false
		}
		return t.Format(datetimeLayout), true
	case TypeNumber:
		x, ok := toFloat(val)
		if !ok {
			v.fail(path, "must be a number")
			return nil, false
		}
		return x, v.bounds(path, f, x)
	case TypeInteger:
		i, msg := toInteger(val)
		if msg != "" {
			v.fail(path, "%s", msg)
			return nil, false
		}
		return i, v.bounds(path, f, float64(i))
	case TypeBoolean:
		b, ok := val.(bool)
		if !ok {
			v.fail(path, "must be true or false")
		}
		return b, ok
	case TypeSelect, TypeRadio:
		s, ok := v.str(path, val)
		if ok && !slices.Contains(f.Options, s) {
			v.fail(path, "not one of: %s", optionList(f.Options))
			ok = false
		}
		return s, ok
	case TypeMultiselect:
		v.depth++
		defer func() { v.depth-- }()
		return v.multiselect(path, f, val)
	case TypeReference, TypeMedia, TypeFile:
		id, ok := v.str(path, val)
		if !ok {
			return nil, false
		}
		if id == "" || len(id) > maxID {
			v.fail(path, "must be an id of 1 to %d bytes", maxID)
			return nil, false
		}
		return id, v.exist(path, f, id)
	case TypeArray:
		v.depth++
		defer func() { v.depth-- }()
		return v.array(path, f, val)
	case TypeObject:
		m, ok := val.(map[string]any)
		if !ok {
			v.fail(path, "must be an object")
			return nil, false
		}
		v.depth++
		defer func() { v.depth-- }()
		return v.object(path, f.Fields, m), true
	case TypeJSON:
		return v.anyJSON(path, nil, val)
	}
	v.fail(path, "has an unknown type %s", quote(f.Type))
	return nil, false
}

// str checks that val is a string of valid UTF-8.
func (v *validator) str(path string, val any) (string, bool) {
	s, ok := val.(string)
	switch {
	case !ok:
		v.fail(path, "must be a string")
	case !utf8.ValidString(s):
		v.fail(path, "must be valid UTF-8")
		ok = false
	}
	return s, ok
}

// textFormat checks the format of the text types that have one.
func textFormat(typ, s string) string {
	switch typ {
	case TypeEmail:
		if !validEmail(s) {
			return "must be an email address, like name@example.com"
		}
	case TypeURL:
		if !validURL(s) {
			return "must be an absolute http or https URL"
		}
	case TypeSlug:
		if !slugPattern.MatchString(s) {
			return "must be lower-case letters and digits with single dashes between them"
		}
	}
	return ""
}

// text checks the length, pattern and options of a string.
func (v *validator) text(path string, f *Field, s string) bool {
	n := utf8.RuneCountInString(s)
	switch {
	case f.MinLength != nil && n < *f.MinLength:
		v.fail(path, "must be at least %d characters", *f.MinLength)
	case f.MaxLength != nil && n > *f.MaxLength:
		v.fail(path, "must be at most %d characters", *f.MaxLength)
	case !matches(f, s):
		v.fail(path, "must match the pattern %s", f.Pattern)
	case len(f.Options) > 0 && !slices.Contains(f.Options, s):
		v.fail(path, "not one of: %s", optionList(f.Options))
	default:
		return true
	}
	return false
}

// matches reports whether s contains a match of the field's pattern (as in
// JSON Schema, the pattern is not anchored: use ^ and $ for that).
func matches(f *Field, s string) bool {
	if f.Pattern == "" {
		return true
	}
	re := f.pattern
	if re == nil { // a Field built in code rather than by ParseSchema
		var err error
		if re, err = regexp.Compile(f.Pattern); err != nil {
			return false
		}
	}
	return re.MatchString(s)
}

// bounds checks a number against minimum and maximum.
func (v *validator) bounds(path string, f *Field, x float64) bool {
	switch {
	case f.Minimum != nil && x < *f.Minimum:
		v.fail(path, "must be at least %s", formatNumber(*f.Minimum))
	case f.Maximum != nil && x > *f.Maximum:
		v.fail(path, "must be at most %s", formatNumber(*f.Maximum))
	default:
		return true
	}
	return false
}

// count checks the length of a list against minItems and maxItems.
func (v *validator) count(path string, f *Field, n int) bool {
	switch {
	case f.MinItems != nil && n < *f.MinItems:
		v.fail(path, "must have at least %d items", *f.MinItems)
	case f.MaxItems != nil && n > *f.MaxItems:
		v.fail(path, "must have at most %d items", *f.MaxItems)
	default:
		return true
	}
	return false
}

// multiselect checks a list of distinct options.
func (v *validator) multiselect(path string, f *Field, val any) (any, bool) {
	list, ok := toList(val)
	if !ok {
		v.fail(path, "must be an array of options")
		return nil, false
	}
	ok = v.count(path, f, len(list))
	out := make([]any, 0, len(list))
	seen := map[string]int{}
	for i, item := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, isStr := v.str(p, item)
		switch {
		case !isStr:
			ok = false
		case !slices.Contains(f.Options, s):
			v.fail(p, "not one of: %s", optionList(f.Options))
			ok = false
		default:
			if j, dup := seen[s]; dup {
				v.fail(p, "chosen twice (also at [%d])", j)
				ok = false
			}
			seen[s] = i
		}
		out = append(out, s)
	}
	return out, ok
}

// array checks a list against its item definition.
func (v *validator) array(path string, f *Field, val any) (any, bool) {
	list, ok := toList(val)
	if !ok {
		v.fail(path, "must be an array")
		return nil, false
	}
	ok = v.count(path, f, len(list))
	out := make([]any, 0, len(list))
	seen := map[string]int{}
	for i, item := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		if f.Items == nil {
			v.fail(path, "has no item definition")
			return nil, false
		}
		norm, good := v.value(p, f.Items, item)
		if !good {
			ok = false
			continue
		}
		if f.UniqueItems {
			key, _ := json.Marshal(norm) // object keys sorted: equal values, equal text
			if j, dup := seen[string(key)]; dup {
				v.fail(p, "equal to item [%d]: items must be distinct", j)
				ok = false
			}
			seen[string(key)] = i
		}
		out = append(out, norm)
	}
	return out, ok
}

// exist asks the Resolver whether a referenced item or media file exists.
func (v *validator) exist(path string, f *Field, id string) bool {
	if v.r == nil {
		return true
	}
	key := "media\x00" + id // media and file fields share the library
	if f.Type == TypeReference {
		key = "item\x00" + f.Collection + "\x00" + id
	}
	found, asked := v.exists[key]
	if !asked {
		var err error
		if f.Type == TypeReference {
			found, err = v.r.ItemExists(v.ctx, f.Collection, id)
		} else {
			found, err = v.r.MediaExists(v.ctx, id)
		}
		if err != nil {
			v.err = fmt.Errorf("check %s %s: %w", f.Type, path, err)
			return false
		}
		if v.exists == nil {
			v.exists = map[string]bool{}
		}
		v.exists[key] = found
	}
	if !found {
		if f.Type == TypeReference {
			v.fail(path, "no item %s in collection %s", quote(id), f.Collection)
		} else {
			v.fail(path, "no media file %s", quote(id))
		}
	}
	return found
}

// jsonPath is where anyJSON is inside a json field's value: a chain from
// the innermost member or index up to the field. The path's text is made
// only when a problem is reported, so checking deeply nested values costs
// time and memory linear in their size.
type jsonPath struct {
	up    *jsonPath
	name  string // a member's name; "" for an array index
	index int
}

// String writes the path below field: "extra.a[2].b".
func (p *jsonPath) String(field string) string {
	var parts []*jsonPath
	for q := p; q != nil; q = q.up {
		parts = append(parts, q)
	}
	var b strings.Builder
	b.WriteString(field)
	for i := len(parts) - 1; i >= 0; i-- {
		if q := parts[i]; q.name != "" || q.index < 0 {
			b.WriteString("." + q.name)
		} else {
			b.WriteString("[" + strconv.Itoa(q.index) + "]")
		}
	}
	return b.String()
}

// anyJSON checks that val is something JSON can hold, nested at most
// MaxDataDepth levels in the data, and returns a deep copy, so that stored
// data never shares a map with a schema default. field is the json
// field's path, at the position within its value.
func (v *validator) anyJSON(field string, at *jsonPath, val any) (any, bool) {
	switch x := val.(type) {
	case nil, bool:
		return x, true
	case string:
		if !utf8.ValidString(x) {
			v.fail(at.String(field), "must be valid UTF-8")
			return nil, false
		}
		return x, true
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err != nil || !json.Valid([]byte(x)) || math.IsInf(f, 0) {
			v.fail(at.String(field), "must be a finite number")
			return nil, false
		}
		return x, true
	case []any, map[string]any:
		if v.depth >= MaxDataDepth {
			// Named by the field, not the position: the position's path
			// is as long as the nesting.
			v.fail(field, "nested more than %d levels deep", MaxDataDepth)
			return nil, false
		}
		v.depth++
		defer func() { v.depth-- }()
	}
	switch x := val.(type) {
	case []any:
		out := make([]any, len(x))
		ok := true
		for i, item := range x {
			var good bool
			out[i], good = v.anyJSON(field, &jsonPath{up: at, index: i}, item)
			ok = ok && good
		}
		return out, ok
	case map[string]any:
		out := make(map[string]any, len(x))
		ok := true
		for k, item := range x {
			var good bool
			out[k], good = v.anyJSON(field, &jsonPath{up: at, name: clipName(k), index: -1}, item)
			ok = ok && good
		}
		return out, ok
	}
	if f, ok := toFloat(val); ok {
		return f, true
	}
	v.fail(at.String(field), "must be a JSON value")
	return nil, false
}

// toFloat converts a finite number of any of the types a decoder or a Go
// caller uses.
func toFloat(val any) (float64, bool) {
	var f float64
	switch n := val.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(string(n), 64); err != nil || !json.Valid([]byte(n)) {
			return 0, false
		}
	case int:
		f = float64(n)
	case int8:
		f = float64(n)
	case int16:
		f = float64(n)
	case int32:
		f = float64(n)
	case int64:
		f = float64(n)
	case uint:
		f = float64(n)
	case uint8:
		f = float64(n)
	case uint16:
		f = float64(n)
	case uint32:
		f = float64(n)
	case uint64:
		f = float64(n)
	default:
		return 0, false
	}
	return f, !math.IsInf(f, 0) && !math.IsNaN(f)
}

// toInteger converts a whole number within ±2^53, or says what is wrong.
func toInteger(val any) (int64, string) {
	if n, ok := val.(json.Number); ok {
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			if i < -maxSafeInteger || i > maxSafeInteger {
				return 0, "must be an integer from -2^53 to 2^53"
			}
			return i, ""
		}
	}
	f, ok := toFloat(val)
	switch {
	case !ok:
		return 0, "must be an integer"
	case f != math.Trunc(f):
		return 0, "must be an integer, not a fraction"
	case f < -maxSafeInteger || f > maxSafeInteger:
		return 0, "must be an integer from -2^53 to 2^53"
	}
	return int64(f), ""
}

// toList accepts the lists a decoder or a Go caller uses.
func toList(val any) ([]any, bool) {
	switch l := val.(type) {
	case []any:
		return l, true
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// validEmail accepts one bare address with a dotted domain: not a display
// name, not a list.
func validEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// validURL accepts an absolute http or https URL with a host and no spaces
// or control characters.
func validURL(s string) bool {
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Hostname() == "" {
		return false
	}
	return strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")
}

// optionList lists options for a message, the first ten of them.
func optionList(opts []string) string {
	if len(opts) > 10 {
		return strings.Join(opts[:10], ", ") + fmt.Sprintf(", ... (%d in all)", len(opts))
	}
	return strings.Join(opts, ", ")
}

// formatNumber writes a bound without an exponent or trailing zeros.
func formatNumber(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// clipName shortens an unknown member's name for an error's path.
func clipName(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64]) + "…"
	}
	return s
}
