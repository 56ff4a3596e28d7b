#!/usr/bin/env bash
# Usage: scripts/capture-prevrelease.sh
#
# Regenerates testdata/prevrelease/{items,requests,decoder}.json by running the
# previous release's own code: it checks out commit 4a79e60 (the release before
# clock stamps) in a temporary worktree, copies
# testdata/prevrelease/capture/capture_test.go into that release's package and
# runs it against DynamoDB Local. Uses AWS_ENDPOINT_URL_DYNAMODB when set,
# otherwise starts an emulator with scripts/with-dynamodb-local.sh. The worktree is
# removed afterwards; nothing built from it is kept.
set -euo pipefail

rev=4a79e60
root=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]; then
  exec "$root"/scripts/with-dynamodb-local.sh "$0" "$@"
fi

tmp=$(mktemp -d)
wt="$tmp/prev"
cleanup() {
  git -C "$root" worktree remove --force "$wt" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

git -C "$root" worktree add --quiet --detach "$wt" "$rev"
cp "$root"/testdata/prevrelease/capture/capture_test.go "$wt"/zz_prevcapture_test.go
(cd "$wt" && PREVRELEASE_OUT="$root/testdata/prevrelease" \
  go test -tags prevcapture -count=1 -run '^TestCapturePrevRelease$' .)
echo "capture-prevrelease: fixtures of $rev written to testdata/prevrelease/"
