package cms

// The list query: SonicJS's where/sort/limit/offset/fields/include
// parameters, checked against the collection's schema and translated to
// SQLite. Field names reach the SQL only after the schema knows them and
// they match fieldIdent; every value is a bound parameter.
//
// Choices worth knowing:
//   - NULL sorts lowest, as SQLite does: first in ascending order, last in
//     descending order. An item without a data field has NULL there.
//   - not_equals and not_in match items where the field is absent or null.
//   - contains on text is a LIKE '%value%' (case-insensitive for ASCII,
//     like SonicJS); on arrays and multiselects it is array membership.
//   - A status other than published under ListOptions.PublishedOnly gives
//     an empty page rather than an error: the filters are ANDed.
//   - Included items obey the list's visibility (published only, one
//     author) and must belong to the field's target collection.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/condohq/condo"
)

// Limits of a list query.
const (
	// DefaultListLimit is the page size when limit is not given.
	DefaultListLimit = 50
	// MaxListLimit is the largest page size.
	MaxListLimit = 1000

	maxWhereDepth      = 4     // nesting of and/or groups
	maxWhereConditions = 50    // conditions in one where
	maxListValues      = 100   // entries of an in/not_in list
	maxSortKeys        = 5     // keys of sort, before the id tie-breaker
	maxIncludes        = 10    // fields of include=
	maxCursorBytes     = 4096  // an encoded cursor
	maxIncludeIDs      = 30000 // referenced ids read at once (SQLite binds at most 32766)
)

// ListQuery is a parsed and checked list query. Build it with
// ParseListQuery; the zero value lists the newest items, DefaultListLimit
// at a time.
type ListQuery struct {
	// Limit is the page size, 1 to MaxListLimit; zero means DefaultListLimit.
	Limit int
	// Offset is how many rows to skip; zero when a cursor is given.
	Offset int
	// Status keeps the items in one workflow status; "" keeps all.
	Status string
	// Fields, when not nil, are the top-level data keys to keep in each
	// item's data (the item's own fields are always there).
	Fields []string
	// Include names the reference fields to expand, one level deep, as
	// ParseListQuery checked them (setting it by hand expands nothing).
	Include []string

	where    string // SQL over content c, "" for none
	args     []any  // where's parameters
	sort     []sortKey
	includes []includeField
	cursor   *cursor
}

// ListOptions are the caller's constraints on a list, beyond the query.
type ListOptions struct {
	// CollectionID is the collection listed.
	CollectionID string
	// PublishedOnly keeps published items, for readers without rights to
	// drafts.
	PublishedOnly bool
	// AuthorID keeps this author's items; "" keeps everyone's.
	AuthorID string
	// CanRead says whether the caller may read items of a collection, by
	// name; include= drops the referenced items it refuses. Nil allows all.
	CanRead func(collection string) bool
	// Counts, when set, remembers totals by query, so a repeated list does
	// not count its matches again. The caller ties it to the tenant's data
	// (dropping it on every write), so a remembered total is never stale.
	Counts Counts
}

// Counts remembers list totals by key.
type Counts interface {
	Get(key string) (int, bool)
	Put(key string, total int)
}

// Page is one page of a list.
type Page struct {
	Items  []*Item
	Total  int // items matching the query, all pages together
	Limit  int
	Offset int
	// NextCursor continues after the last item; set when the page is full.
	NextCursor string
}

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

func invalidQuery(format string, args ...any) error {
	return condo.ReasonErrorf(condo.EINVALID, "invalid_query", format, args...)
}

// ParseListQuery reads and checks the list parameters of a request against
// a collection's schema. Every problem is EINVALID (invalid_query) and
// names the parameter, field or operator at fault.
func ParseListQuery(v url.Values, s *Schema) (*ListQuery, error) {
	q := &ListQuery{}
	var err error
	if q.Limit, err = intParam(v, "limit", DefaultListLimit, 1, MaxListLimit); err != nil {
		return nil, err
	}
	if q.Offset, err = intParam(v, "offset", 0, 0, math.MaxInt32); err != nil {
		return nil, err
	}
	if raw := strings.TrimSpace(v.Get("where")); raw != "" {
		if q.where, q.args, err = parseWhere(raw, s); err != nil {
			return nil, err
		}
	}
	if q.sort, err = parseSort(v.Get("sort"), s); err != nil {
		return nil, err
	}
	if st := v.Get("status"); st != "" {
		switch st {
		case StatusDraft, StatusReview, StatusPublished, StatusArchived:
			q.Status = st
		default:
			return nil, invalidQuery("status must be draft, review, published or archived")
		}
	}
	if raw := v.Get("fields"); strings.TrimSpace(raw) != "" {
		if q.Fields, err = parseFields(raw, s); err != nil {
			return nil, err
		}
	}
	if raw := v.Get("include"); raw != "" {
		if q.includes, err = parseInclude(raw, s); err != nil {
			return nil, err
		}
		for _, in := range q.includes {
			q.Include = append(q.Include, in.name)
		}
	}
	if raw := v.Get("cursor"); raw != "" {
		if q.Offset != 0 {
			return nil, invalidQuery("cursor and offset cannot be used together")
		}
		if q.cursor, err = decodeCursor(raw, len(q.keys())); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// intParam is condo.IntParam with the reason of every list query problem,
// invalid_query.
func intParam(v url.Values, name string, def, lo, hi int) (int, error) {
	n, err := condo.IntParam(v, name, def, lo, hi)
	if err != nil {
		return 0, invalidQuery("%s", condo.ErrorMessage(err))
	}
	return n, nil
}

// whereBuilder translates a where document into SQL and its parameters.
type whereBuilder struct {
	schema *Schema
	conds  int // conditions so far
	args   []any
}

// parseWhere translates {"and":[...],"or":[...]} (or one condition).
func parseWhere(raw string, s *Schema) (string, []any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "", nil, invalidQuery("where is not valid JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return "", nil, invalidQuery("where is not valid JSON: text after the document")
	}
	b := &whereBuilder{schema: s}
	sql, err := b.node(doc, 1)
	if err != nil {
		return "", nil, err
	}
	return sql, b.args, nil
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s at byte %d", syn.Error(), syn.Offset)
	}
	return err.Error()
}

// node translates a group or a condition; depth counts groups.
func (b *whereBuilder) node(v any, depth int) (string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", invalidQuery("where: a condition or group must be an object")
	}
	if _, ok := m["field"]; ok {
		return b.condition(m)
	}
	return b.group(m, depth)
}

// group translates {"and":[...],"or":[...]}: the and-list AND (the
// or-list). Empty lists constrain nothing.
func (b *whereBuilder) group(m map[string]any, depth int) (string, error) {
	if depth > maxWhereDepth {
		return "", invalidQuery("where nests and/or groups deeper than %d levels", maxWhereDepth)
	}
	for _, k := range objectKeys(m) {
		if k != "and" && k != "or" {
			return "", invalidQuery("where: unknown key %q (a group has and/or, a condition field/operator/value)", condo.Clip(k))
		}
	}
	var parts []string
	for _, key := range []string{"and", "or"} {
		raw, ok := m[key]
		if !ok || raw == nil {
			continue
		}
		list, ok := raw.([]any)
		if !ok {
			return "", invalidQuery("where: %s takes a list", key)
		}
		var sqls []string
		for _, e := range list {
			s, err := b.node(e, depth+1)
			if err != nil {
				return "", err
			}
			if s != "" { // an empty group constrains nothing
				sqls = append(sqls, s)
			}
		}
		if len(sqls) > 0 {
			parts = append(parts, "("+strings.Join(sqls, " "+strings.ToUpper(key)+" ")+")")
		}
	}
	return strings.Join(parts, " AND "), nil
}

// objectKeys lists m's keys in order, so errors and SQL do not depend on
// map order.
func objectKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// operatorList is the comparisons a condition may use, in the order the
// README and the OpenAPI document list them.
var operatorList = []string{"equals", "not_equals", "greater_than", "greater_than_equal", "less_than",
	"less_than_equal", "like", "contains", "in", "not_in", "exists"}

// operators is operatorList as a set.
var operators = func() map[string]bool {
	m := make(map[string]bool, len(operatorList))
	for _, op := range operatorList {
		m[op] = true
	}
	return m
}()

// Operators returns the operators a where condition may use.
func Operators() []string { return slices.Clone(operatorList) }

var comparisons = map[string]string{
	"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<=",
}

// condition translates {"field":..., "operator":..., "value":...}.
func (b *whereBuilder) condition(m map[string]any) (string, error) {
	b.conds++
	if b.conds > maxWhereConditions {
		return "", invalidQuery("where has more than %d conditions", maxWhereConditions)
	}
	for _, k := range objectKeys(m) {
		if k != "field" && k != "operator" && k != "value" {
			return "", invalidQuery("where: unknown key %q in a condition", condo.Clip(k))
		}
	}
	name, ok := m["field"].(string)
	if !ok {
		return "", invalidQuery("where: field must be a string")
	}
	op, ok := m["operator"].(string)
	if !ok {
		return "", invalidQuery("where: condition on %q has no operator", condo.Clip(name))
	}
	if !operators[op] {
		return "", invalidQuery("unknown operator %q", condo.Clip(op))
	}
	col, err := resolveField(name, b.schema)
	if err != nil {
		return "", err
	}
	val, hasVal := m["value"]
	if !hasVal && op != "exists" {
		return "", invalidQuery("where: condition %s on %q has no value", op, condo.Clip(name))
	}
	refuse := func() (string, error) {
		return "", invalidQuery("operator %s does not apply to %q, of type %s", op, condo.Clip(name), col.kind)
	}
	switch col.kind {
	case kindArray:
		if op != "contains" && op != "exists" {
			return refuse()
		}
	case kindObject:
		if op != "exists" {
			return refuse()
		}
	case kindJSON:
		if op != "equals" && op != "not_equals" && op != "exists" {
			return refuse()
		}
	case kindBool:
		if comparisons[op] != "" || op == "like" || op == "contains" {
			return refuse()
		}
	case kindString:
	default: // numbers and times
		if op == "like" || op == "contains" {
			return refuse()
		}
	}

	switch op {
	case "equals", "not_equals":
		if val == nil {
			if op == "equals" {
				return col.expr + " IS NULL", nil
			}
			return col.expr + " IS NOT NULL", nil
		}
		x, err := col.value(col.kind, val)
		if err != nil {
			return "", err
		}
		b.args = append(b.args, x)
		if op == "equals" {
			return col.expr + " = ?", nil
		}
		// IS NOT: an absent field is not equal to anything.
		return col.expr + " IS NOT ?", nil
	case "greater_than", "greater_than_equal", "less_than", "less_than_equal":
		x, err := col.value(col.kind, val)
		if err != nil {
			return "", err
		}
		b.args = append(b.args, x)
		return col.expr + " " + comparisons[op] + " ?", nil
	case "like":
		s, ok := val.(string)
		if !ok {
			return "", invalidQuery("where: like on %q takes a string pattern", condo.Clip(name))
		}
		b.args = append(b.args, s)
		return col.expr + ` LIKE ? ESCAPE '\'`, nil
	case "contains":
		if col.kind == kindArray {
			x, err := col.value(col.elem, val)
			if err != nil {
				return "", err
			}
			b.args = append(b.args, x)
			return "EXISTS (SELECT 1 FROM json_each(c.data, '" + col.path + "') WHERE value = ?)", nil
		}
		s, ok := val.(string)
		if !ok {
			return "", invalidQuery("where: contains on %q takes a string", condo.Clip(name))
		}
		b.args = append(b.args, "%"+escapeLike(s)+"%")
		return col.expr + ` LIKE ? ESCAPE '\'`, nil
	case "in", "not_in":
		list, ok := val.([]any)
		if !ok {
			return "", invalidQuery("where: %s on %q takes a list of values", op, condo.Clip(name))
		}
		if len(list) > maxListValues {
			return "", invalidQuery("where: %s on %q takes at most %d values", op, condo.Clip(name), maxListValues)
		}
		if len(list) == 0 {
			if op == "in" {
				return "0", nil
			}
			return "1", nil
		}
		for _, e := range list {
			x, err := col.value(col.kind, e)
			if err != nil {
				return "", err
			}
			b.args = append(b.args, x)
		}
		marks := strings.Repeat(", ?", len(list))[2:]
		if op == "in" {
			return col.expr + " IN (" + marks + ")", nil
		}
		return "(" + col.expr + " IS NULL OR " + col.expr + " NOT IN (" + marks + "))", nil
	default: // exists
		want := true
		if hasVal {
			if want, ok = asBool(val); !ok {
				return "", invalidQuery("where: exists on %q takes true or false", condo.Clip(name))
			}
		}
		if want {
			return col.expr + " IS NOT NULL", nil
		}
		return col.expr + " IS NULL", nil
	}
}

// escapeLike makes s match itself inside a LIKE ... ESCAPE '\' pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func asBool(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(v)
		return b, err == nil
	}
	return false, false
}

// value checks a JSON value against a kind and converts it to what SQLite
// compares the stored value with.
func (c column) value(k kind, v any) (any, error) {
	bad := func() (any, error) {
		return nil, invalidQuery("where: %s is not a valid %s for %q", clipValue(v), k, condo.Clip(c.name))
	}
	switch k {
	case kindString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case kindNumber, kindInteger:
		var n json.Number
		switch v := v.(type) {
		case json.Number:
			n = v
		case string: // a number in quotes, as forms send them
			n = json.Number(strings.TrimSpace(v))
		default:
			return bad()
		}
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad()
		}
		if k == kindInteger {
			if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				return bad()
			}
			return int64(f), nil
		}
		return f, nil
	case kindBool:
		if b, ok := asBool(v); ok {
			if b {
				return int64(1), nil
			}
			return int64(0), nil
		}
	case kindDate, kindDatetime, kindTime:
		if n, ok := v.(json.Number); ok && k == kindTime {
			if i, err := n.Int64(); err == nil {
				return i, nil
			}
			return bad()
		}
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		t, dateOnly, ok := parseTime(s)
		if !ok {
			return bad()
		}
		switch {
		case k == kindTime:
			return t.UnixMilli(), nil
		case k == kindDate && !dateOnly:
			return nil, invalidQuery("where: %s is not a date (YYYY-MM-DD) for %q", clipValue(v), condo.Clip(c.name))
		case k == kindDate:
			return s, nil
		}
		// Stored datetimes are fixed-width UTC text that sorts as time.
		return t.UTC().Format(datetimeLayout), nil
	case kindJSON:
		switch v := v.(type) {
		case string:
			return v, nil
		case json.Number:
			return c.value(kindNumber, v)
		case bool:
			return c.value(kindBool, v)
		}
	}
	return bad()
}

// parseTime reads RFC 3339 or a plain date (midnight UTC).
func parseTime(s string) (t time.Time, dateOnly, ok bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, false, true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true, true
	}
	return time.Time{}, false, false
}

func clipValue(v any) string {
	b, _ := json.Marshal(v)
	return condo.Clip(string(b))
}

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
	for i, k := range keys {
		if k.expr == "c.id" {
			return keys[:i+1]
		}
	}
	return append(slices.Clip(keys), sortKey{name: "id", expr: "c.id", desc: keys[len(keys)-1].desc, notNull: true})
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

// cursor is a position in a list: the sort-key values of the last item
// read (id last), and the hash of the query that read it.
type cursor struct {
	hash string
	keys []any
}

type cursorDoc struct {
	H string   `json:"h"`
	K []string `json:"k"` // typed: "n", "i:<int>", "f:<float>", "s:<text>", "b:<base64>"
}

func encodeCursor(hash string, keys []any) string {
	doc := cursorDoc{H: hash, K: make([]string, len(keys))}
	for i, v := range keys {
		switch v := v.(type) {
		case nil:
			doc.K[i] = "n"
		case int64:
			doc.K[i] = "i:" + strconv.FormatInt(v, 10)
		case float64:
			doc.K[i] = "f:" + strconv.FormatFloat(v, 'g', -1, 64)
		case string:
			doc.K[i] = "s:" + v
		case []byte:
			doc.K[i] = "b:" + base64.StdEncoding.EncodeToString(v)
		default:
			doc.K[i] = "s:" + fmt.Sprint(v)
		}
	}
	b, _ := json.Marshal(doc)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(raw string, n int) (*cursor, error) {
	bad := invalidQuery("cursor is not valid (it belongs to a list with the same where and sort)")
	if len(raw) > maxCursorBytes {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(raw, "="))
	if err != nil {
		return nil, bad
	}
	var doc cursorDoc
	if err := json.Unmarshal(b, &doc); err != nil || doc.H == "" || len(doc.K) != n {
		return nil, bad
	}
	c := &cursor{hash: doc.H, keys: make([]any, n)}
	for i, k := range doc.K {
		tag, val, _ := strings.Cut(k, ":")
		switch tag {
		case "n":
			c.keys[i] = nil
		case "i":
			c.keys[i], err = strconv.ParseInt(val, 10, 64)
		case "f":
			c.keys[i], err = strconv.ParseFloat(val, 64)
		case "s":
			c.keys[i] = val
		case "b":
			c.keys[i], err = base64.StdEncoding.DecodeString(val)
		default:
			err = errors.New("unknown tag")
		}
		if err != nil {
			return nil, bad
		}
	}
	return c, nil
}

// hash identifies the rows and order of a list, so that a cursor is only
// used with the list that made it.
func (q *ListQuery) hash(collectionID string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q\x00%q\x00%q\x00", collectionID, q.Status, q.where)
	for _, a := range q.args {
		fmt.Fprintf(h, "%T:%v\x00", a, a)
	}
	for _, k := range q.keys() {
		fmt.Fprintf(h, "%s %t\x00", k.expr, k.desc)
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}

// keysetAfter is the condition for rows strictly after vals in the order
// of keys: (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ..., with each step
// reading NULL as lower than any value, as ORDER BY does.
func keysetAfter(keys []sortKey, vals []any) (string, []any) {
	var ors, ties []string
	var args, tieArgs []any
	for i, k := range keys {
		v := vals[i]
		var after string
		var afterArgs []any
		switch {
		case !k.desc && v == nil:
			after = k.expr + " IS NOT NULL"
		case !k.desc:
			after, afterArgs = k.expr+" > ?", []any{v}
		case k.notNull && v != nil:
			after, afterArgs = k.expr+" < ?", []any{v}
		case v != nil:
			after, afterArgs = "("+k.expr+" < ? OR "+k.expr+" IS NULL)", []any{v}
		}
		if after != "" {
			ors = append(ors, "("+strings.Join(append(slices.Clone(ties), after), " AND ")+")")
			args = append(append(args, tieArgs...), afterArgs...)
		}
		if v == nil {
			ties = append(ties, k.expr+" IS NULL")
		} else {
			ties = append(ties, k.expr+" = ?")
			tieArgs = append(tieArgs, v)
		}
	}
	if len(ors) == 0 {
		return "0", nil
	}
	pred := "(" + strings.Join(ors, " OR ") + ")"
	// A redundant bound on the first key lets SQLite seek in an index
	// instead of testing the OR on every row.
	switch k, v := keys[0], vals[0]; {
	case !k.desc && v != nil:
		pred = k.expr + " >= ? AND " + pred
		args = append([]any{v}, args...)
	case k.desc && v == nil:
		pred = k.expr + " IS NULL AND " + pred
	case k.desc && k.notNull:
		pred = k.expr + " <= ? AND " + pred
		args = append([]any{v}, args...)
	}
	// A descending nullable key (a data field) gets no bound: the rows
	// after the cursor include the NULLs, which an index range cannot
	// express, so such pages filter the index instead of seeking in it.
	return pred, args
}

// List reads one page of a collection's live items. It returns EINVALID
// (invalid_query) for a cursor made by another query.
func (s *Store) List(ctx context.Context, q *ListQuery, opt ListOptions) (*Page, error) {
	if q == nil {
		q = &ListQuery{}
	}
	st, err := q.statements(opt)
	if err != nil {
		return nil, err
	}
	page := &Page{Items: []*Item{}, Limit: st.limit, Offset: st.offset}
	var last []any
	// One read transaction: the total and the page see the same snapshot.
	args, _ := json.Marshal(st.countArgs) // unambiguous, unlike fmt's spaces
	countKey := st.count + "\x00" + string(args)
	counted := false
	if opt.Counts != nil {
		page.Total, counted = opt.Counts.Get(countKey)
	}
	err = readTx(ctx, s, func(tx *sql.Tx) error {
		if !counted {
			if err := tx.QueryRowContext(ctx, st.count, st.countArgs...).Scan(&page.Total); err != nil {
				return fmt.Errorf("count items: %w", err)
			}
		}
		rows, err := tx.QueryContext(ctx, st.page, st.pageArgs...)
		if err != nil {
			return fmt.Errorf("list items: %w", err)
		}
		defer rows.Close()
		// The sort keys follow the item's columns; the last row's make the
		// next cursor.
		vals := make([]any, st.nkeys)
		dest := make([]any, st.nkeys)
		for i := range vals {
			dest[i] = &vals[i]
		}
		for rows.Next() {
			it, err := scanItem(rows, dest...)
			if err != nil {
				return fmt.Errorf("list items: %w", err)
			}
			page.Items = append(page.Items, it)
			last = slices.Clone(vals)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if opt.Counts != nil && !counted {
		opt.Counts.Put(countKey, page.Total)
	}
	if len(page.Items) == st.limit && last != nil {
		page.NextCursor = encodeCursor(st.hash, last)
	}
	if err := s.shape(ctx, q, opt, page.Items); err != nil {
		return nil, err
	}
	return page, nil
}

// listStatements are the SQL of one list: the count and the page.
type listStatements struct {
	count     string
	countArgs []any
	page      string // selects itemColumns then the nkeys sort keys
	pageArgs  []any
	nkeys     int
	limit     int
	offset    int
	hash      string // of the query, for cursors
}

func (q *ListQuery) statements(opt ListOptions) (*listStatements, error) {
	st := &listStatements{limit: q.Limit, offset: q.Offset, hash: q.hash(opt.CollectionID)}
	if st.limit <= 0 {
		st.limit = DefaultListLimit
	}
	st.limit = min(st.limit, MaxListLimit)
	keys := q.keys()
	st.nkeys = len(keys)

	// The collection and the trash test appear literally so that partial
	// expression indexes (WHERE deleted_at IS NULL) apply.
	conds := []string{"c.collection_id = ?", "c.deleted_at IS NULL"}
	args := []any{opt.CollectionID}
	if opt.PublishedOnly {
		conds = append(conds, "c.status = 'published'")
	}
	if opt.AuthorID != "" {
		conds = append(conds, "c.author_id = ?")
		args = append(args, opt.AuthorID)
	}
	if q.Status != "" {
		conds = append(conds, "c.status = ?")
		args = append(args, q.Status)
	}
	base, baseArgs := strings.Join(conds, " AND "), args
	filter, whereArgs := base, args
	if q.where != "" {
		filter += " AND (" + q.where + ")"
		whereArgs = append(slices.Clip(args), q.args...)
	}
	st.count, st.countArgs = "SELECT count(*) FROM content c WHERE "+filter, whereArgs

	st.pageArgs = whereArgs
	if q.cursor != nil {
		if q.cursor.hash != st.hash || len(q.cursor.keys) != len(keys) {
			return nil, invalidQuery("cursor belongs to another query: keep where, sort and status, or start over")
		}
		// The keyset comes before the where: of two lower bounds on an
		// indexed expression, SQLite seeks with the first it meets.
		pred, predArgs := keysetAfter(keys, q.cursor.keys)
		filter = base + " AND " + pred
		st.pageArgs = append(slices.Clip(baseArgs), predArgs...)
		if q.where != "" {
			filter += " AND (" + q.where + ")"
			st.pageArgs = append(st.pageArgs, q.args...)
		}
		st.offset = 0
	}
	st.pageArgs = slices.Clone(st.pageArgs)
	exprs, order := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		exprs[i], order[i] = k.expr, k.expr+" ASC"
		if k.desc {
			order[i] = k.expr + " DESC"
		}
	}
	// CROSS JOIN keeps content the outer loop (SQLite does not reorder
	// it), so an index on content can give the order and LIMIT stops early.
	st.page = "SELECT " + itemColumns + ", " + strings.Join(exprs, ", ") +
		" FROM content c CROSS JOIN collections col ON col.id = c.collection_id WHERE " + filter +
		" ORDER BY " + strings.Join(order, ", ") + " LIMIT ? OFFSET ?"
	st.pageArgs = append(st.pageArgs, st.limit, st.offset)
	return st, nil
}

func readTx(ctx context.Context, s *Store, fn func(*sql.Tx) error) error {
	tx, err := s.DB.Reader().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// shape expands include= and applies fields= to a page's items.
func (s *Store) shape(ctx context.Context, q *ListQuery, opt ListOptions, items []*Item) error {
	if len(q.includes) == 0 && q.Fields == nil {
		return nil
	}
	datas := make([]map[string]json.RawMessage, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Data, &datas[i]); err != nil {
			return fmt.Errorf("read data of %s: %w", it.ID, err)
		}
	}
	if len(q.includes) > 0 {
		if err := s.include(ctx, q.includes, opt, items, datas); err != nil {
			return err
		}
	}
	if q.Fields != nil {
		for i, it := range items {
			kept := make(map[string]json.RawMessage, len(q.Fields))
			for _, k := range q.Fields {
				if v, ok := datas[i][k]; ok {
					kept[k] = v
				}
			}
			b, err := json.Marshal(kept)
			if err != nil {
				return err
			}
			it.Data = b
		}
	}
	return nil
}

// include puts the items that reference fields point at in
// Item.Included: one item (or null) for a reference, a list for an array
// of references. Referenced items the caller may not see are left out.
func (s *Store) include(ctx context.Context, fields []includeField, opt ListOptions, items []*Item, datas []map[string]json.RawMessage) error {
	refs := make([]map[string][]string, len(items)) // item → field → ids
	var ids []string
	seen := map[string]bool{}
	for i := range items {
		refs[i] = map[string][]string{}
		for _, f := range fields {
			got := refIDs(datas[i][f.name], f.many)
			refs[i][f.name] = got
			for _, id := range got {
				if !seen[id] && len(ids) < maxIncludeIDs {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		}
	}
	found, err := s.itemsByID(ctx, ids)
	if err != nil {
		return fmt.Errorf("read included items: %w", err)
	}
	visible := func(f includeField, it *Item) bool {
		switch {
		case it == nil:
			return false
		case f.collection != "" && it.Collection != f.collection:
			return false
		case opt.PublishedOnly && it.Status != StatusPublished:
			return false
		case opt.AuthorID != "" && it.AuthorID != opt.AuthorID:
			return false
		case opt.CanRead != nil && !opt.CanRead(it.Collection):
			return false
		}
		return true
	}
	for i, it := range items {
		for _, f := range fields {
			if it.Included == nil {
				it.Included = map[string]any{}
			}
			if !f.many {
				it.Included[f.name] = nil
				if got := refs[i][f.name]; len(got) > 0 && visible(f, found[got[0]]) {
					it.Included[f.name] = found[got[0]]
				}
				continue
			}
			list := []*Item{}
			for _, id := range refs[i][f.name] {
				if visible(f, found[id]) {
					list = append(list, found[id])
				}
			}
			it.Included[f.name] = list
		}
	}
	return nil
}

// refIDs reads the ids of a reference value: "id" or {"id": "..."}, or a
// list of them.
func refIDs(raw json.RawMessage, many bool) []string {
	if len(raw) == 0 {
		return nil
	}
	one := func(raw json.RawMessage) string {
		var id string
		if json.Unmarshal(raw, &id) == nil {
			return id
		}
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &obj) == nil {
			return obj.ID
		}
		return ""
	}
	if !many {
		if id := one(raw); id != "" {
			return []string{id}
		}
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil
	}
	var out []string
	for _, e := range list {
		if id := one(e); id != "" {
			out = append(out, id)
		}
	}
	return out
}
