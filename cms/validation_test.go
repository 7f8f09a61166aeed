package cms_test

import (
	"context"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/cms"
)

// The message of validation_failed counts the fields in proper English.
func TestValidationFailed_Message(t *testing.T) {
	ctx := context.Background()
	_, stores := newContent(t, "acme")
	st := stores["acme"]
	col, err := st.Collection(ctx, "posts")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		data map[string]any
		want string
	}{
		{map[string]any{"price": "twelve"}, "1 field is invalid: see error.fields"},
		{map[string]any{"price": "twelve", "body": 7}, "2 fields are invalid: see error.fields"},
	} {
		_, err := st.CreateItem(ctx, col, cms.ItemInput{Title: "Bad", Data: tt.data}, "")
		if condo.ErrorReason(err) != "validation_failed" || condo.ErrorMessage(err) != tt.want {
			t.Errorf("%v: %v (message %q), want validation_failed %q", tt.data, err, condo.ErrorMessage(err), tt.want)
		}
	}
}
