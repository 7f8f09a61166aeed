package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/tenantstore"
)

// withTenant runs fn with the identity store of one tenant, opened through
// the catalog (and migrated first if the tenant is behind).
func (c *command) withTenant(ctx context.Context, id string, fn func(t *catalog.Tenant, st *auth.Store) error) error {
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		set, err := tenantMigrations(c.cfg.TenantMigrations)
		if err != nil {
			return err
		}
		store := tenantstore.New(cat, tenantstore.Config{DataDir: c.cfg.Data, PoolSize: 1, Migrations: set})
		defer store.Close(context.Background())
		return withIdentity(ctx, cat, store, id, fn)
	})
}

// withIdentity acquires a tenant's database from store for fn.
func withIdentity(ctx context.Context, cat *catalog.Catalog, store *tenantstore.Store, id string, fn func(t *catalog.Tenant, st *auth.Store) error) error {
	t, err := cat.Tenant(ctx, id)
	if err != nil {
		return err
	}
	h, release, err := store.AcquireTenant(ctx, t)
	if err != nil {
		return err
	}
	defer release()
	if err := fn(t, auth.New(id, h.DB)); err != nil {
		return err
	}
	// A user's events went to the tenant's outbox: the server's worker
	// learns of it from the catalog (best effort: they go out at the
	// tenant's next write through the server otherwise).
	cat.NoteWebhookEvents(ctx, id)
	return nil
}

// createUser adds a user under the tenant's plan limit and password policy.
func createUser(ctx context.Context, t *catalog.Tenant, st *auth.Store, email, password, role string) (*auth.User, error) {
	lim, err := st.Limits(ctx, t.UserLimit)
	if err != nil {
		return nil, err
	}
	return st.CreateUser(ctx, auth.NewUser{Email: email, Password: password, Role: role}, lim)
}

func (m *Main) usersCreate(ctx context.Context, args []string) error {
	c := m.newCommand("users create")
	role := c.fs.String("role", auth.RoleViewer, "role: admin, editor, author, viewer or a custom role")
	pos, err := c.parse(args, 2, 2, "users create ID EMAIL [--role R] (password from CONDO_PASSWORD or stdin)")
	if err != nil {
		return err
	}
	password, err := m.password(c.cfg.Password, "CONDO_PASSWORD")
	if err != nil {
		return err
	}
	return c.withTenant(ctx, pos[0], func(t *catalog.Tenant, st *auth.Store) error {
		u, err := createUser(ctx, t, st, pos[1], password, *role)
		if err != nil {
			return err
		}
		err = st.Record(ctx, auth.Event{Category: auth.CategoryAudit, Action: "user.created", ActorType: "operator",
			Target: u.ID, Detail: []byte(fmt.Sprintf(`{"email":%q,"role":%q,"via":"cli"}`, u.Email, u.Role))})
		if err != nil {
			return err
		}
		return c.print(u, fmt.Sprintf("created %s %s in tenant %s", u.Role, u.Email, t.ID))
	})
}

func (m *Main) usersList(ctx context.Context, args []string) error {
	c := m.newCommand("users list")
	query := c.fs.String("query", "", "only users whose email or name contains this")
	pos, err := c.parse(args, 1, 1, "users list ID [--query Q]")
	if err != nil {
		return err
	}
	return c.withTenant(ctx, pos[0], func(t *catalog.Tenant, st *auth.Store) error {
		users, total, err := st.Users(ctx, auth.UserFilter{Query: *query, Limit: 1000})
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d users in %s\n", total, t.ID)
		for _, u := range users {
			fmt.Fprintf(&b, "%s  %-8s %s\n", u.ID, u.Role, u.Email)
		}
		return c.print(users, strings.TrimRight(b.String(), "\n"))
	})
}
