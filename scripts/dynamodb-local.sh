#!/usr/bin/env bash
# Usage: scripts/dynamodb-local.sh   (make local; PORT=8001 make local)
#
# Installs DynamoDB Local if needed and runs it in the foreground, in memory,
# on the fixed port $PORT (8000 by default), until Ctrl-C. It prints the
# variables to export in another shell: with them the command-line tool, the
# demo and any program on the AWS SDK's default configuration use it, with
# nothing else to set up. The data is gone when it stops.
set -euo pipefail

port=${PORT:-8000}
case $port in
  '' | *[!0-9]*) echo "dynamodb-local: PORT=$port is not a port number" >&2; exit 2 ;;
esac

busy() {
  echo "dynamodb-local: port $port is already in use (another make local?)." >&2
  echo "Stop whatever listens there, or pick another port: make local PORT=8001" >&2
  exit 1
}

# Checked before the JVM's few seconds of start-up, which would only end in
# the same answer.
if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
  busy
fi

. "$(dirname "$0")"/dynamodb-local-lib.sh
trap ddb_stop EXIT

rc=0
ddb_start "$port" || rc=$?
[ "$rc" = 2 ] && busy
[ "$rc" = 0 ] || exit 1

cat <<MSG
DynamoDB Local is running on port $port (data in memory). In another shell:

  export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$port AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
  go run ./cmd/dynamutex create-table
  go run ./cmd/dynamutex run --key demo -- echo hi

Any credential values do. Press Ctrl-C to stop it.
MSG

# Ctrl-C reaches the emulator too, but a background job of a script ignores
# SIGINT, so the trap stops it; wait returns as soon as a signal arrives.
stopped=
trap 'stopped=1' INT TERM
wait "$ddb_pid" || true
if [ -n "$stopped" ]; then
  echo "dynamodb-local: stopped" >&2
  exit 0
fi
ddb_pid=
echo "dynamodb-local: DynamoDB Local exited on its own:" >&2
cat "$ddb_log" >&2
exit 1
