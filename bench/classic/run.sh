#!/usr/bin/env bash
# Usage: bench/classic/run.sh [ROUNDS]
#
# Runs the comparison ROUNDS times (default 6) against one DynamoDB Local,
# then prints benchstat's summary and the ratios per round (ratios.awk). Each
# round runs every sub-benchmark once, so that a change in the machine's load
# or the emulator's JIT during the run hits dynamutex and the classic baseline
# alike; go test -count N would run each sub-benchmark N times in a row
# instead. Raw results go to stderr as they come. Environment:
#   BENCHTIME   iterations of BenchmarkCycle, BenchmarkCycleInterleaved and
#               BenchmarkHandoff8 (500x)
#   YIELDTIME   acquisitions of BenchmarkHandoff8Yield, up to ~1 s each (20x)
#   WARMUP      extra warm-up of the fresh emulator before round 1 (15s)
#   OUT         file for the raw results (a temporary file)
set -euo pipefail
cd "$(dirname "$0")"
export ROUNDS=${1:-6} BENCHTIME=${BENCHTIME:-500x} YIELDTIME=${YIELDTIME:-20x} WARMUP=${WARMUP:-15s}
export OUT=${OUT:-$(mktemp /tmp/classic-bench.XXXXXX)}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export BIN=$dir/classic.test
go test -c -o "$BIN" .

../../scripts/with-dynamodb-local.sh bash -c '
set -euo pipefail
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r of $ROUNDS" >&2
  warm=0s; [ "$r" = 1 ] && warm=$WARMUP
  CLASSIC_WARMUP=$warm "$BIN" -test.run "^$" -test.bench "^Benchmark(Cycle|CycleInterleaved|Handoff8)$" -test.benchtime "$BENCHTIME" | tee -a "$OUT" >&2
  "$BIN" -test.run "^$" -test.bench "^BenchmarkHandoff8Yield$" -test.benchtime "$YIELDTIME" | tee -a "$OUT" >&2
done'

echo "raw results: $OUT" >&2
benchstat=$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")
if [ -x "$benchstat" ]; then
  "$benchstat" "$OUT"
  echo
else
  echo "benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest" >&2
fi
awk -f ratios.awk "$OUT"
