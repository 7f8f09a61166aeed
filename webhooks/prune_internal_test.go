package webhooks

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/condohq/condo/migrations"
	"github.com/condohq/condo/sqlitedb"
)

func TestPrune_KeepsPendingAndRecent(t *testing.T) {
	ctx := context.Background()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "tenant.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set := migrations.Tenant()
	if _, err := set.Apply(ctx, db.Write, set.Latest()); err != nil {
		t.Fatal(err)
	}
	eps := Endpoints{DB: db, Scope: Tenant}
	url, events := "https://example.com/", []string{Wildcard}
	ep, _, err := eps.Create(ctx, EndpointInput{URL: &url, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := db.Transact(ctx, func(tx *sql.Tx) error { _, err := Emit(ctx, db, tx, Tenant, UserCreated, nil); return err }); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := eps.Deliveries(ctx, ep.ID, 10)
	if err != nil || len(ds) != 3 {
		t.Fatalf("deliveries = %v, %v", ds, err)
	}
	old := time.Now().Add(-2 * Keep).UnixMilli()
	// One old and delivered, one old and still pending, one recent and delivered.
	for i, q := range []string{
		"UPDATE webhook_deliveries SET state = 'delivered', updated_at = ? WHERE id = ?",
		"UPDATE webhook_deliveries SET updated_at = ? WHERE id = ?",
		"UPDATE webhook_deliveries SET state = 'delivered' WHERE id = ? AND ? IS NOT NULL",
	} {
		args := []any{old, ds[i].ID}
		if i == 2 {
			args = []any{ds[i].ID, 1}
		}
		if _, err := db.Write.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Write.ExecContext(ctx, "UPDATE webhook_events SET created_at = ?", old); err != nil {
		t.Fatal(err)
	}
	if err := prune(ctx, db, Tenant, time.Now().Add(-Keep)); err != nil {
		t.Fatal(err)
	}
	var deliveries, evs int
	if err := db.Read.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM webhook_deliveries), (SELECT count(*) FROM webhook_events)").Scan(&deliveries, &evs); err != nil {
		t.Fatal(err)
	}
	if deliveries != 2 || evs != 2 {
		t.Errorf("after the prune: %d deliveries and %d events, want 2 and 2 (the pending one and the recent one)", deliveries, evs)
	}
}
