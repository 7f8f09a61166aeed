package cms_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/cms"
)

// schemaResolver answers the schema's existence questions from maps, and
// counts them.
type schemaResolver struct {
	items map[string]bool // "collection/id"
	media map[string]bool
	err   error
	asked int
}

func (r *schemaResolver) ItemExists(ctx context.Context, collection, id string) (bool, error) {
	r.asked++
	return r.items[collection+"/"+id], r.err
}

func (r *schemaResolver) MediaExists(ctx context.Context, id string) (bool, error) {
	r.asked++
	return r.media[id], r.err
}

func newSchemaResolver() *schemaResolver {
	return &schemaResolver{
		items: map[string]bool{"authors/a1": true, "authors/a2": true},
		media: map[string]bool{"m1": true, "m2": true},
	}
}

// mustParseSchema parses a schema the test expects to be valid.
func mustParseSchema(tb testing.TB, raw string) *cms.Schema {
	tb.Helper()
	s, err := cms.ParseSchema(json.RawMessage(raw))
	if err != nil {
		tb.Fatalf("ParseSchema(%s): %v", raw, err)
	}
	return s
}

// decodeData decodes item data as the API does (numbers as float64).
func decodeData(tb testing.TB, raw string) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		tb.Fatalf("decode %s: %v", raw, err)
	}
	return m
}

func marshal(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("marshal %#v: %v", v, err)
	}
	return string(b)
}

// schemaErr returns the problems of an invalid schema by path.
func schemaErr(tb testing.TB, err error) map[string]string {
	tb.Helper()
	var e *condo.Error
	if !errors.As(err, &e) {
		tb.Fatalf("got %v, want a *condo.Error", err)
	}
	if got, want := e.Code, condo.EINVALID; got != want {
		tb.Errorf("code = %q, want %q", got, want)
	}
	if got, want := e.Reason, "invalid_schema"; got != want {
		tb.Errorf("reason = %q, want %q", got, want)
	}
	return e.Fields
}

const fullSchema = `{
	"$schema": "https://json-schema.org/draft/2020-12/schema",
	"type": "object",
	"title": "Products",
	"properties": {
		"title": {"type": "string", "title": "Title", "description": "Shown in lists", "maxLength": 120, "minLength": 1, "unique": true, "placeholder": "A title"},
		"summary": {"type": "textarea", "rows": 3},
		"body": {"type": "rich_text", "required": true},
		"notes": {"type": "markdown"},
		"price": {"type": "number", "minimum": 0, "maximum": 1e6, "indexed": true},
		"stock": {"type": "int", "min": 0, "default": 0},
		"active": {"type": "checkbox", "default": true},
		"launch": {"type": "date"},
		"updated": {"type": "datetime"},
		"contact": {"type": "email"},
		"site": {"type": "url"},
		"tint": {"type": "color", "default": "#3B82F6"},
		"status": {"type": "select", "enum": ["draft", "live"], "enumLabels": ["Draft", "Live"], "default": "draft"},
		"size": {"type": "radio", "options": ["s", "m", "l"]},
		"tags": {"type": "multiselect", "enum": ["a", "b", "c"], "max": 2},
		"handle": {"type": "slug", "pattern": "^[a-z]"},
		"author": {"type": "reference", "collection": "authors", "displayField": "name"},
		"image": {"type": "media"},
		"manual": {"type": "file"},
		"features": {"type": "array", "items": {"type": "string", "maxLength": 20}, "minItems": 1, "maxItems": 3, "uniqueItems": true},
		"address": {"type": "object", "properties": {
			"street": {"type": "string"},
			"city": {"type": "string", "required": true},
			"geo": {"type": "object", "properties": {"lat": {"type": "number"}, "lng": {"type": "number"}}, "required": ["lat", "lng"]}
		}},
		"meta": {"type": "json"}
	},
	"required": ["title", "price"]
}`

func TestParseSchema(t *testing.T) {
	s := mustParseSchema(t, fullSchema)

	var names, types []string
	for _, f := range s.Fields {
		names = append(names, f.Name)
		types = append(types, f.Type)
	}
	if got, want := strings.Join(names, ","), "title,summary,body,notes,price,stock,active,launch,updated,contact,site,tint,status,size,tags,handle,author,image,manual,features,address,meta"; got != want {
		t.Errorf("field order:\n got %s\nwant %s", got, want)
	}
	if got, want := strings.Join(types, ","), "string,textarea,richtext,markdown,number,integer,boolean,date,datetime,email,url,color,select,radio,multiselect,slug,reference,media,file,array,object,json"; got != want {
		t.Errorf("canonical types:\n got %s\nwant %s", got, want)
	}

	t.Run("RequiredBothForms", func(t *testing.T) {
		for _, name := range []string{"title", "price", "body"} {
			if f, _ := s.Lookup(name); !f.Required {
				t.Errorf("%s not required", name)
			}
		}
		if f, _ := s.Lookup("summary"); f.Required {
			t.Error("summary required")
		}
		for _, path := range []string{"address.city", "address.geo.lat", "address.geo.lng"} {
			if f, _ := s.Lookup(path); !f.Required {
				t.Errorf("%s not required", path)
			}
		}
	})
	t.Run("Constraints", func(t *testing.T) {
		title, _ := s.Lookup("title")
		if title.Title != "Title" || title.Help != "Shown in lists" || *title.MaxLength != 120 || *title.MinLength != 1 || !title.Unique {
			t.Errorf("title = %+v", title)
		}
		if got, want := string(title.Hints["placeholder"]), `"A title"`; got != want {
			t.Errorf("placeholder hint = %s, want %s", got, want)
		}
		price, _ := s.Lookup("price")
		if *price.Minimum != 0 || *price.Maximum != 1e6 || !price.Indexed {
			t.Errorf("price = %+v", price)
		}
		stock, _ := s.Lookup("stock")
		if stock.Minimum == nil || *stock.Minimum != 0 || stock.Default != int64(0) {
			t.Errorf("stock: min alias or default wrong: %+v", stock)
		}
		tint, _ := s.Lookup("tint")
		if got, want := tint.Default, "#3b82f6"; got != want {
			t.Errorf("tint default = %v, want the normalized %v", got, want)
		}
		size, _ := s.Lookup("size")
		if got, want := strings.Join(size.Options, ","), "s,m,l"; got != want {
			t.Errorf("options alias: got %s, want %s", got, want)
		}
		tags, _ := s.Lookup("tags")
		if tags.MaxItems == nil || *tags.MaxItems != 2 {
			t.Errorf("tags max alias: %+v", tags)
		}
		author, _ := s.Lookup("author")
		if author.Collection != "authors" {
			t.Errorf("author.Collection = %q", author.Collection)
		}
		features, _ := s.Lookup("features")
		if features.Items == nil || features.Items.Type != cms.TypeString || *features.Items.MaxLength != 20 ||
			*features.MinItems != 1 || *features.MaxItems != 3 || !features.UniqueItems {
			t.Errorf("features = %+v", features)
		}
		address, _ := s.Lookup("address")
		if len(address.Fields) != 3 || address.Fields[2].Name != "geo" || len(address.Fields[2].Fields) != 2 {
			t.Errorf("address = %+v", address)
		}
		if got, want := string(s.Hints["title"]), `"Products"`; got != want {
			t.Errorf("schema title hint = %s, want %s", got, want)
		}
	})
}

func TestParseSchema_Aliases(t *testing.T) {
	for alias, want := range map[string]string{
		"string": "string", "Text": "string", "textarea": "textarea",
		"richtext": "richtext", "rich_text": "richtext", "html": "richtext", "quill": "richtext",
		"markdown": "markdown", "md": "markdown",
		"number": "number", "float": "number", "integer": "integer", "int": "integer",
		"boolean": "boolean", "bool": "boolean", "checkbox": "boolean",
		"date": "date", "datetime": "datetime", "date-time": "datetime",
		"email": "email", "url": "url", "uri": "url", "color": "color", "colour": "color",
		"reference": "reference", "relation": "reference", "media": "media", "image": "media", "file": "file",
		"json": "json", "slug": "slug",
	} {
		extra := ""
		if want == "reference" {
			extra = `,"collection":"authors"`
		}
		s := mustParseSchema(t, `{"type":"object","properties":{"v":{"type":"`+alias+`"`+extra+`}}}`)
		if got := s.Fields[0].Type; got != want {
			t.Errorf("type %q: got %q, want %q", alias, got, want)
		}
	}
}

func TestParseSchema_Invalid(t *testing.T) {
	deep := `{"type":"string"}`
	for i := 0; i < 5; i++ {
		deep = `{"type":"object","properties":{"n":` + deep + `}}`
	}
	var many strings.Builder
	for i := 0; i <= cms.MaxFields; i++ {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `"f%d":{"type":"string"}`, i)
	}
	field := func(def string) string { return `{"type":"object","properties":{"v":` + def + `}}` }

	for _, tc := range []struct {
		name   string
		schema string
		path   string // where the problem is reported
		want   string // part of the problem
	}{
		{"NotJSON", `{"type":`, "schema", "must be a JSON object"},
		{"NotObject", `[]`, "schema", "must be a JSON object"},
		{"TypeNotObject", `{"type":"array","properties":{}}`, "schema", `type must be "object"`},
		{"PropertiesNotObject", `{"properties":[]}`, "schema", "properties must be an object"},
		{"NameStartsWithDigit", `{"properties":{"1a":{"type":"string"}}}`, "schema", `field name "1a"`},
		{"NameWithDash", `{"properties":{"a-b":{"type":"string"}}}`, "schema", `field name "a-b"`},
		{"NameWithDot", `{"properties":{"a.b":{"type":"string"}}}`, "schema", `field name "a.b"`},
		{"NameWithQuote", `{"properties":{"a')--":{"type":"string"}}}`, "schema", "field name"},
		{"NameTooLong", `{"properties":{"` + strings.Repeat("a", 65) + `":{"type":"string"}}}`, "schema", "field name"},
		{"NameTwice", `{"properties":{"a":{"type":"string"},"a":{"type":"number"}}}`, "a", "defined twice"},
		{"NestedBadName", `{"properties":{"o":{"type":"object","properties":{"bad name":{"type":"string"}}}}}`, "o", `field name "bad name"`},
		{"DefinitionNotObject", field(`"string"`), "v", "must be an object defining the field"},
		{"TypeMissing", field(`{"maxLength":3}`), "v", "type is missing"},
		{"TypeUnknown", field(`{"type":"strin"}`), "v", `unknown type "strin"`},
		{"TypeList", field(`{"type":["string","null"]}`), "v", "type must be a string"},
		{"BadPattern", field(`{"type":"string","pattern":"a(b"}`), "v", "pattern is not a valid Go regular expression"},
		{"PatternOnNumber", field(`{"type":"number","pattern":"1"}`), "v", "pattern does not apply to type number"},
		{"MinLengthOnNumber", field(`{"type":"number","minLength":1}`), "v", "minLength does not apply to type number"},
		{"MinimumOnString", field(`{"type":"string","minimum":1}`), "v", "minimum does not apply to type string"},
		{"UnknownKeyword", field(`{"type":"string","maxlength":3}`), "v", `unknown keyword "maxlength" (did you mean "maxLength"?)`},
		{"UnknownKeywords", field(`{"type":"string","colour":1,"requird":true}`), "v", `unknown keywords "colour", "requird" (did you mean "required"?)`},
		{"UnsupportedMultiple", field(`{"type":"media","multiple":true}`), "v", "multiple is not supported: use an array"},
		{"UnsupportedRef", field(`{"type":"string","$ref":"#/x"}`), "v", "$ref is not supported"},
		{"BadDefaultType", field(`{"type":"number","default":"x"}`), "v", "default must be a number"},
		{"BadDefaultBound", field(`{"type":"number","minimum":0,"default":-1}`), "v", "default must be at least 0"},
		{"BadDefaultOption", field(`{"type":"select","enum":["a"],"default":"b"}`), "v", "default not one of: a"},
		{"BadDefaultColor", field(`{"type":"color","default":"blue"}`), "v", "default must be a color"},
		{"BadDefaultNested", field(`{"type":"object","properties":{"n":{"type":"integer"}},"default":{"n":1.5}}`), "v", "default.n must be an integer"},
		{"BadDefaultUnknownMember", field(`{"type":"object","properties":{"n":{"type":"integer"}},"default":{"x":1}}`), "v", "default.x unknown field"},
		{"NullDefault", field(`{"type":"string","default":null}`), "v", "default must be a value"},
		{"TooDeep", `{"properties":{"n":` + deep + `}}`, "n.n.n.n.n.n", "nested more than 5 levels deep"},
		{"TooDeepArrays", field(`{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"array","items":{"type":"string"}}}}}}`), "v[][][][]", "items are nested more than 5 levels deep"},
		{"TooMany", `{"properties":{` + many.String() + `}}`, "schema", "more than 200 fields"},
		{"SelectWithoutEnum", field(`{"type":"select"}`), "v", "enum is missing"},
		{"EmptyEnum", field(`{"type":"radio","enum":[]}`), "v", "enum must list from 1 to"},
		{"EnumTwice", field(`{"type":"multiselect","enum":["a","a"]}`), "v", `enum lists "a" twice`},
		{"EnumNotStrings", field(`{"type":"select","enum":[1,2]}`), "v", "enum must be a list of strings"},
		{"EnumEmptyString", field(`{"type":"select","enum":["a",""]}`), "v", "may not hold an empty string"},
		{"EnumAndOptions", field(`{"type":"select","enum":["a"],"options":["a"]}`), "v", "enum and options mean the same here"},
		{"MinAndMinimum", field(`{"type":"number","min":1,"minimum":1}`), "v", "minimum and min mean the same here"},
		{"ReferenceWithoutCollection", field(`{"type":"reference"}`), "v", "collection is missing"},
		{"ReferenceBadCollection", field(`{"type":"reference","collection":"Bad Name"}`), "v", `collection "Bad Name" is not a collection name`},
		{"ArrayWithoutItems", field(`{"type":"array"}`), "v", "items is missing"},
		{"ArrayBadItems", field(`{"type":"array","items":{"type":"nope"}}`), "v[]", `unknown type "nope"`},
		{"ObjectWithoutProperties", field(`{"type":"object"}`), "v", "properties is missing"},
		{"RequiredUnknown", `{"properties":{"a":{"type":"string"}},"required":["b"]}`, "schema", `required names "b", which is not one of its fields`},
		{"RequiredNotList", `{"properties":{"a":{"type":"string"}},"required":"a"}`, "schema", "required must be a list"},
		{"NestedRequiredUnknown", field(`{"type":"object","properties":{"a":{"type":"string"}},"required":["z"]}`), "v", `required names "z"`},
		{"RequiredNotBool", field(`{"type":"string","required":"yes"}`), "v", "required must be true or false"},
		{"MinAboveMax", field(`{"type":"number","minimum":5,"maximum":1}`), "v", "minimum is greater than maximum"},
		{"MinLengthAboveMax", field(`{"type":"string","minLength":5,"maxLength":1}`), "v", "minLength is greater than maxLength"},
		{"NegativeLength", field(`{"type":"string","maxLength":-1}`), "v", "maxLength must be a whole number"},
		{"FractionalLength", field(`{"type":"string","maxLength":1.5}`), "v", "maxLength must be a whole number"},
		{"UniqueNested", field(`{"type":"object","properties":{"a":{"type":"string","unique":true}}}`), "v.a", "unique applies only to top-level"},
		{"IndexedRichtext", field(`{"type":"richtext","indexed":true}`), "v", "indexed applies only to top-level single-value fields"},
		{"UniqueArray", field(`{"type":"array","items":{"type":"string"},"unique":true}`), "v", "unique applies only to top-level"},
		{"RequiredOnItems", field(`{"type":"array","items":{"type":"string","required":true}}`), "v[]", "required does not apply to array items"},
		{"DefaultOnItems", field(`{"type":"array","items":{"type":"string","default":"x"}}`), "v[]", "default does not apply to array items"},
		{"AdditionalPropertiesTrue", `{"properties":{},"additionalProperties":true}`, "schema", "additionalProperties may only be false"},
		{"UnknownSchemaKeyword", `{"properties":{},"propertise":{}}`, "schema", `unknown keyword "propertise" (did you mean "properties"?)`},
		{"TitleNotString", field(`{"type":"string","title":1}`), "v", "title must be a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := cms.ParseSchema(json.RawMessage(tc.schema))
			if err == nil {
				t.Fatalf("ParseSchema accepted it: %s", marshal(t, s))
			}
			problems := schemaErr(t, err)
			if !strings.Contains(problems[tc.path], tc.want) {
				t.Errorf("problems = %q\nwant at %q: %q", problems, tc.path, tc.want)
			}
			if !strings.Contains(err.Error(), tc.path+": ") {
				t.Errorf("message %q does not name %q", err.Error(), tc.path)
			}
		})
	}
}

func TestParseSchema_EveryProblem(t *testing.T) {
	_, err := cms.ParseSchema(json.RawMessage(`{"properties":{
		"a": {"type":"strin"},
		"b": {"type":"string","pattern":"("},
		"c-d": {"type":"string"},
		"e": {"type":"number","default":"x"}
	}, "required":["zz", "a"]}`))
	problems := schemaErr(t, err)
	for _, path := range []string{"a", "b", "schema", "e"} {
		if problems[path] == "" {
			t.Errorf("no problem reported at %q: %q", path, problems)
		}
	}
	// "a" is required too, but its refused definition is reported once.
	if got, want := strings.Count(err.Error(), "; "), 4; got != want {
		t.Errorf("message lists %d problems, want %d: %s", got+1, want+1, err)
	}
}

func TestParseSchema_Limits(t *testing.T) {
	t.Run("FiveLevels", func(t *testing.T) {
		mustParseSchema(t, `{"properties":{"a":{"type":"object","properties":{"b":{"type":"object","properties":{"c":{"type":"object","properties":{"d":{"type":"object","properties":{"e":{"type":"string"}}}}}}}}}}}`)
	})
	t.Run("MaxFields", func(t *testing.T) {
		var b strings.Builder
		for i := 0; i < cms.MaxFields; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"f%d":{"type":"string"}`, i)
		}
		s := mustParseSchema(t, `{"properties":{`+b.String()+`}}`)
		if got, want := len(s.Fields), cms.MaxFields; got != want {
			t.Errorf("got %d fields, want %d", got, want)
		}
	})
	t.Run("LongestName", func(t *testing.T) {
		mustParseSchema(t, `{"properties":{"_`+strings.Repeat("a", 63)+`":{"type":"string"}}}`)
	})
	t.Run("Empty", func(t *testing.T) {
		s := mustParseSchema(t, `{"type":"object","properties":{}}`)
		if len(s.Fields) != 0 {
			t.Errorf("fields: %v", s.Fields)
		}
	})
}

func TestSchema_MarshalJSON(t *testing.T) {
	t.Run("Canonical", func(t *testing.T) {
		s := mustParseSchema(t, `{"properties":{
			"name": {"type":"Text","required":true,"placeholder":"Name"},
			"n": {"type":"int","min":1,"max":9},
			"tags": {"type":"multiselect","options":["x","y"],"minLength":1},
			"o": {"type":"object","properties":{"a":{"type":"checkbox","default":false}},"required":["a"]}
		},"required":["o"]}`)
		got := marshal(t, s)
		want := `{"type":"object","properties":{` +
			`"name":{"type":"string","required":true,"placeholder":"Name"},` +
			`"n":{"type":"integer","minimum":1,"maximum":9},` +
			`"tags":{"type":"multiselect","minItems":1,"enum":["x","y"]},` +
			`"o":{"type":"object","properties":{"a":{"type":"boolean","required":true,"default":false}},"required":["a"]}` +
			`},"required":["name","o"]}`
		if got != want {
			t.Errorf("MarshalJSON:\n got %s\nwant %s", got, want)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		s := mustParseSchema(t, fullSchema)
		first := marshal(t, s)
		again := mustParseSchema(t, first)
		if second := marshal(t, again); second != first {
			t.Errorf("round trip changed the schema:\nfirst  %s\nsecond %s", first, second)
		}
		for i, f := range again.Fields {
			if f.Name != s.Fields[i].Name || f.Required != s.Fields[i].Required {
				t.Errorf("field %d: %s/%v, want %s/%v", i, f.Name, f.Required, s.Fields[i].Name, s.Fields[i].Required)
			}
		}
	})
	t.Run("Zero", func(t *testing.T) {
		if got, want := marshal(t, &cms.Schema{}), `{"type":"object","properties":{}}`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("InsideCollection", func(t *testing.T) {
		col := cms.Collection{Name: "posts", Schema: mustParseSchema(t, `{"properties":{"t":{"type":"string"}}}`)}
		var back cms.Collection
		if err := json.Unmarshal([]byte(marshal(t, col)), &back); err != nil {
			t.Fatal(err)
		}
		if back.Schema == nil || len(back.Schema.Fields) != 1 || back.Schema.Fields[0].Name != "t" {
			t.Errorf("schema after a round trip through Collection: %+v", back.Schema)
		}
	})
}

func TestSchema_Lookup(t *testing.T) {
	s := mustParseSchema(t, fullSchema)
	for _, tc := range []struct {
		path     string
		wantType string // "" when not found
	}{
		{"price", "number"},
		{"address", "object"},
		{"address.city", "string"},
		{"address.geo.lat", "number"},
		{"address.zip", ""},
		{"price.x", ""},
		{"features.x", ""},
		{"", ""},
		{"nope", ""},
		{"address.", ""},
	} {
		f, ok := s.Lookup(tc.path)
		if got := ok && f != nil; got != (tc.wantType != "") {
			t.Errorf("Lookup(%q) found = %v, want %v", tc.path, got, tc.wantType != "")
			continue
		}
		if ok && f.Type != tc.wantType {
			t.Errorf("Lookup(%q).Type = %q, want %q", tc.path, f.Type, tc.wantType)
		}
	}
	if f, ok := s.Lookup("address.city"); !ok || f.Name != "city" {
		t.Errorf("Lookup(address.city) = %+v", f)
	}
}

func TestSchema_IndexedAndUniqueFields(t *testing.T) {
	s := mustParseSchema(t, `{"properties":{
		"sku": {"type":"string","unique":true},
		"price": {"type":"number","indexed":true},
		"body": {"type":"richtext"},
		"when": {"type":"datetime","indexed":true,"unique":true},
		"author": {"type":"reference","collection":"authors","indexed":true}
	}}`)
	names := func(fs []*cms.Field) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Name)
		}
		return strings.Join(out, ",")
	}
	if got, want := names(s.IndexedFields()), "sku,price,when,author"; got != want {
		t.Errorf("IndexedFields = %s, want %s (unique ones are indexed too)", got, want)
	}
	if got, want := names(s.UniqueFields()), "sku,when"; got != want {
		t.Errorf("UniqueFields = %s, want %s", got, want)
	}
	var nilSchema *cms.Schema
	if nilSchema.IndexedFields() != nil || nilSchema.UniqueFields() != nil {
		t.Error("a nil schema has fields")
	}
}

func TestField_Scalar(t *testing.T) {
	for typ, want := range map[string]bool{
		"string": true, "textarea": true, "richtext": true, "markdown": true, "number": true, "integer": true,
		"boolean": true, "date": true, "datetime": true, "email": true, "url": true, "color": true,
		"select": true, "radio": true, "slug": true, "reference": true, "media": true, "file": true,
		"multiselect": false, "array": false, "object": false, "json": false,
	} {
		if got := (&cms.Field{Type: typ}).Scalar(); got != want {
			t.Errorf("Scalar(%s) = %v, want %v", typ, got, want)
		}
	}
}

// TestSchema_ValidateValue checks one field "v" of every type with good
// and bad values.
func TestSchema_ValidateValue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		def     string // the definition of field v
		value   string // its value, as JSON
		want    string // the normalized value, as JSON, when valid
		errPath string // else where the problem is ("v" when empty)
		wantErr string // and part of it
	}{
		// string and its constraints
		{name: "String", def: `{"type":"string"}`, value: `"hi"`, want: `"hi"`},
		{name: "StringNotTrimmed", def: `{"type":"string"}`, value: `"  hi \n"`, want: `"  hi \n"`},
		{name: "StringEmptyKept", def: `{"type":"string"}`, value: `""`, want: `""`},
		{name: "StringNotString", def: `{"type":"string"}`, value: `5`, wantErr: "must be a string"},
		{name: "StringMinLength", def: `{"type":"string","minLength":3}`, value: `"ab"`, wantErr: "must be at least 3 characters"},
		{name: "StringMaxLength", def: `{"type":"string","maxLength":3}`, value: `"abcd"`, wantErr: "must be at most 3 characters"},
		{name: "StringLengthInCharacters", def: `{"type":"string","maxLength":5}`, value: `"héllo"`, want: `"héllo"`},
		{name: "StringPattern", def: `{"type":"string","pattern":"^[A-Z]+$"}`, value: `"ABC"`, want: `"ABC"`},
		{name: "StringPatternMismatch", def: `{"type":"string","pattern":"^[A-Z]+$"}`, value: `"abc"`, wantErr: "must match the pattern ^[A-Z]+$"},
		{name: "StringPatternUnanchored", def: `{"type":"string","pattern":"b"}`, value: `"abc"`, want: `"abc"`},
		{name: "StringEnum", def: `{"type":"string","enum":["a","b"]}`, value: `"b"`, want: `"b"`},
		{name: "StringNotInEnum", def: `{"type":"string","enum":["a","b"]}`, value: `"c"`, wantErr: "not one of: a, b"},
		{name: "Textarea", def: `{"type":"textarea","maxLength":20}`, value: `"one\ntwo"`, want: `"one\ntwo"`},
		{name: "TextareaNotString", def: `{"type":"textarea"}`, value: `[]`, wantErr: "must be a string"},
		{name: "Markdown", def: `{"type":"markdown"}`, value: `"# Hi\n<script>x</script>"`, want: `"# Hi\n\u003cscript\u003ex\u003c/script\u003e"`},
		{name: "MarkdownNotString", def: `{"type":"markdown"}`, value: `true`, wantErr: "must be a string"},
		{name: "Richtext", def: `{"type":"richtext"}`, value: `"<p>Hi <strong>you</strong></p>"`, want: `"\u003cp\u003eHi \u003cstrong\u003eyou\u003c/strong\u003e\u003c/p\u003e"`},
		{name: "RichtextNotString", def: `{"type":"richtext"}`, value: `{}`, wantErr: "must be a string"},
		{name: "RichtextLengthAfterSanitising", def: `{"type":"richtext","maxLength":2}`, value: `"ab<script>alert(1)</script>"`, want: `"ab"`},
		// numbers
		{name: "Number", def: `{"type":"number"}`, value: `1.5`, want: `1.5`},
		{name: "NumberNegative", def: `{"type":"number"}`, value: `-3`, want: `-3`},
		{name: "NumberString", def: `{"type":"number"}`, value: `"1"`, wantErr: "must be a number"},
		{name: "NumberMinimum", def: `{"type":"number","minimum":0}`, value: `-0.5`, wantErr: "must be at least 0"},
		{name: "NumberMaximum", def: `{"type":"number","maximum":10.5}`, value: `11`, wantErr: "must be at most 10.5"},
		{name: "NumberBoundsInclusive", def: `{"type":"number","minimum":0,"maximum":10}`, value: `10`, want: `10`},
		{name: "Integer", def: `{"type":"integer"}`, value: `42`, want: `42`},
		{name: "IntegerWholeFloat", def: `{"type":"integer"}`, value: `42.0`, want: `42`},
		{name: "IntegerFraction", def: `{"type":"integer"}`, value: `4.2`, wantErr: "must be an integer, not a fraction"},
		{name: "IntegerTooBig", def: `{"type":"integer"}`, value: `1e17`, wantErr: "must be an integer from -2^53 to 2^53"},
		{name: "IntegerString", def: `{"type":"integer"}`, value: `"4"`, wantErr: "must be an integer"},
		{name: "IntegerMaximum", def: `{"type":"integer","max":3}`, value: `4`, wantErr: "must be at most 3"},
		// booleans
		{name: "Boolean", def: `{"type":"boolean"}`, value: `false`, want: `false`},
		{name: "Checkbox", def: `{"type":"checkbox"}`, value: `true`, want: `true`},
		{name: "BooleanString", def: `{"type":"boolean"}`, value: `"true"`, wantErr: "must be true or false"},
		{name: "BooleanNumber", def: `{"type":"boolean"}`, value: `1`, wantErr: "must be true or false"},
		// dates
		{name: "Date", def: `{"type":"date"}`, value: `"2024-02-29"`, want: `"2024-02-29"`},
		{name: "DateNotInCalendar", def: `{"type":"date"}`, value: `"2023-02-29"`, wantErr: "must be a date: YYYY-MM-DD"},
		{name: "DateShortMonth", def: `{"type":"date"}`, value: `"2024-2-01"`, wantErr: "must be a date"},
		{name: "DateWithTime", def: `{"type":"date"}`, value: `"2024-02-01T00:00:00Z"`, wantErr: "must be a date"},
		{name: "DateNumber", def: `{"type":"date"}`, value: `20240201`, wantErr: "must be a string"},
		{name: "Datetime", def: `{"type":"datetime"}`, value: `"2024-05-01T12:00:00Z"`, want: `"2024-05-01T12:00:00.000Z"`},
		{name: "DatetimeToUTC", def: `{"type":"datetime"}`, value: `"2024-05-01T14:30:00+02:00"`, want: `"2024-05-01T12:30:00.000Z"`},
		{name: "DatetimeMilliseconds", def: `{"type":"datetime"}`, value: `"2024-05-01T12:00:00.123456Z"`, want: `"2024-05-01T12:00:00.123Z"`},
		{name: "DatetimeNoZone", def: `{"type":"datetime"}`, value: `"2024-05-01T12:00:00"`, wantErr: "must be an RFC 3339 date and time"},
		{name: "DatetimeSpace", def: `{"type":"datetime"}`, value: `"2024-05-01 12:00:00Z"`, wantErr: "must be an RFC 3339"},
		{name: "DatetimeDateOnly", def: `{"type":"datetime"}`, value: `"2024-05-01"`, wantErr: "must be an RFC 3339"},
		// formats
		{name: "Email", def: `{"type":"email"}`, value: `"ann@example.com"`, want: `"ann@example.com"`},
		{name: "EmailDisplayName", def: `{"type":"email"}`, value: `"Ann <ann@example.com>"`, wantErr: "must be an email address"},
		{name: "EmailNoAt", def: `{"type":"email"}`, value: `"ann"`, wantErr: "must be an email address"},
		{name: "EmailNoDot", def: `{"type":"email"}`, value: `"ann@localhost"`, wantErr: "must be an email address"},
		{name: "EmailList", def: `{"type":"email"}`, value: `"a@example.com, b@example.com"`, wantErr: "must be an email address"},
		{name: "EmailMaxLength", def: `{"type":"email","maxLength":5}`, value: `"ann@example.com"`, wantErr: "must be at most 5 characters"},
		{name: "URL", def: `{"type":"url"}`, value: `"https://example.com/a?b=c#d"`, want: `"https://example.com/a?b=c#d"`},
		{name: "URLHTTP", def: `{"type":"url"}`, value: `"http://example.com"`, want: `"http://example.com"`},
		{name: "URLFTP", def: `{"type":"url"}`, value: `"ftp://example.com/f"`, wantErr: "must be an absolute http or https URL"},
		{name: "URLJavascript", def: `{"type":"url"}`, value: `"javascript:alert(1)"`, wantErr: "must be an absolute http or https URL"},
		{name: "URLRelative", def: `{"type":"url"}`, value: `"/about"`, wantErr: "must be an absolute http or https URL"},
		{name: "URLNoHost", def: `{"type":"url"}`, value: `"https:///path"`, wantErr: "must be an absolute http or https URL"},
		{name: "URLSpace", def: `{"type":"url"}`, value: `"https://example.com/a b"`, wantErr: "must be an absolute http or https URL"},
		{name: "Color", def: `{"type":"color"}`, value: `"#A1B2C3"`, want: `"#a1b2c3"`},
		{name: "ColorShort", def: `{"type":"color"}`, value: `"#ABC"`, want: `"#abc"`},
		{name: "ColorName", def: `{"type":"color"}`, value: `"red"`, wantErr: "must be a color: #rgb or #rrggbb"},
		{name: "ColorFourDigits", def: `{"type":"color"}`, value: `"#abcd"`, wantErr: "must be a color"},
		{name: "ColorNotHex", def: `{"type":"color"}`, value: `"#ggg"`, wantErr: "must be a color"},
		{name: "Slug", def: `{"type":"slug"}`, value: `"hello-world-2"`, want: `"hello-world-2"`},
		{name: "SlugUpper", def: `{"type":"slug"}`, value: `"Hello"`, wantErr: "must be lower-case letters and digits"},
		{name: "SlugDoubleDash", def: `{"type":"slug"}`, value: `"a--b"`, wantErr: "must be lower-case"},
		{name: "SlugLeadingDash", def: `{"type":"slug"}`, value: `"-a"`, wantErr: "must be lower-case"},
		{name: "SlugUnderscore", def: `{"type":"slug"}`, value: `"a_b"`, wantErr: "must be lower-case"},
		// choices
		{name: "Select", def: `{"type":"select","enum":["draft","live"]}`, value: `"live"`, want: `"live"`},
		{name: "SelectNotOption", def: `{"type":"select","enum":["draft","live"]}`, value: `"gone"`, wantErr: "not one of: draft, live"},
		{name: "SelectCaseMatters", def: `{"type":"select","enum":["draft"]}`, value: `"Draft"`, wantErr: "not one of: draft"},
		{name: "SelectNumber", def: `{"type":"select","enum":["1"]}`, value: `1`, wantErr: "must be a string"},
		{name: "Radio", def: `{"type":"radio","options":["s","m"]}`, value: `"m"`, want: `"m"`},
		{name: "RadioNotOption", def: `{"type":"radio","options":["s","m"]}`, value: `"xl"`, wantErr: "not one of: s, m"},
		{name: "Multiselect", def: `{"type":"multiselect","enum":["a","b","c"]}`, value: `["c","a"]`, want: `["c","a"]`},
		{name: "MultiselectEmpty", def: `{"type":"multiselect","enum":["a"]}`, value: `[]`, want: `[]`},
		{name: "MultiselectTwice", def: `{"type":"multiselect","enum":["a","b"]}`, value: `["a","b","a"]`, errPath: "v[2]", wantErr: "chosen twice (also at [0])"},
		{name: "MultiselectNotOption", def: `{"type":"multiselect","enum":["a","b"]}`, value: `["a","b","z"]`, errPath: "v[2]", wantErr: "not one of: a, b"},
		{name: "MultiselectNotString", def: `{"type":"multiselect","enum":["a"]}`, value: `[1]`, errPath: "v[0]", wantErr: "must be a string"},
		{name: "MultiselectNotList", def: `{"type":"multiselect","enum":["a"]}`, value: `"a"`, wantErr: "must be an array of options"},
		{name: "MultiselectMaxItems", def: `{"type":"multiselect","enum":["a","b","c"],"maxItems":2}`, value: `["a","b","c"]`, wantErr: "must have at most 2 items"},
		{name: "MultiselectMinItems", def: `{"type":"multiselect","enum":["a","b"],"min":1}`, value: `[]`, wantErr: "must have at least 1 items"},
		// references and media
		{name: "Reference", def: `{"type":"reference","collection":"authors"}`, value: `"a1"`, want: `"a1"`},
		{name: "ReferenceMissing", def: `{"type":"reference","collection":"authors"}`, value: `"a9"`, wantErr: `no item "a9" in collection authors`},
		{name: "ReferenceOtherCollection", def: `{"type":"reference","collection":"posts"}`, value: `"a1"`, wantErr: `no item "a1" in collection posts`},
		{name: "ReferenceNotString", def: `{"type":"reference","collection":"authors"}`, value: `{"id":"a1"}`, wantErr: "must be a string"},
		{name: "ReferenceTooLong", def: `{"type":"reference","collection":"authors"}`, value: `"` + strings.Repeat("x", 201) + `"`, wantErr: "must be an id of 1 to 200 bytes"},
		{name: "Media", def: `{"type":"media"}`, value: `"m1"`, want: `"m1"`},
		{name: "MediaMissing", def: `{"type":"media"}`, value: `"m9"`, wantErr: `no media file "m9"`},
		{name: "File", def: `{"type":"file"}`, value: `"m2"`, want: `"m2"`},
		{name: "FileMissing", def: `{"type":"file"}`, value: `"nope"`, wantErr: `no media file "nope"`},
		// arrays
		{name: "Array", def: `{"type":"array","items":{"type":"string"}}`, value: `["a","b"]`, want: `["a","b"]`},
		{name: "ArrayItemBad", def: `{"type":"array","items":{"type":"string","maxLength":2}}`, value: `["ab","abc"]`, errPath: "v[1]", wantErr: "must be at most 2 characters"},
		{name: "ArrayNotList", def: `{"type":"array","items":{"type":"string"}}`, value: `{"0":"a"}`, wantErr: "must be an array"},
		{name: "ArrayMinItems", def: `{"type":"array","items":{"type":"string"},"minItems":2}`, value: `["a"]`, wantErr: "must have at least 2 items"},
		{name: "ArrayMaxItems", def: `{"type":"array","items":{"type":"string"},"maxLength":1}`, value: `["a","b"]`, wantErr: "must have at most 1 items"},
		{name: "ArrayUniqueItems", def: `{"type":"array","items":{"type":"color"},"uniqueItems":true}`, value: `["#ABC","#abc"]`, errPath: "v[1]", wantErr: "equal to item [0]"},
		{name: "ArrayNullItem", def: `{"type":"array","items":{"type":"number"}}`, value: `[1,null]`, errPath: "v[1]", wantErr: "must be a number"},
		{name: "ArrayOfReferences", def: `{"type":"array","items":{"type":"reference","collection":"authors"}}`, value: `["a1","a2"]`, want: `["a1","a2"]`},
		{name: "ArrayOfReferencesMissing", def: `{"type":"array","items":{"type":"reference","collection":"authors"}}`, value: `["a1","zz"]`, errPath: "v[1]", wantErr: `no item "zz"`},
		{name: "ArrayOfObjects", def: `{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer","required":true}}}}`, value: `[{"n":1},{"n":2}]`, want: `[{"n":1},{"n":2}]`},
		{name: "ArrayOfObjectsBad", def: `{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer","required":true}}}}`, value: `[{"n":1},{}]`, errPath: "v[1].n", wantErr: "required"},
		{name: "ArrayOfObjectsUnknown", def: `{"type":"array","items":{"type":"object","properties":{"n":{"type":"integer"}}}}`, value: `[{"m":1}]`, errPath: "v[0].m", wantErr: "unknown field"},
		// objects
		{name: "Object", def: `{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string"}}}`, value: `{"city":"Oslo"}`, want: `{"city":"Oslo"}`},
		{name: "ObjectNotObject", def: `{"type":"object","properties":{"city":{"type":"string"}}}`, value: `"Oslo"`, wantErr: "must be an object"},
		{name: "ObjectMemberBad", def: `{"type":"object","properties":{"city":{"type":"string"}}}`, value: `{"city":5}`, errPath: "v.city", wantErr: "must be a string"},
		{name: "ObjectUnknown", def: `{"type":"object","properties":{"city":{"type":"string"}}}`, value: `{"town":"Oslo"}`, errPath: "v.town", wantErr: "unknown field"},
		{name: "ObjectRequiredList", def: `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`, value: `{}`, errPath: "v.city", wantErr: "required"},
		{name: "ObjectNested", def: `{"type":"object","properties":{"geo":{"type":"object","properties":{"lat":{"type":"number","minimum":-90}}}}}`, value: `{"geo":{"lat":-91}}`, errPath: "v.geo.lat", wantErr: "must be at least -90"},
		// json
		{name: "JSONObject", def: `{"type":"json"}`, value: `{"a":[1,"x",null,{"b":true}]}`, want: `{"a":[1,"x",null,{"b":true}]}`},
		{name: "JSONString", def: `{"type":"json"}`, value: `"x"`, want: `"x"`},
		{name: "JSONNumber", def: `{"type":"json"}`, value: `2.5`, want: `2.5`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParseSchema(t, `{"type":"object","properties":{"v":`+tc.def+`}}`)
			out, errs, err := s.Validate(context.Background(), decodeData(t, `{"v":`+tc.value+`}`), newSchemaResolver())
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if tc.wantErr == "" {
				if errs != nil {
					t.Fatalf("refused: %q", errs)
				}
				if got := marshal(t, out["v"]); got != tc.want {
					t.Errorf("normalized to %s, want %s", got, tc.want)
				}
				return
			}
			path := tc.errPath
			if path == "" {
				path = "v"
			}
			if !strings.Contains(errs[path], tc.wantErr) {
				t.Errorf("errors = %q\nwant at %q: %q", errs, path, tc.wantErr)
			}
			if out != nil {
				t.Errorf("invalid data returned a copy: %v", out)
			}
		})
	}
}

func TestSchema_Validate(t *testing.T) {
	ctx := context.Background()
	s := mustParseSchema(t, fullSchema)

	t.Run("EveryErrorCollected", func(t *testing.T) {
		data := decodeData(t, `{"price": -1, "body": "<p>x</p>", "tags": ["a","b","z"],
			"address": {"street": 1}, "colour": "red", "sizes": "m", "author": "nobody"}`)
		out, errs, err := s.Validate(ctx, data, newSchemaResolver())
		if err != nil {
			t.Fatal(err)
		}
		want := cms.FieldErrors{
			"title":          "required",
			"price":          "must be at least 0",
			"tags":           "must have at most 2 items",
			"tags[2]":        "not one of: a, b, c",
			"address.street": "must be a string",
			"address.city":   "required",
			"author":         `no item "nobody" in collection authors`,
			"colour":         "unknown field",
			"sizes":          "unknown field",
		}
		if !reflect.DeepEqual(errs, want) {
			t.Errorf("errors:\n got %q\nwant %q", errs, want)
		}
		if out != nil {
			t.Errorf("out = %v, want nil", out)
		}
	})

	t.Run("Normalized", func(t *testing.T) {
		data := decodeData(t, `{"title": " Lamp ", "price": 12.5, "body": "<p onclick=\"x()\">Hi</p><script>alert(1)</script>",
			"updated": "2024-05-01T14:00:00+02:00", "tint": "#ABCDEF", "author": "a1", "image": "m1",
			"address": {"city": "Oslo"}, "features": ["bright", "small"], "meta": {"k": [1, 2]}}`)
		out, errs, err := s.Validate(ctx, data, newSchemaResolver())
		if err != nil || errs != nil {
			t.Fatalf("Validate: %v %q", err, errs)
		}
		want := `{"active":true,"address":{"city":"Oslo"},"author":"a1","body":"\u003cp\u003eHi\u003c/p\u003e","features":["bright","small"],` +
			`"image":"m1","meta":{"k":[1,2]},"price":12.5,"status":"draft","stock":0,"tint":"#abcdef","title":" Lamp ","updated":"2024-05-01T12:00:00.000Z"}`
		if got := marshal(t, out); got != want {
			t.Errorf("normalized:\n got %s\nwant %s", got, want)
		}
		if got, want := data["body"], "<p onclick=\"x()\">Hi</p><script>alert(1)</script>"; got != want {
			t.Errorf("the input was changed: body = %v", got)
		}
		if _, ok := out["stock"].(int64); !ok {
			t.Errorf("stock is %T, want int64", out["stock"])
		}
	})

	t.Run("NilData", func(t *testing.T) {
		_, errs, err := s.Validate(ctx, nil, newSchemaResolver())
		if err != nil {
			t.Fatal(err)
		}
		want := cms.FieldErrors{"title": "required", "price": "required", "body": "required"}
		if !reflect.DeepEqual(errs, want) {
			t.Errorf("errors = %q, want %q", errs, want)
		}
	})
}

func TestSchema_ValidateRequired(t *testing.T) {
	s := mustParseSchema(t, `{"properties":{
		"a": {"type":"string","required":true},
		"b": {"type":"number"},
		"c": {"type":"select","enum":["x"]},
		"d": {"type":"string"},
		"e": {"type":"object","properties":{"f":{"type":"boolean","required":true}}},
		"g": {"type":"email"}
	},"required":["b","e"]}`)
	for _, tc := range []struct {
		name     string
		data     string
		want     string // normalized, when valid
		wantErrs cms.FieldErrors
	}{
		{"AllMissing", `{}`, "", cms.FieldErrors{"a": "required", "b": "required", "e": "required"}},
		{"Null", `{"a":null,"b":null,"e":null}`, "", cms.FieldErrors{"a": "required", "b": "required", "e": "required"}},
		{"EmptyStringForRequired", `{"a":"","b":1,"e":{"f":true}}`, "", cms.FieldErrors{"a": "required"}},
		{"EmptyStringForRequiredNumber", `{"a":"x","b":"","e":{"f":true}}`, "", cms.FieldErrors{"b": "required"}},
		{"NestedRequired", `{"a":"x","b":1,"e":{}}`, "", cms.FieldErrors{"e.f": "required"}},
		{"NestedNull", `{"a":"x","b":1,"e":{"f":null}}`, "", cms.FieldErrors{"e.f": "required"}},
		{"Present", `{"a":"x","b":0,"e":{"f":false}}`, `{"a":"x","b":0,"e":{"f":false}}`, nil},
		{"OptionalNullDropped", `{"a":"x","b":1,"e":{"f":true},"c":null,"d":null}`, `{"a":"x","b":1,"e":{"f":true}}`, nil},
		{"OptionalEmptyChoiceDropped", `{"a":"x","b":1,"e":{"f":true},"c":"","g":""}`, `{"a":"x","b":1,"e":{"f":true}}`, nil},
		{"OptionalEmptyTextKept", `{"a":"x","b":1,"e":{"f":true},"d":""}`, `{"a":"x","b":1,"d":"","e":{"f":true}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, err := s.Validate(context.Background(), decodeData(t, tc.data), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(errs, tc.wantErrs) {
				t.Errorf("errors = %q, want %q", errs, tc.wantErrs)
			}
			if tc.wantErrs == nil {
				if got := marshal(t, out); got != tc.want {
					t.Errorf("normalized to %s, want %s", got, tc.want)
				}
			}
		})
	}
}

func TestSchema_ValidateDefaults(t *testing.T) {
	ctx := context.Background()
	s := mustParseSchema(t, `{"properties":{
		"status": {"type":"select","enum":["draft","live"],"default":"draft","required":true},
		"count": {"type":"integer","default":3},
		"tint": {"type":"color","default":"#FFF"},
		"when": {"type":"datetime","default":"2024-01-01T01:00:00+01:00"},
		"opts": {"type":"json","default":{"a":[1]}},
		"tags": {"type":"array","items":{"type":"string"},"default":["x"]},
		"addr": {"type":"object","properties":{"country":{"type":"string","default":"NO"},"city":{"type":"string"}}},
		"author": {"type":"reference","collection":"authors","default":"a9"}
	}}`)

	t.Run("Applied", func(t *testing.T) {
		r := newSchemaResolver()
		r.items["authors/a9"] = true
		out, errs, err := s.Validate(ctx, decodeData(t, `{"status":null,"addr":{"city":"Bergen"}}`), r)
		if err != nil || errs != nil {
			t.Fatalf("Validate: %v %q", err, errs)
		}
		want := `{"addr":{"city":"Bergen","country":"NO"},"author":"a9","count":3,"opts":{"a":[1]},"status":"draft","tags":["x"],"tint":"#fff","when":"2024-01-01T00:00:00.000Z"}`
		if got := marshal(t, out); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		// The copy shares nothing with the schema's defaults.
		out["opts"].(map[string]any)["a"] = "changed"
		out["tags"].([]any)[0] = "changed"
		again, _, _ := s.Validate(ctx, map[string]any{}, r)
		if got, want := marshal(t, again["opts"])+marshal(t, again["tags"]), `{"a":[1]}["x"]`; got != want {
			t.Errorf("defaults changed through a returned copy: %s", got)
		}
	})
	t.Run("GivenValuesWin", func(t *testing.T) {
		out, errs, err := s.Validate(ctx, decodeData(t, `{"status":"live","count":0,"tags":[],"author":"a1"}`), newSchemaResolver())
		if err != nil || errs != nil {
			t.Fatalf("Validate: %v %q", err, errs)
		}
		if got, want := marshal(t, []any{out["status"], out["count"], out["tags"], out["author"]}), `["live",0,[],"a1"]`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("ReferenceDefaultChecked", func(t *testing.T) {
		_, errs, err := s.Validate(ctx, map[string]any{}, newSchemaResolver())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := errs["author"], `no item "a9" in collection authors`; got != want {
			t.Errorf("errors = %q, want author: %q", errs, want)
		}
	})
	t.Run("NotAppliedInsideAbsentObject", func(t *testing.T) {
		r := newSchemaResolver()
		r.items["authors/a9"] = true
		out, _, _ := s.Validate(ctx, map[string]any{}, r)
		if _, ok := out["addr"]; ok {
			t.Errorf("addr = %v, want it absent", out["addr"])
		}
	})
}

func TestSchema_ValidateUnknownFields(t *testing.T) {
	s := mustParseSchema(t, `{"properties":{"title":{"type":"string"}}}`)
	long := strings.Repeat("k", 100)
	_, errs, err := s.Validate(context.Background(), map[string]any{"title": "x", "Title": "y", "body": "z", long: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := cms.FieldErrors{"Title": "unknown field", "body": "unknown field", strings.Repeat("k", 64) + "…": "unknown field"}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("errors = %q, want %q", errs, want)
	}
}

func TestSchema_ValidateNumbers(t *testing.T) {
	s := mustParseSchema(t, `{"properties":{"n":{"type":"number","maximum":100},"i":{"type":"integer"},"j":{"type":"json"}}}`)
	ctx := context.Background()

	t.Run("JSONNumber", func(t *testing.T) {
		dec := json.NewDecoder(strings.NewReader(`{"n": 99.5, "i": 9007199254740993, "j": {"big": 12345678901234567890}}`))
		dec.UseNumber()
		var data map[string]any
		if err := dec.Decode(&data); err != nil {
			t.Fatal(err)
		}
		_, errs, err := s.Validate(ctx, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := errs["i"], "must be an integer from -2^53 to 2^53"; got != want {
			t.Errorf("i: %q, want %q", got, want)
		}
		data["i"] = json.Number("9007199254740992")
		out, errs, err := s.Validate(ctx, data, nil)
		if err != nil || errs != nil {
			t.Fatalf("Validate: %v %q", err, errs)
		}
		if got, want := out["i"], int64(9007199254740992); got != want {
			t.Errorf("i = %v (%T), want %v exactly", got, got, want)
		}
		if got, want := out["n"], 99.5; got != want {
			t.Errorf("n = %v (%T), want %v", got, got, want)
		}
		if got, want := marshal(t, out["j"]), `{"big":12345678901234567890}`; got != want {
			t.Errorf("json kept %s, want %s", got, want)
		}
		data["n"] = json.Number("100.5")
		if _, errs, _ := s.Validate(ctx, data, nil); errs["n"] != "must be at most 100" {
			t.Errorf("n = 100.5: %q", errs)
		}
	})
	t.Run("GoValues", func(t *testing.T) {
		out, errs, err := s.Validate(ctx, map[string]any{"n": 7, "i": int32(-5), "j": []any{uint8(1)}}, nil)
		if err != nil || errs != nil {
			t.Fatalf("Validate: %v %q", err, errs)
		}
		if got, want := marshal(t, out), `{"i":-5,"j":[1],"n":7}`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

func TestSchema_ValidateInvalidUTF8(t *testing.T) {
	s := mustParseSchema(t, `{"properties":{"s":{"type":"string"},"r":{"type":"richtext"},"j":{"type":"json"},"m":{"type":"multiselect","enum":["a"]}}}`)
	bad := "a\xffb"
	_, errs, err := s.Validate(context.Background(), map[string]any{"s": bad, "r": bad, "j": map[string]any{"k": bad}, "m": []any{bad}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := cms.FieldErrors{"s": "must be valid UTF-8", "r": "must be valid UTF-8", "j.k": "must be valid UTF-8", "m[0]": "must be valid UTF-8"}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("errors = %q, want %q", errs, want)
	}
}

func TestSchema_ValidateSanitises(t *testing.T) {
	s := mustParseSchema(t, `{"properties":{"body":{"type":"richtext"}}}`)
	for _, tc := range []struct {
		name, in string
		want     string // exact output, when given
		keep     []string
		drop     []string
	}{
		{name: "Markup", in: `<h2>Title</h2><p>Some <em>text</em> and <strong>bold</strong>.</p><ul><li>one</li></ul><blockquote>q</blockquote>`,
			want: `<h2>Title</h2><p>Some <em>text</em> and <strong>bold</strong>.</p><ul><li>one</li></ul><blockquote>q</blockquote>`},
		{name: "Script", in: `<p>a</p><script>alert(1)</script>`, want: `<p>a</p>`},
		{name: "JavascriptLink", in: `<a href="javascript:alert(1)">x</a>`, keep: []string{"x"}, drop: []string{"javascript", "href"}},
		{name: "JavascriptLinkObfuscated", in: `<a href="jav&#x09;ascript:alert(1)">x</a>`, keep: []string{"x"}, drop: []string{"ascript:", "href"}},
		{name: "EventHandler", in: `<img src="https://example.com/a.png" onerror="alert(1)">`, keep: []string{`src="https://example.com/a.png"`}, drop: []string{"onerror"}},
		{name: "Link", in: `<a href="https://example.com/">x</a>`, keep: []string{`href="https://example.com/"`, ">x</a>"}},
		{name: "Iframe", in: `<iframe src="https://evil.example"></iframe><p>ok</p>`, want: `<p>ok</p>`},
		{name: "Style", in: `<style>body{}</style><p style="position:fixed">ok</p>`, keep: []string{"<p>ok</p>"}, drop: []string{"style", "body{}"}},
		{name: "PlainText", in: `Tom & Jerry`, want: `Tom &amp; Jerry`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, err := s.Validate(context.Background(), map[string]any{"body": tc.in}, nil)
			if err != nil || errs != nil {
				t.Fatalf("Validate: %v %q", err, errs)
			}
			got := out["body"].(string)
			if tc.want != "" && got != tc.want {
				t.Errorf("sanitised to %q, want %q", got, tc.want)
			}
			for _, k := range tc.keep {
				if !strings.Contains(got, k) {
					t.Errorf("sanitised to %q, which lost %q", got, k)
				}
			}
			for _, d := range tc.drop {
				if strings.Contains(got, d) {
					t.Errorf("sanitised to %q, which kept %q", got, d)
				}
			}
			// Sanitising stored rich text again changes nothing.
			again, _, _ := s.Validate(context.Background(), out, nil)
			if again["body"] != got {
				t.Errorf("not stable: %q, then %q", got, again["body"])
			}
		})
	}
}

func TestSchema_ValidateResolver(t *testing.T) {
	s := mustParseSchema(t, `{"properties":{
		"author": {"type":"reference","collection":"authors"},
		"editors": {"type":"array","items":{"type":"reference","collection":"authors"}},
		"cover": {"type":"media"},
		"files": {"type":"array","items":{"type":"file"}}
	}}`)
	ctx := context.Background()
	data := func() map[string]any {
		return decodeData(t, `{"author":"a1","editors":["a1","a2","a1"],"cover":"m1","files":["m1","m2"]}`)
	}

	t.Run("AskedOncePerID", func(t *testing.T) {
		r := newSchemaResolver()
		if _, errs, err := s.Validate(ctx, data(), r); err != nil || errs != nil {
			t.Fatalf("Validate: %v %q", err, errs)
		}
		if got, want := r.asked, 4; got != want {
			t.Errorf("asked %d times, want %d (a1, a2, m1, m2)", got, want)
		}
	})
	t.Run("Failure", func(t *testing.T) {
		r := newSchemaResolver()
		r.err = errors.New("disk on fire")
		out, errs, err := s.Validate(ctx, data(), r)
		if err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Errorf("err = %v, want the resolver's failure", err)
		}
		if out != nil || errs != nil {
			t.Errorf("out = %v, errs = %q, want neither", out, errs)
		}
	})
	t.Run("NilSkipsExistence", func(t *testing.T) {
		d := data()
		d["author"] = "whoever"
		if _, errs, err := s.Validate(ctx, d, nil); err != nil || errs != nil {
			t.Errorf("Validate: %v %q", err, errs)
		}
		d["author"] = 7
		if _, errs, _ := s.Validate(ctx, d, nil); errs["author"] != "must be a string" {
			t.Errorf("shape not checked without a resolver: %q", errs)
		}
	})
}

func TestSchema_Render(t *testing.T) {
	s := mustParseSchema(t, `{"properties":{"body":{"type":"richtext"}}}`)
	data := map[string]any{"body": "<p>x</p>"}
	if got := s.Render(data); !reflect.DeepEqual(got, data) {
		t.Errorf("Render = %v, want %v", got, data)
	}
}
