#!/usr/bin/env bash
# Usage: scripts/with-dynamodb-local.sh COMMAND [ARGS...]
#
# Installs DynamoDB Local if needed, starts it in memory on a free loopback port,
# runs COMMAND with DYNAMODB_ENDPOINT set to it, stops the emulator and exits with
# COMMAND's exit code.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=$("$here"/install-dynamodb-local.sh)

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "with-dynamodb-local: no free port found" >&2
  return 1
}

port=$(free_port)
log=$(mktemp)
java -Djava.library.path="$dir"/DynamoDBLocal_lib -jar "$dir"/DynamoDBLocal.jar \
  -inMemory -sharedDb -disableTelemetry -port "$port" >"$log" 2>&1 &
pid=$!
cleanup() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -f "$log"
}
trap cleanup EXIT INT TERM

# Wait until the port answers: the JVM takes a few seconds to start.
for i in $(seq 1 300); do
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "with-dynamodb-local: DynamoDB Local exited while starting:" >&2
    cat "$log" >&2
    exit 1
  fi
  if [ "$i" = 300 ]; then
    echo "with-dynamodb-local: DynamoDB Local did not open port $port in 30 s" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done

export DYNAMODB_ENDPOINT=http://127.0.0.1:$port
echo "with-dynamodb-local: DynamoDB Local at $DYNAMODB_ENDPOINT" >&2
set +e
"$@"
code=$?
set -e
exit $code
