// Package wrk runs the wrk HTTP load generator for the benchmark programs
// and reads its report.
package wrk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Result is what one wrk run measured.
type Result struct {
	Requests int
	Elapsed  time.Duration
	RPS      float64
	Non2xx   int
	Errors   int
	P50, P99 time.Duration
}

// Run runs wrk for d with threads and conns against url, with an optional
// Lua script, and returns its figures.
func Run(ctx context.Context, url, script string, threads, conns int, d time.Duration) (Result, error) {
	secs := max(1, int(d.Round(time.Second)/time.Second))
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	args := []string{"-t" + strconv.Itoa(threads), "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(secs) + "s", "--timeout", "5s", "--latency"}
	if script != "" {
		args = append(args, "-s", script)
	}
	out, err := exec.CommandContext(ctx, "wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return Result{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return Parse(string(out))
}

// Installed reports whether wrk is on the PATH.
func Installed() bool {
	_, err := exec.LookPath("wrk")
	return err == nil
}

// Parse reads the figures out of wrk's report.
func Parse(out string) (Result, error) {
	var res Result
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			res.RPS, _ = strconv.ParseFloat(f[1], 64)
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			res.Requests, _ = strconv.Atoi(f[0])
			res.Elapsed, _ = time.ParseDuration(strings.TrimSuffix(f[3], ","))
		case len(f) == 2 && f[0] == "50%":
			res.P50, _ = time.ParseDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			res.P99, _ = time.ParseDuration(f[1])
		case len(f) == 5 && f[0] == "Non-2xx":
			res.Non2xx, _ = strconv.Atoi(f[4])
		case len(f) > 2 && f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 3; i < len(f); i += 2 {
				n, _ := strconv.Atoi(strings.TrimSuffix(f[i], ","))
				res.Errors += n
			}
		}
	}
	if res.RPS == 0 {
		return res, errors.New("no Requests/sec in wrk's output: " + out)
	}
	return res, nil
}
