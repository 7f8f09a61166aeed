#!/bin/sh
# A/B of the in-process search and list benchmarks: the test binaries of a
# base commit (with this tree's bench files copied in) and of this tree,
# run alternately, twice, on the same fixture (docs/PERFORMANCE.md).
#
#   scripts/contentbench/ab.sh BASE FIXTURE [FIXTURE_FOR_THIS_TREE]
#
# FIXTURE is a data directory made by `go run ./scripts/contentbench
# -build -dir FIXTURE`. This tree migrates the tenant on Acquire; when its
# schema is ahead of BASE's, give it a copy (FIXTURE_FOR_THIS_TREE), which
# the base binary would refuse. Binaries and the base tree go to a
# scratch directory ($AB_DIR, default /tmp/contentbench-ab).
set -eu
base=$1 fixture=$2 mine=${3:-$2}
tree=$(git rev-parse --show-toplevel)
out=${AB_DIR:-/tmp/contentbench-ab}
rm -rf "$out/base" && mkdir -p "$out/base"
git -C "$tree" archive "$base" | tar -x -C "$out/base"
mkdir -p "$out/base/internal/bigfixture"
cp "$tree/internal/bigfixture/bigfixture.go" "$out/base/internal/bigfixture/"
cp "$tree/cms/big_bench_test.go" "$out/base/cms/"
cp "$tree/api/big_bench_test.go" "$out/base/api/"
(cd "$out/base" && go test -c -o "$out/cms-base.test" ./cms/ && go test -c -o "$out/api-base.test" ./api/)
(cd "$tree" && go test -c -o "$out/cms-branch.test" ./cms/ && go test -c -o "$out/api-branch.test" ./api/)
run() { # variant package pattern benchtime
	dir=$fixture
	[ "$1" = branch ] && dir=$mine
	echo "## $1 $2 $3 $4 load $(cut -d' ' -f1 /proc/loadavg)"
	CONDO_BENCH_DIR=$dir "$out/$2-$1.test" -test.run '^$' -test.bench "$3" -test.benchtime "$4" 2>&1 | grep Benchmark
}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), $(nproc) CPUs; $(date -u)"
for round in 1 2; do
	for v in base branch; do
		run $v cms '^BenchmarkBigSearch$/^(common|rare)$/^1conn$' 1000x
		run $v cms '^BenchmarkBigSearch$/^rare$/^raw1conn$' 1000x
		run $v cms '^BenchmarkBigSearch$/^common$/^raw1conn$' 40x
		run $v cms '^BenchmarkBigSearch$/^rare$/^32conns$' 2000x
		run $v cms '^BenchmarkBigSearch$/^common$/^32conns$' 100x
		run $v cms '^BenchmarkBigList$/^1conn$' 1000x
		run $v api '^BenchmarkBigHTTP$/^list$/^(counted|total-cached)$' 1000x
		run $v api '^BenchmarkBigHTTP$/^search$/^(common|rare)$/^(cold|answer-cache)$' 1000x
		run $v api '^BenchmarkBigHTTP$/^search$/^rare$/^32conns$' 2000x
		run $v api '^BenchmarkBigHTTP$/^search$/^common$/^32conns$' 100x
		run $v api '^BenchmarkBigHTTP$/^list$/^32conns$' 2000x
	done
done
