package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// BackupFigures are the continuous backup replicator's aggregates (no
// tenant label: Litestream's own per-database series are on the default
// registry, which /metrics does not serve).
type BackupFigures struct {
	Replicating int     // tenants registered with Litestream now
	Lagging     int     // of those (and of closed ones with unsent writes), past the lag alert
	MaxLag      float64 // seconds, the largest tenant's
}

var backupSource atomic.Pointer[func() BackupFigures]

// SetBackupSource makes the backup gauges read f (package backup calls it
// when a replicator starts).
func SetBackupSource(f func() BackupFigures) { backupSource.Store(&f) }

func backupFigures() BackupFigures {
	if f := backupSource.Load(); f != nil {
		return (*f)()
	}
	return BackupFigures{}
}

// BackupSyncErrors counts final syncs and registrations that failed.
var BackupSyncErrors = counter("condo_backup_sync_errors_total",
	"Backup syncs that failed: final syncs before a tenant's handle closed, and registrations with the replicator.")

func init() {
	Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "condo_backup_tenants_replicating",
			Help: "Tenants registered with the backup replicator (written while open)."},
			func() float64 { return float64(backupFigures().Replicating) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "condo_backup_tenants_lagging",
			Help: "Tenants whose backup lags past --backup-lag-alert."},
			func() float64 { return float64(backupFigures().Lagging) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "condo_backup_max_lag_seconds",
			Help: "The largest backup lag of any tenant, in seconds."},
			func() float64 { return backupFigures().MaxLag }),
	)
}
