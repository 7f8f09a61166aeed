package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/condohq/condo/auth"
	"github.com/condohq/condo/catalog"
)

// The operator's tokens are the tenant's libSQL credentials: API tokens
// that no user owns (auth.OperatorRole), carrying sql.read, sql.write or sql.owner.
// They open the tenant's database like the other commands, so they work
// while serve runs.

func (m *Main) tokensCreate(ctx context.Context, args []string) error {
	c := m.newCommand("tokens create")
	access := c.fs.String("sql", "", "what the token may run: read (sql.read), write (sql.write, which reads too) or owner (sql.owner: Condo's own tables too, for a node whose tenant lives here)")
	expires := c.fs.String("expires", "", "lifetime, as 24h, 90m or 30d (default: no expiry)")
	name := c.fs.String("name", "operator", "a name to recognise the token by")
	pos, err := c.parse(args, 1, 1, "tokens create ID --sql read|write|owner [--expires 24h] [--name N]")
	if err != nil {
		return err
	}
	var perms auth.Perms
	switch *access {
	case "read":
		perms = auth.MustPerms(auth.SQLRead)
	case "write":
		perms = auth.MustPerms(auth.SQLRead, auth.SQLWrite)
	case "owner":
		perms = auth.MustPerms(auth.SQLRead, auth.SQLWrite, auth.SQLOwner)
	default:
		return usagef("--sql is read, write or owner, not %q", *access)
	}
	var exp *time.Time
	if *expires != "" {
		d, err := parseLifetime(*expires)
		if err != nil {
			return usagef("--expires: %v", err)
		}
		t := time.Now().Add(d)
		exp = &t
	}
	return c.withTenant(ctx, pos[0], func(t *catalog.Tenant, st *auth.Store) error {
		tok, secret, err := st.CreateAPIToken(ctx, auth.NewAPIToken{Name: *name, Permissions: perms, ExpiresAt: exp})
		if err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"name": tok.Name, "permissions": tok.Permissions, "via": "cli"})
		if err := st.Record(ctx, auth.Event{Category: auth.CategoryAudit, Action: "token.created", ActorType: "operator",
			Target: tok.ID, Detail: detail}); err != nil {
			return err
		}
		human := fmt.Sprintf("created token %s (%s, %s) in tenant %s; it is shown once:\n%s",
			tok.ID, permNames(tok.Permissions), expiry(tok.ExpiresAt), t.ID, secret)
		return c.print(struct {
			*auth.APIToken
			Token string `json:"token"`
		}{tok, secret}, human)
	})
}

func (m *Main) tokensList(ctx context.Context, args []string) error {
	c := m.newCommand("tokens list")
	pos, err := c.parse(args, 1, 1, "tokens list ID")
	if err != nil {
		return err
	}
	return c.withTenant(ctx, pos[0], func(t *catalog.Tenant, st *auth.Store) error {
		toks, err := st.APITokens(ctx)
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%d tokens in %s\n", len(toks), t.ID)
		for _, tk := range toks {
			owner := "operator"
			if !tk.Operator {
				owner = "user " + tk.UserID
			}
			used := "never used"
			if tk.LastUsedAt != nil {
				used = "used " + tk.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(&b, "%s  %s  %q  %s  %s  %s  %s\n", tk.ID, tk.Prefix, tk.Name, owner, permNames(tk.Permissions), expiry(tk.ExpiresAt), used)
		}
		return c.print(toks, b.String())
	})
}

func (m *Main) tokensRevoke(ctx context.Context, args []string) error {
	c := m.newCommand("tokens revoke")
	pos, err := c.parse(args, 2, 2, "tokens revoke ID TOKEN_ID")
	if err != nil {
		return err
	}
	return c.withTenant(ctx, pos[0], func(t *catalog.Tenant, st *auth.Store) error {
		tok, err := st.RevokeAPIToken(ctx, pos[1])
		if err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"name": tok.Name, "via": "cli"})
		if err := st.Record(ctx, auth.Event{Category: auth.CategoryAudit, Action: "token.revoked", ActorType: "operator",
			Target: tok.ID, Detail: detail}); err != nil {
			return err
		}
		return c.print(tok, fmt.Sprintf("revoked token %s (%s) in tenant %s", tok.ID, tok.Name, t.ID))
	})
}

// parseLifetime reads a Go duration, or a whole number of days ("30d").
func parseLifetime(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok && err != nil {
		n, nerr := strconv.Atoi(days)
		if nerr != nil || n > 36500 {
			return 0, fmt.Errorf("%q is not a duration (24h, 90m, 30d)", s)
		}
		d, err = time.Duration(n)*24*time.Hour, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (24h, 90m, 30d)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration", s)
	}
	return d, nil
}

func permNames(p auth.Perms) string {
	var names []string
	for _, n := range auth.AllPermissions {
		if p.Has(n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ",")
}

func expiry(t *time.Time) string {
	if t == nil {
		return "no expiry"
	}
	return "expires " + t.UTC().Format(time.RFC3339)
}
