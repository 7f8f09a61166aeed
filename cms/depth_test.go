package cms_test

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/condohq/condo/cms"
)

// nested returns a value of nested arrays, levels deep, holding "x".
func nested(levels int) any {
	var v any = "x"
	for range levels {
		v = []any{v}
	}
	return v
}

func nestedText(levels int) string {
	return strings.Repeat("[", levels) + strings.Repeat("]", levels)
}

// TestSQLiteJSONDepth pins the limit MaxDataDepth is made of: SQLite's
// json_valid takes 1000 levels and no more, and an item's version
// snapshot holds its data one level down.
func TestSQLiteJSONDepth(t *testing.T) {
	_, stores := newContent(t, "depth")
	db := stores["depth"].DB
	for levels, want := range map[int]bool{1000: true, 1001: false} {
		var ok bool
		if err := db.Reader().QueryRowContext(context.Background(), "SELECT json_valid(?)", nestedText(levels)).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok != want {
			t.Errorf("json_valid of %d levels = %v, want %v", levels, ok, want)
		}
	}
	if cms.MaxDataDepth+1 != 1000 {
		t.Errorf("MaxDataDepth %d: its snapshot must nest exactly 1000 levels at most", cms.MaxDataDepth)
	}
}

// TestValidate_DeepJSON: a json field's value is refused, named by the
// field, once the data would nest past MaxDataDepth; validation of deep
// values allocates memory linear in their depth (the paths of nested
// values are made only when one is reported).
func TestValidate_DeepJSON(t *testing.T) {
	ctx := context.Background()
	schema := mustParseSchema(t, `{"type": "object", "properties": {"extra": {"type": "json"}, "box": {"type": "object", "properties": {"inner": {"type": "json"}}}}}`)
	for _, tc := range []struct {
		name  string
		data  map[string]any
		field string // "" when valid
	}{
		{"AtTheLimit", map[string]any{"extra": nested(cms.MaxDataDepth - 1)}, ""},
		{"OnePast", map[string]any{"extra": nested(cms.MaxDataDepth)}, "extra"},
		{"Thousand", map[string]any{"extra": nested(1000)}, "extra"},
		{"TenThousand", map[string]any{"extra": nested(10_000)}, "extra"},
		{"InsideAnObjectAtTheLimit", map[string]any{"box": map[string]any{"inner": nested(cms.MaxDataDepth - 2)}}, ""},
		{"InsideAnObjectOnePast", map[string]any{"box": map[string]any{"inner": nested(cms.MaxDataDepth - 1)}}, "box.inner"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, bad, err := schema.Validate(ctx, tc.data, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.field == "" && len(bad) > 0 || tc.field != "" && (len(bad) != 1 || bad[tc.field] == "") {
				t.Fatalf("errors %v, want one for %q", bad, tc.field)
			}
		})
	}

	t.Run("LinearMemory", func(t *testing.T) {
		// 998 levels with a bad value at the bottom: the path reported is
		// long, once; building every level's path would cost ~1.5 MB.
		var v any = json.Number("1e999")
		for range cms.MaxDataDepth - 2 {
			v = []any{v}
		}
		data := map[string]any{"extra": v}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, bad, err := schema.Validate(ctx, data, nil)
		runtime.ReadMemStats(&after)
		if err != nil || len(bad) != 1 {
			t.Fatalf("%v %v", bad, err)
		}
		for path := range bad {
			if want := "extra" + strings.Repeat("[0]", cms.MaxDataDepth-2); path != want {
				t.Fatalf("path %.40q..., want extra[0][0]...", path)
			}
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 512<<10 {
			t.Fatalf("validating %d levels allocated %d bytes", cms.MaxDataDepth, n)
		}
	})
}

// TestTooDeep names the member holding text nested too deeply, whatever
// the depth, and ignores brackets inside strings.
func TestTooDeep(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		limit      int
		want       string // "-" for nil
	}{
		{"Shallow", `{"a": [1, {"b": 2}]}`, 3, "-"},
		{"Exactly", `{"a": {"b": [1]}}`, 3, "-"},
		{"Named", `{"title": "x", "data": {"extra": ` + nestedText(100_000) + `}}`, 999, "data.extra"},
		{"AfterOtherMembers", `{"data": {"a": 1, "b": "[[[[", "c": ` + nestedText(10) + `}}`, 5, "data.c"},
		{"TopLevelArray", nestedText(10), 5, ""},
		{"EscapedQuote", `{"a\"[[[[[": 1, "b": [[[[]]]]}`, 3, "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cms.TooDeep([]byte(tc.text), tc.limit)
			switch {
			case tc.want == "-" && got != nil:
				t.Fatalf("got %+v, want nil", got)
			case tc.want != "-" && (got == nil || got.Path != tc.want):
				t.Fatalf("got %+v, want path %q", got, tc.want)
			}
		})
	}
}

// TestEditItem_Concurrent: edits of one item made at once each see the
// state the one before left; none is lost.
func TestEditItem_Concurrent(t *testing.T) {
	ctx := context.Background()
	_, stores := newContent(t, "edits")
	st := stores["edits"]
	col, err := st.CreateCollection(ctx, cms.NewCollection{Name: "bag", Schema: json.RawMessage(`{"type": "object", "properties": {"extra": {"type": "json"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	it, err := st.CreateItem(ctx, col, cms.ItemInput{Title: "Bag", Data: map[string]any{"extra": map[string]any{}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = st.EditItem(ctx, it.ID, "", func(cur *cms.Item, _ *cms.Collection) (cms.ItemInput, error) {
				var d struct{ Extra map[string]any }
				if err := json.Unmarshal(cur.Data, &d); err != nil {
					return cms.ItemInput{}, err
				}
				d.Extra[string(rune('a'+i))] = i
				return cms.ItemInput{Title: cur.Title, Slug: cur.Slug, Data: map[string]any{"extra": d.Extra}}, nil
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	got, _, err := st.Item(ctx, it.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	var d struct{ Extra map[string]any }
	json.Unmarshal(got.Data, &d)
	if len(d.Extra) != n || got.Version != n+1 {
		t.Fatalf("version %d, %d keys (%v): want %d and %d", got.Version, len(d.Extra), d.Extra, n+1, n)
	}
}
