package admin

// The field schema as a form: a collection's JSON-Schema-like schema (as
// GET /api/collections/:name answers it, in its canonical form) turned
// into rows of inputs, and the rows posted back turned into the schema
// PUT /api/collections/:name takes. The admin checks only what it must to
// build the JSON (numbers are numbers, names are given once); the API
// checks the rest and its messages, by field path, go beside the rows.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// fieldType is one choice of the type menu.
type fieldType struct{ Name, Label string }

// fieldTypes are the canonical types of cms/schema.go, in the order the
// menu shows them.
var fieldTypes = []fieldType{
	{"string", "Text (one line)"}, {"textarea", "Text (several lines)"}, {"richtext", "Rich text"},
	{"markdown", "Markdown"}, {"number", "Number"}, {"integer", "Whole number"}, {"boolean", "Yes / no"},
	{"date", "Date"}, {"datetime", "Date and time"}, {"email", "Email"}, {"url", "URL"}, {"color", "Colour"},
	{"select", "Select (one option)"}, {"radio", "Radio buttons"}, {"multiselect", "Multi-select"},
	{"slug", "Slug"}, {"reference", "Reference"}, {"media", "Media"}, {"file", "File"},
	{"array", "List (array)"}, {"object", "Group (object)"}, {"json", "JSON"},
}

// Which constraints apply to which types (the "data-types" of each input
// group in the form, and what buildField writes).
const (
	defaultTypes = "string textarea richtext markdown number integer boolean date datetime email url color select radio slug reference media file"
	rangeTypes   = "number integer"
	lengthTypes  = "string textarea richtext markdown email url slug"
	countTypes   = "array multiselect"
	patternTypes = "string textarea markdown email url slug"
	optionTypes  = "select radio multiselect"
	indexTypes   = "string textarea number integer boolean date datetime email url color select radio slug reference media file"
)

func typeIn(list, typ string) bool {
	for _, t := range strings.Fields(list) {
		if t == typ {
			return true
		}
	}
	return false
}

// maxFormDepth is how deep the form nests: top-level fields, an object's
// properties or an array's items, and one level below those. Deeper
// schemas are edited as JSON (the rows keep what they do not show).
const maxFormDepth = 3

// fieldRow is one field of the schema form.
type fieldRow struct {
	Prefix string // the inputs' name prefix: "f.0", "f.0.p.1", "f.0.items"
	Path   string // the API's path of the field: "address.city", "tags[]"
	Depth  int    // 1 for top-level fields
	Item   bool   // an array's item definition: no name, not required

	Name, Type, Title, Help   string
	Required, Unique, Indexed bool
	Min, Max                  string // minimum/maximum, min/maxLength or min/maxItems, by type
	Pattern                   string
	Options                   string // one per line
	Collection                string // reference
	Default                   string // single-value types: the default, as typed
	// Extra holds, as a JSON object, the keywords the form does not edit
	// (uniqueItems, UI hints, the default of a list), so saving the form
	// keeps them.
	Extra string

	Items *fieldRow   // array
	Props []*fieldRow // object
}

// Nestable reports whether the row may show an object's properties or an
// array's items.
func (r *fieldRow) Nestable() bool { return r.Depth < maxFormDepth }

// Shows reports whether a constraint group of types applies to the row's
// type: the others are rendered hidden (content.js shows them when the
// type changes).
func (r *fieldRow) Shows(types string) bool { return typeIn(types, r.Type) }

// Indexable reports whether unique and indexed apply (top-level scalars).
func (r *fieldRow) Indexable() bool { return r.Depth == 1 && !r.Item }

func (r *fieldRow) blank() bool {
	return r.Name == "" && r.Title == "" && r.Help == "" && r.Min == "" && r.Max == "" && r.Pattern == "" && r.Default == "" &&
		r.Options == "" && r.Collection == "" && len(r.Props) == 0
}

// member is one member of a JSON object, in the order written.
type member struct {
	Name string
	Raw  json.RawMessage
}

// members reads a JSON object keeping the order of its members (the
// order of a schema's properties is the order of the form).
func members(raw json.RawMessage) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{Name: tok.(string), Raw: v})
	}
	return out, nil
}

// rowsFromSchema turns a schema into the form's top-level rows.
func rowsFromSchema(raw json.RawMessage) []*fieldRow {
	var top struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &top) != nil {
		return nil
	}
	rows := propsFromSchema("f", "", 1, top.Properties, top.Required)
	renumber(rows, "f", "", 1)
	return rows
}

func propsFromSchema(prefix, path string, depth int, props json.RawMessage, required []string) []*fieldRow {
	if len(props) == 0 {
		return nil
	}
	ms, err := members(props)
	if err != nil {
		return nil
	}
	rows := make([]*fieldRow, 0, len(ms))
	for i, m := range ms {
		r := rowFromSchema(fmt.Sprintf("%s.%d", prefix, i), joinField(path, m.Name), depth, m.Raw, false)
		r.Name = m.Name
		for _, n := range required {
			if n == m.Name {
				r.Required = true
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// rowFromSchema turns one field definition into a row.
func rowFromSchema(prefix, path string, depth int, raw json.RawMessage, item bool) *fieldRow {
	r := &fieldRow{Prefix: prefix, Path: path, Depth: depth, Item: item, Type: "string"}
	var kw map[string]json.RawMessage
	if json.Unmarshal(raw, &kw) != nil {
		return r
	}
	str := func(k string) string {
		var s string
		if v, ok := kw[k]; ok && json.Unmarshal(v, &s) == nil {
			delete(kw, k)
		}
		return s
	}
	flag := func(k string) bool {
		var b bool
		if v, ok := kw[k]; ok && json.Unmarshal(v, &b) == nil {
			delete(kw, k)
		}
		return b
	}
	num := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := kw[k]; ok {
				delete(kw, k)
				return strings.TrimSpace(string(v))
			}
		}
		return ""
	}
	r.Type = str("type")
	r.Title, r.Help = str("title"), str("description")
	r.Unique, r.Indexed = flag("unique"), flag("indexed")
	var childRequired []string
	if v, ok := kw["required"]; ok {
		if bytes.HasPrefix(bytes.TrimSpace(v), []byte("[")) {
			json.Unmarshal(v, &childRequired)
			delete(kw, "required")
		} else {
			r.Required = flag("required")
		}
	}
	switch {
	case typeIn(rangeTypes, r.Type):
		r.Min, r.Max = num("minimum", "min"), num("maximum", "max")
	case typeIn(lengthTypes, r.Type):
		r.Min, r.Max = num("minLength"), num("maxLength")
	case typeIn(countTypes, r.Type):
		r.Min, r.Max = num("minItems", "min"), num("maxItems", "max")
	}
	if typeIn(patternTypes, r.Type) {
		r.Pattern = str("pattern")
	}
	for _, k := range []string{"enum", "options"} {
		var opts []string
		if v, ok := kw[k]; ok && json.Unmarshal(v, &opts) == nil {
			delete(kw, k)
			r.Options = strings.Join(opts, "\n")
		}
	}
	if r.Type == "reference" {
		r.Collection = str("collection")
	}
	if v, ok := kw["default"]; ok && typeIn(defaultTypes, r.Type) && !item {
		var x any
		if json.Unmarshal(v, &x) == nil {
			switch x.(type) {
			case string, float64, bool:
				delete(kw, "default")
				r.Default = strings.TrimSpace(string(v))
				if s, ok := x.(string); ok {
					r.Default = s
				}
			}
		}
	}
	if r.Nestable() {
		switch r.Type {
		case "array":
			if v, ok := kw["items"]; ok {
				delete(kw, "items")
				r.Items = rowFromSchema(prefix+".items", path+"[]", depth+1, v, true)
			}
		case "object":
			if v, ok := kw["properties"]; ok {
				delete(kw, "properties")
				r.Props = propsFromSchema(prefix+".p", path, depth+1, v, childRequired)
			}
		}
	}
	if r.Type == "object" && childRequired != nil && !r.Nestable() {
		b, _ := json.Marshal(childRequired)
		kw["required"] = b
	}
	if len(kw) > 0 {
		r.Extra = compactObject(kw)
	}
	return r
}

// compactObject writes kw as a JSON object with sorted keys.
func compactObject(kw map[string]json.RawMessage) string {
	keys := make([]string, 0, len(kw))
	for k := range kw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		if json.Compact(&b, kw[k]) != nil {
			b.WriteString("null")
		}
	}
	b.WriteByte('}')
	return b.String()
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// rowsFromForm reads the posted rows under prefix ("f" for the top level,
// "f.0.p" for an object's properties) in the order of their indexes.
func rowsFromForm(form url.Values, prefix, path string, depth int) []*fieldRow {
	seen := map[int]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < 1000 {
			seen[i] = true
		}
	}
	idx := make([]int, 0, len(seen))
	for i := range seen {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	rows := make([]*fieldRow, 0, len(idx))
	for _, i := range idx {
		rows = append(rows, rowFromForm(form, fmt.Sprintf("%s.%d", prefix, i), path, depth, false))
	}
	return rows
}

func rowFromForm(form url.Values, prefix, parent string, depth int, item bool) *fieldRow {
	v := func(k string) string { return strings.TrimSpace(form.Get(prefix + "." + k)) }
	r := &fieldRow{Prefix: prefix, Depth: depth, Item: item, Name: v("name"), Type: v("type"), Title: v("title"), Help: v("help"),
		Required: form.Get(prefix+".required") != "", Unique: form.Get(prefix+".unique") != "", Indexed: form.Get(prefix+".indexed") != "",
		Min: v("min"), Max: v("max"), Pattern: form.Get(prefix + ".pattern"), Options: strings.TrimSpace(form.Get(prefix + ".options")),
		Collection: v("collection"), Default: form.Get(prefix + ".default"), Extra: v("extra")}
	if r.Type == "" {
		r.Type = "string"
	}
	switch {
	case item:
		r.Path = parent + "[]"
	case r.Name == "":
		r.Path = "#" + prefix // an unnamed row's errors are the admin's own
	default:
		r.Path = joinField(parent, r.Name)
	}
	if r.Nestable() {
		r.Items = rowFromForm(form, prefix+".items", r.Path, depth+1, true)
		r.Props = rowsFromForm(form, prefix+".p", r.Path, depth+1)
	}
	return r
}

// renumber gives rows prefixes in order again, after an add, a remove or
// a move, and fills what a new row needs.
func renumber(rows []*fieldRow, prefix, parent string, depth int) {
	for i, r := range rows {
		r.Prefix, r.Depth = fmt.Sprintf("%s.%d", prefix, i), depth
		r.Path = joinField(parent, r.Name)
		if r.Name == "" {
			r.Path = "#" + r.Prefix
		}
		renumberChildren(r)
	}
}

func renumberChildren(r *fieldRow) {
	if !r.Nestable() {
		r.Items, r.Props = nil, nil
		return
	}
	if r.Items == nil {
		r.Items = &fieldRow{Type: "string", Item: true}
	}
	r.Items.Prefix, r.Items.Depth, r.Items.Item, r.Items.Path = r.Prefix+".items", r.Depth+1, true, r.Path+"[]"
	renumberChildren(r.Items)
	renumber(r.Props, r.Prefix+".p", r.Path, r.Depth+1)
}

// applyOp changes the rows as a form button asks: "refresh" (nothing:
// the form again, for the types just chosen), "add" (a field at the
// end), "add:<prefix>" (a property of the object row at prefix),
// "remove:<prefix>", "up:<prefix>", "down:<prefix>". It reports whether
// op was one of those.
func applyOp(rows []*fieldRow, op string) ([]*fieldRow, bool) {
	verb, target, _ := strings.Cut(op, ":")
	if verb == "refresh" { // without JavaScript: show the chosen types' settings
		renumber(rows, "f", "", 1)
		return rows, true
	}
	if verb == "add" && target == "" {
		rows = append(rows, &fieldRow{Type: "string"})
		renumber(rows, "f", "", 1)
		return rows, true
	}
	if verb != "add" && verb != "remove" && verb != "up" && verb != "down" {
		return rows, false
	}
	var walk func(list []*fieldRow) []*fieldRow
	walk = func(list []*fieldRow) []*fieldRow {
		for i, r := range list {
			if r.Prefix == target {
				switch verb {
				case "add":
					r.Type = "object"
					r.Props = append(r.Props, &fieldRow{Type: "string"})
				case "remove":
					return append(list[:i:i], list[i+1:]...)
				case "up":
					if i > 0 {
						list[i-1], list[i] = list[i], list[i-1]
					}
				case "down":
					if i+1 < len(list) {
						list[i], list[i+1] = list[i+1], list[i]
					}
				}
				return list
			}
			r.Props = walk(r.Props)
			if r.Items != nil {
				if r.Items.Prefix == target && verb == "add" {
					r.Items.Type = "object"
					r.Items.Props = append(r.Items.Props, &fieldRow{Type: "string"})
				}
				r.Items.Props = walk(r.Items.Props)
			}
		}
		return list
	}
	rows = walk(rows)
	renumber(rows, "f", "", 1)
	return rows, true
}

// schemaFromRows builds the schema JSON of the rows; a row the admin
// cannot write (a minimum that is no number) is a 422 naming its path,
// like the API's own refusals.
func schemaFromRows(rows []*fieldRow) (json.RawMessage, error) {
	bad := map[string]string{}
	var b bytes.Buffer
	b.WriteString(`{"type":"object",`)
	writeProps(&b, rows, bad)
	b.WriteByte('}')
	if len(bad) > 0 {
		return nil, &APIError{Status: http.StatusUnprocessableEntity, Code: "invalid_schema",
			Message: "The fields need a correction.", Fields: bad}
	}
	return b.Bytes(), nil
}

// writeProps writes "properties" (and "required") of rows into b.
func writeProps(b *bytes.Buffer, rows []*fieldRow, bad map[string]string) {
	b.WriteString(`"properties":{`)
	names := map[string]bool{}
	var required []string
	n := 0
	for _, r := range rows {
		if r.blank() {
			continue
		}
		if r.Name == "" {
			bad[r.Path] = "a field needs a name"
			continue
		}
		if names[r.Name] {
			bad[r.Path] = "this name is used twice"
			continue
		}
		names[r.Name] = true
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(r.Name)
		b.Write(kb)
		b.WriteByte(':')
		writeField(b, r, bad)
		if r.Required {
			required = append(required, r.Name)
		}
	}
	b.WriteByte('}')
	if len(required) > 0 {
		rb, _ := json.Marshal(required)
		b.WriteString(`,"required":`)
		b.Write(rb)
	}
}

// writeField writes one field definition: the keywords that apply to its
// type, then the ones the form keeps without showing.
func writeField(b *bytes.Buffer, r *fieldRow, bad map[string]string) {
	add := func(k string, v any) {
		vb, _ := json.Marshal(v)
		fmt.Fprintf(b, `,%q:`, k)
		b.Write(vb)
	}
	addNum := func(k, label, s string, whole bool) {
		if s == "" {
			return
		}
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || whole && (x < 0 || x != float64(int64(x))) {
			if whole {
				bad[r.Path] = label + " must be a whole number from 0"
			} else {
				bad[r.Path] = label + " must be a number"
			}
			return
		}
		fmt.Fprintf(b, `,%q:%s`, k, strconv.FormatFloat(x, 'f', -1, 64))
	}
	tb, _ := json.Marshal(r.Type)
	b.WriteString(`{"type":`)
	b.Write(tb)
	if r.Title != "" {
		add("title", r.Title)
	}
	if r.Help != "" {
		add("description", r.Help)
	}
	if r.Indexable() && typeIn(indexTypes, r.Type) {
		if r.Unique {
			add("unique", true)
		}
		if r.Indexed {
			add("indexed", true)
		}
	}
	switch {
	case typeIn(rangeTypes, r.Type):
		addNum("minimum", "minimum", r.Min, false)
		addNum("maximum", "maximum", r.Max, false)
	case typeIn(lengthTypes, r.Type):
		addNum("minLength", "minimum length", r.Min, true)
		addNum("maxLength", "maximum length", r.Max, true)
	case typeIn(countTypes, r.Type):
		addNum("minItems", "minimum count", r.Min, true)
		addNum("maxItems", "maximum count", r.Max, true)
	}
	if typeIn(patternTypes, r.Type) && r.Pattern != "" {
		add("pattern", r.Pattern)
	}
	if typeIn(optionTypes, r.Type) {
		var opts []string
		for _, o := range strings.Split(r.Options, "\n") {
			if o = strings.TrimSpace(o); o != "" {
				opts = append(opts, o)
			}
		}
		if len(opts) == 0 {
			bad[r.Path] = "list the options, one per line"
		}
		add("enum", opts)
	}
	if r.Type == "reference" {
		add("collection", r.Collection)
	}
	if r.Default != "" && typeIn(defaultTypes, r.Type) && !r.Item {
		writeDefault(b, r, bad)
	}
	var extra map[string]json.RawMessage
	if r.Extra != "" && json.Unmarshal([]byte(r.Extra), &extra) != nil {
		bad[r.Path] = "its kept settings are not a JSON object"
	}
	switch r.Type {
	case "array":
		if r.Items != nil {
			b.WriteString(`,"items":`)
			writeField(b, r.Items, bad)
		} else if raw, ok := extra["items"]; ok {
			b.WriteString(`,"items":`)
			b.Write(raw)
		} else {
			b.WriteString(`,"items":{"type":"string"}`)
		}
		delete(extra, "items")
	case "object":
		if r.Nestable() {
			b.WriteByte(',')
			writeProps(b, r.Props, bad)
			delete(extra, "properties")
			delete(extra, "required")
		} else if _, ok := extra["properties"]; !ok {
			b.WriteString(`,"properties":{}`)
		}
	default:
		delete(extra, "items")
		delete(extra, "properties")
	}
	for _, k := range sortedKeys(extra) {
		fmt.Fprintf(b, `,%q:`, k)
		b.Write(extra[k])
	}
	b.WriteByte('}')
}

// writeDefault writes the row's default as its type's JSON value; the
// API checks it against the field.
func writeDefault(b *bytes.Buffer, r *fieldRow, bad map[string]string) {
	var v any = r.Default
	switch r.Type {
	case "number", "integer":
		x, err := strconv.ParseFloat(strings.TrimSpace(r.Default), 64)
		if err != nil {
			bad[r.Path] = "the default must be a number"
			return
		}
		v = x
	case "boolean":
		switch strings.ToLower(strings.TrimSpace(r.Default)) {
		case "true", "yes", "1":
			v = true
		case "false", "no", "0":
			v = false
		default:
			bad[r.Path] = "the default of a yes/no field is true or false"
			return
		}
	}
	vb, _ := json.Marshal(v)
	b.WriteString(`,"default":`)
	b.Write(vb)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
