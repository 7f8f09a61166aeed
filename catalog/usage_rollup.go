package catalog

import (
	"context"
	"database/sql"

	"github.com/condohq/condo/webhooks"
)

// metaUsageRollup is the meta key of the last day rolled up.
const metaUsageRollup = "usage_rollup_day"

// RollupUsage emits the platform's usage.daily event for each tenant with
// usage on day (YYYY-MM-DD), once per catalog: the first node to ask
// claims the day in the same transaction as the events, so two nodes
// never both emit it and a crash emits either all of a day or none. It
// reports how many events it emitted (0: the day was claimed already).
func (c *Catalog) RollupUsage(ctx context.Context, day string) (int, error) {
	n := 0
	err := c.db.Transact(ctx, func(tx *sql.Tx) error {
		n = 0
		res, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value < excluded.value`, metaUsageRollup, day)
		if err != nil {
			return err
		}
		if claimed, err := res.RowsAffected(); err != nil || claimed == 0 {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+usageColumns+` FROM usage_daily WHERE day = ? ORDER BY tenant_id`, day)
		if err != nil {
			return err
		}
		var days []UsageDay
		for rows.Next() {
			d, err := scanUsage(rows)
			if err != nil {
				rows.Close()
				return err
			}
			days = append(days, *d)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for i := range days {
			if err := c.emitPlatform(ctx, tx, webhooks.UsageDaily, &days[i]); err != nil {
				return err
			}
		}
		n = len(days)
		return nil
	})
	if err == nil && n > 0 {
		webhooks.Wake(webhooks.PlatformKey)
	}
	return n, err
}
