#!/usr/bin/env bash
# Installs the two real lock clients the interop harness (interop/) drives:
#   .cache/interop/venv            Python venv with interop/python/requirements.txt
#   .cache/interop/java/javadriver.jar   the Java driver with dynamodb-lock-client
#                                  1.4.0 and its AWS SDK, built by Maven into one jar
#   .cache/interop/m2              Maven's local repository for that build
# Idempotent: each part is rebuilt only when its inputs changed (a stamp holds
# their hash), so a warm run takes well under a second. Prints the cache folder.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$root/.cache/interop
mkdir -p "$cache"

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# fresh NAME HASH succeeds when the stamp for NAME already holds HASH.
fresh() { [ -f "$cache/$1.stamp" ] && [ "$(cat "$cache/$1.stamp")" = "$2" ]; }

python=$(command -v python3.11 || command -v python3)
req=$root/interop/python/requirements.txt
want=$(hash_of "$req" <(echo "$python"))
if ! fresh venv "$want" || [ ! -x "$cache/venv/bin/python" ]; then
  echo "install-interop: building the Python venv" >&2
  rm -rf "$cache/venv"
  "$python" -m venv "$cache/venv"
  "$cache/venv/bin/pip" install -q --no-deps --require-virtualenv -r "$req" >&2
  "$cache/venv/bin/python" -c 'import python_dynamodb_lock, boto3' >&2
  echo "$want" >"$cache/venv.stamp"
fi

if ! command -v mvn >/dev/null 2>&1; then
  echo "install-interop: mvn not found; installing maven" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq maven >&2
fi
java_src=$root/interop/java
want=$(hash_of "$java_src/pom.xml" $(find "$java_src/src" -type f | sort))
if ! fresh java "$want" || [ ! -f "$cache/java/javadriver.jar" ]; then
  echo "install-interop: building the Java driver" >&2
  mvn -q -B -Dstyle.color=never -f "$java_src/pom.xml" -Dmaven.repo.local="$cache/m2" package >&2
  echo "$want" >"$cache/java.stamp"
fi

echo "$cache"
