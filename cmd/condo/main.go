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
	"os/user"
	"syscall"

	"github.com/condohq/condo/catalog"
)

// Main is the program, apart from the process, so tests can run it whole:
// ParseFlags reads the command line and the environment, Run runs the
// command they name. Exec does both, as the process does.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Ready, if set, receives the address serve listens on.
	Ready func(addr string)
	// Config is what ParseFlags read for serve from the flags and the
	// environment; a test may change it between ParseFlags and Run.
	Config Config

	run func(ctx context.Context) error // the command ParseFlags chose
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(m.Exec(ctx, os.Args[1:]))
}

// Run runs the command ParseFlags chose, serve until ctx ends.
func (m *Main) Run(ctx context.Context) error {
	if m.run == nil {
		return errors.New("condo: Run before ParseFlags")
	}
	return m.run(ctx)
}

// Exec parses args, runs the command they name and returns the process's
// exit status: 0, 1 for a failure, 2 for a mistake in the command line.
func (m *Main) Exec(ctx context.Context, args []string) int {
	ctx = catalog.WithActor(ctx, cliActor()) // serve's own work says "system" (see serve)
	err := m.ParseFlags(ctx, args)
	if err == nil {
		err = m.Run(ctx)
	}
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(m.Stderr, "condo: "+oneLine(err))
		return 2
	default:
		fmt.Fprintln(m.Stderr, "condo: "+oneLine(err))
		return 1
	}
}

// cliActor names an operator command's user in the catalog's audit
// trail: cli:<login>@<host>.
func cliActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return "cli:" + name + "@" + host
}
