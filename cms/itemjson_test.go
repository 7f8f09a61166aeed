package cms

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendJSON_MatchesEncodingJSON: items, lists of items and search
// hits come out byte for byte as json.Marshal writes them, for data that
// passes through and data that must be compacted or escaped.
func TestAppendJSON_MatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", "Item 12 with spaces", `quo"te`, `back\slash`, "<b>html</b> & more", "café ünïcode",
		"tab\there", "line\u2028sep", "ctl\x01", "bad \xff utf8", "emoji 😀"}
	datas := []string{`{}`, `{"a":1}`, `{"body":"\u003cp\u003ehi\u003c/p\u003e","price":9.5}`, `{"a": 1, "b" : [1, 2]}`,
		`{"s":"with spaces inside"}`, `{"h":"<p>raw html</p>"}`, `{"u":"café"}`, `{"e":"esc \" \\ \n"}`, "{\"x\":\"\u2029\"}",
		`[1,2,{"k":null}]`, `"just a string"`, `{"n":{"m":{"o":[true,false,null]}}}`, "{\n  \"pretty\": true\n}", "{\"bad\":\"\xff\"}"}
	ranks := []float64{0, -1.5, -12.345678, -1e-7, -3.2e-9, 1e21, -2.5e22, 123456789.125, -0.000001}
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	tm := func() *time.Time {
		if rng.IntN(2) == 0 {
			return nil
		}
		t := time.UnixMilli(rng.Int64N(4e12)).UTC()
		return &t
	}
	var items []*Item
	var hits []Hit
	for range 500 {
		it := &Item{ID: pick(strs), Collection: pick(strs), Title: pick(strs), Slug: pick(strs), Status: pick(strs),
			Data: json.RawMessage(pick(datas)), Version: rng.IntN(1000), PublishedAt: tm(), PublishAt: tm(), UnpublishAt: tm(), DeletedAt: tm(),
			CreatedAt: time.UnixMilli(rng.Int64N(4e12)).UTC(), UpdatedAt: time.UnixMilli(rng.Int64N(4e12)).UTC()}
		if rng.IntN(20) == 0 {
			it.Included = map[string]any{"ref": nil}
		}
		items = append(items, it)
		hits = append(hits, Hit{Item: it, Snippet: pick(strs), Rank: ranks[rng.IntN(len(ranks))]})
	}
	for _, it := range items {
		want, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		got, err := it.AppendJSON(nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("item:\n got %s, %v\nwant %s", got, err, want)
		}
	}
	check := func(name string, got []byte, err error, v any) {
		t.Helper()
		want, merr := json.Marshal(v)
		if err != nil || merr != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %.300s, %v\nwant %.300s, %v", name, got, err, want, merr)
		}
	}
	got, err := AppendItemsJSON(nil, items)
	check("items", got, err, items)
	got, err = AppendItemsJSON(nil, []*Item{})
	check("no items", got, err, []*Item{})
	got, err = AppendHitsJSON(nil, hits)
	check("hits", got, err, hits)
	got, err = AppendHitsJSON(nil, []Hit{})
	check("no hits", got, err, []Hit{})
}
