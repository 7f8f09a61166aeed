package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
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
	password := os.Getenv("CONDO_ADMIN_PASSWORD")
	if password == "" {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return usagef("give the password in CONDO_ADMIN_PASSWORD or on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		a, err := cat.CreateAdmin(ctx, pos[0], password)
		if err != nil {
			return err
		}
		return c.print(a, fmt.Sprintf("created platform admin %s", a.Email))
	})
}
