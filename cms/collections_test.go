package cms_test

import (
	"context"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/cms"
)

// wrappedDB is a condo.DB that is not a *sqlitedb.DB, as a libSQL-backed
// tenant will be: cms must work through the interface alone.
type wrappedDB struct{ condo.DB }

// TestStore_CreateCollection_Exists creates a collection whose name is
// taken: the database's unique failure (found by its error code) becomes
// ECONFLICT collection_exists.
func TestStore_CreateCollection_Exists(t *testing.T) {
	ctx := context.Background()
	_, stores := newContent(t, "dup")
	st := cms.New("dup", wrappedDB{stores["dup"].DB}, t.TempDir())
	_, err := st.CreateCollection(ctx, cms.NewCollection{Name: "posts"})
	if got, want := condo.ErrorReason(err), "collection_exists"; got != want {
		t.Fatalf("create a second %q: reason %q (%v), want %q", "posts", got, err, want)
	}
	if got, want := condo.ErrorCode(err), condo.ECONFLICT; got != want {
		t.Errorf("code %q, want %q", got, want)
	}
	if _, err := st.CreateCollection(ctx, cms.NewCollection{Name: "pages"}); err != nil {
		t.Errorf("create another name: %v", err)
	}
}
