// Command fleetbench measures fleet migrations at scale: it provisions a
// data directory of N tenants (10,000 by default), each with a content
// table of R rows (1,000), then times the real binary's
// `condo migrate status` and `condo migrate up` with a migration that adds
// a column and an index to that table, beside the floor: plain SQLite
// doing only open, the same two statements and close over the same files
// (see floor). It prints the figures, the ratio to the floor and the
// machine and load they were taken on.
//
//	go run ./scripts/fleetbench [-tenants 10000] [-rows 1000] [-concurrency N] [-rounds N] [-data DIR] [-keep]
//
// Provisioning copies one template database file per tenant (the cost
// being measured is the migration, not the setup). The data directory is
// a temporary one, removed afterwards unless -keep; with -data an existing
// directory provisioned by an earlier -keep run is reused (migrated back
// down first).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/condohq/condo/fleet"
	"github.com/condohq/condo/migrations"

	"github.com/condohq/condo/scripts/machine"
)

// bench is one benchmark run's settings.
type bench struct {
	tenants, rows, concurrency int
	rounds                     int
	data, condo, migrations    string
	keep                       bool
	lastCPU                    time.Duration // of the last timeCondo
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var b bench
	fs := flag.NewFlagSet("fleetbench", flag.ContinueOnError)
	fs.IntVar(&b.tenants, "tenants", 10_000, "tenants to provision")
	fs.IntVar(&b.rows, "rows", 1_000, "rows in each tenant's content table")
	fs.IntVar(&b.concurrency, "concurrency", fleet.DefaultConcurrency(), "condo migrate up --concurrency")
	fs.IntVar(&b.rounds, "rounds", 1, "floor and condo passes, alternating (condo migrates back down between rounds)")
	fs.StringVar(&b.data, "data", "", "data directory (default: a new temporary one)")
	fs.BoolVar(&b.keep, "keep", false, "keep the data directory")
	fs.StringVar(&b.condo, "condo", "", "a condo binary to time (default: build ./cmd/condo), such as an older commit's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if b.tenants < 1 || b.rows < 0 || b.concurrency < 1 || b.rounds < 1 {
		return errors.New("-tenants, -concurrency and -rounds must be at least 1, -rows not negative")
	}
	work, err := os.MkdirTemp("", "fleetbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if b.data == "" {
		if b.data, err = os.MkdirTemp("", "fleetbench-data-"); err != nil {
			return err
		}
	}
	_, err = os.Stat(filepath.Join(b.data, "catalog.db"))
	reuse := err == nil
	if !b.keep && !reuse {
		defer os.RemoveAll(b.data)
	}

	if b.condo == "" {
		b.condo = filepath.Join(work, "condo")
		step("building condo")
		if out, err := exec.Command("go", "build", "-o", b.condo, "./cmd/condo").CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/condo (run from the repository root): %v\n%s", err, out)
		}
	}
	if b.migrations, err = writeSet(filepath.Join(work, "migrations")); err != nil {
		return err
	}

	ctx := context.Background()
	if !reuse {
		step(fmt.Sprintf("provisioning %d tenants of %d rows in %s", b.tenants, b.rows, b.data))
		start := time.Now()
		if err := provision(ctx, b.data, b.tenants, b.rows); err != nil {
			return err
		}
		step(fmt.Sprintf("provisioned in %s (%s on disk)", time.Since(start).Round(time.Millisecond), du(b.data)))
	}

	if reuse { // an earlier run left its tenants at the bench's version: back to where it starts
		if _, _, err := b.timeCondo("migrate", "down", "--json", "--to", fmt.Sprint(migrations.Tenant().Latest())); err != nil {
			return err
		}
	}
	statusBefore, _, err := b.timeCondo("migrate", "status", "--json")
	if err != nil {
		return err
	}
	// Rounds alternate the floor and Condo over the same files, each pass
	// after a sync so it does not pay for the last one's writeback.
	var rounds []round
	for r := range b.rounds {
		var rd round
		settle()
		load := loadAvg()
		step("floor: open, the two statements, close")
		cpu0 := selfCPU()
		if rd.floor, err = floor(ctx, b.data, b.tenants, b.concurrency, upSQL); err != nil {
			return err
		}
		rd.floorCPU = selfCPU() - cpu0
		step(fmt.Sprintf("  took %s", ms(rd.floor)))
		if rd.floorDown, err = floor(ctx, b.data, b.tenants, b.concurrency, downSQL); err != nil { // back to where Condo starts
			return err
		}
		settle()
		var out []byte
		rd.condo, out, err = b.timeCondo("migrate", "up", "--json", "--concurrency", fmt.Sprint(b.concurrency))
		if err != nil {
			return err
		}
		rd.condoCPU = b.lastCPU
		rd.load = load + " / " + loadAvg()
		var rep fleet.Report
		if err := json.Unmarshal(out, &rep); err != nil {
			return fmt.Errorf("migrate up report: %v", err)
		}
		if !rep.OK() || rep.Migrated != b.tenants {
			return fmt.Errorf("migrate up: %s, %d migrated of %d: %s", rep.Status, rep.Migrated, b.tenants, rep.Error)
		}
		rounds = append(rounds, rd)
		if r < b.rounds-1 {
			if _, _, err := b.timeCondo("migrate", "down", "--json", "--to", fmt.Sprint(migrations.Tenant().Latest()), "--concurrency", fmt.Sprint(b.concurrency)); err != nil {
				return err
			}
		}
	}
	upTime := rounds[len(rounds)-1].condo
	statusAfter, _, err := b.timeCondo("migrate", "status", "--json")
	if err != nil {
		return err
	}
	rerunTime, _, err := b.timeCondo("migrate", "up", "--json")
	if err != nil {
		return err
	}
	if err := verify(ctx, b.data, b.tenants); err != nil {
		return err
	}

	fmt.Printf(`
## Fleet migrations (%s)

Command: go run ./scripts/fleetbench -tenants %d -rows %d -concurrency %d -rounds %d
Machine: %s, %d CPUs, %s, Go %s, %s/%s; data on %s

| what | wall time |
| --- | --- |
| condo migrate status, %d tenants at version 1 | %s |
| condo migrate up (add a column and an index to a %d-row table), %d tenants, --concurrency %d | %s (%.0f tenants/s) |
| condo migrate status, %d tenants at version 2 | %s |
| condo migrate up again (nothing to do) | %s |
`, time.Now().UTC().Format("2006-01-02"), b.tenants, b.rows, b.concurrency, b.rounds,
		machine.CPUModel(), runtime.NumCPU(), fmt.Sprintf("%.0f GiB RAM", float64(machine.MemTotal())/(1<<30)), strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH, fsType(b.data),
		b.tenants, ms(statusBefore), b.rows, b.tenants, b.concurrency, ms(upTime), float64(b.tenants)/upTime.Seconds(),
		b.tenants, ms(statusAfter), ms(rerunTime))
	fmt.Printf("\n| round | floor: plain SQLite, open + the two statements + close | condo migrate up | wall ratio | floor CPU | condo CPU | CPU ratio | load (1-min avg, before / after) |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, rd := range rounds {
		fmt.Printf("| %d | %s (%.0f tenants/s) | %s (%.0f tenants/s) | %.2fx | %s (%.2f ms/tenant) | %s (%.2f ms/tenant) | %.2fx | %s |\n", i+1,
			ms(rd.floor), float64(b.tenants)/rd.floor.Seconds(), ms(rd.condo), float64(b.tenants)/rd.condo.Seconds(), rd.condo.Seconds()/rd.floor.Seconds(),
			ms(rd.floorCPU), perTenant(rd.floorCPU, b.tenants), ms(rd.condoCPU), perTenant(rd.condoCPU, b.tenants), rd.condoCPU.Seconds()/rd.floorCPU.Seconds(), rd.load)
	}
	fmt.Println("\nCPU is user + system time of the process (the floor's, in this one; condo's, the child's): on a shared machine it moves less than wall time.")
	if b.keep {
		fmt.Printf("\nkept %s (its tenants are at version 2 now)\n", b.data)
	}
	return nil
}

// timeCondo runs the built binary on the data directory with the bench's
// migration set and reports its wall time and standard output.
func (b *bench) timeCondo(args ...string) (time.Duration, []byte, error) {
	step("condo " + strings.Join(args, " "))
	cmd := exec.Command(b.condo, append(args, "--data", b.data)...)
	cmd.Env = append(os.Environ(), "CONDO_TENANT_MIGRATIONS="+b.migrations)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	d := time.Since(start)
	if cmd.ProcessState != nil {
		b.lastCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return d, out, fmt.Errorf("condo %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	step(fmt.Sprintf("  took %s", ms(d)))
	return d, out, nil
}

// writeSet writes the embedded tenant migrations plus the benchmark's
// step into dir, for CONDO_TENANT_MIGRATIONS.
func writeSet(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	set := migrations.Tenant()
	files := map[string]string{}
	for _, st := range set.Steps() {
		files[fmt.Sprintf("%06d_%s.up.sql", st.Version, st.Name)] = st.Up
		files[fmt.Sprintf("%06d_%s.down.sql", st.Version, st.Name)] = st.Down
	}
	next := set.Latest() + 1
	files[fmt.Sprintf("%06d_add_word_count.up.sql", next)] = upSQL
	files[fmt.Sprintf("%06d_add_word_count.down.sql", next)] = downSQL
	for name, sql := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sql), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// upSQL and downSQL are the benchmark's migration, which the floor runs too.
const (
	upSQL = "ALTER TABLE content ADD COLUMN word_count INTEGER NOT NULL DEFAULT 0;\n" +
		"CREATE INDEX content_word_count ON content (word_count);\n"
	downSQL = "DROP INDEX content_word_count;\nALTER TABLE content DROP COLUMN word_count;\n"
)

// round is one floor pass and one Condo pass over the same files.
type round struct {
	floor, floorDown, condo time.Duration
	floorCPU, condoCPU      time.Duration // user + system
	load                    string
}

// selfCPU is this process's user + system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func perTenant(d time.Duration, n int) float64 { return d.Seconds() * 1000 / float64(n) }

// loadAvg is the 1-minute load average: the machine may be shared.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func step(msg string) { fmt.Fprintf(os.Stderr, "%s %s\n", time.Now().Format("15:04:05"), msg) }

func ms(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
