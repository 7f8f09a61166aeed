package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/condohq/condo/catalog"
)

func (m *Main) adminsCreate(ctx context.Context, args []string) error {
	c := m.newCommand("admins create")
	pos, err := c.parse(args, 1, 1, "admins create EMAIL (password from CONDO_ADMIN_PASSWORD or stdin)")
	if err != nil {
		return err
	}
	if _, err := catalog.NormalizeEmail(pos[0]); err != nil {
		return err
	}
	password, err := m.password(c.cfg.AdminPassword, "CONDO_ADMIN_PASSWORD")
	if err != nil {
		return err
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		a, err := cat.CreateAdmin(ctx, pos[0], password)
		if err != nil {
			return err
		}
		return c.print(a, fmt.Sprintf("created platform admin %s", a.Email))
	})
}

// password is the one the environment variable env set (fromEnv), else
// the first line of standard input, so it never appears in a command line.
func (m *Main) password(fromEnv secret, env string) (string, error) {
	if fromEnv != "" {
		return string(fromEnv), nil
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", usagef("give the password in %s or on standard input", env)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
