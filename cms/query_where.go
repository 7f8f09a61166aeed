package cms

// The where compiler: a where document translated to SQL and bound
// parameters, checked against the schema.

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/condohq/condo"
)

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
