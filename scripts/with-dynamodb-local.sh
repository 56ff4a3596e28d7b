#!/usr/bin/env bash
# Usage: scripts/with-dynamodb-local.sh COMMAND [ARGS...]
#
# Installs DynamoDB Local if needed, starts it in memory on a free loopback port,
# runs COMMAND with DYNAMODB_ENDPOINT set to it, stops the emulator and exits with
# COMMAND's exit code.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=$("$here"/install-dynamodb-local.sh)

# Ports are drawn from below the kernel's ephemeral range (see
# /proc/sys/net/ipv4/ip_local_port_range), so an outgoing connection of another
# process cannot take the port between the check and the bind. Another listener
# still can, so a bind failure starts over on a new port.
ephemeral_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((10000 + RANDOM % (ephemeral_low - 10000)))
    if ! (exec 3<>/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  echo "with-dynamodb-local: no free port found" >&2
  return 1
}

log=$(mktemp)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT INT TERM

# start launches the emulator on $port and waits until the port answers (the
# JVM takes a few seconds). It returns 2 when the port was taken, 1 otherwise.
start() {
  java -Djava.library.path="$dir"/DynamoDBLocal_lib -jar "$dir"/DynamoDBLocal.jar \
    -inMemory -sharedDb -disableTelemetry -port "$port" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" 2>/dev/null || true
      pid=
      if grep -q 'Address already in use' "$log"; then
        return 2
      fi
      echo "with-dynamodb-local: DynamoDB Local exited while starting:" >&2
      cat "$log" >&2
      return 1
    fi
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "with-dynamodb-local: DynamoDB Local did not open port $port in 30 s" >&2
  cat "$log" >&2
  return 1
}

for attempt in 1 2 3 4 5; do
  port=$(free_port)
  rc=0
  start || rc=$?
  [ "$rc" = 0 ] && break
  if [ "$rc" = 1 ] || [ "$attempt" = 5 ]; then
    [ "$rc" = 2 ] && echo "with-dynamodb-local: every port tried was taken" >&2
    exit 1
  fi
  echo "with-dynamodb-local: port $port was taken; trying another" >&2
done

export DYNAMODB_ENDPOINT=http://127.0.0.1:$port
echo "with-dynamodb-local: DynamoDB Local at $DYNAMODB_ENDPOINT" >&2
set +e
"$@"
code=$?
set -e
exit $code
