package cms

// A collection's field schema: its parsing (ParseSchema), its canonical
// form (MarshalJSON) and the questions other code asks of it. Checking
// item data against it lives in validate.go.
//
// The accepted shape is SonicJS's JSON-Schema-like one, so SonicJS users
// can bring their definitions:
//
//	{"type": "object",
//	 "properties": {"title": {"type": "string", "required": true, "maxLength": 120},
//	                "price": {"type": "number", "minimum": 0}},
//	 "required": ["title"]}

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/condohq/condo"
)

// Field types, by canonical name. ParseSchema also accepts the aliases in
// typeAliases and always stores the canonical name in Field.Type.
const (
	TypeString      = "string"      // one line of plain text
	TypeTextarea    = "textarea"    // plain text, several lines
	TypeRichtext    = "richtext"    // HTML, sanitised on write
	TypeMarkdown    = "markdown"    // Markdown, kept as text
	TypeNumber      = "number"      // any finite number
	TypeInteger     = "integer"     // a whole number within ±2^53
	TypeBoolean     = "boolean"     // true or false
	TypeDate        = "date"        // YYYY-MM-DD
	TypeDatetime    = "datetime"    // RFC 3339, stored in UTC
	TypeEmail       = "email"       // one bare address
	TypeURL         = "url"         // absolute http or https URL
	TypeColor       = "color"       // #rgb or #rrggbb, stored lower-case
	TypeSelect      = "select"      // one of Options
	TypeRadio       = "radio"       // one of Options
	TypeMultiselect = "multiselect" // distinct values of Options
	TypeSlug        = "slug"        // lower-case letters and digits, single dashes
	TypeReference   = "reference"   // the id of an item of Collection
	TypeMedia       = "media"       // the id of a media file
	TypeFile        = "file"        // the id of a media file
	TypeArray       = "array"       // a list of Items
	TypeObject      = "object"      // nested Fields
	TypeJSON        = "json"        // any JSON value
)

// typeAliases maps every accepted type name, lower-cased, to its canonical
// name: the canonical names themselves, SonicJS's editor names and common
// spellings.
var typeAliases = map[string]string{
	"string": TypeString, "text": TypeString,
	"textarea": TypeTextarea,
	"richtext": TypeRichtext, "rich_text": TypeRichtext, "html": TypeRichtext, "quill": TypeRichtext, "tinymce": TypeRichtext,
	"markdown": TypeMarkdown, "md": TypeMarkdown, "mdxeditor": TypeMarkdown, "easymde": TypeMarkdown,
	"number": TypeNumber, "float": TypeNumber, "decimal": TypeNumber,
	"integer": TypeInteger, "int": TypeInteger,
	"boolean": TypeBoolean, "bool": TypeBoolean, "checkbox": TypeBoolean,
	"date":     TypeDate,
	"datetime": TypeDatetime, "date-time": TypeDatetime, "date_time": TypeDatetime, "timestamp": TypeDatetime,
	"email": TypeEmail,
	"url":   TypeURL, "uri": TypeURL, "link": TypeURL,
	"color": TypeColor, "colour": TypeColor,
	"select": TypeSelect, "dropdown": TypeSelect,
	"radio":       TypeRadio,
	"multiselect": TypeMultiselect, "multi_select": TypeMultiselect, "multi-select": TypeMultiselect,
	"slug":      TypeSlug,
	"reference": TypeReference, "relation": TypeReference,
	"media": TypeMedia, "image": TypeMedia,
	"file":   TypeFile,
	"array":  TypeArray,
	"object": TypeObject,
	"json":   TypeJSON,
}

// canonicalTypes lists the canonical type names for error messages.
const canonicalTypes = "string, textarea, richtext, markdown, number, integer, boolean, date, datetime, email, url, color, select, radio, multiselect, slug, reference, media, file, array, object, json"

// Schema limits.
const (
	// MaxFields bounds the named fields of a schema, nested ones included.
	MaxFields = 200
	// MaxDepth bounds nesting: top-level fields are at depth 1, the
	// properties of an object and the items of an array one deeper.
	MaxDepth = 5
	// MaxOptions bounds the options of a select, radio or multiselect.
	MaxOptions = 1000
	// maxPattern bounds a pattern's length; Go's regexp runs in linear
	// time, so length is the only cost to bound.
	maxPattern = 1000
)

// fieldNamePattern is what a field may be called. Field names end up inside
// SQL JSON paths such as '$.price' (expression indexes, filters, sorts),
// where they cannot be bound as parameters: this strictness is what keeps
// them from ever being SQL or a JSON path of their own, so do not relax it.
var fieldNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// ValidFieldName reports whether name can name a field.
func ValidFieldName(name string) bool { return fieldNamePattern.MatchString(name) }

// Schema is a collection's field schema: the fields of its items' data, in
// the order they were defined.
type Schema struct {
	Fields []*Field
	// Hints holds the schema's annotations ($schema, $id, $comment, title,
	// description), kept verbatim for MarshalJSON and never enforced.
	Hints map[string]json.RawMessage
}

// Field is one field of a schema, or the item definition of an array (Name
// empty). Constraints that do not apply to its Type are always zero.
type Field struct {
	Name string // empty for an array's Items
	Type string // canonical: one of the Type* constants

	Title string
	Help  string // the "description" keyword

	// Required refuses data without the field, with null, or with an
	// empty string. It comes from "required": true on the field or from
	// the parent's "required" list.
	Required bool
	// Unique and Indexed are for top-level single-value fields: Unique
	// asks the store to refuse a value another item already has, Indexed
	// to keep an expression index for filters and sorts.
	Unique  bool
	Indexed bool

	// Default is used for the field when data leaves it out (or sets it to
	// null). ParseSchema checks it and stores it normalized; nil means no
	// default.
	Default any

	Minimum, Maximum     *float64 // number, integer
	MinLength, MaxLength *int     // text types, in characters
	MinItems, MaxItems   *int     // array, multiselect
	UniqueItems          bool     // array: no two equal items
	Pattern              string   // text types: a Go regexp the value must contain a match of
	Options              []string // select, radio, multiselect (required); string (optional)
	Collection           string   // reference: the collection its ids belong to
	Items                *Field   // array: the definition of every item
	Fields               []*Field // object: nested fields, in order

	// Hints holds UI hints and annotations (placeholder, helpText,
	// enumLabels, widget, format, ...), kept verbatim and never enforced.
	Hints map[string]json.RawMessage

	pattern *regexp.Regexp // Pattern, compiled
}

// Scalar reports whether the field's value is a single JSON scalar (a
// string, number or boolean) rather than an array, object or any JSON.
func (f *Field) Scalar() bool {
	switch f.Type {
	case TypeMultiselect, TypeArray, TypeObject, TypeJSON:
		return false
	}
	return true
}

// indexable reports whether the field's type may be unique or indexed:
// scalars short enough to compare, so not long rich text or Markdown
// (full-text search covers those).
func (f *Field) indexable() bool {
	return f.Scalar() && f.Type != TypeRichtext && f.Type != TypeMarkdown
}

// textType reports whether values of typ are strings that the length and
// pattern constraints apply to.
func textType(typ string) bool {
	switch typ {
	case TypeString, TypeTextarea, TypeRichtext, TypeMarkdown, TypeEmail, TypeURL, TypeSlug:
		return true
	}
	return false
}

// Lookup finds a field by path: a top-level name ("price") or names joined
// by dots through objects ("address.city").
func (s *Schema) Lookup(path string) (*Field, bool) {
	if s == nil {
		return nil, false
	}
	fields := s.Fields
	names := strings.Split(path, ".")
	for i, name := range names {
		f := findField(fields, name)
		if f == nil {
			return nil, false
		}
		if i == len(names)-1 {
			return f, true
		}
		if f.Type != TypeObject {
			return nil, false
		}
		fields = f.Fields
	}
	return nil, false
}

func findField(fields []*Field, name string) *Field {
	for _, f := range fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// IndexedFields returns the top-level fields the store keeps an expression
// index for: those marked indexed, and the unique ones, so that checking
// uniqueness is an index lookup rather than a scan.
func (s *Schema) IndexedFields() []*Field {
	if s == nil {
		return nil
	}
	var out []*Field
	for _, f := range s.Fields {
		if f.Indexed || f.Unique {
			out = append(out, f)
		}
	}
	return out
}

// UniqueFields returns the top-level fields whose values must be unique in
// the collection.
func (s *Schema) UniqueFields() []*Field {
	if s == nil {
		return nil
	}
	var out []*Field
	for _, f := range s.Fields {
		if f.Unique {
			out = append(out, f)
		}
	}
	return out
}

// ParseSchema parses and checks a schema. Every problem found is reported
// in one EINVALID error with reason "invalid_schema": its message lists
// them all ("price: minimum must be a number; ...") and its Fields holds
// them by field path ("schema" for the schema's own keywords).
//
// Unknown keywords are refused, naming them, so that a typo such as
// "maxlength" is not silently ignored. The exceptions are annotations and
// UI hints, which are kept verbatim and never enforced: see hintKeywords.
func ParseSchema(raw json.RawMessage) (*Schema, error) {
	if d := TooDeep(raw, MaxSchemaDepth); d != nil {
		return nil, &condo.Error{Code: condo.EINVALID, Reason: "invalid_schema", Fields: map[string]string{"schema": "nested too deeply"},
			Message: fmt.Sprintf("invalid schema: nested more than %d levels deep", MaxSchemaDepth)}
	}
	p := &parser{}
	s := p.schema(raw)
	if len(p.problems) > 0 {
		return nil, p.err()
	}
	return s, nil
}

// UnmarshalJSON parses a schema with ParseSchema.
func (s *Schema) UnmarshalJSON(b []byte) error {
	parsed, err := ParseSchema(b)
	if err != nil {
		return err
	}
	*s = *parsed
	return nil
}

// hintKeywords are the annotations and UI hints a field may carry: they
// change nothing Condo checks, so they are kept verbatim for the admin UI
// and for round trips. JSON-Schema's "format" is one of them: the field
// types (email, url, date, datetime) are what Condo checks.
var hintKeywords = map[string]bool{
	"$comment": true, "examples": true, "format": true, "widget": true, "ui": true,
	"placeholder": true, "helpText": true, "enumLabels": true, "label": true,
	"dependsOn": true, "showWhen": true, "displayField": true,
	"rows": true, "cols": true, "height": true, "toolbar": true,
	"trueLabel": true, "falseLabel": true, "orientation": true,
}

// schemaHintKeywords are the annotations the schema itself may carry.
var schemaHintKeywords = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "title": true, "description": true,
}

// unsupportedKeywords are keywords of SonicJS or JSON Schema that Condo
// does not implement, with what to do instead. Refusing them beats
// accepting a constraint that is never checked.
var unsupportedKeywords = map[string]string{
	"multiple":          "is not supported: use an array field whose items are the media or reference",
	"collections":       "is not supported: a reference names one collection",
	"referenceStatus":   "is not supported",
	"blocks":            "is not supported: use an array of objects",
	"discriminator":     "is not supported: use an array of objects",
	"accept":            "is not supported: media types are not checked per field",
	"maxSize":           "is not supported: media size is limited on upload",
	"step":              "is not supported",
	"precision":         "is not supported",
	"exclusiveMinimum":  "is not supported: use minimum",
	"exclusiveMaximum":  "is not supported: use maximum",
	"multipleOf":        "is not supported",
	"const":             "is not supported: use a select with one option",
	"$ref":              "is not supported: schemas are self-contained",
	"oneOf":             "is not supported",
	"anyOf":             "is not supported",
	"allOf":             "is not supported",
	"not":               "is not supported",
	"patternProperties": "is not supported",
}

// knownKeywords are the keywords some field type uses; on another type
// they are refused as not applying to it.
var knownKeywords = map[string]bool{
	"type": true, "title": true, "description": true, "required": true, "unique": true, "indexed": true,
	"default": true, "minimum": true, "maximum": true, "min": true, "max": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"pattern": true, "enum": true, "options": true, "collection": true, "items": true, "properties": true,
	"additionalProperties": true,
}

// problem is one thing wrong with a schema.
type problem struct{ path, msg string }

// parser collects every problem of a schema rather than stopping at the
// first.
type parser struct {
	problems []problem
	fields   int // named fields seen, against MaxFields
}

func (p *parser) addf(path, format string, args ...any) {
	if path == "" {
		path = "schema"
	}
	p.problems = append(p.problems, problem{path, fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	msgs := make([]string, len(p.problems))
	fields := map[string]string{}
	for i, pr := range p.problems {
		msgs[i] = pr.path + ": " + pr.msg
		if prev, ok := fields[pr.path]; ok {
			fields[pr.path] = prev + "; " + pr.msg
		} else {
			fields[pr.path] = pr.msg
		}
	}
	e := condo.ReasonErrorf(condo.EINVALID, "invalid_schema", "invalid schema: %s", strings.Join(msgs, "; "))
	e.Fields = fields
	return e
}

// schema parses the top level: {"type":"object","properties":{...},"required":[...]}.
func (p *parser) schema(raw json.RawMessage) *Schema {
	s := &Schema{}
	kw, ok := p.object(raw)
	if !ok {
		p.addf("", "must be a JSON object like {\"type\": \"object\", \"properties\": {...}}")
		return s
	}
	if t, ok := kw["type"]; ok {
		delete(kw, "type")
		var typ string
		if json.Unmarshal(t, &typ) != nil || typ != TypeObject {
			p.addf("", `type must be "object"`)
		}
	}
	declared := map[string]bool{}
	if props, ok := kw["properties"]; ok {
		delete(kw, "properties")
		s.Fields = p.properties("", props, 1, declared)
	}
	if req, ok := kw["required"]; ok {
		delete(kw, "required")
		p.requiredList("", req, s.Fields, declared)
	}
	p.additionalProperties("", kw)
	s.Hints = p.rest("", kw, schemaHintKeywords, "")
	return s
}

// object decodes a JSON object's members by keyword.
func (p *parser) object(raw json.RawMessage) (map[string]json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var kw map[string]json.RawMessage
	if err := json.Unmarshal(raw, &kw); err != nil {
		return nil, false
	}
	return kw, true
}

// Member is one member of a JSON object, for decoding in order.
type Member struct {
	Name string
	Raw  json.RawMessage
}

// OrderedMembers decodes a JSON object keeping its members' order, which
// a map would lose: the order of properties is the order of the form.
func OrderedMembers(raw json.RawMessage) ([]Member, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []Member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, Member{name, v})
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, false
	}
	return out, true
}

// properties parses the "properties" of the schema or of an object field
// at path; its fields are at depth. It records every name declared in
// declared, including those of fields it refused.
func (p *parser) properties(path string, raw json.RawMessage, depth int, declared map[string]bool) []*Field {
	members, ok := OrderedMembers(raw)
	if !ok {
		p.addf(path, "properties must be an object of field definitions")
		return nil
	}
	var fields []*Field
	for _, m := range members {
		fpath := joinPath(path, m.Name)
		if !fieldNamePattern.MatchString(m.Name) {
			p.addf(path, "field name %s must be a letter or underscore followed by at most 63 letters, digits or underscores", quote(m.Name))
			continue
		}
		if declared[m.Name] {
			p.addf(fpath, "defined twice")
			continue
		}
		declared[m.Name] = true
		p.fields++
		if p.fields == MaxFields+1 {
			p.addf("", "more than %d fields (nested ones included)", MaxFields)
		}
		if depth > MaxDepth {
			p.addf(fpath, "nested more than %d levels deep", MaxDepth)
			continue
		}
		if f := p.field(fpath, m.Name, m.Raw, depth, false); f != nil {
			fields = append(fields, f)
		}
	}
	return fields
}

// requiredList applies a "required" list of names to fields. A name
// declared by a refused field is not reported again.
func (p *parser) requiredList(path string, raw json.RawMessage, fields []*Field, declared map[string]bool) {
	var names []string
	if err := json.Unmarshal(raw, &names); err != nil {
		p.addf(path, "required must be a list of field names")
		return
	}
	for _, name := range names {
		if f := findField(fields, name); f != nil {
			f.Required = true
		} else if !declared[name] {
			p.addf(path, "required names %s, which is not one of its fields", quote(name))
		}
	}
}

// additionalProperties accepts "additionalProperties": false, which is
// what Condo does anyway: data with unknown fields is refused.
func (p *parser) additionalProperties(path string, kw map[string]json.RawMessage) {
	raw, ok := kw["additionalProperties"]
	if !ok {
		return
	}
	delete(kw, "additionalProperties")
	var b bool
	if json.Unmarshal(raw, &b) != nil || b {
		p.addf(path, "additionalProperties may only be false: unknown fields are always refused (use a json field for free-form data)")
	}
}

// rest sorts out the keywords nobody took: hints are kept, the others
// refused, each with the most useful explanation.
func (p *parser) rest(path string, kw map[string]json.RawMessage, hints map[string]bool, typ string) map[string]json.RawMessage {
	var out map[string]json.RawMessage
	var unknown []string
	for _, k := range sortedNames(kw) {
		switch {
		case hints[k]:
			if out == nil {
				out = map[string]json.RawMessage{}
			}
			var b bytes.Buffer
			if err := json.Compact(&b, kw[k]); err != nil {
				b.Reset()
				b.Write(kw[k])
			}
			out[k] = b.Bytes()
		case unsupportedKeywords[k] != "":
			p.addf(path, "%s %s", k, unsupportedKeywords[k])
		case knownKeywords[k] && typ != "":
			p.addf(path, "%s does not apply to type %s", k, typ)
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		var b strings.Builder
		for i, k := range unknown {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(k))
			if s := suggest(k, hints); s != "" {
				fmt.Fprintf(&b, " (did you mean %q?)", s)
			}
		}
		word := "keyword"
		if len(unknown) > 1 {
			word = "keywords"
		}
		p.addf(path, "unknown %s %s", word, b.String())
	}
	return out
}

// suggest returns the known keyword k is likely a typo of, or "".
func suggest(k string, hints map[string]bool) string {
	best, bestDist := "", 3
	try := func(c string) {
		d := condo.EditDistance(strings.ToLower(k), strings.ToLower(c))
		if d < bestDist || d == bestDist && best != "" && c < best {
			best, bestDist = c, d
		}
	}
	for c := range knownKeywords {
		try(c)
	}
	for c := range hints {
		try(c)
	}
	limit := 1
	if len(k) >= 6 {
		limit = 2
	}
	if bestDist > limit {
		return ""
	}
	return best
}

// field parses one field definition at path. item is true for an array's
// item definition, which has no name and no field-level keywords
// (required, unique, indexed, default).
func (p *parser) field(path, name string, raw json.RawMessage, depth int, item bool) *Field {
	kw, ok := p.object(raw)
	if !ok {
		p.addf(path, "must be an object defining the field, like {\"type\": \"string\"}")
		return nil
	}
	f := &Field{Name: name}
	t, ok := kw["type"]
	delete(kw, "type")
	var typ string
	switch {
	case !ok:
		p.addf(path, "type is missing: use one of %s", canonicalTypes)
		return nil
	case json.Unmarshal(t, &typ) != nil:
		p.addf(path, "type must be a string naming one type")
		return nil
	case typeAliases[strings.ToLower(typ)] == "":
		p.addf(path, "unknown type %s: use one of %s", quote(typ), canonicalTypes)
		return nil
	}
	f.Type = typeAliases[strings.ToLower(typ)]

	f.Title = p.text(path, kw, "title", 200)
	f.Help = p.text(path, kw, "description", 2000)

	// Field-level keywords.
	if item {
		for _, k := range []string{"required", "unique", "indexed", "default"} {
			// An object's "required" lists its own required fields (as
			// MarshalJSON writes it): that applies to an item too.
			if r, ok := kw[k]; ok && !(k == "required" && f.Type == TypeObject && bytes.HasPrefix(bytes.TrimSpace(r), []byte("["))) {
				delete(kw, k)
				p.addf(path, "%s does not apply to array items", k)
			}
		}
	}
	var requiredList json.RawMessage
	if r, ok := kw["required"]; ok {
		delete(kw, "required")
		if f.Type == TypeObject && bytes.HasPrefix(bytes.TrimSpace(r), []byte("[")) {
			requiredList = r
		} else if json.Unmarshal(r, &f.Required) != nil {
			p.addf(path, "required must be true or false")
		}
	}
	f.Unique = p.flag(path, kw, "unique")
	f.Indexed = p.flag(path, kw, "indexed")
	if (f.Unique || f.Indexed) && (depth > 1 || !f.indexable()) {
		k := "unique"
		if !f.Unique {
			k = "indexed"
		}
		p.addf(path, "%s applies only to top-level single-value fields (not to richtext, markdown, multiselect, array, object or json)", k)
	}
	defaultRaw, hasDefault := kw["default"]
	delete(kw, "default")

	// Type-specific keywords.
	switch f.Type {
	case TypeNumber, TypeInteger:
		f.Minimum = p.number(path, kw, "minimum", "min")
		f.Maximum = p.number(path, kw, "maximum", "max")
		if f.Minimum != nil && f.Maximum != nil && *f.Minimum > *f.Maximum {
			p.addf(path, "minimum is greater than maximum")
		}
	case TypeArray, TypeMultiselect:
		f.MinItems = p.count(path, kw, "minItems", "minLength", "min")
		f.MaxItems = p.count(path, kw, "maxItems", "maxLength", "max")
		if f.MinItems != nil && f.MaxItems != nil && *f.MinItems > *f.MaxItems {
			p.addf(path, "minItems is greater than maxItems")
		}
	}
	if textType(f.Type) {
		f.MinLength = p.count(path, kw, "minLength")
		f.MaxLength = p.count(path, kw, "maxLength")
		if f.MinLength != nil && f.MaxLength != nil && *f.MinLength > *f.MaxLength {
			p.addf(path, "minLength is greater than maxLength")
		}
		if f.Type != TypeRichtext {
			p.pattern(path, kw, f)
		}
	}
	switch f.Type {
	case TypeString, TypeSelect, TypeRadio:
		p.options(path, kw, f)
	case TypeMultiselect:
		p.options(path, kw, f)
		p.flag(path, kw, "uniqueItems") // accepted from SonicJS: a multiselect's values are always distinct
	case TypeReference:
		f.Collection = p.text(path, kw, "collection", 100)
		if f.Collection == "" {
			p.addf(path, "collection is missing: a reference names the collection of the items it points to")
		} else if !collectionName.MatchString(f.Collection) {
			p.addf(path, "collection %s is not a collection name", quote(f.Collection))
		}
	case TypeArray:
		if it, ok := kw["items"]; ok {
			delete(kw, "items")
			if depth >= MaxDepth {
				p.addf(path, "items are nested more than %d levels deep", MaxDepth)
			} else {
				f.Items = p.field(path+"[]", "", it, depth+1, true)
			}
		} else {
			p.addf(path, "items is missing: an array defines its items, like {\"type\": \"string\"}")
		}
		f.UniqueItems = p.flag(path, kw, "uniqueItems")
	case TypeObject:
		declared := map[string]bool{}
		if props, ok := kw["properties"]; ok {
			delete(kw, "properties")
			f.Fields = p.properties(path, props, depth+1, declared)
		} else {
			p.addf(path, "properties is missing: an object defines its fields (use a json field for free-form data)")
		}
		if requiredList != nil {
			p.requiredList(path, requiredList, f.Fields, declared)
		}
		p.additionalProperties(path, kw)
	}
	f.Hints = p.rest(path, kw, hintKeywords, f.Type)

	if hasDefault {
		p.fieldDefault(path, f, defaultRaw)
	}
	return f
}

// fieldDefault checks a default against the field and stores it
// normalized. References and media are checked for shape only: whether
// they exist is asked when the default is used.
func (p *parser) fieldDefault(path string, f *Field, raw json.RawMessage) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || v == nil {
		p.addf(path, "default must be a value (leave it out for none)")
		return
	}
	val := &validator{errs: FieldErrors{}}
	norm, ok := val.value("default", f, v)
	for _, k := range sortedNames(val.errs) {
		p.addf(path, "%s %s", k, val.errs[k])
	}
	if ok && len(val.errs) == 0 {
		f.Default = norm
	}
}

// text takes a string keyword.
func (p *parser) text(path string, kw map[string]json.RawMessage, k string, max int) string {
	raw, ok := kw[k]
	if !ok {
		return ""
	}
	delete(kw, k)
	var s string
	if json.Unmarshal(raw, &s) != nil || utf8.RuneCountInString(s) > max {
		p.addf(path, "%s must be a string of at most %d characters", k, max)
		return ""
	}
	return s
}

// flag takes a boolean keyword.
func (p *parser) flag(path string, kw map[string]json.RawMessage, k string) bool {
	raw, ok := kw[k]
	if !ok {
		return false
	}
	delete(kw, k)
	var b bool
	if json.Unmarshal(raw, &b) != nil {
		p.addf(path, "%s must be true or false", k)
	}
	return b
}

// takeOne takes the first of several keywords that mean the same thing,
// refusing more than one of them.
func (p *parser) takeOne(path string, kw map[string]json.RawMessage, names ...string) (string, json.RawMessage, bool) {
	var got []string
	var raw json.RawMessage
	for _, k := range names {
		if r, ok := kw[k]; ok {
			got = append(got, k)
			if raw == nil {
				raw = r
			}
			delete(kw, k)
		}
	}
	if len(got) > 1 {
		p.addf(path, "%s mean the same here: keep one", strings.Join(got, " and "))
	}
	if len(got) == 0 {
		return "", nil, false
	}
	return got[0], raw, true
}

// number takes a number keyword (or an alias).
func (p *parser) number(path string, kw map[string]json.RawMessage, names ...string) *float64 {
	k, raw, ok := p.takeOne(path, kw, names...)
	if !ok {
		return nil
	}
	var x float64
	if json.Unmarshal(raw, &x) != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		p.addf(path, "%s must be a number", k)
		return nil
	}
	return &x
}

// count takes a non-negative integer keyword (or an alias).
func (p *parser) count(path string, kw map[string]json.RawMessage, names ...string) *int {
	k, raw, ok := p.takeOne(path, kw, names...)
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 32)
	if err != nil || n < 0 {
		p.addf(path, "%s must be a whole number from 0", k)
		return nil
	}
	i := int(n)
	return &i
}

// pattern takes and compiles a pattern.
func (p *parser) pattern(path string, kw map[string]json.RawMessage, f *Field) {
	s := p.text(path, kw, "pattern", maxPattern)
	if s == "" {
		return
	}
	re, err := regexp.Compile(s)
	if err != nil {
		p.addf(path, "pattern is not a valid Go regular expression: %v", err)
		return
	}
	f.Pattern, f.pattern = s, re
}

// options takes "enum" (or "options"): required for the choice types,
// optional for strings.
func (p *parser) options(path string, kw map[string]json.RawMessage, f *Field) {
	k, raw, ok := p.takeOne(path, kw, "enum", "options")
	if !ok {
		if f.Type != TypeString {
			p.addf(path, "enum is missing: a %s lists its options, like \"enum\": [\"draft\", \"published\"]", f.Type)
		}
		return
	}
	var opts []string
	if json.Unmarshal(raw, &opts) != nil {
		p.addf(path, "%s must be a list of strings", k)
		return
	}
	if len(opts) == 0 || len(opts) > MaxOptions {
		p.addf(path, "%s must list from 1 to %d options", k, MaxOptions)
		return
	}
	seen := map[string]bool{}
	for _, o := range opts {
		switch {
		case o == "":
			p.addf(path, "%s may not hold an empty string", k)
			return
		case seen[o]:
			p.addf(path, "%s lists %s twice", k, quote(o))
			return
		}
		seen[o] = true
	}
	f.Options = opts
}

// MarshalJSON writes the schema in its canonical form: type object, the
// properties in their order, and the names of the required fields. Field
// types are canonical and aliases resolved (min → minimum, options → enum,
// ...). ParseSchema reads it back to an equal schema.
func (s *Schema) MarshalJSON() ([]byte, error) {
	w := &objWriter{}
	w.add("type", TypeObject)
	var fields []*Field
	var hints map[string]json.RawMessage
	if s != nil {
		fields, hints = s.Fields, s.Hints
	}
	w.properties(fields)
	w.required(fields)
	w.hints(hints)
	return w.close()
}

// MarshalJSON writes the field's definition in canonical form. A required
// field says so with "required": true, except an object, whose "required"
// lists its own required fields: the parent's list says it is required.
func (f *Field) MarshalJSON() ([]byte, error) {
	w := &objWriter{}
	w.add("type", f.Type)
	if f.Title != "" {
		w.add("title", f.Title)
	}
	if f.Help != "" {
		w.add("description", f.Help)
	}
	if f.Required && f.Type != TypeObject {
		w.add("required", true)
	}
	if f.Unique {
		w.add("unique", true)
	}
	if f.Indexed {
		w.add("indexed", true)
	}
	if f.Default != nil {
		w.add("default", f.Default)
	}
	addPtr(w, "minimum", f.Minimum)
	addPtr(w, "maximum", f.Maximum)
	addPtr(w, "minLength", f.MinLength)
	addPtr(w, "maxLength", f.MaxLength)
	addPtr(w, "minItems", f.MinItems)
	addPtr(w, "maxItems", f.MaxItems)
	if f.UniqueItems {
		w.add("uniqueItems", true)
	}
	if f.Pattern != "" {
		w.add("pattern", f.Pattern)
	}
	if len(f.Options) > 0 {
		w.add("enum", f.Options)
	}
	if f.Collection != "" {
		w.add("collection", f.Collection)
	}
	if f.Items != nil {
		w.add("items", f.Items)
	}
	if f.Type == TypeObject {
		w.properties(f.Fields)
		w.required(f.Fields)
	}
	w.hints(f.Hints)
	return w.close()
}

func addPtr[T any](w *objWriter, k string, v *T) {
	if v != nil {
		w.add(k, *v)
	}
}

// objWriter writes a JSON object member by member, in the order given.
type objWriter struct {
	b   bytes.Buffer
	err error
}

func (w *objWriter) add(k string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.err = err
		return
	}
	w.raw(k, b)
}

func (w *objWriter) raw(k string, v []byte) {
	if w.b.Len() == 0 {
		w.b.WriteByte('{')
	} else {
		w.b.WriteByte(',')
	}
	key, _ := json.Marshal(k)
	w.b.Write(key)
	w.b.WriteByte(':')
	w.b.Write(v)
}

func (w *objWriter) properties(fields []*Field) {
	props := &objWriter{}
	for _, f := range fields {
		props.add(f.Name, f)
	}
	b, err := props.close()
	if err != nil {
		w.err = err
		return
	}
	w.raw("properties", b)
}

func (w *objWriter) required(fields []*Field) {
	var names []string
	for _, f := range fields {
		if f.Required {
			names = append(names, f.Name)
		}
	}
	if len(names) > 0 {
		w.add("required", names)
	}
}

func (w *objWriter) hints(h map[string]json.RawMessage) {
	for _, k := range sortedNames(h) {
		w.raw(k, h[k])
	}
}

func (w *objWriter) close() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	if w.b.Len() == 0 {
		return []byte("{}"), nil
	}
	w.b.WriteByte('}')
	return w.b.Bytes(), nil
}

func sortedNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// joinPath names a field inside an object: "address" + "city" →
// "address.city".
func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// quote quotes user input for a message, shortened and made valid UTF-8.
func quote(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64]) + "…"
	}
	return strconv.Quote(s)
}
