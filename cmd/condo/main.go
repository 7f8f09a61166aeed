// Command condo is the Condo server and its operator commands: run
// `condo serve` to serve every tenant, `condo tenants|domains|admins` to
// manage them and `condo migrate` to move every tenant database to a
// schema version, even while a server runs on the same data directory.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main is the program, apart from the process, so tests can run it whole.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Ready, if set, receives the address serve listens on.
	Ready func(addr string)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

const usage = `Condo: a database-per-tenant CMS server.

Usage:
  condo serve [--addr :8080] [--data ./data] [--base-domain localhost] ...
  condo tenants create ID [--name N] [--domain D]... [--plan P] [--region R]
  condo tenants list [--status S] [--query Q] | show ID | suspend ID | resume ID
  condo domains add ID DOMAIN [--primary] | remove DOMAIN | list [ID]
  condo base-domain show | set DOMAIN
  condo admins create EMAIL     (password from CONDO_ADMIN_PASSWORD or stdin)
  condo users create ID EMAIL [--role R]   (password from CONDO_PASSWORD or stdin)
  condo users list ID [--query Q]
  condo mail outbox [--tenant ID] [--to EMAIL] [--limit N]   (mail kept without SMTP)
  condo migrate status [--runs N]
  condo migrate up [--to V] | down --to V   [--concurrency N] [--canary N]
                [--max-failures N] [--dry-run [--sample N]]
  condo migrate force ID V | create NAME [--dir migrations/tenant]

Every command takes --data DIR (or CONDO_DATA) and --json.
Run 'condo serve --help' for the server's settings.
`

// Run runs one command and returns the process's exit status: 0, 1 for a
// failure, 2 for a mistake in the command line.
func (m *Main) Run(ctx context.Context, args []string) int {
	err := m.dispatch(ctx, args)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(m.Stderr, "condo: "+oneLine(err))
		return 2
	default:
		fmt.Fprintln(m.Stderr, "condo: "+oneLine(err))
		return 1
	}
}

func (m *Main) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stdout, usage)
		return usagef("no command given")
	}
	sub := ""
	if len(args) > 1 {
		sub = args[1]
	}
	rest := args[min(2, len(args)):]
	switch args[0] + " " + sub {
	case "tenants create":
		return m.tenantsCreate(ctx, rest)
	case "tenants list":
		return m.tenantsList(ctx, rest)
	case "tenants show":
		return m.tenantsShow(ctx, rest)
	case "tenants suspend":
		return m.tenantsSetStatus(ctx, rest, "suspend", "suspended")
	case "tenants resume":
		return m.tenantsSetStatus(ctx, rest, "resume", "active")
	case "domains add":
		return m.domainsAdd(ctx, rest)
	case "domains remove":
		return m.domainsRemove(ctx, rest)
	case "domains list":
		return m.domainsList(ctx, rest)
	case "base-domain show", "base-domain set":
		return m.baseDomain(ctx, rest, sub)
	case "admins create":
		return m.adminsCreate(ctx, rest)
	case "users create":
		return m.usersCreate(ctx, rest)
	case "users list":
		return m.usersList(ctx, rest)
	case "mail outbox":
		return m.mailOutbox(ctx, rest)
	case "migrate status":
		return m.migrateStatus(ctx, rest)
	case "migrate up", "migrate down":
		return m.migrateRun(ctx, rest, sub)
	case "migrate force":
		return m.migrateForce(ctx, rest)
	case "migrate create":
		return m.migrateCreate(ctx, rest)
	}
	switch args[0] {
	case "serve":
		return m.serve(ctx, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	return usagef("unknown command %q; run 'condo help'", args[0]+" "+sub)
}
