// Package machine describes the machine a benchmark runs on, for the
// header of its report. It reads /proc and returns "" or 0 where it
// cannot.
package machine

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// ProcField returns the value of the first "key: value" line of a /proc
// file, "" when there is none.
func ProcField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ProcKB returns a "NNN kB" field of a /proc file in bytes, 0 when absent.
func ProcKB(path, key string) int64 {
	kb, _ := strconv.ParseInt(strings.TrimSuffix(ProcField(path, key), " kB"), 10, 64)
	return kb << 10
}

// CPUModel is the first "model name" of /proc/cpuinfo.
func CPUModel() string {
	if v := ProcField("/proc/cpuinfo", "model name"); v != "" {
		return v
	}
	return "unknown CPU"
}

// MemTotal is the machine's memory in bytes, 0 when unknown.
func MemTotal() int64 { return ProcKB("/proc/meminfo", "MemTotal") }
