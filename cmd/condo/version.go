package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/condohq/condo/sqlitedb"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; else the module version, else "dev".
var version = ""

// buildInfo is what `condo version` reports.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`   // the VCS revision, "unknown" when not stamped
	Modified bool   `json:"modified"` // built from a tree with uncommitted changes
	Go       string `json:"go"`
	SQLite   string `json:"sqlite"`
}

func readBuildInfo(ctx context.Context) (buildInfo, error) {
	b := fromBuildInfo(debug.ReadBuildInfo())
	v, err := sqlitedb.Version(ctx)
	if err != nil {
		return b, fmt.Errorf("read the SQLite version: %w", err)
	}
	b.SQLite = v
	return b, nil
}

// fromBuildInfo reads the version and VCS stamp the Go toolchain embeds.
func fromBuildInfo(info *debug.BuildInfo, ok bool) buildInfo {
	b := buildInfo{Version: version, Commit: "unknown", Go: runtime.Version()}
	if ok {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	return b
}

// version serves `condo version` and `condo --version`.
func (m *Main) version(ctx context.Context, args []string) error {
	c := m.newCommand("version")
	if _, err := c.parse(args, 0, 0, "version [--json]"); err != nil {
		return err
	}
	b, err := readBuildInfo(ctx)
	if err != nil {
		return err
	}
	commit := b.Commit
	if b.Modified {
		commit += " (modified)"
	}
	return c.print(b, fmt.Sprintf("condo %s\ncommit: %s\ngo:     %s\nsqlite: %s", b.Version, commit, b.Go, b.SQLite))
}
