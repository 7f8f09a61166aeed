package admin

import (
	"encoding/json"
	"net/url"
	"testing"
)

// The settings form reads back what it shows, for each kind of field.
func TestSettingsForm_RoundTrip(t *testing.T) {
	schema := json.RawMessage(`{"type": "object", "properties": {
		"title": {"type": "string", "maxLength": 20, "default": "Hello"},
		"count": {"type": "integer", "minimum": 1},
		"ratio": {"type": "number"},
		"on": {"type": "boolean"},
		"mode": {"type": "select", "enum": ["a", "b"]},
		"tags": {"type": "multiselect", "enum": ["x", "y", "z"]},
		"words": {"type": "array", "items": {"type": "string"}},
		"meta": {"type": "object", "properties": {"k": {"type": "string"}}},
		"rules": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}, "max": {"type": "integer"}}}}}}`)
	form := url.Values{"s.title": {"Hi"}, "s.count": {"3"}, "s.ratio": {"0.5"}, "s.on": {"true"}, "s.mode": {"b"},
		"s.tags": {"x", "z"}, "s.words": {"one\n\ntwo\n"}, "s.meta": {`{"k": "v"}`},
		"s.rules.0.name": {"first"}, "s.rules.0.max": {"2"}, "s.rules.1.name": {""}, "s.rules.1.max": {""}}
	got, bad, err := settingsFromForm(schema, form)
	if err != nil || len(bad) > 0 {
		t.Fatalf("settingsFromForm: %v %v", err, bad)
	}
	b, _ := json.Marshal(got)
	want := `{"count":3,"meta":{"k":"v"},"mode":"b","on":true,"ratio":0.5,"rules":[{"max":2,"name":"first"}],"tags":["x","z"],"title":"Hi","words":["one","two"]}`
	if string(b) != want {
		t.Fatalf("settings = %s\nwant       %s", b, want)
	}
	fields, err := settingFields(schema, b, map[string]string{"rules[0].max": "too big", "count": "too few"})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]settingField{}
	for _, f := range fields {
		byName[f.Name] = f
	}
	for name, input := range map[string]string{"title": "text", "count": "number", "on": "checkbox", "mode": "select", "tags": "multiselect",
		"words": "lines", "meta": "json", "rules": "objects"} {
		if byName[name].Input != input {
			t.Errorf("%s is a %s input, want %s", name, byName[name].Input, input)
		}
	}
	if f := byName["count"]; f.Value != "3" || f.Min != "1" || f.Error != "too few" {
		t.Errorf("count = %+v", f)
	}
	if !byName["on"].Checked || !byName["tags"].Selected("z") || byName["tags"].Selected("y") || byName["words"].Value != "one\ntwo" {
		t.Errorf("values not shown: %+v", byName)
	}
	rows := byName["rules"].Rows
	if len(rows) != 2 || rows[0][0].Name != "rules.0.name" || rows[0][0].Value != "first" || rows[0][1].Error != "too big" || rows[1][0].Value != "" {
		t.Errorf("rows = %+v", rows)
	}
	if _, bad, _ := settingsFromForm(schema, url.Values{"s.count": {"three"}, "s.meta": {"{"}}); bad["count"] == "" || bad["meta"] == "" {
		t.Errorf("unreadable fields not caught: %v", bad)
	}
	if def, _ := settingFields(schema, nil, nil); def[0].Value != "Hello" {
		t.Errorf("the default is not shown: %+v", def[0])
	}
}
