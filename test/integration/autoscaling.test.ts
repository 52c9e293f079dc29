// Autoscaling end to end: the operator (with its autoscaler) against the real control plane, an engine stand-in per
// pod on the pod's loopback IP, a load generator in the test, delayed Ready (model loading) and graceful termination
// from the harness's kubelet emulation.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { V1Deployment } from '@kubernetes/client-node';
import type { LfmDeployment } from '../../src/api/v1alpha1.js';
import { RESOURCES, type KubeObject } from '../../src/kube/client.js';
import { lfmDeployment, type LfmDeploymentBuilder } from '../support/builders.js';
import { applyCrds, devCluster, eventually, kubeClient, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';
import { StandInFleet } from '../support/stand-in-fleet.js';
import { createOperatorIdentity, recordStatus, startOperator, stopAllOperators } from '../support/operator.js';

const ns = useNamespace('scale');
const client = () => kubeClient();
type Lfmd = LfmDeployment & KubeObject & { metadata: { generation: number; uid: string } };

/** The shared fleet (test/support/stand-in-fleet.ts) on this file's namespace, vLLM's metrics on port 8000. */
const newFleet = (name: string) => new StandInFleet({ name, namespace: ns.name });

const fleets: StandInFleet[] = [];
let kubeconfig: string;
let operatorUser: string;

beforeEach(async () => {
  await applyCrds();
  ({ kubeconfig, user: operatorUser } = await createOperatorIdentity(ns.name));
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

function autoscaled(name: string, policy: {
  minReplicas?: number; maxReplicas?: number; stabilizationWindowSeconds?: number; scaleDownDelaySeconds?: number;
  promptTokensPerSecondPerReplica?: number; generationTokensPerSecondPerReplica?: number;
} = {}) {
  const { promptTokensPerSecondPerReplica: p, generationTokensPerSecondPerReplica: g } = policy;
  const b = lfmDeployment(name).quantization('FP8').serving({ drainSeconds: 20 }).autoscaling({
    enabled: true, minReplicas: policy.minReplicas ?? 1, maxReplicas: policy.maxReplicas ?? 3, queueDepthPerReplica: 2,
    scrapeIntervalSeconds: 1, stabilizationWindowSeconds: policy.stabilizationWindowSeconds ?? 4, scaleDownDelaySeconds: policy.scaleDownDelaySeconds ?? 4,
    ...(p !== undefined && g !== undefined ? { promptTokensPerSecondPerReplica: p, generationTokensPerSecondPerReplica: g } : {}),
  }).podAnnotations({ 'devcluster.lfm-operator.io/ready-delay-seconds': '3' });
  return b;
}

describe('autoscaling on queue depth', () => {
  it('scales up under load, spreads it, drains the queue, and scales down after the delay without cutting a request', async () => {
    const op = startOperator({ kubeconfig, namespace: ns.name });
    await op.waitForLog('became leader');
    const fleet = newFleet('burst');
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
    const fleet = newFleet('quiet');
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
    const fleet = newFleet('short');
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
    // Ready may read False for the instant between a scale and the Deployment controller observing it (the child's
    // generation moves with spec.replicas); it must settle True while the extra pods wait for GPUs.
    await eventually(async () => expect((await getLfmd('short')).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True'), { timeoutMs: 15_000 });
    expect(l.status?.autoscaling?.reason).toMatch(/WaitingForGpus|ScaleUp/);
    expect(l.status?.readyReplicas).toBeLessThanOrEqual(2);
  });

  it('writes status.autoscaling only when it changes', async () => {
    const op = startOperator({ kubeconfig, namespace: ns.name });
    await op.waitForLog('became leader');
    const fleet = newFleet('still');
    fleets.push(fleet);
    fleet.start();
    await applyLfmd(autoscaled('still'));
    await eventually(async () => expect(fleet.ready.size).toBe(1), { timeoutMs: 30_000 });
    await eventually(async () => expect((await getLfmd('still')).status?.autoscaling?.reason).toMatch(/^Steady: .*1 ready, 0 starting/), { timeoutMs: 20_000 });
    const statusWrites = (since: number) => devCluster().readAudit().slice(since).filter((e) =>
      e.user === operatorUser && e.namespace === ns.name && e.name === 'still' && e.resource === 'lfmdeployments' && e.subresource === 'status' && e.fieldManager === 'lfm-autoscaler').length;
    // Idle and steady: a decision every second (scrapeIntervalSeconds 1) and nothing new to say, so no write.
    await new Promise((r) => setTimeout(r, 2000));
    const since = devCluster().readAudit().length;
    await new Promise((r) => setTimeout(r, 8000));
    expect(statusWrites(since), 'status.autoscaling writes over 8 idle seconds').toBe(0);
    // The loop still decides: load shows up in status within seconds.
    fleet.generator.ratePerSecond = 2;
    await eventually(async () => expect((await getLfmd('still')).status?.autoscaling?.tokensPerSecond).toBeGreaterThan(0), { timeoutMs: 20_000 });
    expect(statusWrites(since)).toBeGreaterThan(0);
  });

  it('a new leader after a kill during the cool-down does not scale down early', async () => {
    const a = startOperator({ kubeconfig, namespace: ns.name, identity: 'leader-a' });
    await a.waitForLog('became leader');
    const b = startOperator({ kubeconfig, namespace: ns.name, identity: 'leader-b' });
    await b.waitForLog('caches synced');
    const fleet = newFleet('handover');
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

  it('a standing backlog holds the count', { timeout: 240_000 }, async () => {
    // A stand-in replica serves 4 requests/s (4 slots x 1 s) of 1000 prompt + 200 generated tokens: 4000 + 800 tokens/s.
    // Targets at 0.8 of that (6400 and 1280 tokens/s, a full replica = 1.25 targets): one request is 0.3125
    // replica-seconds, and tokens/s / 3840 replicas of load.
    const P = 6400;
    const G = 1280;
    const replicasOfThroughput = (tokensPerSecond: number) => (tokensPerSecond * (1000 / 1200)) / P + (tokensPerSecond * (200 / 1200)) / G;
    const HOLD_S = 20;
    const op = startOperator({ kubeconfig, namespace: ns.name });
    await op.waitForLog('became leader');
    const fleet = newFleet('backlog');
    fleets.push(fleet);
    fleet.start();
    await applyLfmd(autoscaled('backlog', { maxReplicas: 3, stabilizationWindowSeconds: 4, scaleDownDelaySeconds: HOLD_S, promptTokensPerSecondPerReplica: P, generationTokensPerSecondPerReplica: G }));
    await eventually(async () => expect(fleet.ready.size).toBe(1), { timeoutMs: 30_000 });

    // A short burst (8 requests/s, 2.5 replicas of load) scales to 3; then 3 requests/s (0.94 of a replica), which the
    // 3 replicas serve with short queues once the burst's queue has drained.
    fleet.generator.ratePerSecond = 8;
    await eventually(async () => expect(await replicasOf('backlog')).toBe(3), { timeoutMs: 30_000 });
    fleet.generator.ratePerSecond = 3;
    await eventually(() => {
      expect(fleet.ready.size).toBe(3);
      expect(fleet.generator.outstanding()).toBeLessThan(8);
    }, { timeoutMs: 60_000 });
    await eventually(async () => expect((await getLfmd('backlog')).status?.autoscaling?.desiredReplicas).toBe(3));
    const readyAtStart = fleet.ready.size;

    // The standing backlog: 4 waiting requests on every Ready pod (2 x queueDepthPerReplica), constant, while the
    // token throughput alone needs at most 2 replicas. It must hold the count for well past the 20 s hold.
    fleet.setExtraWaiting(4);
    const seenAt = await eventually(async () => {
      expect((await getLfmd('backlog')).status?.autoscaling?.queueDepth).toBeGreaterThanOrEqual(4 * readyAtStart);
      return Date.now();
    }, { timeoutMs: 15_000, intervalMs: 100 });
    const standMs = (HOLD_S + 15) * 1000;
    let minDesired = Infinity;
    let minReplicas = Infinity;
    const timeline: string[] = [];
    let last = '';
    let lastStatus: NonNullable<Lfmd['status']>['autoscaling'];
    // Every observation counts: the wait ends after standMs of them (or at the first one below the Ready count).
    await eventually(async () => {
      const a = (await getLfmd('backlog')).status?.autoscaling;
      const replicas = (await replicasOf('backlog')) ?? 0;
      const desired = a?.desiredReplicas ?? 0;
      lastStatus = a;
      minDesired = Math.min(minDesired, desired);
      minReplicas = Math.min(minReplicas, replicas);
      const seen = `desired ${desired}, spec.replicas ${replicas}, queueDepth ${a?.queueDepth}, ${a?.tokensPerSecond} tokens/s`;
      if (seen.replace(/, \d+ tokens\/s$/, '') !== last.replace(/, \d+ tokens\/s$/, '')) timeline.push(`+${((Date.now() - seenAt) / 1000).toFixed(1)}s ${seen}: ${a?.reason}`);
      last = seen;
      if (Math.min(minDesired, minReplicas) < readyAtStart) return;
      expect(Date.now() - seenAt).toBeGreaterThanOrEqual(standMs);
    }, { timeoutMs: standMs + 30_000, intervalMs: 250 });
    timeline.push(`+${((Date.now() - seenAt) / 1000).toFixed(1)}s (last) ${last}: ${lastStatus?.reason}`);
    const observed = `observed over the standing backlog:\n${timeline.join('\n')}`;
    expect(minDesired, `lowest status.autoscaling.desiredReplicas; ${observed}`).toBeGreaterThanOrEqual(readyAtStart);
    expect(minReplicas, `lowest Deployment spec.replicas; ${observed}`).toBeGreaterThanOrEqual(readyAtStart);
    // The scenario is what it claims: the queue still stood at the end and the throughput alone needed fewer replicas.
    expect(lastStatus?.queueDepth, observed).toBeGreaterThan(2 * readyAtStart);
    expect(replicasOfThroughput(lastStatus?.tokensPerSecond ?? Infinity), observed).toBeLessThanOrEqual(readyAtStart - 1);

    // The backlog clears and the load stops: now the count goes down.
    fleet.setExtraWaiting(0);
    fleet.generator.ratePerSecond = 0;
    await eventually(async () => {
      expect((await getLfmd('backlog')).status?.autoscaling?.desiredReplicas).toBeLessThan(readyAtStart);
      expect(await replicasOf('backlog')).toBeLessThan(readyAtStart);
    }, { timeoutMs: 90_000, intervalMs: 500 });
  });
});
