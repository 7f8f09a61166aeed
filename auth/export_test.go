package auth

import "time"

// SetSamplerClock gives tests the sampler's clock.
func SetSamplerClock(s *Sampler, now func() time.Time) { s.now = now }
