package zipf

import (
	"slices"
	"testing"
)

// The same arguments draw the same sequence; rank 0 is drawn most, and
// exponent 0 is uniform.
func TestSequence(t *testing.T) {
	a, b := Sequence(1000, 1.0, 7, 5000), Sequence(1000, 1.0, 7, 5000)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed drew different sequences")
	}
	if slices.Equal(a, Sequence(1000, 1.0, 8, 5000)) {
		t.Error("another seed drew the same sequence")
	}
	counts := make([]int, 1000)
	for _, k := range Sequence(1000, 1.0, 1, 100_000) {
		counts[k]++
	}
	if counts[0] < 10*counts[99] || counts[0] < 12_000 || counts[0] > 14_000 { // 1/H(1000) = 13.4%
		t.Errorf("rank 0 drawn %d times of 100,000, rank 99 %d", counts[0], counts[99])
	}
	z := New(10, 0, 1)
	if got := z.TopShare(5); got < 0.499 || got > 0.501 {
		t.Errorf("uniform top half share = %v", got)
	}
}
