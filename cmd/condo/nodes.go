package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// nodeIDFile keeps a generated node id in the data directory, so a
// restart of the same node keeps its identity.
const nodeIDFile = "node-id"

// nodeInfo is what this serve process registers in the catalog: its id
// (--node-id, else FLY_MACHINE_ID, else one generated once and kept in
// <data>/node-id), region, the URL other nodes reach it at (--advertise-url,
// else on Fly.io its 6PN address on the listening port), version and
// heartbeat interval.
func nodeInfo(ctx context.Context, cfg Config, listening net.Addr) (catalog.NodeInfo, error) {
	id, err := nodeID(cfg)
	if err != nil {
		return catalog.NodeInfo{}, err
	}
	build, _ := readBuildInfo(ctx) // the version is known even when SQLite's is not
	n := catalog.NodeInfo{ID: id, Region: cfg.Region, AdvertiseURL: cfg.AdvertiseURL, Version: build.Version, Heartbeat: cfg.Heartbeat}
	if n.AdvertiseURL == "" {
		n.AdvertiseURL = flyAdvertiseURL(listening)
	}
	if err := catalog.ValidateNodeInfo(n); err != nil {
		return n, usagef("%s", condo.ErrorMessage(err))
	}
	return n, nil
}

// nodeID is the node's id: the configured one, Fly's machine id, or the
// one kept in the data directory (generated on the first start).
func nodeID(cfg Config) (string, error) {
	if cfg.NodeID != "" {
		return cfg.NodeID, nil
	}
	if id := os.Getenv("FLY_MACHINE_ID"); id != "" {
		return strings.ToLower(id), nil
	}
	path := filepath.Join(cfg.Data, nodeIDFile)
	if b, err := os.ReadFile(path); err == nil {
		id := strings.TrimSpace(string(b))
		if condo.ValidateTenantID(id) != nil {
			return "", fmt.Errorf("%s holds no valid node id: remove it to generate a new one, or set --node-id", path)
		}
		return id, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 6)
	rand.Read(b)
	id := "node-" + hex.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, os.ErrExist) { // another process won the race: use its id
		return nodeID(cfg)
	}
	if err != nil {
		return "", fmt.Errorf("keep the node id: %w", err)
	}
	if _, err := f.WriteString(id + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("keep the node id: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("keep the node id: %w", err)
	}
	return id, f.Close()
}

// flyAdvertiseURL is the node's private (6PN) address on Fly.io, where
// the other machines of the app reach it: empty off Fly.
func flyAdvertiseURL(listening net.Addr) string {
	machine, app := os.Getenv("FLY_MACHINE_ID"), os.Getenv("FLY_APP_NAME")
	if machine == "" || app == "" || listening == nil {
		return ""
	}
	_, port, err := net.SplitHostPort(listening.String())
	if err != nil {
		return ""
	}
	return fmt.Sprintf("http://%s.vm.%s.internal:%s", machine, app, port)
}

// heartbeat is serve's loop that tells the catalog every interval that
// this node is alive; it registers again if the row went away (a node
// removed while it ran). Failures are logged and retried on the next
// beat: a node that cannot reach the catalog shows as stale.
func heartbeat(cat *catalog.Catalog, n catalog.NodeInfo, log *slog.Logger) func(context.Context) {
	return func(ctx context.Context) {
		t := time.NewTicker(n.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := cat.Heartbeat(ctx, n.ID)
			if condo.ErrorReason(err) == "node_not_found" {
				err = cat.RegisterNode(ctx, n)
			}
			if err != nil && ctx.Err() == nil {
				log.Warn("node heartbeat failed", "node", n.ID, "err", err)
			}
		}
	}
}

// envRegion is this node's region as the operator commands see it:
// CONDO_REGION, else FLY_REGION (their own --region is a tenant's).
func envRegion() string {
	if r := os.Getenv("CONDO_REGION"); r != "" {
		return r
	}
	return os.Getenv("FLY_REGION")
}

func (m *Main) nodesList(ctx context.Context, args []string) error {
	c := m.newCommand("nodes list")
	if _, err := c.parse(args, 0, 0, "nodes list"); err != nil {
		return err
	}
	return c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		nodes, err := cat.Nodes(ctx)
		if err != nil {
			return err
		}
		var b strings.Builder
		w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tREGION\tADVERTISE URL\tVERSION\tSTARTED\tLAST HEARTBEAT\tHEALTH")
		for _, n := range nodes {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.ID, dash(n.Region), dash(n.AdvertiseURL), n.Version,
				n.StartedAt.UTC().Format("2006-01-02 15:04:05"), n.HeartbeatAt.UTC().Format("2006-01-02 15:04:05"), n.Health)
		}
		w.Flush()
		fmt.Fprintf(&b, "%d nodes", len(nodes))
		return c.print(map[string]any{"nodes": nodes}, b.String())
	})
}

// dash shows an empty column as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
