package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/scripts/machine"
)

// nproc is the CPUs this process may run on, as nproc(1) counts them.
func nproc() int { return runtime.NumCPU() }

func memTotal() string {
	if n := machine.MemTotal(); n > 0 {
		return fmtBytes(n)
	}
	return "unknown"
}

func kernel() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// fsType names the file system holding dir, which decides what fsync costs.
func fsType(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown file system"
	}
	names := map[int64]string{
		0xEF53: "ext4", 0x01021994: "tmpfs", 0x58465342: "xfs", 0x9123683E: "btrfs",
		0x794C7630: "overlayfs", 0x6969: "nfs", 0x2FC12FC1: "zfs", 0x65735546: "fuse",
	}
	if n, ok := names[int64(st.Type)]; ok {
		return n
	}
	return fmt.Sprintf("file system 0x%x", st.Type)
}

// diskProbe times what Create's file work costs without SQLite or the
// catalog: a new directory with a file the size of a tenant database, the
// file, the directory and its parent each fsynced. It is the floor under
// tenant creation on this disk; the create phase interleaves probes with
// its Creates, so both meet the same disk.
type diskProbe struct {
	parent string
	buf    []byte
	times  []time.Duration
}

func newDiskProbe(dataDir string, size int) (*diskProbe, error) {
	parent, err := os.MkdirTemp(dataDir, "disk-probe-")
	if err != nil {
		return nil, err
	}
	return &diskProbe{parent: parent, buf: make([]byte, size)}, nil
}

// step times one probe.
func (p *diskProbe) step() error {
	t0 := time.Now()
	dir := filepath.Join(p.parent, fmt.Sprint(len(p.times)))
	if err := os.Mkdir(dir, 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, "tenant.db"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(p.buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = condo.SyncDir(dir)
	}
	if err == nil {
		err = condo.SyncDir(p.parent)
	}
	p.times = append(p.times, time.Since(t0))
	return err
}

// close removes the probe's files.
func (p *diskProbe) close() error { return os.RemoveAll(p.parent) }

// memory is the process's resident memory and the Go heap's share of it.
type memory struct {
	rss, peak, heap, goSys int64
}

// readRSS reads VmRSS and VmHWM from /proc/self/status, and the Go
// runtime's own figures: memory SQLite allocates (modernc's libc) is
// outside the Go heap, so the two differ.
func readRSS() memory {
	kb := func(key string) int64 { return machine.ProcKB("/proc/self/status", key) }
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{rss: kb("VmRSS"), peak: kb("VmHWM"), heap: int64(ms.HeapInuse), goSys: int64(ms.Sys)}
}

func (m memory) String() string {
	return fmt.Sprintf("%s (peak %s; Go heap in use %s, Go runtime total %s)",
		fmtBytes(m.rss), fmtBytes(m.peak), fmtBytes(m.heap), fmtBytes(m.goSys))
}

// pct returns the q-quantile (0 < q <= 1) of ds by the nearest-rank rule.
func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*q+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// fmtBytes writes n in decimal units (1 MB = 10^6 bytes), the units of
// the targets.
func fmtBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
