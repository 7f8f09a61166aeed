#!/bin/sh
# Live-move write pause between two local nodes (docs/PERFORMANCE.md):
#   scripts/movebench.sh [MB] [MOVES]   (default 100 MB, 10 moves)
# Starts two real `condo serve` processes on loopback sharing one catalog,
# fills a tenant with MB of rows, moves it back and forth MOVES times under
# a steady writer and prints the pause of each move, p50 and p99.
set -e
cd "$(dirname "$0")/.."
CONDO_MOVE_BENCH_MB="${1:-100}" CONDO_MOVE_BENCH_MOVES="${2:-10}" \
  go test ./cmd/condo -run '^TestMove_PauseBench$' -count=1 -v -timeout 30m | grep -E 'move_|movebench|write_pause|PASS|FAIL|ok'
