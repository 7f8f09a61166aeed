package cms

import (
	"encoding/json"
	"testing"
)

// TestParseSchema_ObjectItemsRequired: an array of objects with required
// fields reads back from its canonical form (where the items object
// lists them in its own "required"), so such a collection stays readable.
func TestParseSchema_ObjectItemsRequired(t *testing.T) {
	s, err := ParseSchema(json.RawMessage(`{"type": "object", "properties": {"gallery": {"type": "array",
		"items": {"type": "object", "properties": {"caption": {"type": "string", "required": true}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	canon, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseSchema(canon)
	if err != nil {
		t.Fatalf("canonical form %s: %v", canon, err)
	}
	if f, _ := again.Lookup("gallery"); f == nil || !f.Items.Fields[0].Required {
		t.Errorf("caption is no longer required: %s", canon)
	}
	if _, err := ParseSchema(json.RawMessage(`{"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string", "required": true}}}}`)); err == nil {
		t.Error("a scalar item marked required was accepted")
	}
}
