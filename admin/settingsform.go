package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// A plugin's settings schema is in the field language of collections
// (GET /api/plugins answers it canonical: {"type": "object",
// "properties": {...}, "required": [...]}). schemaForm turns its
// top-level fields into form inputs and the posted form back into the
// settings object; the API validates, and its messages go beside the
// fields they name.

// settingField is one field of a settings schema, as the form shows it.
type settingField struct {
	Name     string
	Label    string
	Help     string
	Type     string // the schema's type
	Input    string // text, number, checkbox, select, multiselect, textarea, lines, json, color, date, email
	Required bool
	Options  []string
	Min, Max string // number bounds
	Step     string
	MinLen   string
	MaxLen   string
	Pattern  string
	Value    string   // the current value, as the input shows it
	Values   []string // multiselect's chosen options
	Checked  bool
	Error    string           // the API's message about this field
	Rows     [][]settingField // objects: one row of sub-fields per item, and an empty one to add
}

// ID is the field's input id.
func (f settingField) ID() string { return "setting-" + strings.ReplaceAll(f.Name, ".", "-") }

// Number is a row's number for people (1-based).
func (f settingField) Number(i int) int { return i + 1 }

// Selected reports whether option o is chosen (select, multiselect).
func (f settingField) Selected(o string) bool {
	if f.Input == "multiselect" {
		for _, v := range f.Values {
			if v == o {
				return true
			}
		}
		return false
	}
	return f.Value == o
}

// settingDef is one field of the schema as JSON.
type settingDef struct {
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Required    json.RawMessage `json:"required"`
	Default     any             `json:"default"`
	Minimum     *float64        `json:"minimum"`
	Maximum     *float64        `json:"maximum"`
	MinLength   *int            `json:"minLength"`
	MaxLength   *int            `json:"maxLength"`
	Pattern     string          `json:"pattern"`
	Enum        []string        `json:"enum"`
	Items       *settingDef     `json:"items"`
}

// settingProps returns the names and definitions of an object
// schema's properties in the order the schema gives them.
func settingProps(schema json.RawMessage) ([]string, map[string]settingDef, []string, error) {
	names, defs, _, required, err := settingPropsRaw(schema)
	return names, defs, required, err
}

// settingItems is the raw "items" of a field's raw definition.
func settingItems(raw json.RawMessage) json.RawMessage {
	var d struct {
		Items json.RawMessage `json:"items"`
	}
	json.Unmarshal(raw, &d)
	return d.Items
}

// settingPropsRaw is settingProps with each field's raw
// definition.
func settingPropsRaw(schema json.RawMessage) ([]string, map[string]settingDef, map[string]json.RawMessage, []string, error) {
	names, defs, required, err := settingPropsOrdered(schema)
	if err != nil || names == nil {
		return names, defs, nil, required, err
	}
	var top struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(schema, &top); err != nil {
		return nil, nil, nil, nil, err
	}
	return names, defs, top.Properties, required, nil
}

func settingPropsOrdered(schema json.RawMessage) ([]string, map[string]settingDef, []string, error) {
	var top struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if len(schema) == 0 || bytes.Equal(schema, []byte("null")) {
		return nil, nil, nil, nil
	}
	if err := json.Unmarshal(schema, &top); err != nil {
		return nil, nil, nil, err
	}
	defs := map[string]settingDef{}
	if len(top.Properties) == 0 {
		return nil, defs, top.Required, nil
	}
	if err := json.Unmarshal(top.Properties, &defs); err != nil {
		return nil, nil, nil, err
	}
	// The keys' order, from the tokens of the properties object.
	var names []string
	dec := json.NewDecoder(bytes.NewReader(top.Properties))
	if _, err := dec.Token(); err != nil { // {
		return nil, nil, nil, err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, nil, err
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, nil, nil, err
		}
	}
	return names, defs, top.Required, nil
}

// settingFields builds the form's fields from schema with the values of
// settings (the stored ones, or those just posted) and the API's field
// errors.
func settingFields(schema, settings json.RawMessage, errs map[string]string) ([]settingField, error) {
	names, defs, raws, required, err := settingPropsRaw(schema)
	if err != nil {
		return nil, fmt.Errorf("settings schema: %w", err)
	}
	values := map[string]any{}
	if len(settings) > 0 {
		dec := json.NewDecoder(bytes.NewReader(settings))
		dec.UseNumber()
		dec.Decode(&values) // not an object: no values shown
	}
	var out []settingField
	for _, name := range names {
		d := defs[name]
		f := settingField{Name: name, Label: d.Title, Help: d.Description, Type: d.Type, Options: d.Enum, Pattern: d.Pattern}
		if f.Label == "" {
			f.Label = settingLabel(name)
		}
		f.Required = string(d.Required) == "true"
		for _, r := range required {
			f.Required = f.Required || r == name
		}
		if d.MinLength != nil {
			f.MinLen = strconv.Itoa(*d.MinLength)
		}
		if d.MaxLength != nil {
			f.MaxLen = strconv.Itoa(*d.MaxLength)
		}
		if d.Minimum != nil {
			f.Min = strconv.FormatFloat(*d.Minimum, 'f', -1, 64)
		}
		if d.Maximum != nil {
			f.Max = strconv.FormatFloat(*d.Maximum, 'f', -1, 64)
		}
		v, ok := values[name]
		if !ok {
			v = d.Default
		}
		switch d.Type {
		case "boolean":
			f.Input = "checkbox"
			f.Checked = v == true
		case "integer", "number":
			f.Input, f.Step = "number", "any"
			if d.Type == "integer" {
				f.Step = "1"
			}
			f.Value = settingText(v)
		case "select", "radio":
			f.Input, f.Value = "select", settingText(v)
		case "multiselect":
			f.Input = "multiselect"
			f.Values = settingList(v)
		case "textarea", "richtext", "markdown":
			f.Input, f.Value = "textarea", settingText(v)
		case "color", "date", "email":
			f.Input, f.Value = d.Type, settingText(v)
		case "array":
			if d.Items != nil && settingScalar(d.Items.Type) {
				f.Input, f.Value = "lines", strings.Join(settingList(v), "\n")
				if f.Help == "" {
					f.Help = "One per line."
				}
				break
			}
			if d.Items != nil && d.Items.Type == "object" {
				if f.Rows, err = settingRows(name, settingItems(raws[name]), v, errs); err != nil {
					return nil, err
				}
				f.Input = "objects"
				break
			}
			f.Input, f.Value = "json", settingJSON(v)
		case "object":
			f.Input, f.Value = "json", settingJSON(v)
		default: // string, slug, datetime, reference, media, file
			f.Input, f.Value = "text", settingText(v)
		}
		if f.Input == "json" && f.Help == "" {
			f.Help = "JSON."
		}
		f.Error = settingErrors(errs, name)
		if f.Input == "objects" {
			f.Error = errs[name] // the rows' own go beside their inputs
		}
		out = append(out, f)
	}
	return out, nil
}

// settingsFromForm reads the posted form back into a settings object for
// the schema, and the fields whose text could not be read (bad JSON, a
// number that is none), which the API is then not asked about.
func settingsFromForm(schema json.RawMessage, form url.Values) (map[string]any, map[string]string, error) {
	names, defs, raws, _, err := settingPropsRaw(schema)
	if err != nil {
		return nil, nil, fmt.Errorf("settings schema: %w", err)
	}
	out, bad := map[string]any{}, map[string]string{}
	for _, name := range names {
		d := defs[name]
		key := "s." + name
		raw := form.Get(key)
		switch d.Type {
		case "boolean":
			out[name] = raw != ""
		case "integer", "number":
			if strings.TrimSpace(raw) == "" {
				continue // the schema's default
			}
			n, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
			if err != nil {
				bad[name] = "must be a number"
				continue
			}
			out[name] = json.Number(strconv.FormatFloat(n, 'f', -1, 64))
		case "multiselect":
			out[name] = append([]string{}, form[key]...)
		case "array":
			if d.Items != nil && settingScalar(d.Items.Type) {
				items := []any{}
				for _, line := range strings.Split(raw, "\n") {
					if line = strings.TrimSpace(line); line != "" {
						if d.Items.Type == "integer" || d.Items.Type == "number" {
							items = append(items, json.Number(line))
							continue
						}
						items = append(items, line)
					}
				}
				out[name] = items
				continue
			}
			if d.Items != nil && d.Items.Type == "object" {
				items, itemsBad, err := settingRowsFromForm(name, settingItems(raws[name]), form)
				if err != nil {
					return nil, nil, err
				}
				for k, v := range itemsBad {
					bad[k] = v
				}
				out[name] = items
				continue
			}
			fallthrough
		case "object":
			if strings.TrimSpace(raw) == "" {
				continue
			}
			var v any
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				bad[name] = "is not valid JSON: " + err.Error()
				continue
			}
			out[name] = v
		default:
			if raw == "" && !strings.Contains(string(d.Required), "true") {
				continue // empty: the schema's default
			}
			out[name] = raw
		}
	}
	return out, bad, nil
}

func settingScalar(t string) bool {
	switch t {
	case "array", "object", "multiselect", "":
		return false
	}
	return true
}

func settingText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return settingJSON(v)
}

func settingList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, settingText(x))
	}
	return out
}

func settingJSON(v any) string {
	if v == nil {
		return ""
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// settingErrors joins what errs says about field name and what is inside it
// ("forms[0].name", "forms.0.name").
func settingErrors(errs map[string]string, name string) string {
	var keys []string
	for k := range errs {
		if k == name || strings.HasPrefix(k, name+".") || strings.HasPrefix(k, name+"[") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var msgs []string
	for _, k := range keys {
		m := errs[k]
		if k != name {
			m = strings.TrimPrefix(k, name) + ": " + m
		}
		msgs = append(msgs, m)
	}
	return strings.Join(msgs, "; ")
}

// settingLabel is a field name for people: words_per_minute reads "Words
// per minute".
func settingLabel(name string) string {
	s := strings.NewReplacer("_", " ", "-", " ").Replace(name)
	if s == "" {
		return name
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// maxSettingRows bounds the rows of an array of objects a form is read
// for.
const maxSettingRows = 200

// settingRows are the rows of an array of objects: one per item of v, and
// an empty one to add an item. Their inputs are named
// s.<name>.<i>.<field>; errs' "name[i].field" goes beside each.
func settingRows(name string, items json.RawMessage, v any, errs map[string]string) ([][]settingField, error) {
	list, _ := v.([]any)
	var rows [][]settingField
	for i := 0; i <= len(list); i++ {
		var item json.RawMessage
		if i < len(list) {
			item, _ = json.Marshal(list[i])
		}
		prefix := fmt.Sprintf("%s[%d].", name, i)
		sub := map[string]string{}
		for k, m := range errs {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				sub[rest] = m
			}
		}
		fields, err := settingFields(items, item, sub)
		if err != nil {
			return nil, err
		}
		for j := range fields {
			fields[j].Name = fmt.Sprintf("%s.%d.%s", name, i, fields[j].Name)
			fields[j].Rows = nil // one level of rows
		}
		rows = append(rows, fields)
	}
	return rows, nil
}

// settingRowsFromForm reads the rows of an array of objects back; a row left
// wholly empty is no item.
func settingRowsFromForm(name string, items json.RawMessage, form url.Values) ([]any, map[string]string, error) {
	out, bad := []any{}, map[string]string{}
	for i := 0; i < maxSettingRows; i++ {
		prefix := fmt.Sprintf("s.%s.%d.", name, i)
		sub, seen, filled := url.Values{}, false, false
		for k, v := range form {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				seen = true
				sub["s."+rest] = v
				for _, x := range v {
					filled = filled || strings.TrimSpace(x) != ""
				}
			}
		}
		if !seen {
			break
		}
		if !filled {
			continue
		}
		obj, objBad, err := settingsFromForm(items, sub)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range objBad {
			bad[fmt.Sprintf("%s[%d].%s", name, len(out), k)] = v
		}
		out = append(out, obj)
	}
	return out, bad, nil
}
