// npm run bench:reconcile: how close the operator comes to the API server's own limit. Creates N LfmDeployments on
// a fresh local control plane with the operator running and times until every one has its children and an
// observed generation; then times the same API server taking the same writes directly (the LfmDeployments, the
// exact rendered children, the status) with the same client, the same number of workers and no rate limit. Prints
// the ratio, the operator's peak RSS, its writes per reconcile (audit log) and its writes on a full resync.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { LfmDeployment } from '../../src/api/v1alpha1.js';
import { startControlPlane, type ControlPlane } from '../../test/devcluster/control-plane.js';
import { createOperatorIdentity } from '../../test/devcluster/operator-identity.js';
import { KubeClient, RESOURCES, type KubeObject, type ResourceType } from '../../src/kube/client.js';
import { FIELD_MANAGER, renderChildren } from '../../src/render/children.js';
import { buildPlanReport } from '../../src/render/plan-report.js';
import { computeStatus } from '../../src/status/compute.js';

const { values: args } = parseArgs({ options: { count: { type: 'string', default: '1000' }, workers: { type: 'string', default: '4' }, json: { type: 'boolean', default: false } } });
const N = Number(args.count);
const WORKERS = Number(args.workers);
const root = new URL('../../../', import.meta.url).pathname;
const log = (m: string) => process.stderr.write(`${m}\n`);

const namespaceType: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
const crdType: ResourceType = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };

function resource(ns: string, i: number): KubeObject {
  return {
    apiVersion: 'serving.lfm-operator.io/v1alpha1', kind: 'LfmDeployment',
    metadata: { name: `lfm-${i}`, namespace: ns },
    // Zero replicas: the benchmark measures the control loop, not pod scheduling.
    spec: { model: { source: 'hf://LiquidAI/LFM2-24B-A2B' }, quantization: 'FP8', gpu: { type: 'h100-sxm-80gb' }, serving: { maxModelLen: 32768 }, replicas: 0 },
  };
}

async function pool<T>(items: T[], workers: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every LfmDeployment of ns has its Deployment and Service and a status for its generation. */
async function converged(client: KubeClient, ns: string): Promise<boolean> {
  const [l, d, s] = await Promise.all([
    client.list<KubeObject & { status?: { observedGeneration?: number } }>(RESOURCES.lfmDeployment, { namespace: ns }),
    client.list(RESOURCES.deployment, { namespace: ns }),
    client.list(RESOURCES.service, { namespace: ns }),
  ]);
  return l.items.length === N && d.items.length === N && s.items.length === N
    && l.items.every((x) => x.status?.observedGeneration === x.metadata?.generation);
}

interface OperatorChild { child: ChildProcess; metrics?: string }

function startOperator(kubeconfig: string, ns: string): OperatorChild {
  // Node flags as the image's ENTRYPOINT sets them (Dockerfile).
  const child = spawn(process.execPath, ['--max-semi-space-size=2', `${root}dist/src/cli/main.js`, 'run', '--kubeconfig', kubeconfig, '--namespaces', ns, '--leader-election-namespace', ns, '--activator-namespace', ns,
    '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0', '--concurrency', String(WORKERS), '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const op: OperatorChild = { child };
  child.stderr!.on('data', (chunk: Buffer) => {
    const m = /"metrics":"([^"]+)"/.exec(chunk.toString('utf8'));
    if (m?.[1]) op.metrics = m[1];
  });
  return op;
}

/** Reconciles and their mean duration, from the operator's own /metrics. */
async function readReconcileStats(op: OperatorChild): Promise<{ reconciles: number; meanMs: number }> {
  const text = await (await fetch(`http://${op.metrics}/metrics`)).text();
  const value = (prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
  const count = value('lfm_operator_reconcile_duration_seconds_count');
  return { reconciles: value('lfm_operator_reconcile_total{'), meanMs: count ? (value('lfm_operator_reconcile_duration_seconds_sum') / count) * 1000 : 0 };
}

/** Resolves once the audit log has not grown for quietMs. */
async function waitForQuiet(cp: ControlPlane, quietMs: number): Promise<void> {
  let last = -1;
  await waitFor('a quiet API server', 300_000, async () => {
    await new Promise((r) => setTimeout(r, quietMs));
    const n = cp.readAudit().length;
    const quiet = n === last;
    last = n;
    return quiet;
  });
}

function peakRssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line?.replace(/\D+/g, '') ?? 0) / 1024;
}

async function stop({ child }: OperatorChild): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  log(`starting a local control plane (no nodes needed: replicas 0)...`);
  const cp = await startControlPlane({ nodePool: 'none' });
  try {
    const client = new KubeClient(cp.kubeConfig, 'bench');
    const crd = parseAllDocuments(readFileSync(`${root}crds/serving.lfm-operator.io_lfmdeployments.yaml`, 'utf8'))[0]!.toJS() as KubeObject;
    await client.apply(crdType, crd, 'bench');
    for (const ns of ['bench-operator', 'bench-direct']) await client.apply(namespaceType, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, 'bench');
    await waitFor('the CRD', 30_000, async () => (await client.list(RESOURCES.lfmDeployment, { namespace: 'bench-operator' }).then(() => true, () => false)));

    // 0. Warm-up, not measured: the API server compiles the CRD's schema and CEL on first use.
    await client.apply(namespaceType, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-warmup' } }, 'bench');
    await pool(Array.from({ length: 20 }, (_, i) => i), WORKERS, async (i) => { await client.create(RESOURCES.lfmDeployment, resource('bench-warmup', i)); });

    // 1. The operator.
    const opNs = 'bench-operator';
    const { kubeconfig, user } = await createOperatorIdentity(cp, client, opNs, 'lfm-operator', 'bench');
    const operator = startOperator(kubeconfig, opNs);
    await waitFor('the operator to lead', 30_000, async () => {
      const lease = await client.get<KubeObject & { spec?: { holderIdentity?: string } }>(RESOURCES.lease, opNs, 'lfm-operator-leader').catch(() => undefined);
      return Boolean(lease?.spec?.holderIdentity);
    });
    const auditStart = cp.readAudit().length;
    log(`operator: creating ${N} LfmDeployments with ${WORKERS} workers...`);
    const t0 = performance.now();
    await pool(Array.from({ length: N }, (_, i) => i), WORKERS, async (i) => { await client.create(RESOURCES.lfmDeployment, resource(opNs, i)); });
    await waitFor('the operator to converge', 600_000, () => converged(client, opNs));
    const operatorSeconds = (performance.now() - t0) / 1000;
    const rss = peakRssMiB(operator.child.pid!);
    const stats = await readReconcileStats(operator);
    const writes = cp.readAudit().slice(auditStart).filter((e) => e.user === user && e.resource !== 'leases' && e.resource !== 'events').length;
    log(`operator converged in ${operatorSeconds.toFixed(1)} s`);
    // Let the follow-ups settle (the Deployment controller's status updates trigger one more status write each).
    await waitForQuiet(cp, 2000);

    // 2. A full resync: a fresh operator process lists everything and reconciles every resource.
    await stop(operator);
    const resyncStart = cp.readAudit().length;
    const again = startOperator(kubeconfig, opNs);
    await waitFor('the new operator to lead', 60_000, async () => {
      const lease = await client.get<KubeObject & { spec?: { holderIdentity?: string } }>(RESOURCES.lease, opNs, 'lfm-operator-leader').catch(() => undefined);
      return Boolean(lease?.spec?.holderIdentity);
    });
    // Every key has been reconciled once the events of the resync settle: wait for a quiet audit log.
    await waitForQuiet(cp, 3000);
    const resyncWrites = cp.readAudit().slice(resyncStart).filter((e) => e.user === user && e.resource !== 'leases' && e.resource !== 'events').length;
    await stop(again);

    // 3. The physical limit: the same writes straight to the API server, same client and workers.
    const directNs = 'bench-direct';
    log(`direct: the same ${N} resources, children and statuses, no operator...`);
    const t1 = performance.now();
    await pool(Array.from({ length: N }, (_, i) => i), WORKERS, async (i) => {
      const created = await client.create<KubeObject>(RESOURCES.lfmDeployment, resource(directNs, i));
      const lfmd = LfmDeployment.parse(created);
      const report = buildPlanReport(lfmd);
      const children = renderChildren(lfmd, report.plan);
      await client.apply(RESOURCES.deployment, children.deployment as KubeObject, FIELD_MANAGER, { force: true });
      await client.apply(RESOURCES.service, children.service as KubeObject, FIELD_MANAGER, { force: true });
      const status = computeStatus({ lfmd, report, pods: [] }, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
      await client.apply(RESOURCES.lfmDeployment, { apiVersion: created.apiVersion, kind: created.kind, metadata: { name: lfmd.metadata.name, namespace: directNs }, status }, FIELD_MANAGER, { force: true, subresource: 'status' });
    });
    await waitFor('the direct writes to be visible', 600_000, () => converged(client, directNs));
    const directSeconds = (performance.now() - t1) / 1000;

    const result = {
      resources: N, workers: WORKERS,
      operatorSeconds: Number(operatorSeconds.toFixed(2)), directSeconds: Number(directSeconds.toFixed(2)),
      ratio: Number((operatorSeconds / directSeconds).toFixed(2)),
      operatorPeakRssMiB: Number(rss.toFixed(1)),
      writesPerReconcile: Number((writes / N).toFixed(2)),
      writesOnResync: resyncWrites,
      reconcilesPerResource: Number((stats.reconciles / N).toFixed(2)),
      meanReconcileMs: Number(stats.meanMs.toFixed(1)),
    };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write([
        `resources                    ${N} (workers ${WORKERS})`,
        `operator: create to converged ${result.operatorSeconds} s`,
        `direct writes (the limit)     ${result.directSeconds} s`,
        `ratio                         ${result.ratio}   (target <= 2.0)`,
        `operator peak RSS             ${result.operatorPeakRssMiB} MiB   (target < 256)`,
        `writes per reconcile          ${result.writesPerReconcile}   (Deployment, Service, status)`,
        `writes on a full resync       ${result.writesOnResync}   (target 0)`,
        `reconciles per resource       ${result.reconcilesPerResource} (mean ${result.meanReconcileMs} ms)`,
        '',
      ].join('\n'));
    }
  } finally {
    await cp.stop();
  }
}

await main();
