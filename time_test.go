package condo_test

import (
	"testing"
	"time"

	"github.com/condohq/condo"
)

// TestUnixMS round-trips a time through its stored form: milliseconds
// kept, finer precision dropped, the zone UTC, nil as NULL both ways.
func TestUnixMS(t *testing.T) {
	in := time.Date(2026, 12, 1, 21, 30, 15, 123_456_789, time.FixedZone("CET", 3600))
	v := condo.UnixMS(in)
	if got, want := v, in.UnixMilli(); got != want {
		t.Fatalf("UnixMS = %d, want %d", got, want)
	}
	out := condo.FromUnixMS(v)
	if !out.Equal(in.Truncate(time.Millisecond)) || out.Location() != time.UTC {
		t.Errorf("FromUnixMS(UnixMS(%v)) = %v, want %v in UTC", in, out, in.Truncate(time.Millisecond))
	}
	if got := condo.NullUnixMS(&in); got != any(v) {
		t.Errorf("NullUnixMS(&t) = %v, want %d", got, v)
	}
	if got := condo.NullUnixMS(nil); got != nil {
		t.Errorf("NullUnixMS(nil) = %v, want nil", got)
	}
	if got := condo.FromNullUnixMS(&v); got == nil || !got.Equal(out) {
		t.Errorf("FromNullUnixMS(&v) = %v, want %v", got, out)
	}
	if got := condo.FromNullUnixMS(nil); got != nil {
		t.Errorf("FromNullUnixMS(nil) = %v, want nil", got)
	}
}
