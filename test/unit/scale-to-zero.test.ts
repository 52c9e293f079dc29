// Scale to zero in the pure layers: decide() with spec.autoscaling.scaleToZero (the step from zero on held requests,
// the step to zero after idleSeconds, never with work in flight, the cold-start record), the EndpointSlice and the
// selectorless Service of render/, Ready at zero in status/, and the CRD's CEL rules as `plan` judges them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLfmDeployment } from '../../src/api/parse.js';
import { AutoscalingSpec, LfmDeployment, type AutoscalingStatus } from '../../src/api/v1alpha1.js';
import { decide, type PodSample, type PodView, type ScaleDecision } from '../../src/autoscaler/decide.js';
import { computeP90, computeReplicasFromZero, MAX_COLD_START_SAMPLES } from '../../src/autoscaler/scale-to-zero.js';
import { renderService } from '../../src/render/children.js';
import { isRoutableEndpointAddress, renderEndpointSlice, type SliceEndpoint } from '../../src/render/endpoints.js';
import { buildPlanReport } from '../../src/render/plan-report.js';
import { computeStatus } from '../../src/status/compute.js';
import { lfmDeployment } from '../support/builders.js';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const at = (seconds: number): number => T0 + seconds * 1000;
const IDLE = 120;

const policy = (overrides: Partial<AutoscalingSpec> = {}): AutoscalingSpec => AutoscalingSpec.parse({
  enabled: true, minReplicas: 0, maxReplicas: 8, queueDepthPerReplica: 4, scrapeIntervalSeconds: 15,
  scaleToZero: { idleSeconds: IDLE, maxHeldRequests: 100, maxHoldSeconds: 600 }, ...overrides,
});

const readyPod = (name: string, now: number): PodView => ({ name, phase: 'Ready', createdAt: now - 3_600_000 - 90_000, readyAt: now - 3_600_000 });
const sample = (pod: string, time: number, o: Partial<PodSample> = {}): PodSample => ({
  pod, time, waiting: 0, running: 0, promptTokensPerSecond: 0, generationTokensPerSecond: 0, recentPromptTokensPerSecond: 0, recentGenerationTokensPerSecond: 0, ...o,
});
const NONE = { held: 0, refused: 0, expired: 0 };

/** One decision every 15 s with a fixed picture; returns every decision. */
function run(o: { policy: AutoscalingSpec; from: number; to: number; current: number; previous?: AutoscalingStatus; picture: (t: number) => { pods: PodView[]; samples: PodSample[]; held?: number } }): ScaleDecision[] {
  let previous = o.previous;
  let current = o.current;
  const out: ScaleDecision[] = [];
  for (let t = o.from; t <= o.to; t += 15) {
    const p = o.picture(t);
    const d = decide({ policy: o.policy, pods: p.pods, samples: p.samples, currentReplicas: current, now: at(t), ...(previous ? { previous } : {}), activators: { ...NONE, held: p.held ?? 0 } });
    out.push(d);
    previous = d.state;
    current = d.desiredReplicas;
  }
  return out;
}

describe('decide() with scaleToZero', () => {
  it('stays at zero without requests, and leaves it at once for held requests: one replica while the work per request is unknown', () => {
    const idle = decide({ policy: policy(), pods: [], samples: [], currentReplicas: 0, now: at(0), activators: NONE });
    expect([idle.desiredReplicas, idle.reason]).toEqual([0, 'ScaledToZero']);
    expect(idle.state.coldStart?.startedAt).toBeUndefined();
    for (const held of [1, 4, 5, 9, 1000]) {
      const d = decide({ policy: policy(), pods: [], samples: [], currentReplicas: 0, now: at(0), previous: idle.state, activators: { held, refused: 0, expired: 0 } });
      expect([held, d.desiredReplicas, d.reason]).toEqual([held, 1, 'ScaleUpFromZero']);
      expect(d.state.coldStart).toMatchObject({ startedAt: new Date(at(0)).toISOString(), held });
    }
  });

  it('sizes the step from zero by the held work drained within the learned start time, R0 = max(1, ceil(H x w / D))', () => {
    // w = 0.5 replica-seconds per request, D = L^ = 100 s: 1,000 held requests are 500 replica-seconds, 5 replicas.
    const idle = decide({ policy: policy(), pods: [], samples: [], currentReplicas: 0, now: at(0), activators: NONE, previous: { desiredReplicas: 0, workPerRequestSeconds: 0.5, learnedStartupSeconds: 100 } });
    for (const [held, want] of [[1, 1], [200, 1], [201, 2], [1000, 5], [100_000, 8]] as const) {
      const d = decide({ policy: policy(), pods: [], samples: [], currentReplicas: 0, now: at(1), previous: idle.state, activators: { held, refused: 0, expired: 0 } });
      expect([held, d.desiredReplicas, d.reason]).toEqual([held, want, 'ScaleUpFromZero']);
    }
    expect(computeReplicasFromZero(30, undefined, 180, 8)).toBe(1);
    expect(computeReplicasFromZero(0, 1, 180, 8)).toBe(1);
  });

  it('goes to zero after idleSeconds without a request, whatever the scale-down hold, and from any count', () => {
    const slow = policy({ stabilizationWindowSeconds: 3600, scaleDownDelaySeconds: 3600 });
    const decisions = run({ policy: slow, from: 0, to: 300, current: 3, picture: (t) => {
      const pods = ['a', 'b', 'c'].map((n) => readyPod(n, at(t)));
      return { pods, samples: pods.map((p) => sample(p.name, at(t))) };
    } });
    const first = decisions.findIndex((d) => d.desiredReplicas === 0);
    // idleSince is the first idle decision (t = 0); zero at the first decision idleSeconds after it.
    expect(first * 15).toBe(IDLE);
    expect(decisions[first]?.reason).toBe('ScaleToZero');
    expect(decisions.slice(0, first).every((d) => d.desiredReplicas === 3)).toBe(true);
  });

  it('restarts the idle clock when tokens were generated since the last scrape (a request that came and went)', () => {
    const decisions = run({ policy: policy(), from: 0, to: 300, current: 1, picture: (t) => {
      const pods = [readyPod('a', at(t))];
      return { pods, samples: [sample('a', at(t), t === 90 ? { recentGenerationTokensPerSecond: 3 } : {})] };
    } });
    const first = decisions.findIndex((d) => d.desiredReplicas === 0);
    expect(first * 15).toBe(90 + 15 + IDLE);
  });

  it('never goes to zero while anything is in flight or unknown (property)', () => {
    const busy = fc.record({
      waiting: fc.nat(5), running: fc.nat(5), held: fc.nat(5), starting: fc.nat(2), pendingGpu: fc.nat(2), terminating: fc.nat(2),
      silent: fc.boolean(), noRates: fc.boolean(), tokens: fc.nat(50),
    }).filter((b) => b.waiting + b.running + b.held + b.starting + b.pendingGpu + b.terminating + b.tokens > 0 || b.silent || b.noRates);
    fc.assert(fc.property(busy, fc.integer({ min: 1, max: 4 }), (b, ready) => {
      const decisions = run({ policy: policy(), from: 0, to: IDLE * 3, current: ready, picture: (t) => {
        const now = at(t);
        const pods: PodView[] = [
          ...Array.from({ length: ready }, (_, i) => readyPod(`r${i}`, now)),
          ...Array.from({ length: b.starting }, (_, i): PodView => ({ name: `s${i}`, phase: 'Starting', createdAt: now - 10_000 })),
          ...Array.from({ length: b.pendingGpu }, (_, i): PodView => ({ name: `p${i}`, phase: 'Pending', createdAt: now - 10_000, pendingReason: 'InsufficientGPU' })),
          ...Array.from({ length: b.terminating }, (_, i): PodView => ({ name: `t${i}`, phase: 'Terminating', createdAt: now - 10_000 })),
        ];
        const reporting = pods.filter((p) => p.phase === 'Ready').slice(b.silent ? 1 : 0);
        const samples = reporting.map((p, i) => (b.noRates
          ? { pod: p.name, time: now, waiting: i === 0 ? b.waiting : 0, running: i === 0 ? b.running : 0 }
          : sample(p.name, now, i === 0 ? { waiting: b.waiting, running: b.running, recentGenerationTokensPerSecond: b.tokens } : {})));
        return { pods, samples, held: b.held };
      } });
      return decisions.every((d) => d.desiredReplicas > 0);
    }), { numRuns: 300 });
  });

  it('measures a cold start from the decision that left zero to the first decision that sees a Ready pod', () => {
    const zero = decide({ policy: policy(), pods: [], samples: [], currentReplicas: 0, now: at(0), activators: NONE });
    const up = decide({ policy: policy(), pods: [], samples: [], currentReplicas: 0, now: at(1), previous: zero.state, activators: { held: 2, refused: 1, expired: 0 } });
    const starting = decide({ policy: policy(), pods: [{ name: 'a', phase: 'Starting', createdAt: at(1.2) }], samples: [], currentReplicas: 1, now: at(16), previous: up.state, activators: { held: 2, refused: 1, expired: 0 } });
    expect(starting.desiredReplicas).toBe(1);
    expect(starting.state.coldStart?.startedAt).toBe(new Date(at(1)).toISOString());
    const ready = decide({ policy: policy(), pods: [{ name: 'a', phase: 'Ready', createdAt: at(1.2), readyAt: at(96.5) }], samples: [], currentReplicas: 1, now: at(96.5), previous: starting.state, activators: { held: 0, refused: 1, expired: 0 } });
    expect(ready.desiredReplicas).toBe(1);
    expect(ready.state.coldStart).toEqual({ lastSeconds: 95.5, p90Seconds: 95.5, recentSeconds: [95.5], held: 0, refused: 1, expired: 0 });
  });

  it('keeps the last 20 cold starts and reports their 90th percentile by nearest rank', () => {
    expect(computeP90([])).toBeUndefined();
    expect(computeP90([5])).toBe(5);
    expect(computeP90(Array.from({ length: 10 }, (_, i) => i + 1))).toBe(9);
    expect(computeP90(Array.from({ length: 20 }, (_, i) => 20 - i))).toBe(18);
    let state: AutoscalingStatus | undefined;
    for (let i = 0; i < 25; i++) {
      const base = i * 1000;
      const up = decide({ policy: policy(), pods: [], samples: [], currentReplicas: 0, now: at(base), ...(state ? { previous: { ...state, desiredReplicas: 0 } } : {}), activators: { ...NONE, held: 1 } });
      const ready = decide({ policy: policy(), pods: [readyPod('a', at(base + 60 + i))], samples: [], currentReplicas: 1, now: at(base + 60 + i), previous: up.state, activators: NONE });
      state = ready.state;
    }
    expect(state?.coldStart?.recentSeconds).toHaveLength(MAX_COLD_START_SAMPLES);
    expect(state?.coldStart?.recentSeconds?.[0]).toBe(65);
    expect(state?.coldStart?.lastSeconds).toBe(84);
    expect(state?.coldStart?.p90Seconds).toBe(82);
  });

  it('keeps one replica for minReplicas 0 without scaleToZero (stored before the rule requiring it)', () => {
    const legacy = policy({ scaleToZero: undefined });
    const decisions = run({ policy: legacy, from: 0, to: 900, current: 1, picture: (t) => ({ pods: [readyPod('a', at(t))], samples: [sample('a', at(t))] }) });
    expect(decisions.every((d) => d.desiredReplicas === 1)).toBe(true);
    const fromZero = decide({ policy: legacy, pods: [], samples: [], currentReplicas: 0, now: at(0) });
    expect(fromZero.desiredReplicas).toBe(1);
  });
});

const s2z = () => LfmDeployment.parse(lfmDeployment('idle').namespace('team').autoscaling({ enabled: true, minReplicas: 0, maxReplicas: 2, scaleToZero: { idleSeconds: 600 } }).build());
const engine = (name: string, ip: string): SliceEndpoint => ({ name, namespace: 'team', ip, port: 8000, nodeName: 'gpu-0' });
const activator = (name: string, ip: string): SliceEndpoint => ({ name, namespace: 'lfm-operator-system', ip, port: 8080 });

describe('scale to zero in render/', () => {
  it('renders the Service without a selector, and with one otherwise', () => {
    expect(renderService(s2z()).spec?.selector).toBeUndefined();
    const plain = LfmDeployment.parse(lfmDeployment('warm').build());
    expect(renderService(plain).spec?.selector).toEqual({ 'serving.lfm-operator.io/deployment': 'warm' });
  });

  it('points the EndpointSlice at the Ready engine pods when there is one, else at the activators, else nowhere', () => {
    const warm = renderEndpointSlice(s2z(), [engine('e1', '10.0.0.9'), engine('e0', '10.0.0.7')], [activator('a0', '10.1.0.2')]);
    expect(warm.target).toBe('engines');
    expect(warm.slice.endpoints?.map((e) => e.addresses[0])).toEqual(['10.0.0.7', '10.0.0.9']);
    expect(warm.slice.ports).toEqual([{ name: 'http', port: 8000, protocol: 'TCP', appProtocol: 'http' }]);
    expect(warm.slice.metadata?.labels).toMatchObject({ 'kubernetes.io/service-name': 'idle', 'endpointslice.kubernetes.io/managed-by': 'lfm-operator.serving.lfm-operator.io' });
    const cold = renderEndpointSlice(s2z(), [], [activator('a1', '10.1.0.3'), activator('a0', '10.1.0.2')]);
    expect(cold.target).toBe('activator');
    expect(cold.slice.endpoints?.map((e) => [e.addresses[0], e.targetRef?.namespace])).toEqual([['10.1.0.2', 'lfm-operator-system'], ['10.1.0.3', 'lfm-operator-system']]);
    expect(cold.slice.ports?.[0]?.port).toBe(8080);
    expect(cold.slice.metadata?.annotations).toEqual({ 'serving.lfm-operator.io/endpoints': 'activator', 'serving.lfm-operator.io/endpoint-pods': 'lfm-operator-system/a0,lfm-operator-system/a1' });
    const dark = renderEndpointSlice(s2z(), [], []);
    expect([dark.target, dark.slice.endpoints, dark.slice.ports]).toEqual(['none', [], []]);
  });
});

describe('addresses the API server accepts in an EndpointSlice', () => {
  it('refuses unspecified, loopback, link-local and multicast addresses, and keeps naming their pods', () => {
    for (const ip of ['10.0.0.1', '192.168.1.7', '100.64.3.2', '172.16.0.9']) expect([ip, isRoutableEndpointAddress(ip)]).toEqual([ip, true]);
    for (const ip of ['0.0.0.0', '127.0.0.1', '127.2.0.5', '169.254.10.1', '224.0.0.1', '239.1.1.1', '10.0.0', '10.0.0.256', 'x']) expect([ip, isRoutableEndpointAddress(ip)]).toEqual([ip, false]);
    const { slice, target } = renderEndpointSlice(s2z(), [engine('e0', '127.2.0.5'), engine('e1', '10.0.0.3')], []);
    expect(target).toBe('engines');
    expect(slice.endpoints?.map((e) => e.addresses[0])).toEqual(['10.0.0.3']);
    expect(slice.ports?.[0]?.port).toBe(8000);
    expect(slice.metadata?.annotations?.['serving.lfm-operator.io/endpoint-pods']).toBe('team/e1,team/e0');
  });
});

describe('Ready at zero', () => {
  const zeroDeployment = { metadata: { generation: 1 }, spec: { replicas: 0 }, status: { observedGeneration: 1, replicas: 0, readyReplicas: 0, updatedReplicas: 0 } };
  const statusOf = (activators: number, replicas = 0) => {
    const lfmd = s2z();
    (lfmd.metadata as { generation?: number }).generation = 1;
    const deployment = { ...zeroDeployment, spec: { replicas, selector: {}, template: {} } };
    return computeStatus({ lfmd, report: buildPlanReport(lfmd), pods: [], deployment, activators }, '2026-06-01T00:00:00Z');
  };
  const cond = (s: ReturnType<typeof statusOf>, type: string) => s.conditions?.find((c) => c.type === type);

  it('is True with reason ScaledToZero while an activator answers, and Reconciling stays False (GitOps tools do not flap)', () => {
    const s = statusOf(2);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
    expect(cond(s, 'Reconciling')).toMatchObject({ status: 'False' });
    const starting = statusOf(2, 1);
    expect(cond(starting, 'Ready')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
    expect(cond(starting, 'Ready')?.message).toContain('cold start');
  });

  it('stays True while the child Deployment has not observed a scale and the stored status still says Reconciling (no flip in that race)', () => {
    const lfmd = s2z();
    (lfmd.metadata as { generation?: number }).generation = 1;
    lfmd.status = { observedGeneration: 1, conditions: [
      { type: 'Ready', status: 'True', observedGeneration: 1, lastTransitionTime: '2026-06-01T00:00:00Z', reason: 'ScaledToZero', message: '' },
      { type: 'Reconciling', status: 'True', observedGeneration: 1, lastTransitionTime: '2026-06-01T00:00:00Z', reason: 'Applying', message: '' },
    ] };
    const unobserved = { metadata: { generation: 3 }, spec: { replicas: 1, selector: {}, template: {} }, status: { observedGeneration: 2, replicas: 0, readyReplicas: 0, updatedReplicas: 0 } };
    const s = computeStatus({ lfmd, report: buildPlanReport(lfmd), pods: [], deployment: unobserved, activators: 1 }, '2026-06-01T00:00:01Z');
    expect(s.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
    const warm = computeStatus({ lfmd, report: buildPlanReport(lfmd), pods: [], deployment: { ...unobserved, status: { observedGeneration: 2, replicas: 1, readyReplicas: 1, updatedReplicas: 1 } }, activators: 1 }, '2026-06-01T00:00:01Z');
    expect(warm.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });
  });

  it('is False with reason ActivatorUnavailable when no activator pod is Ready', () => {
    const s = statusOf(0);
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ActivatorUnavailable' });
  });
});

describe('the CRD rules of scale to zero, offline', () => {
  const refused = (b: ReturnType<typeof lfmDeployment>) => {
    const r = parseLfmDeployment(b.build());
    return r.ok ? [] : r.problems.map((p) => `${p.field}: ${p.message}`);
  };
  it('requires scaleToZero with minReplicas 0, and refuses it otherwise, without autoscaling, or with routing', () => {
    expect(refused(lfmDeployment().autoscaling({ enabled: true, minReplicas: 0 }))).toEqual([
      'spec.autoscaling.minReplicas: spec.autoscaling.minReplicas 0 requires spec.autoscaling.scaleToZero (idleSeconds, maxHeldRequests, maxHoldSeconds; {} takes the defaults): add it, or set minReplicas to 1 or more',
    ]);
    expect(refused(lfmDeployment().autoscaling({ enabled: true, minReplicas: 1, scaleToZero: {} }))).toEqual([
      'spec.autoscaling.scaleToZero: spec.autoscaling.scaleToZero applies only with spec.autoscaling.minReplicas 0: set minReplicas to 0, or remove scaleToZero',
    ]);
    expect(refused(lfmDeployment().autoscaling({ enabled: false, minReplicas: 0, scaleToZero: {} }))).toEqual([
      'spec.autoscaling.scaleToZero: spec.autoscaling.scaleToZero needs the autoscaler: set spec.autoscaling.enabled to true, or remove scaleToZero',
    ]);
    expect(refused(lfmDeployment().autoscaling({ enabled: true, minReplicas: 0, scaleToZero: {} }).routing({ inferencePool: { enabled: true } }))).toEqual([
      'spec.autoscaling.minReplicas: spec.autoscaling.minReplicas 0 cannot be combined with spec.routing.inferencePool.enabled yet: requests through a Gateway reach the endpoint picker, not the activator, and the pinned picker (v0.10.0) has no noEndpointRequestTTL to hold them while a replica starts; set minReplicas to 1 or more, or turn routing off',
    ]);
    expect(refused(lfmDeployment().autoscaling({ enabled: true, minReplicas: 0, scaleToZero: {} }))).toEqual([]);
    const parsed = parseLfmDeployment(lfmDeployment().autoscaling({ enabled: true, minReplicas: 0, scaleToZero: {} }).build());
    expect(parsed.ok && parsed.value.spec.autoscaling.scaleToZero).toEqual({ idleSeconds: 900, maxHeldRequests: 100, maxHoldSeconds: 600 });
  });
});
