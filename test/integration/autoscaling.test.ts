// Autoscaling end to end: the operator (with its autoscaler) against the real control plane, an engine stand-in per
// pod on the pod's loopback IP, a load generator in the test, delayed Ready (model loading) and graceful termination
// from the harness's kubelet emulation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { LfmDeployment } from '../../src/api/v1alpha1.js';
import { RESOURCES, type KubeObject } from '../../src/kube/client.js';
import { lfmDeployment, type LfmDeploymentBuilder } from '../support/builders.js';
import { applyCrds, devCluster, eventually, kubeClient, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';
import { EngineStandIn, LoadGenerator } from '../support/engine-stand-in.js';
import { createOperatorIdentity, recordStatus, startOperator, stopAllOperators } from '../support/operator.js';

const ns = useNamespace('scale');
const client = () => kubeClient();
type Lfmd = LfmDeployment & KubeObject & { metadata: { generation: number; uid: string } };

/** Starts a stand-in for every pod of `name` that has an IP, closes those whose pod is gone, tracks readiness. */
class StandInFleet {
  readonly standIns = new Map<string, EngineStandIn>();
  readonly ready = new Set<string>();
  readonly generator: LoadGenerator;
  private timer?: NodeJS.Timeout;
  private unregister = new Map<string, () => void>();
  private busy = false;

  constructor(private readonly name: string, private readonly slots = 4, private readonly serviceSeconds = 1) {
    this.generator = new LoadGenerator(() => [...this.standIns.entries()].filter(([uid]) => this.ready.has(uid)).map(([, s]) => s));
  }

  start(): void {
    this.generator.start();
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.sync().catch(() => undefined).finally(() => { this.busy = false; });
    }, 200);
  }

  private async sync(): Promise<void> {
    const pods = (await client().list<V1Pod & KubeObject>(RESOURCES.pod, { namespace: ns.name, labelSelector: `serving.lfm-operator.io/deployment=${this.name}` })).items;
    const seen = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata!.uid!;
      seen.add(uid);
      const ip = pod.status?.podIP;
      if (ip && !this.standIns.has(uid) && !pod.metadata?.deletionTimestamp) {
        const s = new EngineStandIn(pod.metadata!.name!, ip, 8000, { slots: this.slots, serviceSeconds: this.serviceSeconds, promptTokens: 1000, outputTokens: 200, servedName: this.name });
        this.standIns.set(uid, s);
        await s.start();
        this.unregister.set(uid, devCluster().registerStandIn(ip, `${s.address}/drain`));
      }
      const isReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !pod.metadata?.deletionTimestamp;
      if (isReady) this.ready.add(uid);
      else this.ready.delete(uid);
    }
    for (const [uid, s] of this.standIns) {
      if (seen.has(uid) || s.closed) continue;
      this.ready.delete(uid);
      this.generator.cut += await s.close();
      this.unregister.get(uid)?.();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.generator.stop();
    for (const s of this.standIns.values()) if (!s.closed) await s.close();
  }
}

const fleets: StandInFleet[] = [];
let kubeconfig: string;

beforeEach(async () => {
  await applyCrds();
  kubeconfig = (await createOperatorIdentity(ns.name)).kubeconfig;
});
afterEach(async () => {
  await stopAllOperators();
  for (const f of fleets.splice(0)) await f.stop();
});

async function applyLfmd(b: LfmDeploymentBuilder): Promise<void> {
  await client().apply(RESOURCES.lfmDeployment, b.namespace(ns.name).input() as unknown as KubeObject, TEST_FIELD_MANAGER);
}
const getLfmd = (name: string) => client().get<Lfmd>(RESOURCES.lfmDeployment, ns.name, name);
const replicasOf = async (name: string) => (await client().get<V1Deployment & KubeObject>(RESOURCES.deployment, ns.name, name)).spec?.replicas;

function autoscaled(name: string, policy: { minReplicas?: number; maxReplicas?: number; stabilizationWindowSeconds?: number; scaleDownDelaySeconds?: number } = {}) {
  const b = lfmDeployment(name).quantization('FP8').serving({ drainSeconds: 20 }).autoscaling({
    enabled: true, minReplicas: policy.minReplicas ?? 1, maxReplicas: policy.maxReplicas ?? 3, queueDepthPerReplica: 2,
    scrapeIntervalSeconds: 1, stabilizationWindowSeconds: policy.stabilizationWindowSeconds ?? 4, scaleDownDelaySeconds: policy.scaleDownDelaySeconds ?? 4,
  }).podAnnotations({ 'devcluster.lfm-operator.io/ready-delay-seconds': '3' });
  return b;
}

describe('autoscaling on queue depth', () => {
  it('scales up under load, spreads it, drains the queue, and scales down after the delay without cutting a request', async () => {
    const op = startOperator({ kubeconfig, namespace: ns.name });
    await op.waitForLog('became leader');
    const fleet = new StandInFleet('burst');
    fleets.push(fleet);
    fleet.start();
    await applyLfmd(autoscaled('burst'));
    await eventually(async () => expect(fleet.ready.size).toBe(1), { timeoutMs: 30_000 });

    fleet.generator.ratePerSecond = 10;
    await eventually(async () => expect(await replicasOf('burst')).toBe(3), { timeoutMs: 30_000 });
    await eventually(async () => expect(fleet.ready.size).toBe(3), { timeoutMs: 30_000 });
    const scaled = await eventually(async () => {
      const l = await getLfmd('burst');
      expect(l.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(l.status?.autoscaling?.desiredReplicas).toBe(3);
      return l;
    });
    recordStatus('scaled-autoscaling', scaled);
    // The load spreads over every replica and the queue drains (3 x 4 slots per second > 10 per second).
    await eventually(() => {
      for (const s of fleet.standIns.values()) if (!s.closed) expect(s.generationTotal, s.podName).toBeGreaterThan(0);
      expect(fleet.generator.outstanding()).toBeLessThan(12);
    }, { timeoutMs: 30_000 });

    fleet.generator.ratePerSecond = 0;
    await eventually(async () => expect(await replicasOf('burst')).toBe(1), { timeoutMs: 60_000 });
    await eventually(() => expect([...fleet.standIns.values()].filter((s) => !s.closed)).toHaveLength(1), { timeoutMs: 60_000 });
    expect(fleet.generator.cut).toBe(0);
    expect(fleet.generator.completed).toBeGreaterThan(50);
    const l = await getLfmd('burst');
    expect(l.status?.autoscaling?.reason).toBeDefined();
  });

  it('does not scale down when a stand-in stops answering', async () => {
    const op = startOperator({ kubeconfig, namespace: ns.name });
    await op.waitForLog('became leader');
    const fleet = new StandInFleet('quiet');
    fleets.push(fleet);
    fleet.start();
    await applyLfmd(autoscaled('quiet', { maxReplicas: 2 }));
    fleet.generator.ratePerSecond = 10;
    await eventually(async () => expect(fleet.ready.size).toBe(2), { timeoutMs: 40_000 });
    // One engine hangs while the load is still there, then the load stops: the other replica is idle.
    for (const s of fleet.standIns.values()) if (!s.closed) { s.silent = true; break; }
    fleet.generator.ratePerSecond = 0;
    await eventually(() => expect(fleet.generator.outstanding()).toBe(0), { timeoutMs: 30_000 });
    // Decisions keep coming (one per second) while the silent pod holds the count: no scale-down, even three times
    // past the 4 s hold. Every observation must show 2 replicas; the wait ends only after 12 s of them.
    const silencedAt = Date.now();
    await eventually(async () => {
      // Once scaled down there is no load to scale up again, so a drop fails the wait.
      expect(await replicasOf('quiet'), 'replicas while a pod is silent').toBe(2);
      const a = (await getLfmd('quiet')).status?.autoscaling;
      expect(a?.reason).toMatch(/^MetricsMissing/);
      expect(Date.now() - silencedAt).toBeGreaterThanOrEqual(12_000);
    }, { timeoutMs: 40_000, intervalMs: 500 });
    expect(await replicasOf('quiet')).toBe(2);
  });

  it('keeps pods that wait for GPUs requested but never counts them as capacity, and says why', async () => {
    const op = startOperator({ kubeconfig, namespace: ns.name });
    await op.waitForLog('became leader');
    const fleet = new StandInFleet('short');
    fleets.push(fleet);
    fleet.start();
    // Two L4 nodes, one GPU each: at most two replicas can run.
    await applyLfmd(autoscaled('short', { maxReplicas: 4 }).model('hf://LiquidAI/LFM2-8B-A1B').gpu('l4-24gb'));
    await eventually(async () => expect(fleet.ready.size).toBe(1), { timeoutMs: 30_000 });
    fleet.generator.ratePerSecond = 20;
    const l = await eventually(async () => {
      const r = await getLfmd('short');
      const sched = r.status?.conditions?.find((c) => c.type === 'Scheduled');
      expect(sched?.status).toBe('False');
      expect(sched?.reason).toBe('InsufficientGPU');
      expect(await replicasOf('short')).toBe(4);
      return r;
    }, { timeoutMs: 60_000 });
    expect(l.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(l.status?.autoscaling?.reason).toMatch(/WaitingForGpus|ScaleUp/);
    expect(l.status?.readyReplicas).toBeLessThanOrEqual(2);
  });

  it('a new leader after a kill during the cool-down does not scale down early', async () => {
    const a = startOperator({ kubeconfig, namespace: ns.name, identity: 'leader-a' });
    await a.waitForLog('became leader');
    const b = startOperator({ kubeconfig, namespace: ns.name, identity: 'leader-b' });
    await b.waitForLog('caches synced');
    const fleet = new StandInFleet('handover');
    fleets.push(fleet);
    fleet.start();
    await applyLfmd(autoscaled('handover', { maxReplicas: 2, stabilizationWindowSeconds: 20, scaleDownDelaySeconds: 20 }));
    fleet.generator.ratePerSecond = 10;
    await eventually(async () => expect(fleet.ready.size).toBe(2), { timeoutMs: 40_000 });
    fleet.generator.ratePerSecond = 0;
    await eventually(() => expect(fleet.generator.outstanding()).toBe(0), { timeoutMs: 30_000 });
    const idleSince = Date.now();
    await a.kill();
    await b.waitForLog('became leader', 30_000);
    // The new leader continues from status.autoscaling: the scale-down waits for the full 20 s hold after the load
    // stopped (and a full window of its own fresh samples), never earlier.
    await eventually(async () => expect(await replicasOf('handover')).toBe(1), { timeoutMs: 90_000, intervalMs: 250 });
    expect(Date.now() - idleSince).toBeGreaterThanOrEqual(20_000);
    expect(fleet.generator.cut).toBe(0);
  });
});
