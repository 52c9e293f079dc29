// Scale to zero end to end (issue 13): the operator (with its autoscaler) and real activator processes against the
// real control plane. Activator "pods" are KWOK pods with the activator labels whose loopback IP the activator
// process listens on; engine pods get stand-ins that answer completions (test/support/serving-fleet.ts), Ready a few
// seconds after they start (the harness's ready delay: model loading). Requests go to an activator's pod IP with the
// Host header of the deployment's Service, as the Service's EndpointSlice would send them at zero.
import { setTimeout as delay } from 'node:timers/promises';
import type { V1Deployment, V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LfmDeployment } from '../../src/api/v1alpha1.js';
import { RESOURCES, type KubeObject } from '../../src/kube/client.js';
import { ACTIVATOR_PORT, createActivatorIdentity, createActivatorPod, sendRequest, startActivator, stopAllActivators, type ActivatorPod, type ActivatorProcess, type RequestOutcome } from '../support/activator.js';
import { lfmDeployment } from '../support/builders.js';
import { applyCrds, devCluster, eventually, kubeClient, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';
import { createOperatorIdentity, recordStatus, startOperator, stopAllOperators, type OperatorProcess } from '../support/operator.js';
import { ServingFleet } from '../support/serving-fleet.js';

const ns = useNamespace('zero');
const client = () => kubeClient();
type Lfmd = LfmDeployment & KubeObject;
type Condition = NonNullable<NonNullable<Lfmd['status']>['conditions']>[number];

const ENGINE_PORT = 8000;
const READY_DELAY = 'devcluster.lfm-operator.io/ready-delay-seconds';

let operatorKubeconfig: string;
let operatorUser: string;
let activatorKubeconfig: string;
let operator: OperatorProcess | undefined;
let activatorProcs: ActivatorProcess[] = [];
const fleets: ServingFleet[] = [];
const pollers: Poller<unknown>[] = [];

beforeEach(async () => {
  await applyCrds();
  ({ kubeconfig: operatorKubeconfig, user: operatorUser } = await createOperatorIdentity(ns.name));
  ({ kubeconfig: activatorKubeconfig } = await createActivatorIdentity(ns.name));
});
afterEach(async (ctx) => {
  for (const p of pollers.splice(0)) await p.stop();
  if (ctx.task.result?.state === 'fail') {
    const info = (lines: string[], n: number) => lines.filter((l) => !l.startsWith('{"level":20')).slice(-n).join('\n');
    if (operator) console.log(`operator log (last 60 lines at info and above):\n${info(operator.logs, 60)}`);
    for (const a of activatorProcs) console.log(`activator ${a.pod} log (last 30 lines at info and above):\n${info(a.logs, 30)}`);
  }
  operator = undefined;
  activatorProcs = [];
  await stopAllActivators();
  await stopAllOperators();
  for (const f of fleets.splice(0)) await f.stop();
});

interface ZeroOptions {
  idleSeconds?: number;
  maxHeldRequests?: number;
  maxHoldSeconds?: number;
  queueDepthPerReplica?: number;
  maxReplicas?: number;
  /** Seconds from an engine pod's start to Ready (model loading). Default 3. */
  readyDelaySeconds?: number;
}

function zeroDeployment(name: string, o: ZeroOptions = {}) {
  return lfmDeployment(name).namespace(ns.name).quantization('FP8').serving({ drainSeconds: 20 }).autoscaling({
    enabled: true, minReplicas: 0, maxReplicas: o.maxReplicas ?? 2, queueDepthPerReplica: o.queueDepthPerReplica ?? 2,
    scrapeIntervalSeconds: 1, stabilizationWindowSeconds: 4, scaleDownDelaySeconds: 4,
    scaleToZero: { idleSeconds: o.idleSeconds ?? 5, maxHeldRequests: o.maxHeldRequests ?? 10, maxHoldSeconds: o.maxHoldSeconds ?? 30 },
  }).podAnnotations({ [READY_DELAY]: String(o.readyDelaySeconds ?? 3) });
}

const hostOf = (name: string) => `${name}.${ns.name}.svc.cluster.local:${ENGINE_PORT}`;
const getLfmd = (name: string) => client().get<Lfmd>(RESOURCES.lfmDeployment, ns.name, name);
const replicasOf = async (name: string) => (await client().get<V1Deployment & KubeObject>(RESOURCES.deployment, ns.name, name)).spec?.replicas;
const readyOf = (l: Lfmd): Condition | undefined => l.status?.conditions?.find((c) => c.type === 'Ready');
const entryOf = (l: Lfmd, pod: string) => l.status?.activation?.activators?.find((a) => a.name === pod);

async function sliceOf(name: string): Promise<V1EndpointSlice> {
  const slices = (await client().list<V1EndpointSlice & KubeObject>(RESOURCES.endpointSlice, { namespace: ns.name, labelSelector: `kubernetes.io/service-name=${name}` })).items;
  expect(slices, `EndpointSlices of Service ${name}`).toHaveLength(1);
  return slices[0]!;
}
// The dev control plane's pod IPs are loopback addresses, which the API server refuses in an EndpointSlice: there the
// slice names the pods it points at in its annotations (real pod IPs are listed as addresses too; unit tests).
const targetOf = (slice: V1EndpointSlice) => slice.metadata?.annotations?.['serving.lfm-operator.io/endpoints'];
const podsOf = (slice: V1EndpointSlice) => (slice.metadata?.annotations?.['serving.lfm-operator.io/endpoint-pods'] ?? '').split(',').filter(Boolean).sort();
const portsOf = (slice: V1EndpointSlice) => (slice.ports ?? []).map((p) => p.port);

/** Samples read() every intervalMs on the test's clock until stopped (failed reads are skipped). */
interface Poller<T> { readonly samples: { t: number; v: T }[]; stop(): Promise<void> }
function poll<T>(intervalMs: number, read: () => Promise<T>): Poller<T> {
  const samples: { t: number; v: T }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const v = await read();
        samples.push({ t: Date.now(), v });
      } catch {
        // a failed read is no sample
      }
      await delay(intervalMs);
    }
  })();
  const p: Poller<T> = { samples, stop: async () => { stopped = true; await loop; } };
  pollers.push(p as Poller<unknown>);
  return p;
}

/** The operator (pointing at this namespace's activator pods) and one activator process per name, Ready. */
async function startStack(activatorNames: string[]): Promise<{ op: OperatorProcess; activators: (ActivatorPod & { proc: ActivatorProcess; address: string })[] }> {
  const op = startOperator({ kubeconfig: operatorKubeconfig, namespace: ns.name, extraArgs: ['--activator-namespace', ns.name] });
  operator = op;
  const activators = await Promise.all(activatorNames.map(async (name) => {
    const pod = await createActivatorPod(ns.name, name);
    const address = `${pod.ip}:${ACTIVATOR_PORT}`;
    const proc = startActivator({ kubeconfig: activatorKubeconfig, pod: pod.name, listen: address });
    activatorProcs.push(proc);
    await proc.waitReady();
    return { ...pod, proc, address };
  }));
  await op.waitForLog('became leader');
  return { op, activators };
}

/** Creates the deployment and its stand-in fleet; resolves once its Deployment is at zero replicas. */
async function createAtZero(name: string, o: ZeroOptions): Promise<ServingFleet> {
  const fleet = new ServingFleet({ name, namespace: ns.name });
  fleets.push(fleet);
  fleet.start();
  await client().apply(RESOURCES.lfmDeployment, zeroDeployment(name, o).input() as unknown as KubeObject, TEST_FIELD_MANAGER);
  await eventually(async () => {
    expect(await replicasOf(name), 'Deployment spec.replicas').toBe(0);
    await client().get(RESOURCES.service, ns.name, name);
  }, { timeoutMs: 60_000, intervalMs: 250 });
  return fleet;
}

/** Ready is True with reason ScaledToZero and the Service's EndpointSlice points at exactly the activators, on their port. */
async function expectAtZero(name: string, activatorPods: string[]): Promise<void> {
  const ready = readyOf(await getLfmd(name));
  expect(ready?.status, `Ready: ${ready?.reason}: ${ready?.message}`).toBe('True');
  expect(ready?.reason, `Ready: ${ready?.reason}: ${ready?.message}`).toBe('ScaledToZero');
  const slice = await sliceOf(name);
  expect(targetOf(slice)).toBe('activator');
  expect(podsOf(slice)).toEqual(activatorPods.map((p) => `${ns.name}/${p}`).sort());
  expect(portsOf(slice)).toEqual([ACTIVATOR_PORT]);
}

/** The first sample at or after `since` whose replica count is at least `n`, or undefined. */
function firstAtLeast(p: Poller<number | undefined>, since: number, n: number): { t: number; v: number | undefined } | undefined {
  return p.samples.find((s) => s.t >= since && (s.v ?? 0) >= n);
}

function describeOutcome(r: RequestOutcome): string {
  return `status ${r.status ?? '-'} error ${r.error ?? '-'} after ${r.ms} ms, cold start ${String(r.headers['x-lfm-cold-start'])}: ${r.body.slice(0, 300)}`;
}

describe('scale to zero', () => {
  it('holds a request at zero, scales to 1 within a second, answers after the cold start, then points the Service at the pod, and goes back to zero after idleSeconds', { timeout: 240_000 }, async () => {
    const IDLE_SECONDS = 5;
    const { activators: [a] } = await startStack(['activator-0']);
    const fleet = await createAtZero('cold', { idleSeconds: IDLE_SECONDS });

    // Zero is a requested state: the Service (selectorless) points at the activator and Ready stays True.
    const service = await client().get<V1Service & KubeObject>(RESOURCES.service, ns.name, 'cold');
    expect(service.spec?.selector, 'the Service of a scale-to-zero deployment has no selector').toBeUndefined();
    await eventually(() => expectAtZero('cold', [a!.name]), { timeoutMs: 15_000 });
    const readySamples = poll(100, async () => readyOf(await getLfmd('cold')));
    const replicas = poll(50, () => replicasOf('cold'));
    await eventually(() => expect(readySamples.samples.length).toBeGreaterThanOrEqual(5), { intervalMs: 50 });

    const sentAt = Date.now();
    const pending = sendRequest(a!.address, { host: hostOf('cold'), timeoutMs: 60_000 });
    const scaled = await eventually(() => {
      const s = firstAtLeast(replicas, sentAt, 1);
      if (!s) throw new Error(`Deployment spec.replicas still 0 ${Date.now() - sentAt} ms after the request`);
      return s;
    }, { timeoutMs: 15_000, intervalMs: 20 });
    const scaleUpMs = scaled.t - sentAt;
    const r = await pending;
    const coldStartHeader = Number(r.headers['x-lfm-cold-start']);
    console.log(`scale-to-zero: spec.replicas 0 -> 1 observed ${scaleUpMs} ms after the request (50 ms polling); the request answered after ${r.ms} ms, x-lfm-cold-start ${String(r.headers['x-lfm-cold-start'])}`);
    expect(r.status, describeOutcome(r)).toBe(200);
    expect(scaled.v, 'the first scale from zero').toBe(1);
    expect(scaleUpMs, 'ms from the request to Deployment spec.replicas 1').toBeLessThanOrEqual(1000);
    expect(coldStartHeader, 'x-lfm-cold-start').toBeGreaterThan(0);
    // Answered by the engine pod once it was Ready (3 s after it started), not before.
    expect(r.headers['x-served-by']).toMatch(/^cold-/);
    expect(r.ms, 'held through the cold start').toBeGreaterThanOrEqual(1000);

    // The Service's endpoints now point at the Ready engine pod, not at the activator: warm traffic skips it.
    const enginePod = [...fleet.standIns.values()].find((s) => s.podName === r.headers['x-served-by'])!;
    await eventually(async () => {
      const slice = await sliceOf('cold');
      expect(targetOf(slice)).toBe('engines');
      expect(podsOf(slice)).toEqual([`${ns.name}/${enginePod.podName}`]);
      expect(portsOf(slice)).toEqual([ENGINE_PORT]);
    }, { timeoutMs: 10_000 });
    expect((await client().get<V1Service & KubeObject>(RESOURCES.service, ns.name, 'cold')).spec?.selector).toBeUndefined();
    const measured = await eventually(async () => {
      const l = await getLfmd('cold');
      expect(l.status?.autoscaling?.coldStart?.lastSeconds, 'status.autoscaling.coldStart.lastSeconds').toBeGreaterThan(0);
      expect(entryOf(l, a!.name), 'the activator\'s status.activation entry').toMatchObject({ held: 0, refused: 0, expired: 0 });
      return l.status!.autoscaling!.coldStart!;
    }, { timeoutMs: 10_000 });
    console.log(`scale-to-zero: status.autoscaling.coldStart ${JSON.stringify(measured)}`);

    // No request for idleSeconds: back to zero, the Service points at the activator again, Ready stays True.
    const lastDoneAt = r.sentAt + r.ms;
    const zeroAt = await eventually(async () => {
      expect(await replicasOf('cold')).toBe(0);
      return Date.now();
    }, { timeoutMs: 60_000, intervalMs: 100 });
    const backToZero = replicas.samples.find((s) => s.t >= lastDoneAt && s.v === 0)?.t ?? zeroAt;
    console.log(`scale-to-zero: back to zero ${backToZero - lastDoneAt} ms after the last request finished (idleSeconds ${IDLE_SECONDS})`);
    expect(backToZero - lastDoneAt, 'ms from the last request to zero').toBeGreaterThanOrEqual(IDLE_SECONDS * 1000 - 500);
    await eventually(() => expectAtZero('cold', [a!.name]), { timeoutMs: 30_000 });
    await readySamples.stop();
    const notReady = readySamples.samples.filter((s) => s.v?.status !== 'True').map((s) => `+${s.t - sentAt} ms ${s.v?.status}/${s.v?.reason}: ${s.v?.message}`);
    recordStatus('scaled-to-zero', await getLfmd('cold'));
    expect(notReady.slice(0, 5).join('\n'), `Ready stays True at zero, through the cold start, and back at zero (${notReady.length} samples not True of ${readySamples.samples.length})`).toBe('');
    expect(fleet.served()).toBe(1);
  });

  it('with one activator replica, maxHeldRequests + 1 concurrent requests at zero get exactly one 429 with Retry-After', { timeout: 180_000 }, async () => {
    const MAX_HELD = 3;
    const { activators: [a] } = await startStack(['activator-0']);
    await createAtZero('bounded', { maxHeldRequests: MAX_HELD });

    const outcomes = await Promise.all(Array.from({ length: MAX_HELD + 1 }, () => sendRequest(a!.address, { host: hostOf('bounded'), timeoutMs: 60_000 })));
    const refused = outcomes.filter((o) => o.status === 429);
    const summary = outcomes.map(describeOutcome).join('\n');
    expect(refused, summary).toHaveLength(1);
    expect(refused[0]!.headers['retry-after'], 'Retry-After').toMatch(/^[1-9][0-9]*$/);
    expect(refused[0]!.ms, 'the 429 comes at once, not after the cold start').toBeLessThan(2000);
    const served = outcomes.filter((o) => o.status === 200);
    expect(served, summary).toHaveLength(MAX_HELD);
    for (const o of served) expect(Number(o.headers['x-lfm-cold-start']), summary).toBeGreaterThan(0);
    await eventually(async () => {
      const l = await getLfmd('bounded');
      expect(entryOf(l, a!.name)).toMatchObject({ held: 0, refused: 1, expired: 0 });
      expect(l.status?.autoscaling?.coldStart?.refused, 'status.autoscaling.coldStart.refused').toBe(1);
    }, { timeoutMs: 15_000 });
  });

  it('answers 503 with Retry-After to a request still held after maxHoldSeconds', { timeout: 180_000 }, async () => {
    const MAX_HOLD_SECONDS = 2;
    const { activators: [a] } = await startStack(['activator-0']);
    // The replica takes two minutes to load: no pod is Ready within maxHoldSeconds.
    await createAtZero('slow', { maxHoldSeconds: MAX_HOLD_SECONDS, readyDelaySeconds: 120 });

    const r = await sendRequest(a!.address, { host: hostOf('slow'), timeoutMs: 30_000 });
    expect(r.status, describeOutcome(r)).toBe(503);
    expect(r.headers['retry-after'], 'Retry-After').toMatch(/^[1-9][0-9]*$/);
    expect(r.ms, 'held for maxHoldSeconds').toBeGreaterThanOrEqual(MAX_HOLD_SECONDS * 1000 - 50);
    expect(r.ms, 'and not much longer').toBeLessThan(MAX_HOLD_SECONDS * 1000 + 2000);
    // The request did ask for a replica, which is still loading.
    expect(await replicasOf('slow')).toBe(1);
    await eventually(async () => {
      const l = await getLfmd('slow');
      expect(entryOf(l, a!.name)).toMatchObject({ held: 0, refused: 0, expired: 1 });
      expect(l.status?.autoscaling?.coldStart?.expired, 'status.autoscaling.coldStart.expired').toBe(1);
    }, { timeoutMs: 15_000 });

    // SIGTERM while holding: the held request is answered 503 at once, the entry written back to held 0, exit 0.
    const held = sendRequest(a!.address, { host: hostOf('slow'), timeoutMs: 30_000 });
    await eventually(async () => expect(entryOf(await getLfmd('slow'), a!.name)?.held).toBe(1), { timeoutMs: 5_000, intervalMs: 50 });
    const stoppedAt = Date.now();
    const code = await a!.proc.stop();
    const shut = await held;
    expect(code, 'exit code after SIGTERM').toBe(0);
    expect(shut.status, describeOutcome(shut)).toBe(503);
    expect(shut.body).toContain('shutting down');
    expect(shut.sentAt + shut.ms - stoppedAt, 'ms from SIGTERM to the 503').toBeLessThan(1000);
    expect(entryOf(await getLfmd('slow'), a!.name), 'the entry after a clean stop').toMatchObject({ held: 0, expired: 1 });
  });

  it('two activators holding requests lead to one scale-up; killing one fails only its own requests, at once', { timeout: 180_000 }, async () => {
    const { activators: [a, b] } = await startStack(['activator-a', 'activator-b']);
    // Two held requests at queueDepthPerReplica 2: one replica. Loading takes 8 s: time to kill an activator.
    const fleet = await createAtZero('shared', { queueDepthPerReplica: 2, maxReplicas: 3, idleSeconds: 60, readyDelaySeconds: 8 });

    const auditSince = devCluster().readAudit().length;
    const replicas = poll(50, () => replicasOf('shared'));
    const sentAt = Date.now();
    const toA = sendRequest(a!.address, { host: hostOf('shared'), timeoutMs: 60_000 });
    const toB = sendRequest(b!.address, { host: hostOf('shared'), timeoutMs: 60_000 });
    // Both activators report their held request.
    await eventually(async () => {
      const l = await getLfmd('shared');
      expect(entryOf(l, a!.name)?.held).toBe(1);
      expect(entryOf(l, b!.name)?.held).toBe(1);
    }, { timeoutMs: 5_000, intervalMs: 50 });
    const scaled = await eventually(() => {
      const s = firstAtLeast(replicas, sentAt, 1);
      if (!s) throw new Error('Deployment spec.replicas still 0');
      return s;
    }, { timeoutMs: 10_000, intervalMs: 20 });
    console.log(`scale-to-zero (two activators): spec.replicas ${scaled.v} observed ${scaled.t - sentAt} ms after the requests`);
    expect(fleet.ready.size, 'no engine pod Ready yet: both requests still held').toBe(0);

    // A crash of activator-a: its client sees the connection reset at once, never a hang.
    const killedAt = Date.now();
    await a!.proc.kill();
    const lost = await toA;
    console.log(`scale-to-zero (two activators): the killed activator's request ended ${lost.sentAt + lost.ms - killedAt} ms after the kill: ${describeOutcome(lost)}`);
    expect(lost.status, describeOutcome(lost)).toBeUndefined();
    expect(lost.error, describeOutcome(lost)).toMatch(/ECONNRESET|socket hang up|aborted|EPIPE/);
    expect(lost.sentAt + lost.ms - killedAt, 'ms from the kill to the client\'s error').toBeLessThan(2000);

    // The other activator's request completes once the replica is Ready.
    const kept = await toB;
    expect(kept.status, describeOutcome(kept)).toBe(200);
    expect(Number(kept.headers['x-lfm-cold-start'])).toBeGreaterThan(0);
    await replicas.stop();
    const counts = replicas.samples.filter((s) => s.t >= sentAt).map((s) => s.v ?? 0);
    expect(Math.max(...counts), 'Deployment spec.replicas during the cold start').toBe(1);
    const scaleWrites = devCluster().readAudit().slice(auditSince).filter((e) =>
      e.user === operatorUser && e.resource === 'deployments' && !e.subresource && e.namespace === ns.name && e.name === 'shared' && e.fieldManager === 'lfm-autoscaler' && (e.code ?? 0) < 300);
    expect(scaleWrites.map((e) => `${e.time} ${e.verb}`), 'the autoscaler\'s writes of the Deployment').toHaveLength(1);
  });
});
