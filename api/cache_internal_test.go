package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/condohq/condo/cms"
)

// The answer cache holds at most maxBytes of bodies, whatever the count
// of entries, and its count of bytes stays the sum of what it holds when
// keys are replaced and entries evicted.
func TestContentCache_BoundedByBytes(t *testing.T) {
	cc := newContentCache(1000, time.Minute, time.Now, cms.NewCache(10, time.Minute, time.Now))
	cc.maxBytes = 10_000
	for i := range 100 {
		cc.keep(fmt.Sprint("k", i%30), cachedAnswer{body: make([]byte, 700+i)})
	}
	var sum int64
	for _, k := range cc.entries.Keys() {
		a, _ := cc.entries.Peek(k)
		sum += int64(len(a.body))
	}
	if got := cc.bytes.Load(); got != sum || sum > cc.maxBytes {
		t.Fatalf("counted %d bytes, holds %d, bound %d", got, sum, cc.maxBytes)
	}
	if n := cc.entries.Len(); n < 10 {
		t.Fatalf("%d entries left under a 10,000-byte bound of ~800-byte answers", n)
	}
}
