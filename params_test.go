package condo_test

import (
	"math"
	"net/url"
	"testing"

	"github.com/condohq/condo"
)

func TestIntParam(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        int
		wantReason  string
	}{
		{"Absent", "", 20, ""},
		{"Blank", "limit=", 20, ""},
		{"Given", "limit=7", 7, ""},
		{"Spaces", "limit=%207%20", 7, ""},
		{"Low", "limit=1", 1, ""},
		{"High", "limit=100", 100, ""},
		{"Zero", "limit=0", 0, "invalid_limit"},
		{"TooBig", "limit=101", 0, "invalid_limit"},
		{"Negative", "limit=-1", 0, "invalid_limit"},
		{"NotNumber", "limit=ten", 0, "invalid_limit"},
		{"Fraction", "limit=1.5", 0, "invalid_limit"},
		{"Overflow", "limit=99999999999999999999", 0, "invalid_limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := condo.IntParam(v, "limit", 20, 1, 100)
			if tc.wantReason == "" {
				if err != nil || got != tc.want {
					t.Fatalf("IntParam(%q) = %d, %v; want %d", tc.query, got, err, tc.want)
				}
				return
			}
			if condo.ErrorCode(err) != condo.EINVALID || condo.ErrorReason(err) != tc.wantReason {
				t.Fatalf("IntParam(%q) = %d, %v; want EINVALID %s", tc.query, got, err, tc.wantReason)
			}
			if got, want := condo.ErrorMessage(err), "limit must be a whole number from 1 to 100"; got != want {
				t.Errorf("message %q, want %q", got, want)
			}
		})
	}
	if n, err := condo.IntParam(url.Values{"offset": {"2147483647"}}, "offset", 0, 0, math.MaxInt32); err != nil || n != math.MaxInt32 {
		t.Errorf("offset at MaxInt32: %d, %v", n, err)
	}
}
