package cms

// The sort, fields and include parameters of a list query.

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/condohq/condo"
)

// sortKey is one key of the order.
type sortKey struct {
	name    string
	expr    string
	desc    bool
	notNull bool
}

var defaultSort = []sortKey{{name: "created_at", expr: "c.created_at", desc: true, notNull: true}}

// parseSort reads [{"field":"price","order":"desc"}] or "-price,title".
func parseSort(raw string, s *Schema) ([]sortKey, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return defaultSort, nil
	}
	type spec struct {
		Field string `json:"field"`
		Order string `json:"order"`
	}
	var specs []spec
	if raw[0] == '[' || raw[0] == '{' {
		if raw[0] == '{' {
			raw = "[" + raw + "]"
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&specs); err != nil {
			return nil, invalidQuery("sort is not a valid JSON list of {field, order}: %s", jsonProblem(err))
		}
		if dec.More() {
			return nil, invalidQuery("sort is not valid JSON: text after the list")
		}
	} else {
		for _, part := range strings.Split(raw, ",") {
			part = strings.TrimSpace(part)
			switch {
			case part == "":
				continue
			case part[0] == '-':
				specs = append(specs, spec{Field: part[1:], Order: "desc"})
			case part[0] == '+':
				specs = append(specs, spec{Field: part[1:], Order: "asc"})
			default:
				specs = append(specs, spec{Field: part})
			}
		}
	}
	if len(specs) == 0 {
		return defaultSort, nil
	}
	if len(specs) > maxSortKeys {
		return nil, invalidQuery("sort takes at most %d keys", maxSortKeys)
	}
	keys := make([]sortKey, 0, len(specs))
	for _, sp := range specs {
		var desc bool
		switch strings.ToLower(sp.Order) {
		case "", "asc":
		case "desc":
			desc = true
		default:
			return nil, invalidQuery("sort order of %q must be asc or desc", condo.Clip(sp.Field))
		}
		col, err := resolveField(sp.Field, s)
		if err != nil {
			return nil, err
		}
		if !col.kind.scalar() {
			return nil, invalidQuery("cannot sort by %q, of type %s: only single values sort", condo.Clip(sp.Field), col.kind)
		}
		for _, k := range keys {
			if k.expr == col.expr {
				return nil, invalidQuery("sort names %q twice", condo.Clip(sp.Field))
			}
		}
		keys = append(keys, sortKey{name: sp.Field, expr: col.expr, desc: desc, notNull: col.notNull})
	}
	return keys, nil
}

// keys is the full order: the sort keys, then the id to break ties in the
// direction of the last key, so that the order is total. Keys after an id
// key would never decide anything and are left out.
func (q *ListQuery) keys() []sortKey {
	keys := q.sort
	if len(keys) == 0 {
		keys = defaultSort
	}
	created := false
	for i, k := range keys {
		if k.expr == "c.id" {
			return keys[:i+1]
		}
		created = created || k.expr == "c.created_at"
	}
	// Ties are broken by creation time and then id, in the direction of
	// the last key: that is the order of an indexed field's expression
	// index (collection_id, field, created_at, id), so a list sorted by
	// the field reads the index in order and stops at its LIMIT instead
	// of sorting every match.
	desc := keys[len(keys)-1].desc
	keys = slices.Clip(keys)
	if !created {
		keys = append(keys, sortKey{name: "created_at", expr: "c.created_at", desc: desc, notNull: true})
	}
	return append(keys, sortKey{name: "id", expr: "c.id", desc: desc, notNull: true})
}

// itemFields are the item's own fields: always returned, so fields= may
// name them without effect.
var itemFields = map[string]bool{
	"id": true, "collection": true, "title": true, "slug": true, "status": true, "data": true, "version": true,
	"author_id": true, "published_at": true, "publish_at": true, "unpublish_at": true, "created_at": true, "updated_at": true,
}

// parseFields reads fields=a,b: the top-level data keys to keep.
func parseFields(raw string, s *Schema) ([]string, error) {
	out := []string{}
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		key := strings.TrimPrefix(name, "data.")
		if strings.Contains(key, ".") {
			return nil, invalidQuery("fields takes top-level data fields, not %q", condo.Clip(name))
		}
		if _, ok := lookupPath(s, key); !ok {
			if key == name && itemFields[name] {
				continue
			}
			return nil, invalidQuery("unknown field %q in fields", condo.Clip(name))
		}
		if !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out, nil
}

// includeField is a reference field to expand.
type includeField struct {
	name       string
	many       bool   // an array of references
	collection string // the referenced collection, "" for any
}

func parseInclude(raw string, s *Schema) ([]includeField, error) {
	var out []includeField
	for _, name := range strings.Split(raw, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		key := strings.TrimPrefix(name, "data.")
		f, ok := lookupPath(s, key)
		if !ok || strings.Contains(key, ".") {
			return nil, invalidQuery("unknown field %q in include", condo.Clip(name))
		}
		in := includeField{name: key, collection: f.Collection}
		switch {
		case f.Type == TypeReference:
		case f.Type == TypeArray && f.Items != nil && f.Items.Type == TypeReference:
			in.many = true
			if f.Items.Collection != "" {
				in.collection = f.Items.Collection
			}
		default:
			return nil, invalidQuery("include: %q is not a reference field", condo.Clip(name))
		}
		if !slices.ContainsFunc(out, func(o includeField) bool { return o.name == key }) {
			out = append(out, in)
		}
	}
	if len(out) > maxIncludes {
		return nil, invalidQuery("include takes at most %d fields", maxIncludes)
	}
	return out, nil
}
