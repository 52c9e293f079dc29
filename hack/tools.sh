#!/usr/bin/env bash
# Builds the pinned control-plane binaries from Go modules (no downloads other than
# the Go module proxy) into a cache directory outside the repo, keyed by versions:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/lfm-operator/tools-k8s-<v>_etcd-<v>_kwok-<v>_helm-<v>/
#     kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok helm
#   ${XDG_CACHE_HOME:-$HOME/.cache}/lfm-operator/tools-kube-score-<v>/
#     kube-score   the manifest scanner of `make scan` (hack/scan.sh); a directory of its
#                  own, so that bumping it never rebuilds the control plane
#
# The versions come from the helper modules under tools/ (tools/*/go.mod, go.sum):
# bump a version there and the next run builds into a new directory.
#
# Usage:
#   hack/tools.sh               build the control plane if missing (no-op, <1 s, when all exist)
#   hack/tools.sh --print-dir   print the control plane's directory and exit (builds nothing)
#   hack/tools.sh --print-dir kube-score   print kube-score's directory and exit
#   hack/tools.sh GROUP...      build only these groups if missing: k8s etcd kwok helm kube-score
#
# Each group is built into a temporary directory next to the target and then renamed
# into place, so an interrupted build never leaves a partial binary. Go's own module
# and build caches (GOMODCACHE, GOCACHE) are left at their defaults and reused.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$ROOT/tools

# modver DIR MODULE: the version of MODULE required by tools/DIR/go.mod.
modver() {
  awk -v m="$2" '($1 == "require" && $2 == m) { print $3; exit }
                 ($1 == m && $2 ~ /^v[0-9]/)   { print $2; exit }' "$SRC/$1/go.mod"
}
K8S_VERSION=$(modver k8s k8s.io/kubernetes)
ETCD_VERSION=$(modver etcd go.etcd.io/etcd/server/v3)
KWOK_VERSION=$(modver kwok sigs.k8s.io/kwok)
HELM_VERSION=$(modver helm helm.sh/helm/v3)
KUBE_SCORE_VERSION=$(modver kube-score github.com/zegl/kube-score)
for v in K8S_VERSION ETCD_VERSION KWOK_VERSION HELM_VERSION KUBE_SCORE_VERSION; do
  [[ -n ${!v} ]] || { echo "tools.sh: cannot read $v from $SRC/*/go.mod" >&2; exit 1; }
done

KEY="k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}_helm-${HELM_VERSION}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/lfm-operator"
DIR="$CACHE_ROOT/tools-$KEY"
KUBE_SCORE_DIR="$CACHE_ROOT/tools-kube-score-$KUBE_SCORE_VERSION"

K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
ALL_GROUPS=(k8s etcd kwok helm)
group_bins() {
  case $1 in
    k8s) echo "${K8S_BINS[*]}" ;;
    etcd | kwok | helm | kube-score) echo "$1" ;;
    *) echo "tools.sh: unknown group '$1' (expected: ${ALL_GROUPS[*]} kube-score)" >&2; exit 2 ;;
  esac
}
# group_dir GROUP: where the group's binaries live.
group_dir() { if [[ $1 == kube-score ]]; then echo "$KUBE_SCORE_DIR"; else echo "$DIR"; fi; }

groups=()
for arg in "$@"; do
  case $arg in
    --print-dir) group_bins "${2:-k8s}" >/dev/null; group_dir "${2:-k8s}"; exit 0 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -*) echo "tools.sh: unknown option $arg" >&2; exit 2 ;;
    *) group_bins "$arg" >/dev/null; groups+=("$arg") ;;
  esac
done
((${#groups[@]})) || groups=("${ALL_GROUPS[@]}")

missing_groups() {
  local g b
  for g in "${groups[@]}"; do
    for b in $(group_bins "$g"); do
      if [[ ! -x $(group_dir "$g")/$b ]]; then echo "$g"; break; fi
    done
  done
}

# Fast path: everything present. No Go invocation, no lock.
todo=($(missing_groups))
((${#todo[@]})) || exit 0

command -v go >/dev/null || {
  echo "tools.sh: Go is required to build ${todo[*]} (Go >= 1.26 with the module proxy)" >&2
  exit 1
}

mkdir -p "$CACHE_ROOT"
START=$SECONDS
say() { printf '[tools %4ds] %s\n' "$((SECONDS - START))" "$*"; }

# One builder at a time per cache root (e.g. make -j, or two terminals).
if command -v flock >/dev/null; then
  exec 9>"$CACHE_ROOT/.tools.lock"
  if ! flock -n 9; then
    say "another hack/tools.sh is building; waiting for it"
    flock 9
  fi
  todo=($(missing_groups)) # the other builder may have done the work
  ((${#todo[@]})) || { say "done by the other builder: $DIR"; exit 0; }
  rm -rf "$CACHE_ROOT"/.tools-build-* # leftovers of killed builds (we hold the lock)
fi

for g in "${todo[@]}"; do mkdir -p "$(group_dir "$g")"; done
TMP=$(mktemp -d "$CACHE_ROOT/.tools-build-XXXXXX")
BUILD_PID=
cleanup() {
  # The build runs in its own process group (setsid), so this also stops the
  # compiler/linker processes that go build started.
  if [[ -n $BUILD_PID ]]; then kill -TERM -- "-$BUILD_PID" 2>/dev/null || kill -TERM "$BUILD_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

export CGO_ENABLED=0
SETSID=$(command -v setsid >/dev/null && echo "setsid -w" || true)
dirs=$(for g in "${todo[@]}"; do group_dir "$g"; done | sort -u | paste -sd' ')
say "Go $(go env GOVERSION); building ${todo[*]} into $dirs"
say "(cold, on 2 cores: ~6 min for k8s, ~3 min for etcd, kwok and helm, ~4 min for kube-score; Go's build cache makes reruns fast)"

# gobuild GROUP ARGS...: runs `go build -v -trimpath ARGS` in tools/GROUP, printing a
# heartbeat every 30 s so a long build never looks hung.
gobuild() {
  local g=$1 t0=$SECONDS log="$TMP/$1.log" n next
  shift
  next=$((SECONDS + 30))
  say "building $g ($(group_bins "$g"))"
  (cd "$SRC/$g" && exec $SETSID go build -v -trimpath "$@") >"$log" 2>&1 9>&- &
  BUILD_PID=$!
  while kill -0 "$BUILD_PID" 2>/dev/null; do
    sleep 1
    if ((SECONDS >= next)); then
      next=$((SECONDS + 30))
      n=$(grep -c . "$log" || true)
      say "  ... still building $g: $((SECONDS - t0))s, $n packages compiled so far"
    fi
  done
  local rc=0
  wait "$BUILD_PID" || rc=$?
  BUILD_PID=
  if ((rc != 0)); then
    say "FAILED building $g after $((SECONDS - t0))s (go build exit status $rc); errors:" >&2
    # go build -v lists each package it compiles; show the other lines (the errors).
    grep -v '^[a-zA-Z0-9._/-]*$' "$log" | tail -n 40 >&2 || tail -n 5 "$log" >&2
    exit 1
  fi
  say "built $g in $((SECONDS - t0))s"
}

# install_bins GROUP: move the group's binaries from $TMP/out into $DIR (rename(2) on
# the same filesystem, so each binary appears whole or not at all).
install_bins() {
  local b
  for b in $(group_bins "$1"); do
    [[ -x $TMP/out/$b ]] || { say "build of $1 produced no $b" >&2; exit 1; }
    mv -f "$TMP/out/$b" "$(group_dir "$1")/$b"
  done
}

mkdir -p "$TMP/out"
for g in "${todo[@]}"; do
  case $g in
    k8s)
      # Version stamping as upstream's hack/lib/version.sh does, so /version and
      # `kubectl version` report K8S_VERSION instead of v0.0.0-master.
      minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
      X=""
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        X+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
        X+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z -X $p.gitCommit="
      done
      gobuild k8s -tags selinux,notest,grpcnotrace -ldflags "-s -w$X" -o "$TMP/out/" \
        "${K8S_BINS[@]/#/k8s.io/kubernetes/cmd/}"
      got=$("$TMP/out/kube-apiserver" --version)
      [[ $got == "Kubernetes $K8S_VERSION" ]] || { say "unexpected version stamp: $got" >&2; exit 1; }
      ;;
    etcd)
      gobuild etcd -ldflags "-s -w" -o "$TMP/out/etcd" go.etcd.io/etcd/server/v3
      ;;
    kwok)
      gobuild kwok -ldflags "-s -w" -o "$TMP/out/kwok" sigs.k8s.io/kwok/cmd/kwok
      ;;
    helm)
      minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
      X="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
      X+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
      # Default .Capabilities.KubeVersion for `helm template` / lint (else v1.20.0).
      for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        X+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
      done
      gobuild helm -ldflags "-s -w $X" -o "$TMP/out/helm" helm.sh/helm/v3/cmd/helm
      ;;
    kube-score)
      gobuild kube-score -ldflags "-s -w -X main.version=$KUBE_SCORE_VERSION" -o "$TMP/out/kube-score" \
        github.com/zegl/kube-score/cmd/kube-score
      ;;
  esac
  install_bins "$g"
done

say "done: $dirs"
