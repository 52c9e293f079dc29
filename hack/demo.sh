#!/usr/bin/env bash
# make demo: plan every example offline, then run the operator on a local control plane with fake GPU nodes, apply
# the examples, and watch the fitting ones reach Ready and the one that cannot fit stall with its arithmetic.
# Leaves the cluster and the operator running with instructions; Ctrl-C during the demo tears everything down.
set -uo pipefail
cd "$(dirname "$0")/.."
cli="node dist/src/cli/main.js"
state="${DEVCLUSTER_DIR:-$PWD/.tmp/devcluster}"
tools="$(hack/tools.sh --print-dir)"
kubectl="$tools/kubectl"
pidfile="$PWD/.tmp/demo-operator.pid"
oplog="$PWD/.tmp/demo-operator.log"

teardown() {
  echo
  echo "== tearing down =="
  [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; rm -f "$pidfile"
  node dist/test/devcluster/cli.js down --state-dir "$state" || true
  exit 130
}
trap teardown INT TERM

echo "== 1. lfm-operator plan: every example, offline (no cluster, no GPU) =="
for f in examples/*.yaml; do printf -- '---\n'; cat "$f"; done | $cli plan -f -
echo "(exit status $?: 0 = all fit, 1 = one does not fit, 2 = one is invalid)"
echo
echo "== 2. a local control plane: etcd, kube-apiserver, controller-manager, scheduler, KWOK fake GPU nodes =="
up=$(node dist/test/devcluster/cli.js up --state-dir "$state" --bin-dir "$tools") || { echo "$up"; exit 1; }
kubeconfig="${up##*KUBECONFIG=}"
export KUBECONFIG="$kubeconfig"
"$kubectl" get nodes -L nvidia.com/gpu.product,nvidia.com/gpu.count,node.lfm-operator.io/pool
echo
echo "== 3. install the CRD and run the operator (log: $oplog) =="
"$kubectl" apply --server-side -f crds/ >/dev/null
"$kubectl" wait --for condition=established crd/lfmdeployments.serving.lfm-operator.io >/dev/null
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "operator already running (pid $(cat "$pidfile"))"
else
  mkdir -p "$(dirname "$pidfile")"
  nohup $cli run --kubeconfig "$kubeconfig" --leader-elect false --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 > "$oplog" 2>&1 &
  echo $! > "$pidfile"
  echo "operator pid $(cat "$pidfile")"
fi
echo
echo "== 4. apply the examples and watch =="
"$kubectl" apply --server-side -f examples/
# Expected Ready: the examples that fit and whose GPU type (if any) the cluster has; the others wait with a reason.
products=$("$kubectl" get nodes -o jsonpath='{range .items[*]}{.metadata.labels.nvidia\.com/gpu\.product}{"\n"}{end}' | sort -u | tr '\n' ',')
fitting=$(for f in examples/*.yaml; do $cli plan -f "$f" -o json 2>/dev/null | PRODUCTS="$products" node -e '
  const gpus = JSON.parse(require("fs").readFileSync("src/catalog/data/gpus.json", "utf8")).gpus ?? [];
  const label = (id) => (gpus.find((g) => g.id === id)?.gpu_product_label?.value);
  const have = new Set(process.env.PRODUCTS.split(","));
  for (const x of JSON.parse(require("fs").readFileSync(0, "utf8")))
    if (x.fits && (x.gpusPerReplica === 0 || have.has(label(x.gpuType)))) console.log(x.name)'; done | sort)
doesnotfit=$(for f in examples/*.yaml; do $cli plan -f "$f" -o json 2>/dev/null | node -e 'for (const x of JSON.parse(require("fs").readFileSync(0,"utf8"))) if (!x.fits) console.log(x.name)'; done | wc -l)
deadline=$((SECONDS + 120))
while :; do
  table=$("$kubectl" get lfmd -o wide 2>&1)
  ready=$("$kubectl" get lfmd -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep '=True$' | cut -d= -f1 | sort)
  stalled=$("$kubectl" get lfmd -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Stalled")].status}{"\n"}{end}' | grep -c '=True$')
  echo "--- $(date +%T)"; echo "$table"
  if [ "$ready" = "$fitting" ] && [ "$stalled" -ge "$doesnotfit" ]; then break; fi
  if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for the examples; see $oplog"; break; fi
  sleep 2
done
echo
echo "== 5. the ones that cannot fit: no pods, Stalled, with the arithmetic (GPU memory; CPU memory for llama.cpp) =="
for name in lfm2-24b-l4-bf16 lfm2-24b-q8-24gib; do
  printf '%s: ' "$name"
  "$kubectl" get lfmd "$name" -o jsonpath='{range .status.conditions[?(@.type=="Stalled")]}{.reason}: {.message}{"\n"}{end}'
done
echo
echo "== 5b. LFM2-24B-A2B Q4_0 with llama.cpp on a CPU-pool node: memory request and limit from the plan =="
"$kubectl" get lfmd lfm2-24b-cpu -o jsonpath='{.status.plan}'; echo
"$kubectl" get pods -l serving.lfm-operator.io/deployment=lfm2-24b-cpu -o custom-columns='POD:.metadata.name,NODE:.spec.nodeName,MEMORY:.spec.containers[0].resources.limits.memory,CPU:.spec.containers[0].resources.limits.cpu,READY:.status.conditions[?(@.type=="Ready")].status'
echo "(the T4 example waits for a T4 node this cluster does not have: its Scheduled condition says so)"
"$kubectl" get lfmd lfm2-24b-t4 -o jsonpath='{range .status.conditions[?(@.type=="Scheduled")]}{.reason}: {.message}{"\n"}{end}'
echo
echo "== 6. the plan of one that fits, from its status =="
"$kubectl" get lfmd lfm2-24b -o jsonpath='{.status.plan}'; echo
"$kubectl" get deploy,svc,pdb,pods -o wide
echo
echo "The cluster and the operator are still running. Try:"
echo "  export KUBECONFIG=$kubeconfig"
echo "  $kubectl get lfmd"
echo "  $kubectl describe lfmd lfm2-24b-l4-bf16"
echo "  $kubectl scale lfmd lfm2-24b --replicas=2"
echo "Stop everything with: make cluster-down"
