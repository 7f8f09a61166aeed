package auth_test

import (
	"testing"
	"time"

	"github.com/condohq/condo/auth"
)

func TestSampler(t *testing.T) {
	s := auth.NewSampler(time.Minute, 10)
	now := time.Unix(1_000_000, 0)
	auth.SetSamplerClock(s, func() time.Time { return now })
	type step struct {
		advance  time.Duration
		key      string
		wantOK   bool
		wantHeld int
	}
	for i, st := range []step{
		{0, "a", true, 0},
		{time.Second, "a", false, 0},
		{time.Second, "a", false, 0},
		{0, "b", true, 0}, // another key is not held back by a's
		{time.Minute, "a", true, 2},
		{time.Second, "a", false, 0},
		{time.Minute, "a", true, 1},
		{time.Minute, "a", true, 0},
	} {
		now = now.Add(st.advance)
		if ok, held := s.Allow(st.key); ok != st.wantOK || held != st.wantHeld {
			t.Errorf("step %d: Allow(%q) = %v, %d; want %v, %d", i, st.key, ok, held, st.wantOK, st.wantHeld)
		}
	}
}
