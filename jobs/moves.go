package jobs

import (
	"context"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/move"
)

// movePoll is how often a node looks for requested moves of its tenants
// (recorded by `condo tenants move` or any node's API), and how often it
// sweeps old copies past their retention (every sweepEvery polls).
const (
	movePoll   = 250 * time.Millisecond
	sweepEvery = 240
)

// Moves runs the tenant moves of this node (see package move): after
// Start it recovers the moves a crash interrupted, then claims and runs
// requested moves of tenants homed here, each on a goroutine of its own
// that Close stops, and sweeps old copies whose retention ended.
func (j *Jobs) Moves(mv *move.Mover) {
	j.mu.Lock()
	j.mover = mv
	j.mu.Unlock()
	j.Loop(func(ctx context.Context) {
		mv.Recover(ctx)
		t := time.NewTicker(movePoll)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			mv.Poll(ctx, func(m *catalog.Move) {
				j.mu.Lock()
				defer j.mu.Unlock()
				if j.closed {
					return
				}
				j.wg.Go(func() { mv.Run(j.ctx, m) })
			})
			if i%sweepEvery == 0 {
				mv.Sweep(ctx)
			}
		}
	})
}

// RequestMove records a move of tenant id to region; the tenant's home
// node runs it (see Moves). Errors are move.Request's.
func (j *Jobs) RequestMove(ctx context.Context, id, region, location string) (*catalog.Move, error) {
	j.mu.Lock()
	mv := j.mover
	j.mu.Unlock()
	if mv == nil {
		return nil, condo.ReasonErrorf(condo.EUNAVAILABLE, "jobs_unavailable", "this server runs no moves")
	}
	return move.Request(ctx, mv.Catalog(), id, region, location)
}

// Mover returns the node's mover, nil when it runs no moves.
func (j *Jobs) Mover() *move.Mover {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.mover
}
