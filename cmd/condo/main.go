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

// Run runs one command and returns the process's exit status: 0, 1 for a
// failure, 2 for a mistake in the command line.
func (m *Main) Run(ctx context.Context, args []string) int {
	err := m.dispatch(ctx, args)
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
