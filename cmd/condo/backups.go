package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/backup"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// newReplicator builds the continuous backup replicator of --backup-url,
// or nil when it is empty.
func newReplicator(cfg *Config, cat *catalog.Catalog, log *slog.Logger) (*backup.Replicator, error) {
	if cfg.BackupURL == "" {
		return nil, nil
	}
	if cfg.BackupLagAlert <= 0 {
		cfg.BackupLagAlert = backup.DefaultLagAlert
	}
	r, err := backup.New(backup.Config{URL: cfg.BackupURL, Region: cfg.BackupRegion, Catalog: cat,
		LagAlert: cfg.BackupLagAlert, Logger: log})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return r, nil
}

// withBackups runs fn with the command's catalog, a store and the
// replicator of --backup-url (required). The replicator is not started:
// these commands read, restore and erase replicas; the serving process
// replicates.
func (c *command) withBackups(ctx context.Context, fn func(*catalog.Catalog, *tenantstore.Store, *backup.Replicator) error) error {
	if c.cfg.BackupURL == "" {
		return usagef("continuous backups are off: give --backup-url (or CONDO_BACKUP_URL)")
	}
	return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
		r, err := newReplicator(&c.cfg, cat, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		return fn(cat, store, r)
	})
}

func (m *Main) tenantsBackups(ctx context.Context, args []string) error {
	c := m.newCommand("tenants backups")
	c.cfg.register(c.fs, "backup-url")
	pos, err := c.parse(args, 1, 1, "tenants backups ID")
	if err != nil {
		return err
	}
	id := pos[0]
	if err := condo.ValidateTenantID(id); err != nil {
		return err
	}
	local, err := backup.LocalSnapshots(c.cfg.Data, id)
	if err != nil {
		return err
	}
	out := struct {
		Remote *backup.Points         `json:"remote,omitempty"`
		Local  []backup.LocalSnapshot `json:"local"`
	}{Local: local}
	var text strings.Builder
	if c.cfg.BackupURL == "" && len(local) == 0 {
		return usagef("tenant %s has no local snapshots (--snapshot-every) and continuous backups are off: give --backup-url (or CONDO_BACKUP_URL)", id)
	}
	if c.cfg.BackupURL != "" {
		if err := c.withBackups(ctx, func(_ *catalog.Catalog, _ *tenantstore.Store, r *backup.Replicator) error {
			p, err := r.List(ctx, id)
			out.Remote = p
			if err == nil {
				text.WriteString(describePoints(p))
			}
			return err
		}); err != nil {
			return err
		}
	}
	for _, s := range local {
		if text.Len() > 0 {
			text.WriteString("\n")
		}
		fmt.Fprintf(&text, "local snapshot %s  %s  %s  %d bytes", s.Name, s.At.Format(time.RFC3339), s.Path, s.Bytes)
	}
	return c.print(out, text.String())
}

func describePoints(p *backup.Points) string {
	var b strings.Builder
	if p.Earliest == nil {
		return fmt.Sprintf("tenant %s has no backups at %s", p.Tenant, p.URL)
	}
	fmt.Fprintf(&b, "tenant %s at %s: restorable from %s to %s (txid %d)\n", p.Tenant, p.URL,
		p.Earliest.UTC().Format(time.RFC3339), p.Latest.UTC().Format(time.RFC3339), p.MaxTXID)
	b.WriteString("LEVEL  FILES  TXIDS            FROM                  TO                    BYTES")
	for _, l := range p.Levels {
		fmt.Fprintf(&b, "\n%-6d %-6d %-16s %-21s %-21s %d", l.Level, l.Files, fmt.Sprintf("%d-%d", l.MinTXID, l.MaxTXID),
			l.Earliest.UTC().Format(time.RFC3339), l.Latest.UTC().Format(time.RFC3339), l.Bytes)
	}
	return b.String()
}

func (m *Main) tenantsRestoreBackup(ctx context.Context, args []string) error {
	c := m.newCommand("tenants restore-backup")
	c.cfg.register(c.fs, "backup-url", "region", "residency-sets")
	var ts, snapshot string
	c.fs.StringVar(&ts, "timestamp", "", "the point in time to restore (RFC 3339, such as 2026-01-02T15:04:05Z); empty: the latest")
	c.fs.StringVar(&snapshot, "snapshot", "", "restore this local snapshot instead (its name or time as `tenants backups` lists it, or latest); needs no --backup-url")
	pos, err := c.parse(args, 1, 1, "tenants restore-backup ID [--timestamp T | --snapshot NAME]")
	if err != nil {
		return err
	}
	var at time.Time
	if ts != "" {
		if snapshot != "" {
			return usagef("--timestamp and --snapshot do not go together: a snapshot has its own time")
		}
		if at, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return usagef("--timestamp: %q is not RFC 3339, such as 2026-01-02T15:04:05Z", ts)
		}
	}
	// Only the serving process can take the tenant out of service.
	refuse := func(cat *catalog.Catalog) error {
		return refuseBesideServer(ctx, cat, "restore-backup", fmt.Sprintf("POST /platform/tenants/%s/restore-backup", pos[0]))
	}
	if snapshot != "" {
		return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
			if err := refuse(cat); err != nil {
				return err
			}
			res, err := backup.RestoreSnapshot(ctx, cat, store, pos[0], snapshot)
			if err != nil {
				return err
			}
			return c.print(res, fmt.Sprintf("restored tenant %s to its local snapshot %s; its state before is kept at %s", res.Tenant, res.Snapshot, res.Kept))
		})
	}
	return c.withBackups(ctx, func(cat *catalog.Catalog, store *tenantstore.Store, r *backup.Replicator) error {
		if err := refuse(cat); err != nil {
			return err
		}
		res, err := backup.RestoreTenant(ctx, r, cat, store, pos[0], at)
		if err != nil {
			return err
		}
		when := "its latest backup"
		if !at.IsZero() {
			when = at.UTC().Format(time.RFC3339)
		}
		return c.print(res, fmt.Sprintf("restored tenant %s to %s; its state before is kept at %s", res.Tenant, when, res.Kept))
	})
}

func (m *Main) tenantsVerifyBackup(ctx context.Context, args []string) error {
	c := m.newCommand("tenants verify-backup")
	c.cfg.register(c.fs, "backup-url")
	pos, err := c.parse(args, 1, 1, "tenants verify-backup ID")
	if err != nil {
		return err
	}
	return c.withStore(ctx, func(cat *catalog.Catalog, store *tenantstore.Store) error {
		if _, err := cat.Tenant(ctx, pos[0]); err != nil {
			return err
		}
		var r *backup.Replicator // nil: continuous backups off, the local snapshots only
		if c.cfg.BackupURL != "" {
			var err error
			if r, err = newReplicator(&c.cfg, cat, slog.New(slog.DiscardHandler)); err != nil {
				return err
			}
		}
		v, err := backup.VerifyAll(ctx, r, store, pos[0])
		if err != nil {
			return err
		}
		var lines []string
		switch {
		case r != nil && v.Live != v.Restored:
			lines = append(lines, fmt.Sprintf("tenant %s: the backup (txid %d) differs from the live database: %s, live %s", v.Tenant, v.TXID, v.Restored, v.Live))
		case r != nil:
			lines = append(lines, fmt.Sprintf("tenant %s: the backup (txid %d) matches the live database (sha256 %s)", v.Tenant, v.TXID, v.Live))
		}
		for _, sn := range v.Snapshots {
			if sn.OK {
				lines = append(lines, fmt.Sprintf("snapshot %s: ok", sn.Name))
			} else {
				lines = append(lines, fmt.Sprintf("snapshot %s: FAILED: %s", sn.Name, sn.Problem))
			}
		}
		c.print(v, strings.Join(lines, "\n"))
		if !v.OK {
			return fmt.Errorf("tenant %s: backup verification failed", v.Tenant)
		}
		return nil
	})
}

// tenantBackup is what tenants show says of a tenant's backups.
type tenantBackup struct {
	LastSync   *time.Time `json:"last_sync,omitempty"`
	AgeSeconds float64    `json:"age_seconds,omitempty"` // since the last sync
	MaxTXID    uint64     `json:"max_txid,omitempty"`
	Error      string     `json:"error,omitempty"`
}

func (b tenantBackup) String() string {
	switch {
	case b.Error != "":
		return "backup:    " + b.Error
	case b.LastSync == nil:
		return "backup:    none yet"
	}
	return fmt.Sprintf("backup:    last sync %s (%s ago), txid %d", b.LastSync.UTC().Format(time.RFC3339),
		time.Duration(b.AgeSeconds*float64(time.Second)).Round(time.Second), b.MaxTXID)
}

func backupSummary(ctx context.Context, cfg *Config, cat *catalog.Catalog, id string) tenantBackup {
	r, err := newReplicator(cfg, cat, slog.New(slog.DiscardHandler))
	if err != nil {
		return tenantBackup{Error: err.Error()}
	}
	p, err := r.List(ctx, id)
	if err != nil {
		return tenantBackup{Error: err.Error()}
	}
	if p.Latest == nil {
		return tenantBackup{}
	}
	return tenantBackup{LastSync: p.Latest, AgeSeconds: time.Since(*p.Latest).Seconds(), MaxTXID: p.MaxTXID}
}
