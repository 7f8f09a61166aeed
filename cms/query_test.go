package cms

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// listSchema covers every kind of field a query treats differently.
const listSchema = `{"type": "object", "properties": {
	"name":    {"type": "string"},
	"price":   {"type": "number", "indexed": true},
	"stock":   {"type": "integer"},
	"active":  {"type": "boolean"},
	"day":     {"type": "date"},
	"at":      {"type": "datetime"},
	"tags":    {"type": "multiselect", "enum": ["red", "green", "blue"]},
	"nums":    {"type": "array", "items": {"type": "number"}},
	"address": {"type": "object", "properties": {"city": {"type": "string"}}},
	"extra":   {"type": "json"},
	"maker":   {"type": "reference", "collection": "makers"},
	"related": {"type": "array", "items": {"type": "reference", "collection": "products"}}}}`

// listFixture is a tenant database with a products and a makers
// collection, filled by SQL (the content CRUD is not under test here).
type listFixture struct {
	st       *Store
	schema   *Schema
	products string // collection ids
	makers   string
}

func newListFixture(tb testing.TB) *listFixture {
	tb.Helper()
	env := tenantstoretest.MustOpen(tb, catalog.Config{}, tenantstore.Config{PoolSize: 4})
	env.MustCreate(tb, "shop")
	h, release, err := env.Store.Acquire(context.Background(), "shop")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(release)
	schema, err := ParseSchema(json.RawMessage(listSchema))
	if err != nil {
		tb.Fatal(err)
	}
	f := &listFixture{st: New("shop", h.DB, tb.TempDir()), schema: schema, products: "col-products", makers: "col-makers"}
	mustExec(tb, h.DB, `INSERT INTO collections (id, name, display_name, schema, created_at, updated_at) VALUES
		(?, 'products', 'Products', ?, 0, 0), (?, 'makers', 'Makers', '{}', 0, 0)`, f.products, listSchema, f.makers)
	mustExec(tb, h.DB, `INSERT INTO users (id, email, created_at, updated_at) VALUES ('u1', 'u1@example.com', 0, 0)`)
	return f
}

func mustExec(tb testing.TB, db condo.DB, query string, args ...any) {
	tb.Helper()
	if _, err := db.Writer().Exec(query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// add inserts a live item.
func (f *listFixture) add(tb testing.TB, col, id, title, status string, created int64, data string) {
	tb.Helper()
	mustExec(tb, f.st.DB, `INSERT INTO content (id, collection_id, slug, title, data, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, col, id, title, data, status, created, created)
}

// withProducts adds five products and two makers:
//
//	p1 Apple       price 10    created 1000 published  author u1
//	p2 Banana      price 20.5  created 2000 draft
//	p3 Cherry      price 30    created 3000 published
//	p4 Date 100%_off (no price) created 4000 review
//	p5 elderberry  price 10    created 5000 archived
func (f *listFixture) withProducts(tb testing.TB) *listFixture {
	f.add(tb, f.makers, "m1", "Acme", StatusPublished, 100, `{}`)
	f.add(tb, f.makers, "m2", "Bolt", StatusDraft, 200, `{}`)
	f.add(tb, f.products, "p1", "Apple", StatusPublished, 1000, `{"name": "apple", "price": 10, "stock": 5, "active": true,
		"day": "2024-01-01", "at": "2024-01-01T10:00:00.000Z", "tags": ["red"], "nums": [1, 2],
		"address": {"city": "Paris"}, "maker": "m1", "related": ["p2", "p3", "m1"]}`)
	f.add(tb, f.products, "p2", "Banana", StatusDraft, 2000, `{"name": "banana", "price": 20.5, "stock": 0, "active": false,
		"day": "2024-02-01", "at": "2024-02-01T00:00:00.000Z", "tags": ["green", "blue"], "address": {"city": "Berlin"}, "maker": "m2"}`)
	f.add(tb, f.products, "p3", "Cherry", StatusPublished, 3000, `{"price": 30, "active": true, "tags": [], "maker": "missing"}`)
	f.add(tb, f.products, "p4", "Date 100%_off", StatusReview, 4000, `{"active": null, "extra": {"deep": 1}}`)
	f.add(tb, f.products, "p5", "elderberry", StatusArchived, 5000, `{"price": 10, "extra": "x"}`)
	mustExec(tb, f.st.DB, `UPDATE content SET author_id = 'u1' WHERE id = 'p1'`)
	return f
}

func (f *listFixture) list(tb testing.TB, params string, opt ListOptions) (*Page, error) {
	tb.Helper()
	v, err := url.ParseQuery(params)
	if err != nil {
		tb.Fatal(err)
	}
	q, err := ParseListQuery(v, f.schema)
	if err != nil {
		return nil, err
	}
	if opt.CollectionID == "" {
		opt.CollectionID = f.products
	}
	return f.st.List(context.Background(), q, opt)
}

func (f *listFixture) mustList(tb testing.TB, params string, opt ListOptions) *Page {
	tb.Helper()
	p, err := f.list(tb, params, opt)
	if err != nil {
		tb.Fatalf("%s: %v", params, err)
	}
	return p
}

func ids(items []*Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

// where encodes a where document for a query string.
func where(doc string) string { return "where=" + url.QueryEscape(doc) }

func cond(field, op string, value any) string {
	b, _ := json.Marshal(map[string]any{"field": field, "operator": op, "value": value})
	return string(b)
}

func and(conds ...string) string { return `{"and":[` + strings.Join(conds, ",") + `]}` }

func TestList_Where(t *testing.T) {
	f := newListFixture(t).withProducts(t)
	tests := []struct {
		name  string
		where string
		want  []string // in the default order, newest first
	}{
		{"StringEquals", and(cond("title", "equals", "Apple")), []string{"p1"}},
		{"DataStringEquals", and(cond("data.name", "equals", "banana")), []string{"p2"}},
		{"NestedObjectField", and(cond("data.address.city", "equals", "Paris")), []string{"p1"}},
		{"BareDataName", and(cond("name", "equals", "apple")), []string{"p1"}},
		{"StringNotEquals", and(cond("name", "not_equals", "apple")), []string{"p5", "p4", "p3", "p2"}},
		{"StringGreater", and(cond("title", "greater_than", "Banana")), []string{"p5", "p4", "p3"}},
		{"StringIn", and(cond("title", "in", []string{"Apple", "Cherry", "Nope"})), []string{"p3", "p1"}},
		{"StringNotIn", and(cond("data.name", "not_in", []string{"apple"})), []string{"p5", "p4", "p3", "p2"}},
		{"StringExists", and(cond("data.name", "exists", true)), []string{"p2", "p1"}},
		{"NumberEquals", and(cond("data.price", "equals", 10)), []string{"p5", "p1"}},
		{"NumberEqualsFloat", and(cond("data.price", "equals", 20.5)), []string{"p2"}},
		{"NumberAsString", and(cond("price", "equals", "30")), []string{"p3"}},
		{"NumberNotEqualsKeepsAbsent", and(cond("data.price", "not_equals", 10)), []string{"p4", "p3", "p2"}},
		{"NumberGreater", and(cond("data.price", "greater_than", 10)), []string{"p3", "p2"}},
		{"NumberGreaterEqual", and(cond("data.price", "greater_than_equal", 20.5)), []string{"p3", "p2"}},
		{"NumberLess", and(cond("data.price", "less_than", 20.5)), []string{"p5", "p1"}},
		{"NumberLessEqual", and(cond("data.price", "less_than_equal", 20.5)), []string{"p5", "p2", "p1"}},
		{"NumberIn", and(cond("data.price", "in", []any{10, 30})), []string{"p5", "p3", "p1"}},
		{"NumberNotIn", and(cond("data.price", "not_in", []any{10})), []string{"p4", "p3", "p2"}},
		{"NumberInEmpty", and(cond("data.price", "in", []any{})), []string{}},
		{"NumberNotInEmpty", and(cond("data.price", "not_in", []any{})), []string{"p5", "p4", "p3", "p2", "p1"}},
		{"NumberExists", and(cond("data.price", "exists", true)), []string{"p5", "p3", "p2", "p1"}},
		{"NumberAbsent", and(cond("data.price", "exists", false)), []string{"p4"}},
		{"IntegerEquals", and(cond("data.stock", "equals", 0)), []string{"p2"}},
		{"IntegerWholeFloat", and(cond("data.stock", "equals", 5.0)), []string{"p1"}},
		{"BoolTrue", and(cond("data.active", "equals", true)), []string{"p3", "p1"}},
		{"BoolFalse", and(cond("data.active", "equals", false)), []string{"p2"}},
		{"BoolNotTrue", and(cond("data.active", "not_equals", true)), []string{"p5", "p4", "p2"}},
		{"BoolIn", and(cond("data.active", "in", []any{true, false})), []string{"p3", "p2", "p1"}},
		{"BoolNullIsAbsent", and(cond("data.active", "exists", false)), []string{"p5", "p4"}},
		{"EqualsNull", and(cond("data.active", "equals", nil)), []string{"p5", "p4"}},
		{"DateGreater", and(cond("data.day", "greater_than", "2024-01-15")), []string{"p2"}},
		{"DateEquals", and(cond("data.day", "equals", "2024-01-01")), []string{"p1"}},
		{"DatetimeOtherZone", and(cond("data.at", "equals", "2024-01-01T11:00:00+01:00")), []string{"p1"}},
		{"DatetimeDateOnly", and(cond("data.at", "greater_than_equal", "2024-02-01")), []string{"p2"}},
		{"DatetimeLess", and(cond("data.at", "less_than", "2024-01-31T23:59:59.999Z")), []string{"p1"}},
		{"CreatedAtMillis", and(cond("created_at", "greater_than", 2500)), []string{"p5", "p4", "p3"}},
		{"CreatedAtRFC3339", and(cond("created_at", "less_than_equal", "1970-01-01T00:00:02Z")), []string{"p2", "p1"}},
		{"CreatedAtIn", and(cond("created_at", "in", []any{1000, "1970-01-01T00:00:05Z"})), []string{"p5", "p1"}},
		{"StatusColumn", and(cond("status", "equals", "published")), []string{"p3", "p1"}},
		{"AuthorColumn", and(cond("author_id", "equals", "u1")), []string{"p1"}},
		{"AuthorAbsent", and(cond("author_id", "exists", false)), []string{"p5", "p4", "p3", "p2"}},
		{"PublishedAtAbsent", and(cond("published_at", "exists", false)), []string{"p5", "p4", "p3", "p2", "p1"}},
		{"Like", and(cond("title", "like", "%an%")), []string{"p2"}},
		{"LikeCaseInsensitive", and(cond("title", "like", "c%")), []string{"p3"}},
		{"LikeUnderscore", and(cond("title", "like", "_pple")), []string{"p1"}},
		{"LikeEscapedPercent", and(cond("title", "like", `%100\%\_%`)), []string{"p4"}},
		{"ContainsString", and(cond("title", "contains", "err")), []string{"p5", "p3"}},
		{"ContainsIsLiteral", and(cond("title", "contains", "%_")), []string{"p4"}},
		{"ContainsMultiselect", and(cond("data.tags", "contains", "green")), []string{"p2"}},
		{"ContainsArrayNumber", and(cond("data.nums", "contains", 2)), []string{"p1"}},
		{"ContainsArrayReference", and(cond("data.related", "contains", "p3")), []string{"p1"}},
		{"ArrayExists", and(cond("data.tags", "exists", true)), []string{"p3", "p2", "p1"}},
		{"ObjectExists", and(cond("data.address", "exists", true)), []string{"p2", "p1"}},
		{"JSONEquals", and(cond("data.extra", "equals", "x")), []string{"p5"}},
		{"JSONExists", and(cond("data.extra", "exists", true)), []string{"p5", "p4"}},
		{"ExistsWithoutValue", `{"and":[{"field":"data.address","operator":"exists"}]}`, []string{"p2", "p1"}},
		{"OneCondition", cond("title", "equals", "Cherry"), []string{"p3"}},
		{"Empty", `{}`, []string{"p5", "p4", "p3", "p2", "p1"}},
		{"AndAndOr", `{"and":[` + cond("price", "greater_than", 5) + `],"or":[` + cond("title", "equals", "Apple") + `,` +
			cond("title", "equals", "Cherry") + `,` + cond("title", "equals", "Date 100%_off") + `]}`, []string{"p3", "p1"}},
		{"OrOnly", `{"or":[` + cond("price", "greater_than", 25) + `,` + cond("stock", "equals", 0) + `]}`, []string{"p3", "p2"}},
		{"Nested", `{"or":[{"and":[` + cond("price", "greater_than", 15) + `,` + cond("active", "equals", true) + `]},` +
			cond("title", "equals", "Apple") + `]}`, []string{"p3", "p1"}},
		{"NestedEmptyGroup", `{"and":[{"or":[]},{"and":[{"or":[` + cond("title", "equals", "Apple") + `]}]}]}`, []string{"p1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.mustList(t, where(tt.where), ListOptions{})
			if got := ids(p.Items); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if p.Total != len(tt.want) {
				t.Errorf("total %d, want %d", p.Total, len(tt.want))
			}
		})
	}
}

func TestList_Invalid(t *testing.T) {
	f := newListFixture(t).withProducts(t)
	deep := cond("price", "equals", 1)
	for range 4 {
		deep = `{"and":[` + deep + `]}`
	}
	tooDeep := `{"and":[` + deep + `]}`
	many := make([]string, 51)
	for i := range many {
		many[i] = cond("price", "equals", i)
	}
	hundred := make([]int, 101)
	other := f.mustList(t, "limit=1&sort=title", ListOptions{}).NextCursor
	tests := []struct {
		name, params string
		inMessage    string
	}{
		{"UnknownField", where(and(cond("nope", "equals", 1))), `"nope"`},
		{"UnknownDataField", where(and(cond("data.nope", "equals", 1))), `"data.nope"`},
		{"UnknownNestedField", where(and(cond("data.address.zip", "equals", 1))), `"data.address.zip"`},
		{"UnknownOperator", where(and(cond("price", "between", 1))), `"between"`},
		{"BadJSON", "where=" + url.QueryEscape(`{"and":[`), "JSON"},
		{"TrailingJSON", "where=" + url.QueryEscape(`{} {}`), "JSON"},
		{"NotAnObject", "where=" + url.QueryEscape(`[1]`), "object"},
		{"UnknownGroupKey", "where=" + url.QueryEscape(`{"nor":[]}`), `"nor"`},
		{"UnknownConditionKey", "where=" + url.QueryEscape(`{"field":"price","operator":"equals","value":1,"x":1}`), `"x"`},
		{"AndNotList", "where=" + url.QueryEscape(`{"and":{}}`), "list"},
		{"NoOperator", "where=" + url.QueryEscape(`{"field":"price","value":1}`), "operator"},
		{"NoValue", "where=" + url.QueryEscape(`{"field":"price","operator":"equals"}`), "value"},
		{"NumberNotNumber", where(and(cond("price", "equals", "abc"))), `"abc"`},
		{"IntegerFraction", where(and(cond("stock", "equals", 1.5))), "integer"},
		{"StringNotString", where(and(cond("title", "equals", 5))), "string"},
		{"BoolNotBool", where(and(cond("active", "equals", "yes"))), "boolean"},
		{"DateNotDate", where(and(cond("day", "equals", "tomorrow"))), "date"},
		{"DateWithTime", where(and(cond("day", "equals", "2024-01-01T00:00:00Z"))), "date"},
		{"TimeFraction", where(and(cond("created_at", "equals", 1.5))), "timestamp"},
		{"LikeOnNumber", where(and(cond("price", "like", "1%"))), "like"},
		{"LikeNotString", where(and(cond("title", "like", 1))), "like"},
		{"ContainsOnObject", where(and(cond("address", "contains", "x"))), "contains"},
		{"ContainsWrongElement", where(and(cond("nums", "contains", "x"))), `"x"`},
		{"EqualsOnArray", where(and(cond("tags", "equals", "red"))), "equals"},
		{"GreaterOnBool", where(and(cond("active", "greater_than", true))), "greater_than"},
		{"InNotList", where(and(cond("price", "in", 1))), "list"},
		{"InTooMany", where(and(cond("price", "in", hundred))), "100"},
		{"InWrongType", where(and(cond("price", "in", []any{1, "x"}))), `"x"`},
		{"ExistsNotBool", where(and(cond("price", "exists", 3))), "true or false"},
		{"TooDeep", where(tooDeep), "deeper"},
		{"TooManyConditions", where(and(many...)), "50"},
		{"LimitTooBig", "limit=1001", "limit"},
		{"LimitZero", "limit=0", "limit"},
		{"LimitNotNumber", "limit=ten", "limit"},
		{"OffsetNegative", "offset=-1", "offset"},
		{"SortUnknown", "sort=-nope", `"nope"`},
		{"SortJSONUnknown", "sort=" + url.QueryEscape(`[{"field":"nope"}]`), `"nope"`},
		{"SortBadOrder", "sort=" + url.QueryEscape(`[{"field":"price","order":"up"}]`), "asc or desc"},
		{"SortBadJSON", "sort=" + url.QueryEscape(`[{"field":`), "JSON"},
		{"SortUnknownKey", "sort=" + url.QueryEscape(`[{"field":"price","dir":"desc"}]`), "dir"},
		{"SortArray", "sort=tags", "tags"},
		{"SortObject", "sort=address", "address"},
		{"SortTwice", "sort=price,-price", "twice"},
		{"SortTooMany", "sort=title,slug,price,stock,day,at", "5"},
		{"Status", "status=gone", "status"},
		{"FieldsUnknown", "fields=price,nope", `"nope"`},
		{"FieldsNested", "fields=address.city", "top-level"},
		{"IncludeUnknown", "include=nope", `"nope"`},
		{"IncludeNotReference", "include=price", "reference"},
		{"IncludeArrayNotReference", "include=nums", "reference"},
		{"CursorGarbage", "cursor=not-a-cursor", "cursor"},
		{"CursorWrongShape", "cursor=" + encodeCursor("x", []any{"a"}), "cursor"},
		{"CursorOtherQuery", "limit=1&sort=-title&cursor=" + other, "cursor"},
		{"CursorOtherWhere", "limit=1&sort=title&cursor=" + other + "&" + where(and(cond("price", "exists", true))), "cursor"},
		{"CursorOtherStatus", "limit=1&sort=title&status=draft&cursor=" + other, "cursor"},
		{"CursorWithOffset", "limit=1&sort=title&offset=1&cursor=" + other, "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.list(t, tt.params, ListOptions{})
			if got, want := condo.ErrorCode(err), condo.EINVALID; got != want {
				t.Fatalf("code %q (%v), want %q", got, err, want)
			}
			if got, want := condo.ErrorReason(err), "invalid_query"; got != want {
				t.Errorf("reason %q, want %q", got, want)
			}
			if !strings.Contains(condo.ErrorMessage(err), tt.inMessage) {
				t.Errorf("message %q does not mention %s", condo.ErrorMessage(err), tt.inMessage)
			}
		})
	}
	t.Run("CursorOtherCollection", func(t *testing.T) {
		_, err := f.list(t, "limit=1&sort=title&cursor="+other, ListOptions{CollectionID: f.makers})
		if got, want := condo.ErrorCode(err), condo.EINVALID; got != want {
			t.Fatalf("code %q (%v), want %q", got, err, want)
		}
	})
}

// TestList_Injection sends SQL in field names, operators, sort and values:
// names are refused, values are only ever data.
func TestList_Injection(t *testing.T) {
	f := newListFixture(t).withProducts(t)
	evil := []string{
		`price') OR 1=1 --`, `data.price'`, `data.price') IS NOT NULL OR ('`, `title; DROP TABLE content`,
		`data.address.city') --`, `data."price"`, `data.$.price`, `data.price[0]`, `data.pri ce`, `c.id`,
		`1=1`, `data.price, json_extract(c.data, '$.x')`,
	}
	for _, name := range evil {
		for _, params := range []string{
			where(and(cond(name, "equals", 1))),
			"sort=" + url.QueryEscape(name),
			"sort=" + url.QueryEscape(`[{"field":`+string(must(json.Marshal(name)))+`}]`),
			"fields=" + url.QueryEscape(name),
			"include=" + url.QueryEscape(name),
		} {
			if _, err := f.list(t, params, ListOptions{}); condo.ErrorCode(err) != condo.EINVALID {
				t.Errorf("%s: %v, want EINVALID", params, err)
			}
		}
	}
	if _, err := f.list(t, where(and(cond("title", "equals; DROP TABLE content", 1))), ListOptions{}); condo.ErrorCode(err) != condo.EINVALID {
		t.Errorf("operator injection: %v, want EINVALID", err)
	}
	for _, v := range []string{`' OR 1=1 --`, `Apple' OR '1'='1`, `"); DROP TABLE content; --`, `%' OR 1=1 --`} {
		for _, op := range []string{"equals", "like", "contains", "greater_than"} {
			p := f.mustList(t, where(and(cond("title", op, v))), ListOptions{})
			if op != "greater_than" && len(p.Items) != 0 {
				t.Errorf("title %s %q matched %v", op, v, ids(p.Items))
			}
		}
		p := f.mustList(t, where(and(cond("data.tags", "contains", v))), ListOptions{})
		if len(p.Items) != 0 {
			t.Errorf("tags contains %q matched %v", v, ids(p.Items))
		}
	}
	if got := f.mustList(t, "", ListOptions{}).Total; got != 5 {
		t.Errorf("after the attempts %d items, want 5", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestList_Sort(t *testing.T) {
	f := newListFixture(t).withProducts(t)
	tests := []struct {
		name, sort string
		want       []string
	}{
		{"Default", "", []string{"p5", "p4", "p3", "p2", "p1"}},
		{"ShortAsc", "created_at", []string{"p1", "p2", "p3", "p4", "p5"}},
		{"NullsFirstAscTiesByID", "price", []string{"p4", "p1", "p5", "p2", "p3"}},
		{"NullsLastDescTiesByID", "-price", []string{"p3", "p2", "p5", "p1", "p4"}},
		{"Plus", "+title", []string{"p1", "p2", "p3", "p4", "p5"}},
		{"Mixed", "-active,title", []string{"p1", "p3", "p2", "p4", "p5"}},
		{"MixedJSON", `[{"field":"data.price","order":"desc"},{"field":"title","order":"asc"}]`, []string{"p3", "p2", "p1", "p5", "p4"}},
		{"JSONDefaultAsc", `[{"field":"price"},{"field":"title","order":"DESC"}]`, []string{"p4", "p5", "p1", "p2", "p3"}},
		{"JSONObject", `{"field":"title","order":"desc"}`, []string{"p5", "p4", "p3", "p2", "p1"}},
		{"ByID", "-id", []string{"p5", "p4", "p3", "p2", "p1"}},
		{"ByIDFirst", "id,-title", []string{"p1", "p2", "p3", "p4", "p5"}},
		{"NestedField", "address.city,-created_at", []string{"p5", "p4", "p3", "p2", "p1"}},
		{"Date", "-day,created_at", []string{"p2", "p1", "p3", "p4", "p5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.mustList(t, "sort="+url.QueryEscape(tt.sort), ListOptions{})
			if got := ids(p.Items); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestList_Options(t *testing.T) {
	f := newListFixture(t).withProducts(t)
	tests := []struct {
		name, params string
		opt          ListOptions
		want         []string
		total        int
	}{
		{"Offset", "limit=2&offset=2", ListOptions{}, []string{"p3", "p2"}, 5},
		{"OffsetPastEnd", "offset=10", ListOptions{}, []string{}, 5},
		{"Status", "status=draft", ListOptions{}, []string{"p2"}, 1},
		{"PublishedOnly", "", ListOptions{PublishedOnly: true}, []string{"p3", "p1"}, 2},
		{"PublishedOnlyStatusDraftIsEmpty", "status=draft", ListOptions{PublishedOnly: true}, []string{}, 0},
		{"PublishedOnlyWhereStatus", where(and(cond("status", "equals", "draft"))), ListOptions{PublishedOnly: true}, []string{}, 0},
		{"Author", "", ListOptions{AuthorID: "u1"}, []string{"p1"}, 1},
		{"TotalIgnoresLimit", "limit=1&" + where(and(cond("price", "exists", true))), ListOptions{}, []string{"p5"}, 4},
		{"OtherCollection", "", ListOptions{CollectionID: "col-makers"}, []string{"m2", "m1"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.mustList(t, tt.params, tt.opt)
			if got := ids(p.Items); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if p.Total != tt.total {
				t.Errorf("total %d, want %d", p.Total, tt.total)
			}
		})
	}
	t.Run("Trashed", func(t *testing.T) {
		mustExec(t, f.st.DB, `UPDATE content SET deleted_at = 1 WHERE id = 'p5'`)
		defer mustExec(t, f.st.DB, `UPDATE content SET deleted_at = NULL WHERE id = 'p5'`)
		p := f.mustList(t, "", ListOptions{})
		if got, want := ids(p.Items), []string{"p4", "p3", "p2", "p1"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		p, err := f.st.List(context.Background(), &ListQuery{}, ListOptions{CollectionID: f.products})
		if err != nil {
			t.Fatal(err)
		}
		if p.Limit != DefaultListLimit || len(p.Items) != 5 || p.Items[0].ID != "p5" || p.NextCursor != "" {
			t.Errorf("zero query: limit %d, %v, cursor %q", p.Limit, ids(p.Items), p.NextCursor)
		}
	})
}

func TestList_Fields(t *testing.T) {
	f := newListFixture(t).withProducts(t)
	data := func(p *Page, id string) map[string]any {
		for _, it := range p.Items {
			if it.ID == id {
				var m map[string]any
				if err := json.Unmarshal(it.Data, &m); err != nil {
					t.Fatal(err)
				}
				return m
			}
		}
		t.Fatalf("no item %s", id)
		return nil
	}
	p := f.mustList(t, "fields=price,data.name,price", ListOptions{})
	if got, want := fmt.Sprint(data(p, "p1")), "map[name:apple price:10]"; got != want {
		t.Errorf("p1 data %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(data(p, "p4")), "map[]"; got != want {
		t.Errorf("p4 data %s, want %s", got, want)
	}
	if p.Items[0].Title == "" || p.Items[0].Slug == "" || p.Items[0].Status == "" {
		t.Errorf("item fields dropped: %+v", p.Items[0])
	}
	p = f.mustList(t, "fields=title", ListOptions{})
	if got := data(p, "p1"); len(got) != 0 || p.Items[0].Title == "" {
		t.Errorf("fields=title: data %v, title %q", got, p.Items[0].Title)
	}
	p = f.mustList(t, "fields=maker&include=related", ListOptions{})
	if got, want := fmt.Sprint(data(p, "p1")), "map[maker:m1]"; got != want {
		t.Errorf("projected with include: %s, want %s", got, want)
	}
	if rel, _ := p.Items[4].Included["related"].([]*Item); len(rel) != 2 {
		t.Errorf("include of a field projected away: %v", p.Items[4].Included)
	}
}

func TestList_Include(t *testing.T) {
	f := newListFixture(t).withProducts(t)
	included := func(p *Page, id, field string) any {
		for _, it := range p.Items {
			if it.ID == id {
				return it.Included[field]
			}
		}
		t.Fatalf("no item %s", id)
		return nil
	}
	one := func(v any) string {
		it, _ := v.(*Item)
		if it == nil {
			return "<nil>"
		}
		return it.ID
	}
	many := func(v any) []string {
		list, ok := v.([]*Item)
		if !ok {
			t.Fatalf("included %T, want a list", v)
		}
		return ids(list)
	}
	p := f.mustList(t, "include=maker,data.related", ListOptions{})
	if got := one(included(p, "p1", "maker")); got != "m1" {
		t.Errorf("p1 maker %s, want m1", got)
	}
	if got := one(included(p, "p2", "maker")); got != "m2" {
		t.Errorf("p2 maker %s, want m2", got)
	}
	if got := one(included(p, "p3", "maker")); got != "<nil>" {
		t.Errorf("p3 maker (missing) %s, want nil", got)
	}
	if got := one(included(p, "p4", "maker")); got != "<nil>" {
		t.Errorf("p4 maker (none) %s, want nil", got)
	}
	// m1 is in related but is not a product: left out.
	if got, want := many(included(p, "p1", "related")), []string{"p2", "p3"}; !slices.Equal(got, want) {
		t.Errorf("p1 related %v, want %v", got, want)
	}
	if got := many(included(p, "p2", "related")); len(got) != 0 {
		t.Errorf("p2 related %v, want none", got)
	}
	if b, err := json.Marshal(p.Items[4]); err != nil || !strings.Contains(string(b), `"included":{"maker":{"id":"m1"`) {
		t.Errorf("JSON of p1: %s, %v", b, err)
	}

	t.Run("PublishedOnly", func(t *testing.T) {
		p := f.mustList(t, "include=maker,related", ListOptions{PublishedOnly: true})
		if got, want := many(included(p, "p1", "related")), []string{"p3"}; !slices.Equal(got, want) {
			t.Errorf("p1 related %v, want %v (p2 is a draft)", got, want)
		}
	})
	t.Run("CanRead", func(t *testing.T) {
		p := f.mustList(t, "include=maker,related", ListOptions{CanRead: func(c string) bool { return c == "products" }})
		if got := one(included(p, "p1", "maker")); got != "<nil>" {
			t.Errorf("p1 maker %s from an unreadable collection", got)
		}
		if got := many(included(p, "p1", "related")); len(got) != 2 {
			t.Errorf("p1 related %v", got)
		}
	})
	t.Run("AuthorOnly", func(t *testing.T) {
		p := f.mustList(t, "include=related", ListOptions{AuthorID: "u1"})
		if got := many(included(p, "p1", "related")); len(got) != 0 {
			t.Errorf("p1 related %v: other authors' items", got)
		}
	})
}

// pageAll reads a whole list page by page with cursors, calling between
// after each page.
func (f *listFixture) pageAll(t *testing.T, params string, limit int, between func(page int)) []string {
	t.Helper()
	var out []string
	cursor := ""
	for page := 0; ; page++ {
		p := f.mustList(t, fmt.Sprintf("%s&limit=%d&cursor=%s", params, limit, cursor), ListOptions{})
		out = append(out, ids(p.Items)...)
		if p.Limit != limit || p.Offset != 0 {
			t.Fatalf("page limit %d offset %d", p.Limit, p.Offset)
		}
		if p.NextCursor == "" {
			if len(p.Items) == limit {
				t.Fatalf("full page without a cursor")
			}
			return out
		}
		if len(p.Items) != limit {
			t.Fatalf("cursor on a short page")
		}
		if page > 10000 {
			t.Fatal("paging does not end")
		}
		cursor = p.NextCursor
		if between != nil {
			between(page)
		}
	}
}

// withRandomProducts adds n products with prices that repeat, are
// sometimes absent or null, and titles and creation times with ties.
func (f *listFixture) withRandomProducts(t testing.TB, n int, r *rand.Rand) {
	for i := range n {
		var price string
		switch r.IntN(6) {
		case 0:
			price = ``
		case 1:
			price = `"price": null,`
		default:
			price = fmt.Sprintf(`"price": %d,`, r.IntN(8))
		}
		data := fmt.Sprintf(`{%s "active": %t, "day": "2024-01-%02d"}`, price, r.IntN(2) == 0, 1+r.IntN(3))
		f.add(t, f.products, fmt.Sprintf("r%03d", i), fmt.Sprintf("T%d", r.IntN(5)), StatusPublished, int64(r.IntN(n/2)*10), data)
	}
}

var cursorSorts = []string{
	"", "created_at", "price", "-price", "-active,title", "price,-title", "title,-created_at,price", "slug,id,title",
	`[{"field":"day","order":"desc"},{"field":"price","order":"asc"}]`, "-id", "-published_at",
}

// TestList_Cursor pages through every kind of order with cursors and gets
// the list the single query gives.
func TestList_Cursor(t *testing.T) {
	f := newListFixture(t)
	f.withRandomProducts(t, 60, rand.New(rand.NewPCG(1, 2)))
	for _, s := range cursorSorts {
		for _, w := range []string{"", and(cond("price", "not_equals", 3))} {
			params := "sort=" + url.QueryEscape(s)
			if w != "" {
				params += "&" + where(w)
			}
			t.Run(s+w, func(t *testing.T) {
				want := ids(f.mustList(t, params+"&limit=1000", ListOptions{}).Items)
				for _, limit := range []int{1, 7, 30} {
					if got := f.pageAll(t, params, limit, nil); !slices.Equal(got, want) {
						t.Errorf("limit %d:\n got %v\nwant %v", limit, got, want)
					}
				}
			})
		}
	}
}

// TestList_CursorConcurrentInserts pages while rows are inserted, between
// pages and from another goroutine, with sort keys in the middle of the
// range and equal to existing ones: every row that existed before is read
// exactly once.
func TestList_CursorConcurrentInserts(t *testing.T) {
	for _, s := range []string{"", "price", "-price,title", "title,-created_at"} {
		t.Run(s, func(t *testing.T) {
			f := newListFixture(t)
			r := rand.New(rand.NewPCG(3, 4))
			f.withRandomProducts(t, 80, r)
			before := ids(f.mustList(t, "limit=1000", ListOptions{}).Items)

			var mu sync.Mutex // guards r and n
			n := 0
			insert := func() error {
				mu.Lock()
				defer mu.Unlock()
				n++
				data := fmt.Sprintf(`{"price": %d}`, r.IntN(8))
				if r.IntN(4) == 0 {
					data = `{}`
				}
				// ids before and after the fixture's, so that ties break both ways.
				id := fmt.Sprintf("new%04d", n)
				if n%2 == 0 {
					id = fmt.Sprintf("a%04d", n)
				}
				_, err := f.st.DB.Writer().Exec(`INSERT INTO content (id, collection_id, slug, title, data, status, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, 'published', ?, 0)`, id, f.products, id, fmt.Sprintf("T%d", r.IntN(5)), data, r.IntN(40)*10)
				return err
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A few hundred rows at most, so the whole list fits in one
				// query below.
				for range 300 {
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond):
						if err := insert(); err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
			got := f.pageAll(t, "sort="+url.QueryEscape(s), 9, func(int) {
				for range 2 {
					if err := insert(); err != nil {
						t.Fatal(err)
					}
				}
			})
			close(stop)
			wg.Wait()

			seen := map[string]int{}
			for _, id := range got {
				seen[id]++
				if seen[id] > 1 {
					t.Errorf("%s read twice", id)
				}
			}
			for _, id := range before {
				if seen[id] != 1 {
					t.Errorf("%s skipped", id)
				}
			}
			// The rows read keep the order of the query.
			all := ids(f.mustList(t, "limit=1000&sort="+url.QueryEscape(s), ListOptions{}).Items)
			var inOrder []string
			for _, id := range all {
				if seen[id] > 0 {
					inOrder = append(inOrder, id)
				}
			}
			if !slices.Equal(got, inOrder) {
				t.Errorf("pages out of order:\n got %v\nwant %v", got, inOrder)
			}
		})
	}
}

// TestList_IndexUsed checks the plans of lists: a filter and sort on an
// indexed data field search the expression index (the benchmark's, or the
// one CreateCollection keeps) rather than scanning and sorting everything,
// with and without ANALYZE's statistics; the default order walks
// content_list.
func TestList_IndexUsed(t *testing.T) {
	for _, index := range []string{
		`CREATE INDEX content_price ON content (collection_id, json_extract(data, '$.price')) WHERE deleted_at IS NULL`,
		`CREATE INDEX content_price ON content (collection_id, json_extract(data, '$.price'), created_at, id) WHERE deleted_at IS NULL`,
	} {
		f := newListFixture(t)
		mustExec(t, f.st.DB, index)
		f.withRandomProducts(t, 200, rand.New(rand.NewPCG(5, 6)))
		for _, analyze := range []bool{false, true} {
			if analyze {
				mustExec(t, f.st.DB, `ANALYZE`)
			}
			params := "limit=20&sort=price&" + where(and(cond("price", "greater_than_equal", 2), cond("price", "less_than_equal", 5)))
			first := f.mustList(t, params, ListOptions{})
			const byPrice = "SEARCH c USING INDEX content_price (collection_id=? AND <expr>"
			tests := []struct {
				name, params string
				opt          ListOptions
				want         string // in the plans of the page and the count
				sorted       bool   // the index gives the order (but for the id tie-breaker)
			}{
				{"Range", params, ListOptions{}, byPrice + ">? AND <expr><?)", true},
				{"RangeNextPage", params + "&cursor=" + first.NextCursor, ListOptions{}, byPrice + ">? AND <expr><?)", true},
				{"RangePublished", params, ListOptions{PublishedOnly: true}, "SEARCH c USING INDEX", false},
				{"Equals", "sort=price&" + where(and(cond("price", "equals", 3))), ListOptions{}, byPrice + "=?)", false},
				{"Default", "", ListOptions{}, "SEARCH c USING INDEX content_list (collection_id=? AND deleted_at=?)", true},
				{"DefaultNextPage", "limit=5&cursor=" + f.mustList(t, "limit=5", ListOptions{}).NextCursor, ListOptions{},
					"SEARCH c USING INDEX content_list (collection_id=? AND deleted_at=? AND created_at<?)", true},
			}
			for _, tt := range tests {
				t.Run(fmt.Sprintf("%s/analyze=%t/%s", index[len(index)-40:], analyze, tt.name), func(t *testing.T) {
					q, err := ParseListQuery(must(url.ParseQuery(tt.params)), f.schema)
					if err != nil {
						t.Fatal(err)
					}
					tt.opt.CollectionID = f.products
					st, err := q.statements(tt.opt)
					if err != nil {
						t.Fatal(err)
					}
					page := explain(t, f.st.DB, st.page, st.pageArgs)
					if !strings.Contains(page, tt.want) || tt.sorted && strings.Contains(page, "TEMP B-TREE FOR ORDER BY") {
						t.Errorf("%s\npage plan (want %s, sorted by the index %t):\n%s", st.page, tt.want, tt.sorted, page)
					}
					if count := explain(t, f.st.DB, st.count, st.countArgs); !strings.Contains(count, "SEARCH c USING") {
						t.Errorf("%s\ncount plan scans:\n%s", st.count, count)
					}
				})
			}
		}
	}
}

func explain(t *testing.T, db condo.DB, query string, args []any) string {
	t.Helper()
	rows, err := db.Reader().Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestKeysetAfter(t *testing.T) {
	keys := []sortKey{{expr: "a"}, {expr: "b", desc: true}, {expr: "c.id", desc: true, notNull: true}}
	tests := []struct {
		vals []any
		want string
	}{
		{[]any{int64(1), "x", "id"}, "a >= ? AND ((a > ?) OR (a = ? AND (b < ? OR b IS NULL)) OR (a = ? AND b = ? AND c.id < ?))"},
		{[]any{nil, nil, "id"}, "((a IS NOT NULL) OR (a IS NULL AND b IS NULL AND c.id < ?))"},
	}
	for _, tt := range tests {
		if got, _ := keysetAfter(keys, tt.vals); got != tt.want {
			t.Errorf("%v:\n got %s\nwant %s", tt.vals, got, tt.want)
		}
	}
	newest := []sortKey{{expr: "c.created_at", desc: true, notNull: true}, {expr: "c.id", desc: true, notNull: true}}
	got, args := keysetAfter(newest, []any{int64(5), "x"})
	if want := "c.created_at <= ? AND ((c.created_at < ?) OR (c.created_at = ? AND c.id < ?))"; got != want {
		t.Errorf("newest first:\n got %s\nwant %s", got, want)
	}
	if got, want := fmt.Sprint(args), "[5 5 5 x]"; got != want {
		t.Errorf("args %s, want %s", got, want)
	}
}

func TestList_CursorEncoding(t *testing.T) {
	keys := []any{nil, int64(-3), 2.5, "a:b", []byte{0, 1}, "id"}
	c, err := decodeCursor(encodeCursor("h", keys), len(keys))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprintf("%#v", c.keys), fmt.Sprintf("%#v", keys); got != want || c.hash != "h" {
		t.Errorf("round trip %s %s, want %s", c.hash, got, want)
	}
	for _, bad := range []string{encodeCursor("h", []any{"x"}), base64.RawURLEncoding.EncodeToString([]byte(`{"h":"h","k":["z:x","n"]}`)), strings.Repeat("A", maxCursorBytes+1), "!!", ""} {
		if _, err := decodeCursor(bad, 2); condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("%q: %v, want EINVALID", bad, err)
		}
	}
}
