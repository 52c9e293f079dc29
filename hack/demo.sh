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
actpidfile="$PWD/.tmp/demo-activator.pid"
actlog="$PWD/.tmp/demo-activator.log"
enginepidfile="$PWD/.tmp/demo-engine.pid"

teardown() {
  echo
  echo "== tearing down =="
  for f in "$pidfile" "$actpidfile" "$enginepidfile"; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; rm -f "$f"; done
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
echo "== 3b. the scale-to-zero activator (lfm-operator activator), on the address of a fake pod that stands for it =="
# In a cluster the chart runs it as a Deployment; here a KWOK pod with the activator's labels gets a loopback IP and
# the real activator process listens on it, so the operator's EndpointSlice can point at it.
"$kubectl" apply --server-side -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: lfm-activator-0
  namespace: default
  labels: {app.kubernetes.io/name: lfm-operator, app.kubernetes.io/component: activator}
spec:
  containers:
    - {name: activator, image: lfm-operator:demo, args: [activator, --listen, ":8080"], ports: [{name: http, containerPort: 8080}]}
EOF
actip=""
for _ in $(seq 1 60); do
  actip=$("$kubectl" get pod lfm-activator-0 -o jsonpath='{.status.podIP}' 2>/dev/null)
  [ -n "$actip" ] && break
  sleep 0.5
done
if [ -f "$actpidfile" ] && kill -0 "$(cat "$actpidfile")" 2>/dev/null; then
  echo "activator already running (pid $(cat "$actpidfile"))"
else
  POD_NAME=lfm-activator-0 nohup $cli activator --kubeconfig "$kubeconfig" --listen "$actip:8080" > "$actlog" 2>&1 &
  echo $! > "$actpidfile"
  echo "activator pid $(cat "$actpidfile") on $actip:8080 (log: $actlog)"
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
echo "== 7. scale to zero: lfm2-24b-on-demand sits at zero replicas; the Service points at the activator =="
s2z=lfm2-24b-on-demand
host="$s2z.default.svc.cluster.local:8000"
slice() { "$kubectl" get endpointslice "$s2z" -o jsonpath="EndpointSlice {.metadata.name}: $1 {.metadata.annotations.serving\.lfm-operator\.io/endpoints} ({.metadata.annotations.serving\.lfm-operator\.io/endpoint-pods}) on port {.ports[0].port}$2{\"\n\"}"; }
"$kubectl" get lfmd "$s2z" -o jsonpath='Ready={.status.conditions[?(@.type=="Ready")].status} ({.status.conditions[?(@.type=="Ready")].reason}): {.status.conditions[?(@.type=="Ready")].message}{"\n"}'
slice "points at" ""
# The fake nodes make a pod Ready at once; a model load takes minutes. Stand in for it with a 4 s ready delay (the
# harness's pod annotation): a change of the pod template, which costs nothing at zero replicas.
"$kubectl" patch lfmd "$s2z" --type merge -p '{"spec":{"podMetadata":{"annotations":{"devcluster.lfm-operator.io/ready-delay-seconds":"4"}}}}' >/dev/null
sleep 2
echo "A request arrives (Host: $host); the activator holds it and asks for a replica:"
t0=$(date +%s%3N)
curl -s -m 60 -D .tmp/demo-headers.txt -H "Host: $host" -H 'content-type: application/json' \
  -d '{"model":"lfm2-24b","messages":[{"role":"user","content":"hello"}]}' "http://$actip:8080/v1/chat/completions" > .tmp/demo-answer.json &
curlpid=$!
for _ in $(seq 1 100); do
  [ "$("$kubectl" get deploy "$s2z" -o jsonpath='{.spec.replicas}')" = "1" ] && break
  sleep 0.05
done
echo "  Deployment $s2z spec.replicas $("$kubectl" get deploy "$s2z" -o jsonpath='{.spec.replicas}') after $(( $(date +%s%3N) - t0 )) ms, written by lfm-autoscaler (the LfmDeployment's spec is unchanged)"
engineip=""
for _ in $(seq 1 100); do
  engineip=$("$kubectl" get pods -l serving.lfm-operator.io/deployment="$s2z" -o jsonpath='{.items[0].status.podIP}' 2>/dev/null)
  [ -n "$engineip" ] && break
  sleep 0.1
done
echo "  the engine pod has IP $engineip; a real engine now loads the model (minutes): here its stand-in starts after 3 s and the pod is Ready after 4 s"
sleep 3
nohup node dist/test/devcluster/demo-engine.js --listen "$engineip:8000" --model lfm2-24b > .tmp/demo-engine.log 2>&1 &
echo $! > "$enginepidfile"
wait "$curlpid"
sleep 1
echo "  answered after $(( $(date +%s%3N) - t0 )) ms: $(grep -i '^HTTP/\|^x-lfm-cold-start' .tmp/demo-headers.txt | tr -d '\r' | tr '\n' ' ')"
echo "  $(cat .tmp/demo-answer.json)"
sleep 1
slice "now points at" ": warm requests skip the activator"
"$kubectl" get lfmd "$s2z" -o jsonpath='status.autoscaling.coldStart: {.status.autoscaling.coldStart}{"\n"}'
echo "(idleSeconds is 900: after 15 minutes without a request it goes back to zero, and the Service to the activator)"
echo
echo "The cluster and the operator are still running. Try:"
echo "  export KUBECONFIG=$kubeconfig"
echo "  $kubectl get lfmd"
echo "  $kubectl describe lfmd lfm2-24b-l4-bf16"
echo "  $kubectl scale lfmd lfm2-24b --replicas=2"
echo "  curl -H 'Host: $host' http://$actip:8080/v1/models   # reaches the engine stand-in now, the activator at zero"
echo "Stop everything with: make cluster-down"
