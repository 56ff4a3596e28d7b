#!/usr/bin/env bash
# Usage: scripts/with-dynamodb-local.sh COMMAND [ARGS...]
#
# Installs DynamoDB Local if needed, starts it in memory on a free loopback
# port, runs COMMAND with AWS_ENDPOINT_URL_DYNAMODB set to it, stops the
# emulator and exits with COMMAND's exit code. AWS_REGION, AWS_ACCESS_KEY_ID
# and AWS_SECRET_ACCESS_KEY are set too when unset, so that a program using the
# AWS SDK's default configuration (the command-line tool, the demo) needs
# nothing else: the emulator wants a signed request but checks no key.
set -euo pipefail

. "$(dirname "$0")"/dynamodb-local-lib.sh

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

trap ddb_stop EXIT INT TERM

for attempt in 1 2 3 4 5; do
  port=$(free_port)
  rc=0
  ddb_start "$port" || rc=$?
  [ "$rc" = 0 ] && break
  if [ "$rc" = 1 ] || [ "$attempt" = 5 ]; then
    [ "$rc" = 2 ] && echo "with-dynamodb-local: every port tried was taken" >&2
    exit 1
  fi
  echo "with-dynamodb-local: port $port was taken; trying another" >&2
done

ddb_export "$port"
echo "with-dynamodb-local: DynamoDB Local at $AWS_ENDPOINT_URL_DYNAMODB" >&2
set +e
"$@"
code=$?
set -e
exit $code
