package admin

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
)

// formOfRows writes rows as the schema form posts them.
func formOfRows(v url.Values, rows []*fieldRow) {
	for _, r := range rows {
		formOfRow(v, r)
	}
}

func formOfRow(v url.Values, r *fieldRow) {
	set := func(k, val string) {
		if val != "" {
			v.Set(r.Prefix+"."+k, val)
		}
	}
	set("name", r.Name)
	set("type", r.Type)
	set("title", r.Title)
	set("help", r.Help)
	set("min", r.Min)
	set("max", r.Max)
	set("pattern", r.Pattern)
	set("options", r.Options)
	set("collection", r.Collection)
	set("default", r.Default)
	set("extra", r.Extra)
	for k, on := range map[string]bool{"required": r.Required, "unique": r.Unique, "indexed": r.Indexed} {
		if on {
			v.Set(r.Prefix+"."+k, "1")
		}
	}
	if r.Items != nil {
		formOfRow(v, r.Items)
	}
	formOfRows(v, r.Props)
}

// TestSchemaForm_RoundTrip: a schema shown as rows and posted back
// unchanged is the same schema, nested fields, constraints, defaults and
// UI hints included (those the form does not show ride along in extra).
func TestSchemaForm_RoundTrip(t *testing.T) {
	const schema = `{"type":"object","properties":{
		"title":{"type":"string","title":"Title","maxLength":120,"pattern":"^[A-Z]","placeholder":"A title"},
		"price":{"type":"number","minimum":0,"maximum":1000,"default":10,"indexed":true},
		"sku":{"type":"string","unique":true,"default":"none"},
		"on":{"type":"boolean","default":true},
		"kind":{"type":"select","enum":["a","b"],"description":"Which kind"},
		"author":{"type":"reference","collection":"people"},
		"tags":{"type":"multiselect","enum":["x","y"],"minItems":1,"default":["x"]},
		"gallery":{"type":"array","maxItems":10,"items":{"type":"object","properties":{
			"caption":{"type":"string"},"image":{"type":"media"}},"required":["image"]}},
		"address":{"type":"object","properties":{"city":{"type":"string"},
			"geo":{"type":"object","properties":{"lat":{"type":"number"},"deep":{"type":"object","properties":{"x":{"type":"integer"}}}}}},
			"required":["city"]},
		"extra":{"type":"json"}},
		"required":["title","price"]}`
	rows := rowsFromSchema(json.RawMessage(schema))
	form := url.Values{}
	formOfRows(form, rows)
	back, err := schemaFromRows(rowsFromForm(form, "f", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	json.Unmarshal([]byte(schema), &want)
	if err := json.Unmarshal(back, &got); err != nil {
		t.Fatalf("%v: %s", err, back)
	}
	if !reflect.DeepEqual(want, got) {
		w, _ := json.MarshalIndent(want, "", " ")
		g, _ := json.MarshalIndent(got, "", " ")
		t.Errorf("round trip changed the schema:\nwant %s\ngot  %s", w, g)
	}
}

// TestSchemaForm_Defaults: a default typed in the form is written as its
// field's JSON value.
func TestSchemaForm_Defaults(t *testing.T) {
	form := url.Values{"f.0.name": {"n"}, "f.0.type": {"integer"}, "f.0.default": {"3"},
		"f.1.name": {"b"}, "f.1.type": {"boolean"}, "f.1.default": {"yes"},
		"f.2.name": {"s"}, "f.2.type": {"string"}, "f.2.default": {" padded "}}
	raw, err := schemaFromRows(rowsFromForm(form, "f", "", 1))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Properties map[string]struct {
			Default any `json:"default"`
		} `json:"properties"`
	}
	json.Unmarshal(raw, &got)
	if got.Properties["n"].Default != 3.0 || got.Properties["b"].Default != true || got.Properties["s"].Default != " padded " {
		t.Errorf("defaults: %s", raw)
	}
	form.Set("f.0.default", "three")
	if _, err := schemaFromRows(rowsFromForm(form, "f", "", 1)); err == nil {
		t.Error("a default that is no number was written")
	}
}

func TestLineDiff(t *testing.T) {
	got := lineDiff("a\nb\nc", "a\nc\nd")
	var signs []string
	for _, l := range got {
		signs = append(signs, l.Sign()+l.Text)
	}
	if want := []string{" a", "−b", " c", "+d"}; !reflect.DeepEqual(signs, want) {
		t.Errorf("lineDiff = %q, want %q", signs, want)
	}
	if lineDiff("one line", "another") != nil {
		t.Error("single lines are compared side by side only")
	}
}
