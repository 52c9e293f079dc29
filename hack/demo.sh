#!/usr/bin/env bash
# make demo: plans every example offline and shows what the operator would create for each.
set -uo pipefail
cd "$(dirname "$0")/.."
cli="node dist/src/cli/main.js"
echo "== lfm-operator plan: every example in examples/ =="
for f in examples/*.yaml; do printf -- '---\n'; cat "$f"; done | $cli plan -f - ; code=$?
echo
echo "(exit status $code: 0 = all fit, 1 = one does not fit, 2 = one is invalid)"
echo
echo "== lfm-operator render: the children of each example that fits =="
for f in examples/*.yaml; do
  out=$($cli render -f "$f" 2>/dev/null) || { echo "$f: not rendered (does not fit; see the plan above)"; continue; }
  kinds=$(grep -E '^kind:' <<<"$out" | awk '{print $2}' | paste -sd, -)
  gpus=$(grep -m1 'nvidia.com/gpu:' <<<"$out" | awk '{print $2}')
  echo "$f: $kinds (nvidia.com/gpu: $gpus)"
done
echo
echo "== engine command line of examples/lfm2-24b-h100-vllm.yaml =="
$cli plan -f examples/lfm2-24b-h100-vllm.yaml -o json | node -e 'const p=JSON.parse(require("fs").readFileSync(0,"utf8"))[0]; console.log(p.image); console.log([...p.command, ...p.args].join(" "))'
