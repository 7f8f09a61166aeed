package cms

// Field resolution: which column or JSON path a query names, and what
// kind of value it holds.

import (
	"regexp"
	"strings"

	"github.com/condohq/condo"
)

// kind is what a field holds, as far as filtering and sorting care.
type kind int

const (
	kindString   kind = iota
	kindNumber        // any JSON number
	kindInteger       // a whole number
	kindBool          // stored as JSON true/false, read by SQLite as 1/0
	kindDate          // "2006-01-02"
	kindDatetime      // text in datetimeLayout: UTC, milliseconds
	kindTime          // a top-level Unix millisecond column
	kindArray         // array or multiselect
	kindObject
	kindJSON // anything
)

func (k kind) String() string {
	return [...]string{"string", "number", "integer", "boolean", "date", "datetime", "timestamp", "array", "object", "json"}[k]
}

// scalar says whether a field of this kind can be sorted on.
func (k kind) scalar() bool { return k != kindArray && k != kindObject && k != kindJSON }

func fieldKind(f *Field) kind {
	if f == nil {
		return kindJSON
	}
	switch f.Type {
	case TypeString, TypeTextarea, TypeRichtext, TypeMarkdown, TypeEmail, TypeURL, TypeColor, TypeSelect, TypeRadio,
		TypeSlug, TypeReference, TypeMedia, TypeFile:
		return kindString
	case TypeNumber:
		return kindNumber
	case TypeInteger:
		return kindInteger
	case TypeBoolean:
		return kindBool
	case TypeDate:
		return kindDate
	case TypeDatetime:
		return kindDatetime
	case TypeArray, TypeMultiselect:
		return kindArray
	case TypeObject:
		return kindObject
	}
	return kindJSON
}

// column is a field a query may filter or sort on.
type column struct {
	name string // as the query names it
	expr string // its SQL over content c
	path string // the JSON path of a data field, for json_each
	kind kind
	elem kind // what an array holds
	// notNull is set for columns that are never NULL, which keeps the
	// keyset condition simple.
	notNull bool
}

// topColumns are the item's own fields, columns of content.
var topColumns = map[string]column{
	"id":           {name: "id", expr: "c.id", kind: kindString, notNull: true},
	"title":        {name: "title", expr: "c.title", kind: kindString, notNull: true},
	"slug":         {name: "slug", expr: "c.slug", kind: kindString, notNull: true},
	"status":       {name: "status", expr: "c.status", kind: kindString, notNull: true},
	"author_id":    {name: "author_id", expr: "c.author_id", kind: kindString},
	"created_at":   {name: "created_at", expr: "c.created_at", kind: kindTime, notNull: true},
	"updated_at":   {name: "updated_at", expr: "c.updated_at", kind: kindTime, notNull: true},
	"published_at": {name: "published_at", expr: "c.published_at", kind: kindTime},
}

// fieldIdent is what each step of a data path must look like before it is
// written into SQL.
var fieldIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// resolveField finds a filterable field: a top-level column, "data.x" or
// "data.x.y", or a bare "x" meaning data.x.
func resolveField(name string, s *Schema) (column, error) {
	if c, ok := topColumns[name]; ok {
		return c, nil
	}
	path := strings.TrimPrefix(name, "data.")
	f, ok := lookupPath(s, path)
	if !ok {
		return column{}, invalidQuery("unknown field %q", condo.Clip(name))
	}
	expr, ok := jsonExtract(path)
	if !ok {
		return column{}, invalidQuery("unknown field %q", condo.Clip(name))
	}
	c := column{name: name, expr: expr, path: "$." + path, kind: fieldKind(f)}
	if f.Type == TypeMultiselect {
		c.elem = kindString
	} else if c.kind == kindArray {
		c.elem = fieldKind(f.Items)
	}
	return c, nil
}

// lookupPath asks the schema for a field whose every path step is an
// identifier.
func lookupPath(s *Schema, path string) (*Field, bool) {
	if s == nil || path == "" {
		return nil, false
	}
	for _, step := range strings.Split(path, ".") {
		if !fieldIdent.MatchString(step) {
			return nil, false
		}
	}
	f, ok := s.Lookup(path)
	return f, ok && f != nil
}

// jsonExtract writes json_extract(c.data, '$.path'), checking again that
// nothing but identifiers gets between the quotes.
func jsonExtract(path string) (string, bool) {
	for _, step := range strings.Split(path, ".") {
		if !fieldIdent.MatchString(step) {
			return "", false
		}
	}
	return "json_extract(c.data, '$." + path + "')", true
}
