#!/usr/bin/env bash
# Assembles the operator image's final tree without a container engine: exactly what the Dockerfile's last stage
# copies into /app (node_modules from `npm ci --omit=dev --ignore-scripts`, package.json, dist/src), so a test can run
# `lfm-operator run` from it read-only and as a non-root user.
#
# Usage: hack/image-tree.sh [DEST]   (default: ${TMPDIR:-/tmp}/lfm-operator-image-tree; needs `make build` first)
#
# DEST is replaced; the tree is made read-only (a-w). The npm cache makes `npm ci` offline-fast after the first run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=${1:-${TMPDIR:-/tmp}/lfm-operator-image-tree}
START=$SECONDS
say() { printf '[image-tree %3ds] %s\n' "$((SECONDS - START))" "$*" >&2; }

[[ -f $ROOT/dist/src/cli/main.js ]] || { echo "image-tree.sh: dist/src is missing: run make build" >&2; exit 1; }
[[ $DEST != / && $DEST != "$ROOT" ]] || { echo "image-tree.sh: refusing DEST=$DEST" >&2; exit 2; }

if [[ -e $DEST ]]; then chmod -R u+w "$DEST"; rm -rf "$DEST"; fi
STAGE=$(mktemp -d "${DEST%/}.partial-XXXXXX")
chmod 755 "$STAGE"
trap 'chmod -R u+w "$STAGE" 2>/dev/null; rm -rf "$STAGE"' EXIT

# Stage "deps": package.json + package-lock.json, npm ci --omit=dev --ignore-scripts.
say "npm ci --omit=dev --ignore-scripts in $STAGE"
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$STAGE/"
(cd "$STAGE" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >&2)
# The final stage copies node_modules and package.json, not the lock file.
rm "$STAGE/package-lock.json"
# Stage "build": dist/src only (not the tests, benchmarks or cdk8s apps the build also compiles).
mkdir -p "$STAGE/dist"
cp -R "$ROOT/dist/src" "$STAGE/dist/src"

# The test harness is not the product: no module of the dev control plane (test/devcluster) may be in the tree.
if harness=$(grep -rlE 'devcluster/|startControlPlane|startKubeletEmulation' "$STAGE/dist" 2>/dev/null) && [[ -n $harness ]]; then
  echo "image-tree.sh: the image tree holds test harness code:" >&2; echo "$harness" >&2; exit 1
fi
chmod -R a-w "$STAGE"
mv "$STAGE" "$DEST"
trap - EXIT
say "done: $DEST ($(du -sh "$DEST" | cut -f1))"
echo "$DEST"
