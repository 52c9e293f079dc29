#!/usr/bin/env bash
# Builds the GitOps health tools from the Go module in tools/gitops (no downloads other than the Go module proxy)
# into a cache directory outside the repo, keyed by the pinned library versions and a hash of the tools' sources:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/lfm-operator/gitops-gopherlua-<v>_cliutils-<v>_<hash>/
#     argocd-lua-health   Argo CD's Lua health-check environment (gopher-lua)
#     kstatus             Flux's health library (sigs.k8s.io/cli-utils kstatus)
#
# Usage:
#   hack/gitops-tools.sh               build if missing (no-op, <1 s, when both exist)
#   hack/gitops-tools.sh --print-dir   print the binaries' directory and exit (builds nothing)
#
# The binaries are built into a temporary directory next to the target and renamed into place, so an interrupted
# build never leaves a partial binary. Go's own module and build caches are left at their defaults and reused.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$ROOT/tools/gitops
BINS=(argocd-lua-health kstatus)

modver() { awk -v m="$1" '($1 == "require" && $2 == m) { print $3; exit } ($1 == m && $2 ~ /^v[0-9]/) { print $2; exit }' "$SRC/go.mod"; }
LUA_VERSION=$(modver github.com/yuin/gopher-lua)
CLIUTILS_VERSION=$(modver sigs.k8s.io/cli-utils)
[[ -n $LUA_VERSION && -n $CLIUTILS_VERSION ]] || { echo "gitops-tools.sh: cannot read the versions from $SRC/go.mod" >&2; exit 1; }
# The commands are ours: a change to them (or to go.sum) must rebuild.
SRC_HASH=$(cd "$SRC" && cat go.mod go.sum $(find . -name '*.go' | LC_ALL=C sort) | sha256sum | cut -c1-12)

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/lfm-operator"
DIR="$CACHE_ROOT/gitops-gopherlua-${LUA_VERSION}_cliutils-${CLIUTILS_VERSION}_${SRC_HASH}"

case ${1:-} in
  --print-dir) echo "$DIR"; exit 0 ;;
  -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  "") ;;
  *) echo "gitops-tools.sh: unknown argument $1" >&2; exit 2 ;;
esac

missing() { local b; for b in "${BINS[@]}"; do [[ -x $DIR/$b ]] || return 0; done; return 1; }
missing || exit 0

command -v go >/dev/null || { echo "gitops-tools.sh: Go is required to build ${BINS[*]} (Go >= 1.26 with the module proxy)" >&2; exit 1; }

mkdir -p "$CACHE_ROOT"
START=$SECONDS
say() { printf '[gitops-tools %3ds] %s\n' "$((SECONDS - START))" "$*" >&2; }

if command -v flock >/dev/null; then
  exec 9>"$CACHE_ROOT/.gitops-tools.lock"
  if ! flock -n 9; then
    say "another hack/gitops-tools.sh is building; waiting for it"
    flock 9
  fi
  missing || { say "done by the other builder: $DIR"; exit 0; }
fi

TMP=$(mktemp -d "$CACHE_ROOT/.gitops-build-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
say "Go $(go env GOVERSION); building ${BINS[*]} (gopher-lua $LUA_VERSION, cli-utils $CLIUTILS_VERSION) into $DIR"
say "(a cold build takes about 30 s on 2 cores)"
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$TMP/" "${BINS[@]/#/./}") || {
  say "FAILED building the GitOps tools"
  exit 1
}
mkdir -p "$DIR"
for b in "${BINS[@]}"; do mv -f "$TMP/$b" "$DIR/$b"; done
say "done: $DIR"
