package backup_test

import (
	"context"
	"testing"

	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

func rows(t *testing.T, path string) int {
	t.Helper()
	db, err := sqlitedb.Open(path, sqlitedb.Options{Job: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Read.QueryRow(`SELECT count(*) FROM notes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func liveRows(t *testing.T, env *tenantstoretest.Env, id string) int {
	t.Helper()
	h, release, err := env.Store.Acquire(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	var n int
	if err := h.Reader().QueryRow(`SELECT count(*) FROM notes`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
