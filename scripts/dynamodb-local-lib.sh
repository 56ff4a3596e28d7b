# Sourced by scripts/with-dynamodb-local.sh and scripts/dynamodb-local.sh:
# how to start and stop DynamoDB Local, and the environment that points the
# AWS SDK's default configuration at it. Both run DynamoDB Local the same
# way: in memory, one database for every region and key (-sharedDb), so that
# the command-line tool, the tests and a user's program see the same tables
# whatever region or credentials each was given.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ddb_dir=$("$here"/install-dynamodb-local.sh)
ddb_log=$(mktemp)
ddb_pid=

# ddb_start launches the emulator on port $1 and waits until the port
# answers (the JVM takes a few seconds). It returns 2 when the port was
# taken, 1 on any other failure, after printing the emulator's output.
ddb_start() {
  local port=$1
  java -Djava.library.path="$ddb_dir"/DynamoDBLocal_lib -jar "$ddb_dir"/DynamoDBLocal.jar \
    -inMemory -sharedDb -disableTelemetry -port "$port" >"$ddb_log" 2>&1 &
  ddb_pid=$!
  for _ in $(seq 1 300); do
    if ! kill -0 "$ddb_pid" 2>/dev/null; then
      wait "$ddb_pid" 2>/dev/null || true
      ddb_pid=
      if grep -q 'Address already in use' "$ddb_log"; then
        return 2
      fi
      echo "DynamoDB Local exited while starting:" >&2
      cat "$ddb_log" >&2
      return 1
    fi
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "DynamoDB Local did not open port $port in 30 s:" >&2
  cat "$ddb_log" >&2
  return 1
}

# ddb_stop stops the emulator if it runs and removes its log.
ddb_stop() {
  if [ -n "$ddb_pid" ]; then
    kill "$ddb_pid" 2>/dev/null || true
    wait "$ddb_pid" 2>/dev/null || true
    ddb_pid=
  fi
  rm -f "$ddb_log"
}

# ddb_export points the AWS SDK at the emulator on port $1. The region and
# the credentials are set only when unset: DynamoDB Local wants a region and
# a signed request but checks no key, so any values do, and real ones a user
# has exported are left alone.
ddb_export() {
  export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$1
  export AWS_REGION=${AWS_REGION:-us-east-1}
  export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
  export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
}
