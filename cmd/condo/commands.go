package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/condohq/condo"
)

// spec is one command: its words, a line for the list of commands, and
// its handler. A handler builds its own flag set, so `condo help CMD` and
// `CMD --help` describe exactly the flags it registers.
type spec struct {
	name    string // "serve", "tenants create"
	summary string
	run     func(m *Main, ctx context.Context, args []string) error
}

// parsers read a command's flags into m.Config in ParseFlags, and its run
// then gets no arguments; the other commands parse their own in run.
var parsers = map[string]func(m *Main, args []string) error{
	"serve": (*Main).parseServe,
}

// commands is every command, in the order `condo help` lists them. It is
// filled by init because the handlers' help reads it.
var commands []spec

func init() {
	commands = []spec{
		{"serve", "serve every tenant over HTTP (creates the data directory on its first run)",
			func(m *Main, ctx context.Context, _ []string) error { return m.serve(ctx) }}, // see parsers
		{"init", "create the catalog, the default tenant and the platform admin, as serve's first run does", (*Main).initData},
		{"version", "print the version, commit, Go and SQLite versions", (*Main).version},
		{"tenants create", "create a tenant and its database", (*Main).tenantsCreate},
		{"tenants list", "list tenants", (*Main).tenantsList},
		{"tenants show", "show one tenant with its domains and schema", (*Main).tenantsShow},
		{"tenants export", "write a tenant's database, media and manifest to one archive, while it serves", (*Main).tenantsExport},
		{"tenants import", "create a tenant from an export archive, checked to the last byte", (*Main).tenantsImport},
		{"tenants archive", "put a tenant to sleep: one verified archive, live files removed, hosts 410", (*Main).tenantsArchive},
		{"tenants restore", "wake an archived tenant, migrated up if the fleet moved on", (*Main).tenantsRestore},
		{"tenants delete", "erase a tenant for good (GDPR): files, catalog records; a tombstone keeps the id", (*Main).tenantsDelete},
		{"tenants backups", "list a tenant's restore points in the backup store (--backup-url)", (*Main).tenantsBackups},
		{"tenants restore-backup", "restore a tenant from the backup store to a point in time, or from a local snapshot (--snapshot), its current state kept", (*Main).tenantsRestoreBackup},
		{"tenants verify-backup", "restore a tenant's latest backup into a scratch file and compare its checksum with the live database", (*Main).tenantsVerifyBackup},
		{"tenants purge", "free a deleted tenant's id by removing its tombstone", (*Main).tenantsPurge},
		{"jobs list", "long operations: fleet migration runs, tenant moves and lifecycle operations, with their state and progress", (*Main).jobsList},
		{"stats", "usage per day of one tenant (or of all, summed): requests, errors, latency, bytes, SQL, storage, with a chart", (*Main).stats},
		{"audit", "the platform's audit trail: who changed what in the catalog, and every export and import", (*Main).audit},
		{"tenants move", "move a tenant, live, to a node of another region (its home node runs it)", (*Main).tenantsMove},
		{"import sonicjs", "create a tenant from a SonicJS site's database (its SQLite file or `wrangler d1 export` SQL), with a report", (*Main).importSonicJS},
		{"tenants suspend", "suspend a tenant: its hosts answer 403", func(m *Main, ctx context.Context, args []string) error {
			return m.tenantsSetStatus(ctx, args, "suspend", "suspended")
		}},
		{"tenants resume", "make a suspended tenant active again", func(m *Main, ctx context.Context, args []string) error {
			return m.tenantsSetStatus(ctx, args, "resume", "active")
		}},
		{"tenants set-plan", "move a tenant to another plan (its limits with it), reporting its usage against them", (*Main).tenantsSetPlan},
		{"plans list", "list the plans tenants may be on and their limits (--plans FILE, else the built-in ones)", (*Main).plansList},
		{"nodes list", "list the nodes registered in the catalog, with their health", (*Main).nodesList},
		{"domains add", "let a custom domain reach a tenant", (*Main).domainsAdd},
		{"domains remove", "remove a custom domain", (*Main).domainsRemove},
		{"domains list", "list custom domains, of one tenant or all", (*Main).domainsList},
		{"base-domain show", "show the base domain tenants answer under (kept in the catalog)", func(m *Main, ctx context.Context, args []string) error {
			return m.baseDomain(ctx, args, "show")
		}},
		{"base-domain set", "change the base domain, refused while a custom domain falls under the new one", func(m *Main, ctx context.Context, args []string) error {
			return m.baseDomain(ctx, args, "set")
		}},
		{"admins create", "create a platform admin (password from CONDO_ADMIN_PASSWORD or stdin)", (*Main).adminsCreate},
		{"users create", "create a user in a tenant (password from CONDO_PASSWORD or stdin)", (*Main).usersCreate},
		{"users list", "list a tenant's users", (*Main).usersList},
		{"tokens create", "make a libSQL token of a tenant (sql.read, sql.write or sql.owner), shown once", (*Main).tokensCreate},
		{"tokens list", "list a tenant's API tokens (never their secrets)", (*Main).tokensList},
		{"tokens revoke", "revoke an API token", (*Main).tokensRevoke},
		{"plugins list", "list the plugins of the binary, with which a tenant enabled and their settings", (*Main).pluginsList},
		{"plugins enable", "enable a plugin for a tenant (--settings JSON, validated against its schema)", (*Main).pluginsEnable},
		{"plugins disable", "disable a plugin for a tenant (its settings are kept)", (*Main).pluginsDisable},
		{"shell", "run SQL on a tenant's database, as its libSQL endpoint allows (or --unsafe)", (*Main).shell},
		{"mail outbox", "list mail kept in the catalog when no SMTP server is set", (*Main).mailOutbox},
		{"migrate status", "where every tenant's schema stands, and recent runs", (*Main).migrateStatus},
		{"migrate up", "migrate every tenant up", func(m *Main, ctx context.Context, args []string) error {
			return m.migrateRun(ctx, args, "up")
		}},
		{"migrate down", "migrate every tenant down to a version", func(m *Main, ctx context.Context, args []string) error {
			return m.migrateRun(ctx, args, "down")
		}},
		{"migrate force", "record a tenant's version without running SQL (after a manual repair)", (*Main).migrateForce},
		{"migrate create", "write the files of a new tenant migration", (*Main).migrateCreate},
	}
}

// usage is the top-level help, built from commands.
func usage() string {
	var b strings.Builder
	b.WriteString("Condo: a database-per-tenant CMS server.\n\n")
	b.WriteString("Usage: condo [--data DIR] [--base-domain D] [--json] COMMAND [ARGUMENTS] [FLAGS]\n\nCommands:\n")
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(w, "  %s\t%s\n", c.name, c.summary)
	}
	w.Flush()
	b.WriteString("\nOperator commands need an existing data directory: create one with\n" +
		"'condo init' or a first 'condo serve'. --data DIR (else $CONDO_DATA,\n" +
		"else ./data) and --json may come before or after the command.\n" +
		"Run 'condo help COMMAND' or 'condo COMMAND --help' for its arguments and flags;\n" +
		"'condo --version' for the version.\n")
	return b.String()
}

// lookup finds the command args start with, and the arguments after it.
func lookup(args []string) (*spec, []string) {
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == commands[i].name {
			return &commands[i], args[len(words):]
		}
	}
	return nil, nil
}

// globalFlags are the flags accepted before the command. They are passed
// on to the command, ahead of its own arguments, so a flag given after the
// command wins.
type globalFlags struct {
	fs      *flag.FlagSet
	version bool
}

func newGlobalFlags() *globalFlags {
	g := &globalFlags{fs: flag.NewFlagSet("condo", flag.ContinueOnError)}
	g.fs.SetOutput(io.Discard)
	g.fs.String("data", "", "data directory")
	g.fs.String("catalog", "", "the shared control plane's URL")
	g.fs.String("base-domain", "", "base domain")
	g.fs.Bool("json", false, "print one JSON document")
	g.fs.BoolVar(&g.version, "version", false, "print the version")
	return g
}

// forward returns the global flags that were set, as command arguments.
func (g *globalFlags) forward() []string {
	var out []string
	g.fs.Visit(func(f *flag.Flag) {
		if f.Name != "version" {
			out = append(out, "--"+f.Name+"="+f.Value.String())
		}
	})
	return out
}

// ParseFlags reads the command line and the environment: which command
// Run runs, and for serve every setting, into m.Config. It does no I/O
// beyond printing help (then it returns errHelpShown).
func (m *Main) ParseFlags(ctx context.Context, args []string) error {
	g := newGlobalFlags()
	if err := g.fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fmt.Fprint(m.Stdout, usage())
			return errHelpShown
		}
		return usagef("%v; run 'condo help'", err)
	}
	args = g.fs.Args()
	switch {
	case g.version:
		m.run = func(ctx context.Context) error { return m.version(ctx, g.forward()) }
	case len(args) == 0:
		fmt.Fprint(m.Stdout, usage())
		return usagef("no command given")
	case args[0] == "help":
		m.run = func(ctx context.Context) error { return m.help(ctx, args[1:]) }
	default:
		cmd, rest := lookup(args)
		if cmd == nil {
			return unknownCommand(args)
		}
		rest = append(g.forward(), rest...)
		if parse := parsers[cmd.name]; parse != nil {
			if err := parse(m, rest); err != nil {
				return err
			}
			rest = nil
		}
		m.run = func(ctx context.Context) error { return cmd.run(m, ctx, rest) }
	}
	return nil
}

// help serves `condo help [COMMAND]`: the list of commands, a group's
// commands, or one command's own help, which its flag set prints.
func (m *Main) help(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stdout, usage())
		return nil
	}
	if cmd, rest := lookup(args); cmd != nil {
		if len(rest) > 0 {
			return usagef("usage: condo help [COMMAND]")
		}
		if parse := parsers[cmd.name]; parse != nil {
			return parse(m, []string{"--help"})
		}
		return cmd.run(m, ctx, []string{"--help"})
	}
	if subs := subcommands(args[0]); len(subs) > 0 && len(args) == 1 {
		var b strings.Builder
		w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, c := range subs {
			fmt.Fprintf(w, "  condo %s\t%s\n", c.name, c.summary)
		}
		w.Flush()
		fmt.Fprintf(m.Stdout, "Commands of %s:\n%s\nRun 'condo help %s COMMAND' for its flags.\n", args[0], b.String(), args[0])
		return nil
	}
	return unknownCommand(args)
}

// subcommands returns the commands of a group such as "tenants".
func subcommands(group string) []spec {
	var out []spec
	for _, c := range commands {
		if strings.HasPrefix(c.name, group+" ") {
			out = append(out, c)
		}
	}
	return out
}

// unknownCommand explains a command line that names no command, with the
// nearest command when one is close enough to be a typo.
func unknownCommand(args []string) error {
	if subs := subcommands(args[0]); len(subs) > 0 {
		var names []string
		for _, c := range subs {
			names = append(names, strings.TrimPrefix(c.name, args[0]+" "))
		}
		if len(args) == 1 {
			return usagef("%s needs a command: %s; run 'condo help %s'", args[0], strings.Join(names, ", "), args[0])
		}
		typed := args[0] + " " + args[1]
		if s := nearest(args[1], names); s != "" {
			return usagef("unknown command %q; did you mean %q?", typed, args[0]+" "+s)
		}
		return usagef("unknown command %q: %s has %s; run 'condo help %s'", typed, args[0], strings.Join(names, ", "), args[0])
	}
	var full, first []string
	seen := map[string]bool{}
	for _, c := range commands {
		full = append(full, c.name)
		if w := strings.Fields(c.name)[0]; !seen[w] {
			seen[w] = true
			first = append(first, w)
		}
	}
	s := ""
	if len(args) > 1 {
		s = nearest(args[0]+" "+args[1], full)
	}
	if s == "" {
		s = nearest(args[0], first)
	}
	if s != "" {
		return usagef("unknown command %q; did you mean %q?", args[0], s)
	}
	return usagef("unknown command %q; run 'condo help'", args[0])
}

// nearest returns the name closest to typed by edit distance, if it is
// close enough to be a typo of it (at most two edits, and at most half
// the name), else "".
func nearest(typed string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := condo.EditDistance(typed, n); d < bestD && 2*d <= len(n) {
			best, bestD = n, d
		}
	}
	return best
}

// commandHelp is a command's help: its usage line and every flag its
// flag set holds, so a flag added to a command shows up here unasked.
func commandHelp(usage string, fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: condo %s\n", usage)
	if s := specNamed(fs.Name()); s != nil {
		fmt.Fprintf(&b, "\n%s.\n", upperFirst(s.summary))
	}
	b.WriteString("\nFlags:\n")
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fs.VisitAll(func(f *flag.Flag) {
		kind, help := flag.UnquoteUsage(f)
		if kind == "value" { // a flag.Value of ours, such as a list or a URL
			kind = "string"
		}
		name := "--" + f.Name
		if kind != "" {
			name += " " + kind
		}
		if def := f.DefValue; def != "" && def != "false" && def != "[]" {
			help += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(w, "  %s\t%s\n", name, help)
	})
	w.Flush()
	return b.String()
}

func specNamed(name string) *spec {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
