package admin

// The item editor's inputs: an input per field type, built from item data
// (as stored, or as posted), and the posted form read back into item
// data. The API's field errors are placed beside the inputs they name.

import (
	"bytes"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// input is one field's input (or group of inputs) in the editor.
type input struct {
	Field    *schemaField
	Name     string // the form name: "d.price", "d.address.city"
	ID       string // the element id
	Path     string // the API's field path: "price", "address.city"
	Value    string
	Checked  bool
	Selected map[string]bool
	Children []*input // an object's fields
	Lines    bool     // an array of single values, one per line
	Error    string
	Repeat   bool     // an array of objects, one group of inputs per item
	Entries  []*input // Repeat's items, each an object input
	Choices  []choice // suggested ids (references, media)
	ListID   string   // the datalist of Choices
}

// Kind is the input the template draws for the field.
func (in *input) Kind() string {
	switch t := in.Field.Type; t {
	case "string", "email", "url", "slug", "color", "date", "datetime", "reference", "media", "file":
		return "text"
	case "array":
		switch {
		case in.Lines:
			return "lines"
		case in.Repeat:
			return "repeat"
		}
		return "json"
	case "":
		return "text"
	default:
		return t
	}
}

// Chosen is the suggestion the input's value is, if any: its label (and
// thumbnail) go beside the id.
func (in *input) Chosen() *choice {
	for i := range in.Choices {
		if in.Choices[i].Value == in.Value && in.Value != "" {
			return &in.Choices[i]
		}
	}
	return nil
}

// HTMLType is the type attribute of a one-line input.
func (in *input) HTMLType() string {
	switch in.Field.Type {
	case "email":
		return "email"
	case "url":
		return "url"
	case "date":
		return "date"
	case "datetime":
		return "datetime-local"
	}
	return "text"
}

// Min, Max, MinLength and MaxLength are the field's limits as attributes.
func (in *input) Min() string { return formatNumber(in.Field.Min) }
func (in *input) Max() string { return formatNumber(in.Field.Max) }
func (in *input) MaxLength() string {
	if in.Field.MaxLength == nil {
		return ""
	}
	return strconv.Itoa(*in.Field.MaxLength)
}

// Hint is what the field's input expects, beyond its help text.
func (in *input) Hint() string {
	f := in.Field
	switch f.Type {
	case "reference":
		return "The id of an item of " + f.Collection + "."
	case "media", "file":
		return "The id of a file of the media library."
	case "datetime":
		return "In UTC."
	case "color":
		return "Like #1d4ed8."
	case "slug":
		return "Lower-case letters, digits and single dashes."
	case "array":
		if in.Lines {
			return "One per line."
		}
		return "A JSON list."
	case "json":
		return "Any JSON value."
	}
	var parts []string
	if f.MinLength != nil {
		parts = append(parts, "at least "+strconv.Itoa(*f.MinLength)+" characters")
	}
	if f.MaxLength != nil {
		parts = append(parts, "at most "+strconv.Itoa(*f.MaxLength)+" characters")
	}
	if f.Min != nil {
		parts = append(parts, "from "+formatNumber(f.Min))
	}
	if f.Max != nil {
		parts = append(parts, "up to "+formatNumber(f.Max))
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, ", ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// rawText is a posted value kept as typed for the form shown again (JSON
// that does not parse).
type rawText string

// linesItem reports whether an array's items are single values, edited
// one per line.
func linesItem(f *schemaField) bool {
	if f.Items == nil {
		return false
	}
	switch f.Items.Type {
	case "string", "email", "url", "slug", "color", "date", "datetime", "reference", "media", "file", "select", "radio", "number", "integer":
		return true
	}
	return false
}

// repeatItem reports whether an array's items are objects, edited as a
// group of inputs per item.
func repeatItem(f *schemaField) bool {
	return f.Items != nil && f.Items.Type == "object" && len(f.Items.Fields) > 0
}

// entriesFromForm reads the posted items of an array of objects: the
// groups under name.0, name.1, ... in the order of their indexes. A group
// left empty is sent as an empty object, so the API says which of its
// fields are required, at the item's own position.
func entriesFromForm(form url.Values, f *schemaField, name, path string, bad map[string]string) []any {
	seen := map[int]bool{}
	for k := range form {
		rest, ok := strings.CutPrefix(k, name+".")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ".")
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < 10000 {
			seen[i] = true
		}
	}
	idx := make([]int, 0, len(seen))
	for i := range seen {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var list []any
	for _, i := range idx {
		k := len(list)
		list = append(list, dataFromForm(form, f.Items.Fields, name+"."+strconv.Itoa(i)+".", path+"["+strconv.Itoa(k)+"]", bad))
	}
	return list
}

// itemOp applies an editor button that changes the form, not the item:
// "additem:d.gallery" adds an empty group to the array of objects
// d.gallery, "removeitem:d.gallery.2" removes its third. It reports
// whether op was one.
func itemOp(data map[string]any, op string) bool {
	verb, target, _ := strings.Cut(op, ":")
	if verb != "additem" && verb != "removeitem" {
		return false
	}
	steps := strings.Split(strings.TrimPrefix(target, "d."), ".")
	remove := -1
	if verb == "removeitem" && len(steps) > 1 {
		n, err := strconv.Atoi(steps[len(steps)-1])
		if err != nil {
			return true
		}
		remove, steps = n, steps[:len(steps)-1]
	}
	// Walk to the map holding the array (through objects and items).
	var cur any = data
	for _, s := range steps[:len(steps)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[s]
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i >= len(c) {
				return true
			}
			cur = c[i]
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return true
	}
	last := steps[len(steps)-1]
	list, _ := m[last].([]any)
	if verb == "additem" {
		m[last] = append(list, map[string]any{})
	} else if remove >= 0 && remove < len(list) {
		m[last] = append(list[:remove:remove], list[remove+1:]...)
	}
	return true
}

// buildInputs makes the inputs of fields from data (as stored, or as
// posted), under the form prefix and API path.
func buildInputs(fields []*schemaField, data map[string]any, prefix, path string) []*input {
	out := make([]*input, 0, len(fields))
	for _, f := range fields {
		in := &input{Field: f, Name: prefix + f.Name, Path: joinField(path, f.Name)}
		in.ID = "in-" + strings.ReplaceAll(in.Path, ".", "-")
		v := data[f.Name]
		switch f.Type {
		case "object":
			m, _ := v.(map[string]any)
			in.Children = buildInputs(f.Fields, m, in.Name+".", in.Path)
		case "boolean":
			in.Checked = v == true
		case "multiselect":
			in.Selected = map[string]bool{}
			if list, ok := v.([]any); ok {
				for _, x := range list {
					in.Selected[textOf(x)] = true
				}
			}
		case "array":
			in.Lines, in.Repeat = linesItem(f), repeatItem(f)
			if in.Repeat {
				list, _ := v.([]any)
				for i, x := range list {
					m, _ := x.(map[string]any)
					en := &input{Field: f.Items, Name: in.Name + "." + strconv.Itoa(i), Path: in.Path + "[" + strconv.Itoa(i) + "]"}
					en.ID = in.ID + "-" + strconv.Itoa(i)
					en.Children = buildInputs(f.Items.Fields, m, en.Name+".", en.Path)
					in.Entries = append(in.Entries, en)
				}
				break
			}
			if list, ok := v.([]any); ok && in.Lines {
				parts := make([]string, len(list))
				for i, x := range list {
					parts[i] = valueText(f.Items.Type, x)
				}
				in.Value = strings.Join(parts, "\n")
			} else {
				in.Value = jsonText(v)
			}
		case "json":
			in.Value = jsonText(v)
		default:
			in.Value = valueText(f.Type, v)
		}
		out = append(out, in)
	}
	return out
}

// valueText writes a single value for its input.
func valueText(typ string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case rawText:
		return string(x)
	case string:
		if typ == "datetime" {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.UTC().Format("2006-01-02T15:04")
			}
		}
		return x
	case json.Number:
		return x.String()
	}
	return textOf(v)
}

func jsonText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case rawText:
		return string(x)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return ""
	}
	return string(b)
}

// placeErrors puts the API's field errors beside the inputs: an input
// takes the errors of its path and, for a list or JSON value, of the
// paths inside it ("tags[2]"). It returns those no input took.
func placeErrors(inputs []*input, errs map[string]string) map[string]string {
	left := map[string]string{}
	for k, v := range errs {
		left[k] = v
	}
	var walk func([]*input)
	walk = func(list []*input) {
		for _, in := range list {
			walk(in.Children)
			for _, en := range in.Entries {
				walk(en.Children)
			}
			var msgs []string
			for _, k := range sortedKeys(left) {
				inside := in.Children == nil && (strings.HasPrefix(k, in.Path+"[") || strings.HasPrefix(k, in.Path+"."))
				if k == in.Path || inside {
					if k == in.Path {
						msgs = append(msgs, left[k])
					} else {
						msgs = append(msgs, strings.TrimPrefix(k, in.Path)+": "+left[k])
					}
					delete(left, k)
				}
			}
			in.Error = strings.Join(msgs, "; ")
		}
	}
	walk(inputs)
	return left
}

// dataFromForm reads the posted inputs of fields into item data. A value
// the admin cannot turn into JSON (a JSON field that does not parse) is
// kept as rawText and named in bad. Numbers that are no numbers go to the
// API as typed, so its message says what is wrong.
func dataFromForm(form url.Values, fields []*schemaField, prefix, path string, bad map[string]string) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		name, p := prefix+f.Name, joinField(path, f.Name)
		raw := form.Get(name)
		val := strings.TrimSpace(raw)
		switch f.Type {
		case "object":
			if m := dataFromForm(form, f.Fields, name+".", p, bad); len(m) > 0 || f.Required {
				out[f.Name] = m
			}
		case "boolean":
			out[f.Name] = val != ""
		case "multiselect":
			var list []any
			for _, v := range form[name] {
				if v != "" {
					list = append(list, v)
				}
			}
			if len(list) > 0 {
				out[f.Name] = list
			}
		case "array":
			if repeatItem(f) {
				if list := entriesFromForm(form, f, name, p, bad); len(list) > 0 {
					out[f.Name] = list
				}
				continue
			}
			if val == "" {
				continue
			}
			if linesItem(f) {
				var list []any
				for _, line := range strings.Split(raw, "\n") {
					if line = strings.TrimSpace(line); line != "" {
						list = append(list, scalarOf(f.Items.Type, line))
					}
				}
				out[f.Name] = list
				continue
			}
			out[f.Name] = jsonOf(val, p, bad)
		case "json":
			if val != "" {
				out[f.Name] = jsonOf(val, p, bad)
			}
		case "textarea", "richtext", "markdown":
			if val != "" {
				out[f.Name] = strings.ReplaceAll(raw, "\r\n", "\n")
			}
		default:
			if val != "" {
				out[f.Name] = scalarOf(f.Type, val)
			}
		}
	}
	return out
}

// scalarOf turns a typed value into the JSON value of its type, or keeps
// the text where it is not one (the API then says why).
func scalarOf(typ, s string) any {
	switch typ {
	case "number":
		if x, err := strconv.ParseFloat(s, 64); err == nil {
			return x
		}
	case "integer":
		if x, err := strconv.ParseInt(s, 10, 64); err == nil {
			return x
		}
	case "datetime":
		if t, ok := parseLocal(s); ok {
			return t.Format(time.RFC3339)
		}
	}
	return s
}

func jsonOf(s, path string, bad map[string]string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		bad[path] = "not valid JSON"
		return rawText(s)
	}
	return v
}

// parseLocal reads a datetime-local value (or RFC 3339) as UTC.
func parseLocal(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func localTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04")
}

// decodeData decodes an item's data keeping numbers as written.
func decodeData(raw json.RawMessage) map[string]any {
	m := map[string]any{}
	if len(raw) == 0 {
		return m
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	dec.Decode(&m)
	return m
}
