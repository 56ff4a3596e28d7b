#!/usr/bin/env bash
# Usage: scripts/with-dynamodb-local.sh scripts/bench.sh
#
# Runs the library's benchmark groups of docs/PERFORMANCE.md against the
# DynamoDB Local at $AWS_ENDPOINT_URL_DYNAMODB, saves the raw output in
# out/bench/ and prints a benchstat table per group. BENCH_COUNT repeats the cycle (default 6).
# The comparison with the classic protocol is bench/classic/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/bench
mkdir -p "$out"
count=${BENCH_COUNT:-6}
benchstat=$(go env GOPATH)/bin/benchstat
[ -x "$benchstat" ] || go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

run() { # name, then go test arguments
  local name=$1; shift
  echo "== $name: go test $*" >&2
  go test -run '^$' "$@" | tee "$out/$name.txt"
}

# The emulator's JIT keeps speeding up for a few thousand requests after the
# test binary's own warm-up: without this, the first cycle runs look slow.
echo "== warm-up" >&2
go test -run '^$' -bench LockUnlock -benchtime 3000x . >/dev/null
run cycle -bench 'LockUnlock|RawTwoWrites' -benchtime 1000x -count "$count" .
run handoff -bench 'Handoff' -benchtime 200x -count 3 .
run takeover -bench 'Takeover' -benchtime 50x -count 1 .
run scale -bench HeldLocks -benchtime 1x -count 1 .
run guarded -bench 'GuardedWrite|TransactPut|PutItem' -benchtime 500x -count 4 .
# Each iteration crashes a holder and most wait a lease or more: 15 is what
# fits in the time budget.
run deadholder -bench 'DeadHolder' -benchtime 15x -count 1 .
# The two wait paths side by side at the default lease: a 10 s hold per
# cost case, 100 handoffs per handoff case, a 20 s run per fairness case.
run wait -bench 'WaitCost' -benchtime 1x -count 1 .
go test -run '^$' -bench 'WaitLatency' -benchtime 100x -count 1 . | tee -a "$out/wait.txt"
go test -run '^$' -bench 'WaitFairness' -benchtime 1x -count 1 . | tee -a "$out/wait.txt"

for f in cycle handoff takeover scale guarded; do
  echo
  echo "== $f"
  "$benchstat" "$out/$f.txt"
done
# One column per bound, so that each metric's ratio reads off one table.
echo
echo "== deadholder"
"$benchstat" -col /bound "$out/deadholder.txt"
# One column per wait path: old (writes) beside new (reads).
echo
echo "== wait"
"$benchstat" -col /wait "$out/wait.txt"
