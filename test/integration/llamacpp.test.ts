// llama.cpp on the CPU pool, end to end against the real control plane: the pool itself (the scheduler fits 30 GiB
// replicas into the nodes' allocatable memory), the operator placing LFM2-24B-A2B Q4_0 on CPU-pool nodes with the
// plan's memory, and the autoscaler scaling it on stand-ins that serve llama-server's exact, unlabelled /metrics.
import type { V1Deployment, V1Node, V1Pod } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GPU_RESOURCE } from '../../src/catalog/gpus.js';
import { ENGINES } from '../../src/engines/index.js';
import type { LfmDeployment, LfmDeploymentInput } from '../../src/api/v1alpha1.js';
import { RESOURCES, type KubeObject } from '../../src/kube/client.js';
import { CPU_POOL, CPU_POOL_TOLERATION, POOL_LABEL } from '../devcluster/nodes.js';
import { llamaCppCpuDeployment } from '../support/builders.js';
import { applyCrds, coreApi, eventually, kubeClient, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';
import { createOperatorIdentity, startOperator, stopAllOperators } from '../support/operator.js';
import { StandInFleet } from '../support/stand-in-fleet.js';

const ns = useNamespace('llama');
const client = () => kubeClient();
type Lfmd = LfmDeployment & KubeObject;

const GiB = 2 ** 30;
const UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: GiB, Ti: 2 ** 40 };
/** Bytes of a memory quantity (12Gi, 30720Mi, 3.2e10, 32212254720). */
function parseMemory(q: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?(?:[eE]\d+)?)([kMGT]i?)?$/.exec(q ?? '');
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  return Number(m[1]) * UNITS[m[2] ?? '']!;
}

/** A pod of `memory`; `pool` makes it select and tolerate the CPU pool, as a llama.cpp replica there does. */
function renderMemoryPod(name: string, memory: string, pool: boolean): V1Pod {
  return {
    metadata: { name },
    spec: {
      containers: [{ name: 'engine', image: 'llama.cpp:test', resources: { requests: { memory, cpu: '8' }, limits: { memory, cpu: '8' } } }],
      ...(pool ? { nodeSelector: { [POOL_LABEL]: CPU_POOL }, tolerations: [{ ...CPU_POOL_TOLERATION }] } : {}),
    },
  };
}

const scheduledNode = (p: V1Pod): string | undefined => p.spec?.nodeName;
const unschedulable = (p: V1Pod): string | undefined => {
  const c = p.status?.conditions?.find((x) => x.type === 'PodScheduled');
  return c?.status === 'False' ? c.message : undefined;
};

describe('the CPU pool of the dev control plane', () => {
  it('holds one 30 GiB replica per 32 GiB node and two on the 64 GiB one; pods that do not tolerate it stay on cpu-0', async () => {
    const core = coreApi();
    const pool = (await core.listNode({ labelSelector: `${POOL_LABEL}=${CPU_POOL}` })).items;
    expect(pool.map((n) => [n.metadata!.name, n.status?.capacity?.['memory'], n.status?.allocatable?.['memory'], n.status?.capacity?.[GPU_RESOURCE]]).sort()).toEqual([
      ['cpu-32g-0', '32Gi', '31644Mi', undefined], ['cpu-32g-1', '32Gi', '31644Mi', undefined], ['cpu-64g-0', '64Gi', '64412Mi', undefined],
    ]);
    for (let i = 0; i < 5; i++) await core.createNamespacedPod({ namespace: ns.name, body: renderMemoryPod(`replica-${i}`, '30Gi', true) });
    await core.createNamespacedPod({ namespace: ns.name, body: renderMemoryPod('web', '1Gi', false) });
    const pods = await eventually(async () => {
      const list = (await core.listNamespacedPod({ namespace: ns.name })).items;
      const byName = new Map(list.map((p) => [p.metadata!.name!, p]));
      const replicas = [0, 1, 2, 3, 4].map((i) => byName.get(`replica-${i}`)!);
      expect(replicas.filter(scheduledNode)).toHaveLength(4);
      expect(replicas.filter(unschedulable)).toHaveLength(1);
      expect(scheduledNode(byName.get('web')!)).toBeDefined();
      return { replicas, web: byName.get('web')! };
    });
    const placed = pods.replicas.map(scheduledNode).filter((n): n is string => !!n).sort();
    expect(placed).toEqual(['cpu-32g-0', 'cpu-32g-1', 'cpu-64g-0', 'cpu-64g-0']);
    expect(unschedulable(pods.replicas.find((p) => !scheduledNode(p))!)).toContain('Insufficient memory');
    // The pool's taint keeps a pod that does not tolerate it on the untainted cpu-0 (GPU nodes are tainted too).
    expect(scheduledNode(pods.web)).toBe('cpu-0');
  });
});

const EXAMPLE = new URL('../../examples/lfm2-24b-a2b-llamacpp-cpu.yaml', import.meta.url).pathname;

/**
 * The CPU example, or the same resource from the builder: LFM2-24B-A2B Q4_0 from hf://LiquidAI/LFM2-24B-A2B-GGUF,
 * spec.cpu { memoryGiB: 30, cores: 8 }, no spec.gpu; placed on the dedicated CPU pool (its label and toleration, added
 * when the example lacks them) as its user would.
 */
function cpuExample(name: string): LfmDeploymentInput {
  const doc = existsSync(EXAMPLE)
    ? parse(readFileSync(EXAMPLE, 'utf8')) as LfmDeploymentInput
    : llamaCppCpuDeployment(name).input();
  doc.metadata = { ...doc.metadata, name, namespace: ns.name };
  const placement = doc.spec.placement ?? {};
  const tolerations = placement.tolerations ?? [];
  doc.spec.placement = {
    ...placement,
    nodeSelector: { ...placement.nodeSelector, [POOL_LABEL]: CPU_POOL },
    tolerations: tolerations.some((t) => t.key === POOL_LABEL) ? tolerations : [...tolerations, { ...CPU_POOL_TOLERATION }],
  };
  return doc;
}

const applyLfmd = (doc: LfmDeploymentInput) => client().apply(RESOURCES.lfmDeployment, doc as unknown as KubeObject, TEST_FIELD_MANAGER);
const getLfmd = (name: string) => client().get<Lfmd>(RESOURCES.lfmDeployment, ns.name, name);
const getDeployment = (name: string) => client().get<V1Deployment & KubeObject>(RESOURCES.deployment, ns.name, name);
const listPods = async (name: string) =>
  (await client().list<V1Pod & KubeObject>(RESOURCES.pod, { namespace: ns.name, labelSelector: `serving.lfm-operator.io/deployment=${name}` })).items;

describe('LlamaCpp on CPU nodes', () => {
  const fleets: StandInFleet[] = [];
  let kubeconfig: string;

  beforeEach(async () => {
    await applyCrds();
    ({ kubeconfig } = await createOperatorIdentity(ns.name));
  });
  afterEach(async () => {
    await stopAllOperators();
    for (const f of fleets.splice(0)) await f.stop();
  });

  it('the CPU example runs on CPU-pool nodes only, its pod requesting and limited to the plan\'s memory, no GPU', async () => {
    const op = startOperator({ kubeconfig, namespace: ns.name });
    await op.waitForLog('became leader');
    await applyLfmd(cpuExample('cpu'));

    const l = await eventually(async () => {
      const r = await getLfmd('cpu');
      expect(r.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(r.status?.plan?.fits).toBe(true);
      return r;
    }, { timeoutMs: 60_000 });
    const plan = l.status!.plan!;
    expect(plan.gpusPerReplica).toBe(0);
    expect(plan.memoryGiBPerReplica).toBeGreaterThan(12.54);
    expect(plan.memoryGiBPerReplica).toBeLessThanOrEqual(30);

    const template = (await getDeployment('cpu')).spec!.template.spec!;
    const container = template.containers[0]!;
    const { requests = {}, limits = {} } = container.resources ?? {};
    // The quantity may be written in MiB (rounded up): equal to the plan's GiB within that rounding.
    for (const [what, q] of [['request', requests['memory']], ['limit', limits['memory']]] as const) {
      const bytes = parseMemory(q);
      expect(bytes, `memory ${what} ${q} vs plan ${plan.memoryGiBPerReplica} GiB`).toBeGreaterThanOrEqual(Math.floor(plan.memoryGiBPerReplica! * GiB));
      expect(bytes, `memory ${what} ${q} vs plan ${plan.memoryGiBPerReplica} GiB`).toBeLessThan(plan.memoryGiBPerReplica! * GiB + 2 ** 20);
    }
    expect([requests['cpu'], limits['cpu']], 'spec.cpu.cores as the cpu request and limit').toEqual(['8', '8']);
    expect(requests[GPU_RESOURCE]).toBeUndefined();
    expect(limits[GPU_RESOURCE]).toBeUndefined();
    expect(template.tolerations, 'the pool\'s toleration, no GPU toleration').toEqual([CPU_POOL_TOLERATION]);
    expect(template.nodeSelector).toMatchObject({ [POOL_LABEL]: CPU_POOL });

    const nodes = new Map((await coreApi().listNode()).items.map((n): [string, V1Node] => [n.metadata!.name!, n]));
    const pods = await eventually(async () => {
      const list = await listPods('cpu');
      expect(list.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))).toHaveLength(1);
      return list;
    });
    for (const p of pods) {
      const node = nodes.get(p.spec!.nodeName!)!;
      expect(node.metadata?.labels?.[POOL_LABEL], `${p.metadata!.name} on ${node.metadata!.name}`).toBe(CPU_POOL);
      expect(node.status?.capacity?.[GPU_RESOURCE], 'a node without GPUs').toBeUndefined();
      expect(parseMemory(node.status?.allocatable?.['memory'])).toBeGreaterThanOrEqual(parseMemory(p.spec!.containers[0]!.resources?.requests?.['memory']));
    }
  });

  it('the autoscaler scales it 1 -> 2 on llama-server\'s queue depth (requests_deferred) and back down after the load', async () => {
    const op = startOperator({ kubeconfig, namespace: ns.name });
    await op.waitForLog('became leader');
    // Stand-ins with llama-server's exact text on the engine's port: 4 slots of 1 s each, 4 requests/s per replica.
    const fleet = new StandInFleet({ name: 'scaled', namespace: ns.name, engine: 'llamacpp', port: ENGINES.LlamaCpp.port, slots: 4, serviceSeconds: 1 });
    fleets.push(fleet);
    fleet.start();
    const doc = cpuExample('scaled');
    doc.spec.autoscaling = {
      enabled: true, minReplicas: 1, maxReplicas: 2, queueDepthPerReplica: 2,
      scrapeIntervalSeconds: 1, stabilizationWindowSeconds: 4, scaleDownDelaySeconds: 4,
    };
    doc.spec.serving = { ...doc.spec.serving, drainSeconds: 20 };
    doc.spec.podMetadata = { ...doc.spec.podMetadata, annotations: { ...doc.spec.podMetadata?.annotations, 'devcluster.lfm-operator.io/ready-delay-seconds': '3' } };
    await applyLfmd(doc);
    await eventually(() => expect(fleet.ready.size).toBe(1), { timeoutMs: 30_000 });

    // 10 requests/s on one replica's 4: requests_deferred grows past queueDepthPerReplica.
    fleet.generator.ratePerSecond = 10;
    let deepest = 0;
    await eventually(async () => {
      deepest = Math.max(deepest, (await getLfmd('scaled')).status?.autoscaling?.queueDepth ?? 0);
      expect((await getDeployment('scaled')).spec?.replicas).toBe(2);
    }, { timeoutMs: 30_000 });
    await eventually(async () => {
      deepest = Math.max(deepest, (await getLfmd('scaled')).status?.autoscaling?.queueDepth ?? 0);
      expect(deepest, 'status.autoscaling.queueDepth (the stand-ins\' llamacpp:requests_deferred)').toBeGreaterThan(2);
    }, { timeoutMs: 10_000, intervalMs: 100 });
    await eventually(() => expect(fleet.ready.size).toBe(2), { timeoutMs: 30_000 });
    await eventually(async () => {
      const a = (await getLfmd('scaled')).status?.autoscaling;
      expect(a?.desiredReplicas).toBe(2);
      // Throughput comes from the unlabelled token counters' rates: the served-name filter kept them.
      expect(a?.tokensPerSecond).toBeGreaterThan(0);
    });
    for (const s of fleet.open()) expect(s.metrics(), s.podName).not.toContain('{');
    const nodes = new Map((await coreApi().listNode()).items.map((n): [string, V1Node] => [n.metadata!.name!, n]));
    for (const p of await listPods('scaled')) expect(nodes.get(p.spec!.nodeName!)?.metadata?.labels?.[POOL_LABEL], p.metadata!.name).toBe(CPU_POOL);

    fleet.generator.ratePerSecond = 0;
    await eventually(async () => expect((await getDeployment('scaled')).spec?.replicas).toBe(1), { timeoutMs: 60_000 });
    await eventually(() => expect(fleet.open()).toHaveLength(1), { timeoutMs: 60_000 });
    expect(fleet.generator.cut).toBe(0);
    expect(fleet.generator.completed).toBeGreaterThan(20);
  });
});
