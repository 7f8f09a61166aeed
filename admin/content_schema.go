package admin

import (
	"encoding/json"
	"strconv"
	"strings"
)

// schemaField is a field of a collection's schema as the item editor and
// the content list need it: read from the schema's JSON (the API's
// canonical form) in the order of its properties. The API validates;
// this only chooses inputs.
type schemaField struct {
	Name, Type, Title, Help string
	Required                bool
	Options                 []string
	Collection              string
	Min, Max                *float64 // number, integer
	MinLength, MaxLength    *int     // text
	Items                   *schemaField
	Fields                  []*schemaField
}

// Label is the field's title, else its name.
func (f *schemaField) Label() string {
	if f.Title != "" {
		return f.Title
	}
	return humanize(f.Name)
}

// humanize makes a field name a label: "hero_image" → "Hero image".
func humanize(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Scalar reports whether one value of the field fits a table cell and a
// where= condition on it.
func (f *schemaField) Scalar() bool {
	switch f.Type {
	case "multiselect", "array", "object", "json", "richtext", "markdown", "textarea":
		return false
	}
	return true
}

// parseFields reads a schema's fields.
func parseFields(schema json.RawMessage) []*schemaField {
	var top struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if json.Unmarshal(schema, &top) != nil {
		return nil
	}
	return parseProps(top.Properties, top.Required)
}

func parseProps(props json.RawMessage, required []string) []*schemaField {
	if len(props) == 0 {
		return nil
	}
	ms, err := members(props)
	if err != nil {
		return nil
	}
	out := make([]*schemaField, 0, len(ms))
	for _, m := range ms {
		f := parseField(m.Raw)
		f.Name = m.Name
		for _, r := range required {
			if r == m.Name {
				f.Required = true
			}
		}
		out = append(out, f)
	}
	return out
}

func parseField(raw json.RawMessage) *schemaField {
	var kw struct {
		Type        string          `json:"type"`
		Title       string          `json:"title"`
		Description string          `json:"description"`
		Required    json.RawMessage `json:"required"`
		Enum        []string        `json:"enum"`
		Collection  string          `json:"collection"`
		Minimum     *float64        `json:"minimum"`
		Maximum     *float64        `json:"maximum"`
		MinLength   *int            `json:"minLength"`
		MaxLength   *int            `json:"maxLength"`
		Items       json.RawMessage `json:"items"`
		Properties  json.RawMessage `json:"properties"`
	}
	json.Unmarshal(raw, &kw)
	f := &schemaField{Type: kw.Type, Title: kw.Title, Help: kw.Description, Options: kw.Enum, Collection: kw.Collection,
		Min: kw.Minimum, Max: kw.Maximum, MinLength: kw.MinLength, MaxLength: kw.MaxLength}
	var req []string
	if len(kw.Required) > 0 {
		if kw.Required[0] == '[' {
			json.Unmarshal(kw.Required, &req)
		} else {
			json.Unmarshal(kw.Required, &f.Required)
		}
	}
	if len(kw.Items) > 0 {
		f.Items = parseField(kw.Items)
	}
	if f.Type == "object" {
		f.Fields = parseProps(kw.Properties, req)
	}
	return f
}

// lookupField finds a top-level field by name.
func lookupField(fields []*schemaField, name string) *schemaField {
	for _, f := range fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// formatNumber writes a limit for an HTML attribute.
func formatNumber(x *float64) string {
	if x == nil {
		return ""
	}
	return strconv.FormatFloat(*x, 'f', -1, 64)
}
