package backup

import (
	"time"

	"github.com/condohq/condo/metrics"
)

// Status is one tenant's replication as this node sees it.
type Status struct {
	// Replicating: registered with Litestream now (written while open).
	Replicating bool `json:"replicating"`
	// LastSync is the last time the store acknowledged its replica.
	LastSync *time.Time `json:"last_sync,omitempty"`
	// LocalTXID and RemoteTXID are Litestream's positions.
	LocalTXID  uint64 `json:"local_txid,omitempty"`
	RemoteTXID uint64 `json:"remote_txid,omitempty"`
	// LagSeconds is how long its oldest write not in the store has waited
	// (0 in sync).
	LagSeconds float64 `json:"lag_seconds"`
	// Error says why it is not replicated (residency), if it is not.
	Error string `json:"error,omitempty"`
}

// Status reports tenant id's replication.
func (r *Replicator) Status(id string) Status {
	r.mu.Lock()
	t := r.tenants[id]
	unsent, hasUnsent := r.unsent[id]
	last, hasLast := r.lastSync[id]
	r.mu.Unlock()
	now := time.Now()
	var st Status
	if hasLast {
		st.LastSync = &last
	}
	if hasUnsent {
		st.LagSeconds = now.Sub(unsent).Seconds()
	}
	if t == nil {
		return st
	}
	select {
	case <-t.ready:
	default:
		st.Replicating = true
		st.LagSeconds = max(st.LagSeconds, now.Sub(t.since).Seconds())
		return st
	}
	if t.db == nil {
		if t.err != nil {
			st.Error = t.err.Error()
		}
		return st
	}
	st.Replicating = true
	local, _ := t.db.Pos()
	remote := t.db.Replica.Pos()
	st.LocalTXID, st.RemoteTXID = uint64(local.TXID), uint64(remote.TXID)
	synced := t.db.LastSuccessfulSyncAt()
	if !synced.IsZero() {
		st.LastSync = &synced
	}
	// A healthy replica records a sync every interval even when idle, so
	// a stale LastSync is a store not answering even where the positions
	// (which a failing WAL read stops moving) agree.
	stale := 3*r.cfg.MonitorInterval + 2*time.Second
	ref := t.since
	if synced.After(ref) {
		ref = synced
	}
	if local.TXID > remote.TXID || now.Sub(ref) > stale {
		st.LagSeconds = max(st.LagSeconds, now.Sub(ref).Seconds())
	}
	return st
}

// Health is the replicator's state for /readyz.
type Health struct {
	URL         string  `json:"url"`
	Replicating int     `json:"replicating"`
	Lagging     int     `json:"lagging"`
	MaxLag      float64 `json:"max_lag_seconds"`
	Alert       float64 `json:"lag_alert_seconds"`
	Degraded    bool    `json:"degraded"`
}

// Health sums every known tenant's status.
func (r *Replicator) Health() Health {
	r.mu.Lock()
	ids := make([]string, 0, len(r.tenants)+len(r.unsent))
	for id := range r.tenants {
		ids = append(ids, id)
	}
	for id := range r.unsent {
		if _, ok := r.tenants[id]; !ok {
			ids = append(ids, id)
		}
	}
	r.mu.Unlock()
	h := Health{URL: r.Redacted(), Alert: r.cfg.LagAlert.Seconds()}
	for _, id := range ids {
		st := r.Status(id)
		if st.Replicating {
			h.Replicating++
		}
		if st.LagSeconds > h.MaxLag {
			h.MaxLag = st.LagSeconds
		}
		if st.LagSeconds > h.Alert {
			h.Lagging++
		}
	}
	h.Degraded = h.Lagging > 0
	return h
}

// recordClose notes a final sync's outcome: a failed one leaves writes
// unsent (in the local LTX files) until the tenant is registered again.
func (r *Replicator) recordClose(id string, since time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		metrics.BackupSyncErrors.Inc()
		if _, ok := r.unsent[id]; !ok {
			r.unsent[id] = since
		}
		return
	}
	delete(r.unsent, id)
	r.lastSync[id] = time.Now()
}

func (r *Replicator) figures() metrics.BackupFigures {
	h := r.Health()
	return metrics.BackupFigures{Replicating: h.Replicating, Lagging: h.Lagging, MaxLag: h.MaxLag}
}
