package sonicjs

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/condohq/condo/cms"
)

// Condo reads SonicJS's JSON-Schema-like collection schemas as they are
// (cms.ParseSchema). What it refuses (keywords it does not implement,
// field names it cannot index) is mapped here, field by field, with
// ParseSchema as the judge, and every change is reported.

// cleanName makes a SonicJS field or collection name a Condo identifier.
func cleanName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "f_" + out
	}
	if len(out) > 64 {
		out = out[:64]
	}
	return out
}

// formats maps a string field's JSON-Schema format, as SonicJS's editors
// use it, to the Condo type that checks it.
var formats = map[string]string{
	"richtext": cms.TypeRichtext, "html": cms.TypeRichtext, "markdown": cms.TypeMarkdown,
	"date": cms.TypeDate, "date-time": cms.TypeDatetime, "datetime": cms.TypeDatetime,
	"email": cms.TypeEmail, "uri": cms.TypeURL, "url": cms.TypeURL, "textarea": cms.TypeTextarea,
}

// schemaMap is a collection's mapped schema and the renames its items'
// data follow.
type schemaMap struct {
	schema  *cms.Schema
	renames map[string]string // SonicJS field name -> Condo's
	changes []string
}

// mapSchema maps a SonicJS collection schema to one Condo accepts.
func mapSchema(raw string) *schemaMap {
	m := &schemaMap{renames: map[string]string{}}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil {
		m.changes = append(m.changes, "the schema is not a JSON object: imported with no fields (every data field becomes a json field)")
		m.schema = &cms.Schema{}
		return m
	}
	props, _ := cms.OrderedMembers(top["properties"])
	var fields []string
	var required []string
	_ = json.Unmarshal(top["required"], &required)
	for _, p := range props {
		name := p.Name
		if !cms.ValidFieldName(name) {
			name = cleanName(name)
			m.renames[p.Name] = name
			m.changes = append(m.changes, fmt.Sprintf("field %q renamed %q (Condo field names are identifiers)", p.Name, name))
		}
		def := m.field(name, p.Raw)
		b, _ := json.Marshal(name)
		fields = append(fields, string(b)+":"+string(def))
	}
	var req []string
	for _, r := range required {
		if n, ok := m.renames[r]; ok {
			r = n
		}
		b, _ := json.Marshal(r)
		req = append(req, string(b))
	}
	hints := ""
	for _, k := range []string{"$schema", "title", "description"} {
		if v, ok := top[k]; ok {
			hints += fmt.Sprintf("%q:%s,", k, v)
		}
	}
	candidate := `{` + hints + `"type":"object","properties":{` + strings.Join(fields, ",") + `},"required":[` + strings.Join(req, ",") + `]}`
	s, err := cms.ParseSchema(json.RawMessage(candidate))
	if err != nil {
		candidate = `{` + hints + `"type":"object","properties":{` + strings.Join(fields, ",") + `}}`
		m.changes = append(m.changes, "the schema's required list was dropped: "+err.Error())
		if s, err = cms.ParseSchema(json.RawMessage(candidate)); err != nil {
			m.changes = append(m.changes, "the schema could not be mapped ("+err.Error()+"): imported with no fields")
			s = &cms.Schema{}
		}
	}
	for k := range top {
		if k != "type" && k != "properties" && k != "required" && k != "title" && k != "description" && k != "$schema" {
			m.changes = append(m.changes, fmt.Sprintf("schema keyword %q dropped (Condo does not implement it)", k))
		}
	}
	m.schema = s
	return m
}

// field maps one field definition: a string with a format Condo types
// becomes that type; then whatever ParseSchema refuses is dropped keyword
// by keyword, and a field still refused becomes a json field (any value),
// keeping its title.
func (m *schemaMap) field(name string, raw json.RawMessage) json.RawMessage {
	var def map[string]json.RawMessage
	if json.Unmarshal(raw, &def) != nil || def == nil {
		m.changes = append(m.changes, fmt.Sprintf("field %s: not an object; now a json field", name))
		return json.RawMessage(`{"type":"json"}`)
	}
	var typ, format string
	_ = json.Unmarshal(def["type"], &typ)
	_ = json.Unmarshal(def["format"], &format)
	if t, ok := formats[strings.ToLower(format)]; ok && (typ == "string" || typ == "") {
		def["type"], _ = json.Marshal(t)
		delete(def, "format")
		m.changes = append(m.changes, fmt.Sprintf("field %s: string with format %q is now type %s", name, format, t))
	}
	// problems counts what ParseSchema refuses in the field; 0: it parses.
	problems := func(d map[string]json.RawMessage) int {
		b, _ := json.Marshal(map[string]any{"type": "object", "properties": map[string]any{name: d}})
		_, err := cms.ParseSchema(b)
		if err == nil {
			return 0
		}
		return strings.Count(err.Error(), ";") + 1
	}
	n := problems(def)
	keys := make([]string, 0, len(def))
	for k := range def {
		if k != "type" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	// Drop keywords one by one while that leaves fewer problems.
	var gone []string
	for _, k := range keys {
		if n == 0 {
			break
		}
		v := def[k]
		delete(def, k)
		if p := problems(def); p < n {
			n, gone = p, append(gone, k)
			continue
		}
		def[k] = v
	}
	if n == 0 {
		for _, k := range gone {
			m.changes = append(m.changes, fmt.Sprintf("field %s: keyword %q dropped (Condo does not implement it here)", name, k))
		}
		b, _ := json.Marshal(def)
		return b
	}
	loose := map[string]json.RawMessage{"type": json.RawMessage(`"json"`)}
	if t, ok := def["title"]; ok {
		loose["title"] = t
	}
	m.changes = append(m.changes, fmt.Sprintf("field %s: its definition (type %q) is not one Condo reads; now a json field", name, typ))
	b, _ := json.Marshal(loose)
	return b
}

// fit makes the schema accept every item's data (current and past
// versions): a data field the schema does not define is added as a json
// field, and a field some value breaks is loosened to a plain string (all
// its values strings) or a json field, without its constraints. A SonicJS
// site never enforced its schema on stored data, so this keeps every
// value rather than dropping what does not fit; each change is reported,
// and the operator can tighten the schema once the data is fixed.
func (m *schemaMap) fit(ctx context.Context, datas []map[string]any, res cms.Resolver) error {
	for round := 0; round < 3; round++ {
		bad := map[string]bool{}
		unknown := map[string]bool{}
		nonString := map[string]bool{}
		why := map[string]string{}
		for _, d := range datas {
			_, errs, err := m.schema.Validate(ctx, d, res)
			if err != nil {
				return err
			}
			for path, msg := range errs {
				top := path
				if i := strings.IndexAny(top, ".["); i >= 0 {
					top = top[:i]
				}
				if msg == "unknown field" && top == path {
					unknown[top] = true
					continue
				}
				bad[top] = true
				if _, seen := why[top]; !seen {
					why[top] = path + " " + msg
				}
				if _, ok := d[top].(string); !ok {
					nonString[top] = true
				}
			}
		}
		if len(bad) == 0 && len(unknown) == 0 {
			return nil
		}
		fields := m.schema.Fields
		for i, f := range fields {
			if !bad[f.Name] {
				continue
			}
			typ := cms.TypeString
			if nonString[f.Name] || round > 0 {
				typ = cms.TypeJSON
			}
			fields[i] = &cms.Field{Name: f.Name, Type: typ, Title: f.Title, Help: f.Help, Hints: f.Hints}
			m.changes = append(m.changes, fmt.Sprintf("field %s: some items' values do not fit its definition (type %s; for one, %s): loosened to %s without constraints",
				f.Name, f.Type, why[f.Name], typ))
		}
		for _, name := range sortedKeys(unknown) {
			fields = append(fields, &cms.Field{Name: name, Type: cms.TypeJSON})
			m.changes = append(m.changes, fmt.Sprintf("field %s: in items' data but not in the schema: added as a json field", name))
		}
		m.schema.Fields = fields
		b, err := json.Marshal(m.schema)
		if err != nil {
			return err
		}
		if m.schema, err = cms.ParseSchema(b); err != nil {
			return fmt.Errorf("remap the schema: %w", err)
		}
	}
	// What still does not fit, even as json, is left to insertItem, which
	// leaves out the item (or version) and says why.
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
