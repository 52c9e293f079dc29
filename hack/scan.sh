#!/usr/bin/env bash
# Scans what the project ships and renders with kube-score (pinned in tools/kube-score, built by hack/tools.sh) and
# fails on any finding, CRITICAL or WARNING, that hack/scan-accepted.txt does not accept with a reason. The sources:
#
#   install        dist/install.yaml
#   chart          `helm template` of charts/lfm-operator with its default values
#   chart-options  the same with its optional objects on (NetworkPolicy, ServiceMonitor, PodMonitor)
#   engine-gpu:F   the children `lfm-operator render` makes of examples/F, whose engine pods use GPUs
#   engine-cpu:F   the same for an example on CPU nodes (examples named *does-not-fit.yaml render nothing: skipped)
#
# Usage:
#   hack/scan.sh                    scan (needs `make build` for dist/src/cli/main.js; builds kube-score and helm
#                                   if missing)
#   hack/scan.sh --match LIST       judge finding lines on stdin (SOURCE, CHECK, Kind/name, GRADE, MESSAGE, tab-
#                                   separated) against LIST, as the scan does (the unit test's entry point)
#
# An entry of the list that accepts nothing fails the scan too, so that the list stays short and true.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ACCEPTED=$ROOT/hack/scan-accepted.txt

# The accepted findings (format in hack/scan-accepted.txt): an entry is a line CHECK | SOURCE | OBJECT | MESSAGE
# (globs but CHECK) and the indented lines below it, its reason.
# trim TEXT: TEXT without leading and trailing blanks, in TRIMMED (no subshell: the list is read at every scan).
trim() { TRIMMED=${1#"${1%%[![:space:]]*}"}; TRIMMED=${TRIMMED%"${TRIMMED##*[![:space:]]}"}; }
A_CHECK=() A_SOURCE=() A_OBJECT=() A_MESSAGE=() A_REASON=() A_USED=()
read_accepted() {
  local line n fields
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    n=$((${#A_CHECK[@]} - 1))
    if [[ $line =~ ^[[:space:]] ]]; then
      ((n >= 0)) || { echo "scan: $1: a reason before any entry: $line" >&2; exit 2; }
      trim "$line"
      A_REASON[n]+="${A_REASON[n]:+ }$TRIMMED"
      continue
    fi
    IFS='|' read -r -a fields <<<"$line"
    ((${#fields[@]} == 4)) || { echo "scan: $1: not CHECK | SOURCE | OBJECT | MESSAGE: $line" >&2; exit 2; }
    for n in "${!fields[@]}"; do trim "${fields[n]}" && fields[n]=$TRIMMED; done
    A_CHECK+=("${fields[0]}") A_SOURCE+=("${fields[1]}") A_OBJECT+=("${fields[2]}") A_MESSAGE+=("${fields[3]}") A_REASON+=("") A_USED+=(0)
  done <"$1"
  for n in "${!A_CHECK[@]}"; do
    [[ -n ${A_REASON[n]} ]] || { echo "scan: $1: no reason under ${A_CHECK[n]} | ${A_SOURCE[n]} | ${A_OBJECT[n]}" >&2; exit 2; }
  done
}

# judge: reads finding lines on stdin, prints those no entry accepts, counts, and fails on any of them or on an
# entry that accepted nothing.
judge() {
  local source check object grade message i found=0 critical=0 accepted=0 rejected=0 stale=0
  while IFS=$'\t' read -r source check object grade message; do
    found=$((found + 1))
    [[ $grade != CRITICAL ]] || critical=$((critical + 1))
    for i in "${!A_CHECK[@]}"; do
      # Unquoted right-hand sides: glob patterns.
      if [[ $check == "${A_CHECK[i]}" && $source == ${A_SOURCE[i]} && $object == ${A_OBJECT[i]} && $message == ${A_MESSAGE[i]} ]]; then
        A_USED[i]=$((A_USED[i] + 1))
        accepted=$((accepted + 1))
        continue 2
      fi
    done
    rejected=$((rejected + 1))
    # In the list's form, for an entry if the finding is to be accepted (with its reason).
    printf 'NOT ACCEPTED (%s): %s | %s | %s | %s\n' "$grade" "$check" "$source" "$object" "$message"
  done
  for i in "${!A_CHECK[@]}"; do
    if ((A_USED[i] == 0)); then
      stale=$((stale + 1))
      printf 'STALE accepted entry (it accepts nothing: remove it): %s | %s | %s | %s\n' "${A_CHECK[i]}" "${A_SOURCE[i]}" "${A_OBJECT[i]}" "${A_MESSAGE[i]}"
    fi
  done
  printf 'scan: %d findings (%d CRITICAL, %d WARNING): %d accepted by the %d entries of %s, %d not accepted; %d stale entries\n' \
    "$found" "$critical" "$((found - critical))" "$accepted" "${#A_CHECK[@]}" "${ACCEPTED#"$ROOT"/}" "$rejected" "$stale"
  ((rejected == 0 && stale == 0))
}

if [[ ${1:-} == --match ]]; then
  ACCEPTED=$2
  read_accepted "$ACCEPTED"
  judge
  exit
fi
[[ $# -eq 0 ]] || { echo "usage: hack/scan.sh [--match LIST]" >&2; exit 2; }

START=$SECONDS
read_accepted "$ACCEPTED"
"$ROOT/hack/tools.sh" helm kube-score
KUBE_SCORE=$("$ROOT/hack/tools.sh" --print-dir kube-score)/kube-score
HELM=$("$ROOT/hack/tools.sh" --print-dir helm)/helm
CLI=$ROOT/dist/src/cli/main.js
[[ -f $CLI ]] || { echo "scan: $CLI is missing: run make build" >&2; exit 1; }
# The API the checks assume: the pinned control plane's (tools/k8s/go.mod), rather than kube-score's default v1.18.
K8S_MINOR=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { split($2, v, "."); print v[1] "." v[2]; exit }' "$ROOT/tools/k8s/go.mod")
# Seccomp is optional in kube-score; the engine pods and the operator set RuntimeDefault, so it is checked. The
# objects' own kube-score annotations are ignored: a pod annotation (spec.podMetadata) must not switch a check off.
KS_FLAGS=(--kubernetes-version "${K8S_MINOR:-v1.36}" --enable-optional-test container-seccomp-profile
  --disable-ignore-checks-annotations --disable-optional-checks-annotations)

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# score SOURCE FILE: kube-score's verdict on FILE, as JSON in $TMP/SOURCE.json.
score() {
  # kube-score exits 1 when it finds a CRITICAL finding; a file it cannot read leaves no JSON, which findings refuses.
  "$KUBE_SCORE" score -o json "${KS_FLAGS[@]}" "$2" >"$TMP/$1.json" 2>"$TMP/$1.err" || true
  [[ -s $TMP/$1.json ]] || { echo "scan: kube-score could not score $1 ($2):" >&2; cat "$TMP/$1.err" >&2; exit 1; }
}

# findings SOURCE...: the CRITICAL and WARNING findings of the sources' verdicts, one line each (the judge's input).
findings() {
  node -e '
    const { readFileSync } = require("fs");
    const grades = { 1: "CRITICAL", 5: "WARNING" };
    for (const source of process.argv.slice(2))
      for (const o of JSON.parse(readFileSync(`${process.argv[1]}/${source}.json`, "utf8")))
        for (const c of o.checks)
          if (!c.skipped && grades[c.grade])
            for (const m of c.comments?.length ? c.comments : [{ summary: c.check.name }])
              console.log([source, c.check.id, `${o.type_meta.kind}/${o.object_meta.name}`, grades[c.grade], (m.path ? `(${m.path}) ` : "") + m.summary].join("\t"));
  ' "$TMP" "$@"
}

cp "$ROOT/dist/install.yaml" "$TMP/install.yaml"
"$HELM" template lfm-operator "$ROOT/charts/lfm-operator" --namespace lfm-operator-system >"$TMP/chart.yaml"
"$HELM" template lfm-operator "$ROOT/charts/lfm-operator" --namespace lfm-operator-system \
  --set networkPolicy.enabled=true --set metrics.serviceMonitor.enabled=true \
  --set engineMetrics.podMonitor.enabled=true >"$TMP/chart-options.yaml"
sources=(install chart chart-options)
declare -A FILE=([install]=install.yaml [chart]=chart.yaml [chart-options]=chart-options.yaml)
# The examples' children, rendered in one run (one Node start) and split by the LfmDeployment they are named after.
for example in "$ROOT"/examples/*.yaml; do printf -- '---\n'; cat "$example"; done >"$TMP/examples.yaml"
rc=0
node "$CLI" render -f "$TMP/examples.yaml" >"$TMP/children.yaml" 2>"$TMP/render.err" || rc=$?
# 1: some example does not fit (those named *does-not-fit.yaml, checked below); 2 and above: invalid input or a crash.
((rc <= 1)) || { echo "scan: lfm-operator render -f examples/*.yaml failed ($rc):" >&2; cat "$TMP/render.err" >&2; exit 1; }
awk -v dir="$TMP" '
  function flush() { if (name != "") printf "---\n%s", doc >>(dir "/children-" name ".yaml"); doc = ""; name = "" }
  /^---$/ { flush(); next }
  { doc = doc $0 "\n" }
  # The endpoint picker objects (NAME-epp) go with their LfmDeployment NAME.
  name == "" && /^  name: / { name = $2; sub(/-epp$/, "", name) }
  END { flush() }
' "$TMP/children.yaml"
for example in "$ROOT"/examples/*.yaml; do
  name=$(basename "$example")
  lfmd=$(awk '/^metadata:/ { m = 1; next } m && /^  name:/ { print $2; exit }' "$example")
  if [[ ! -f $TMP/children-$lfmd.yaml ]]; then
    [[ $name == *does-not-fit.yaml ]] && continue
    echo "scan: examples/$name ($lfmd) rendered nothing:" >&2
    cat "$TMP/render.err" >&2
    exit 1
  fi
  if grep -q 'nvidia.com/gpu:' "$TMP/children-$lfmd.yaml"; then source=engine-gpu:$name; else source=engine-cpu:$name; fi
  sources+=("$source")
  FILE[$source]=children-$lfmd.yaml
done

for source in "${sources[@]}"; do score "$source" "$TMP/${FILE[$source]}"; done
findings "${sources[@]}" >"$TMP/findings.tsv"
echo "scan: kube-score $("$KUBE_SCORE" version | awk '{ print $3 }' | tr -d ,) over ${#sources[@]} sources (${sources[*]}) in $((SECONDS - START))s"
judge <"$TMP/findings.tsv"
