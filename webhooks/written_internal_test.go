package webhooks

import (
	"context"
	"slices"
	"testing"
	"time"
)

// loadWritten wakes the outboxes another process wrote to since its last
// look (asking a second early, so a note landing during the look is not
// missed), and the platform's.
func TestWorker_LoadWritten(t *testing.T) {
	var asked []time.Time
	w := NewWorker(Config{Platform: nil, Written: func(_ context.Context, since time.Time) ([]string, error) {
		asked = append(asked, since)
		return []string{"acme", "beta"}, nil
	}})
	w.writtenSince = time.Now().Add(-time.Minute)
	look := w.writtenSince
	w.loadWritten(context.Background())
	if len(asked) != 1 || !asked[0].Equal(look.Add(-time.Second)) {
		t.Fatalf("asked since %v, want a second before %v", asked, look)
	}
	var dirty []string
	for k := range w.dirty {
		dirty = append(dirty, k)
	}
	slices.Sort(dirty)
	if !slices.Equal(dirty, []string{"acme", "beta"}) || !w.known["acme"] {
		t.Fatalf("dirty %v known %v, want acme and beta", dirty, w.known)
	}
	if !w.writtenSince.After(look) {
		t.Fatal("the next look starts from the old one")
	}
}
