package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/condohq/condo"
)

// errHelpShown reports that a command printed its help as asked: exit
// status 0, nothing else done.
var errHelpShown = errors.New("help shown")

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// command is one operator command's flag set plus the flags every command
// shares.
type command struct {
	fs   *flag.FlagSet
	cfg  Config
	json bool
	out  io.Writer
}

func (m *Main) newCommand(name string) *command {
	c := &command{fs: flag.NewFlagSet(name, flag.ContinueOnError), out: m.Stdout}
	c.fs.SetOutput(io.Discard)
	c.cfg.register(c.fs, "data", "catalog", "base-domain", "plans")
	c.fs.BoolVar(&c.json, "json", false, "print one JSON document")
	return c
}

// parse parses flags given before or after positional arguments and
// checks the count of positional ones.
func (c *command) parse(args []string, minArgs, maxArgs int, usage string) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				_, err := io.WriteString(c.out, commandHelp(usage, c.fs))
				return nil, errors.Join(errHelpShown, err)
			}
			return nil, usagef("%v (usage: condo %s)", err, usage)
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < minArgs || len(pos) > maxArgs {
		return nil, usagef("usage: condo %s", usage)
	}
	return pos, nil
}

// print writes v as JSON with --json, else the human text.
func (c *command) print(v any, human string) error {
	if c.json {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := io.WriteString(c.out, strings.TrimRight(human, "\n")+"\n")
	return err
}

// strings collects a repeated flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// oneLine renders an error as the single line the CLI prints.
func oneLine(err error) string {
	msg := err.Error()
	if code := condo.ErrorCode(err); code != condo.EINTERNAL && code != "" {
		msg = condo.ErrorMessage(err)
	}
	return strings.Join(strings.Fields(msg), " ")
}
