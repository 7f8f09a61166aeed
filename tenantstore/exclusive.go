package tenantstore

import (
	"context"
	"time"

	"github.com/condohq/condo"
)

// DefaultBusyWait is how long an Acquire waits for a tenant taken out of
// service (TakeOut) before it answers tenant_busy.
const DefaultBusyWait = 2 * time.Second

// busy is a tenant taken out of service: done closes when it is handed
// back.
type busy struct{ done chan struct{} }

// TakeOut takes tenant id out of service for an exclusive operation (the
// end of a move today; archive, restore and import later): new Acquires
// of it wait, up to Config.BusyWait, then answer EUNAVAILABLE
// (tenant_busy, which the API sends as 503 with Retry-After); its open
// handle leaves the pool and TakeOut waits, until ctx ends, for the
// holders to release it and for it to close. Holders that do not let go
// in time (a libSQL stream pins its handle for as long as it lives) keep
// their handle; TakeOut returns their count in busyHolders and the
// operation decides (a move has fenced the file already, so they can no
// longer write). Call handBack exactly once; until then nothing in this
// process opens the tenant. ECONFLICT (tenant_busy) if it is out already.
func (s *Store) TakeOut(ctx context.Context, id string) (handBack func(), busyHolders int, err error) {
	if err := condo.ValidateTenantID(id); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	if s.busy == nil {
		s.busy = map[string]*busy{}
	}
	if _, ok := s.busy[id]; ok {
		s.mu.Unlock()
		return nil, 0, condo.ReasonErrorf(condo.ECONFLICT, "tenant_busy", "tenant %s is taken out of service already", id)
	}
	b := &busy{done: make(chan struct{})}
	s.busy[id] = b
	var wait []*Handle
	for {
		if _, opening := s.opening[id]; !opening {
			break
		}
		call := s.opening[id]
		s.mu.Unlock()
		<-call.done // an open in flight lands in the pool first
		s.mu.Lock()
	}
	if h, ok := s.pool.Peek(id); ok {
		s.pool.Remove(id) // onEvict: closed now if idle, else by its last release
		wait = append(wait, h)
	}
	victims := s.evicted
	s.evicted = nil
	s.mu.Unlock()
	for _, v := range victims {
		s.closeNow(v)
	}
	handBack = func() {
		s.mu.Lock()
		delete(s.busy, id)
		s.mu.Unlock()
		close(b.done)
	}
	for _, h := range wait {
		for h.refs.Load() > 0 || !h.closed.Load() {
			select {
			case <-ctx.Done():
				return handBack, int(h.refs.Load()), nil
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return handBack, 0, nil
}

// waitBusy runs under s.mu when tenant id may be out of service: it waits
// (unlocking) for the hand-back, up to the bound, and reports whether the
// caller should look again (true) or fail with the error.
func (s *Store) waitBusy(ctx context.Context, id string) (again bool, err error) {
	b, ok := s.busy[id]
	if !ok {
		return false, nil
	}
	s.mu.Unlock()
	t := time.NewTimer(s.cfg.BusyWait)
	defer t.Stop()
	select {
	case <-b.done:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	case <-t.C:
		return false, condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_busy", "tenant %s is briefly out of service; retry shortly", id)
	}
}

// Retired records that tenant id left this node at epoch (a move flipped
// its home): an open with a catalog row older than that (a request that
// resolved the tenant before the flip) answers tenant_moved rather than
// opening what is left of the old copy.
func (s *Store) Retired(id string, epoch int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retired == nil {
		s.retired = map[string]int64{}
	}
	s.retired[id] = epoch
}

// movedError is the answer for a tenant that this node no longer serves.
func movedError(id string) error {
	return condo.ReasonErrorf(condo.EUNAVAILABLE, "tenant_moved", "tenant %s has moved to another region; retry", id)
}

// MovedAway reports whether tenant id left this node at epoch or later
// (see Retired): a request that resolved the tenant at epoch should be
// sent to its new home. One map lookup under the store's lock.
func (s *Store) MovedAway(id string, epoch int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	left, ok := s.retired[id]
	return ok && epoch <= left
}
