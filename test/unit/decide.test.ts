import { describe, expect, it } from 'vitest';
import { AutoscalingSpec, AutoscalingStatus } from '../../src/api/v1alpha1.js';
import type { DecideInput, ScaleDecision } from '../../src/autoscaler/decide.js';
import { computeLearnedStartupSeconds, decide } from '../../src/autoscaler/decide.js';
import type { PodSample, PodView } from '../../src/autoscaler/decide.js';
import { buildOperatorPolicy } from '../../src/autoscaler/policy.js';

// One replica at target = 40,000 prompt tokens/s, or 12,000 generated tokens/s.
const P = 40_000;
const G = 12_000;
const policy = (overrides: Partial<AutoscalingSpec> = {}): AutoscalingSpec =>
  AutoscalingSpec.parse({ enabled: true, minReplicas: 1, maxReplicas: 10, promptTokensPerSecondPerReplica: P, generationTokensPerSecondPerReplica: G, ...overrides });

const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (seconds: number): number => T0 + seconds * 1000;

/** Pods: `ready` Ready ones (created 200 s before Ready, Ready an hour ago), then the others. */
function pods(o: { ready?: number; starting?: number; pendingGpu?: number; pending?: number; terminating?: number; startupSeconds?: number; now?: number }): PodView[] {
  const now = o.now ?? at(0);
  const startup = (o.startupSeconds ?? 200) * 1000;
  const out: PodView[] = [];
  const add = (phase: PodView['phase'], n: number, extra: Partial<PodView> = {}): void => {
    for (let i = 0; i < n; i++) out.push({ name: `${phase.toLowerCase()}-${i}`, phase, createdAt: now - 3_600_000, ...extra });
  };
  for (let i = 0; i < (o.ready ?? 0); i++) out.push({ name: `ready-${i}`, phase: 'Ready', createdAt: now - 3_600_000 - startup, readyAt: now - 3_600_000 });
  add('Starting', o.starting ?? 0, { createdAt: now - 60_000 });
  add('Pending', o.pendingGpu ?? 0, { createdAt: now - 60_000, pendingReason: 'InsufficientGPU' });
  add('Pending', o.pending ?? 0, { createdAt: now - 2_000 });
  add('Terminating', o.terminating ?? 0, { readyAt: now - 3_600_000 });
  return out;
}

/** Fresh samples for the Ready pods: `load` replicas of prompt work spread evenly, and the given queue. */
function samples(list: PodView[], time: number, load: number, o: { waiting?: number; finishedPerPod?: number; omit?: number } = {}): PodSample[] {
  const ready = list.filter((p) => p.phase === 'Ready').slice(o.omit ?? 0);
  return ready.map((p) => ({
    pod: p.name, time, waiting: (o.waiting ?? 0) / ready.length, running: 100,
    promptTokensPerSecond: (load * P) / ready.length, generationTokensPerSecond: 0,
    ...(o.finishedPerPod !== undefined ? { requestsPerSecond: o.finishedPerPod } : {}),
  }));
}

interface Run {
  last: ScaleDecision;
  state: AutoscalingStatus;
  /** Every change of the replica count: [seconds, replicas, reason]. */
  changes: [number, number, string][];
}

/** Calls decide() every 15 s from `from` to `to` seconds with the same pods and load (samples `ageSeconds` old). */
function run(input: Omit<DecideInput, 'now' | 'samples'> & { load: number | ((t: number) => number); ageSeconds?: number }, from: number, to: number): Run {
  let previous = input.previous;
  let last: ScaleDecision | undefined;
  const changes: [number, number, string][] = [];
  for (let t = from; t <= to; t += 15) {
    const load = typeof input.load === 'number' ? input.load : input.load(t);
    last = decide({ ...input, previous, now: at(t), samples: samples([...input.pods], at(t - (input.ageSeconds ?? 0)), load) });
    if (last.desiredReplicas !== (previous?.desiredReplicas ?? input.currentReplicas)) changes.push([t, last.desiredReplicas, last.reason]);
    previous = last.state;
  }
  if (!last) throw new Error('no tick');
  return { last, state: last.state, changes };
}

/** Ten minutes of a load that keeps `desired` replicas busy (load in (desired - 1, desired]). */
const steady = (desired: number, load = desired - 0.5, spec = policy()): AutoscalingStatus =>
  run({ policy: spec, pods: pods({ ready: desired }), currentReplicas: desired, previous: { desiredReplicas: desired }, load }, -600, -15).state;

describe('decide: the formula, one decision at a time', () => {
  it.each<[string, () => DecideInput, Partial<ScaleDecision>]>([
    ['load that fits: steady', () => {
      const p = pods({ ready: 4 });
      return { policy: policy(), pods: p, samples: samples(p, at(0), 3.2), previous: steady(4), currentReplicas: 4, now: at(0) };
    }, { desiredReplicas: 4, reason: 'Steady' }],
    ['more load than the replicas: scale up to ceil(load)', () => {
      const p = pods({ ready: 4 });
      return { policy: policy(), pods: p, samples: samples(p, at(0), 6.3), previous: steady(4), currentReplicas: 4, now: at(0) };
    }, { desiredReplicas: 7, reason: 'ScaleUp' }],
    ['prompt and generated tokens weigh by their own targets', () => {
      const p = pods({ ready: 2 });
      const s = p.map((x) => ({ pod: x.name, time: at(0), waiting: 0, running: 10, promptTokensPerSecond: 40_000, generationTokensPerSecond: 12_000 }));
      return { policy: policy(), pods: p, samples: s, previous: steady(2), currentReplicas: 2, now: at(0) };
    }, { desiredReplicas: 4, reason: 'ScaleUp' }],
    ['a plain tokensPerSecondPerReplica target counts prompt + generated tokens', () => {
      const p = pods({ ready: 2 });
      const s = p.map((x) => ({ pod: x.name, time: at(0), waiting: 0, running: 10, promptTokensPerSecond: 15_000, generationTokensPerSecond: 5_000 }));
      return { policy: AutoscalingSpec.parse({ enabled: true, maxReplicas: 10, tokensPerSecondPerReplica: 10_000 }), pods: p, samples: s, previous: steady(2), currentReplicas: 2, now: at(0) };
    }, { desiredReplicas: 4, reason: 'ScaleUp' }],
    ['loading pods are capacity on the way: the same load asks for nothing more', () => {
      const p = pods({ ready: 4, starting: 4 });
      return { policy: policy(), pods: p, samples: samples(p, at(0), 7.5), previous: { ...steady(4), desiredReplicas: 8 }, currentReplicas: 8, now: at(0) };
    }, { desiredReplicas: 8, reason: 'Steady', ready: 4, starting: 4 }],
    ['above maxReplicas: capped', () => {
      const p = pods({ ready: 4 });
      return { policy: policy(), pods: p, samples: samples(p, at(0), 40), previous: steady(4), currentReplicas: 4, now: at(0) };
    }, { desiredReplicas: 10, reason: 'ScaleUp' }],
    ['a previous count above a lowered maxReplicas comes down at once', () => {
      const p = pods({ ready: 12 });
      return { policy: policy(), pods: p, samples: samples(p, at(0), 11), previous: { ...steady(10), desiredReplicas: 12 }, currentReplicas: 12, now: at(0) };
    }, { desiredReplicas: 10, reason: 'Bounds' }],
    ['a stale sample (older than two scrape intervals) is no sample: hold', () => {
      const p = pods({ ready: 4 });
      return { policy: policy(), pods: p, samples: samples(p, at(-31), 0.5), previous: steady(4), currentReplicas: 4, now: at(0) };
    }, { desiredReplicas: 4, reason: 'MetricsMissing' }],
    ['no sample at all: hold', () => {
      const p = pods({ ready: 4 });
      return { policy: policy(), pods: p, samples: [], previous: steady(4), currentReplicas: 4, now: at(0) };
    }, { desiredReplicas: 4, reason: 'MetricsMissing' }],
    ['a Ready pod that does not answer its scrape holds the count: low load does not scale down', () => {
      const p = pods({ ready: 6 });
      const previous = steady(6);
      return { policy: policy(), pods: p, samples: samples(p, at(0), 1.5, { omit: 1 }), previous, currentReplicas: 6, now: at(0) };
    }, { desiredReplicas: 6, reason: 'MetricsMissing', load: { replicasForThroughput: 1.5, queueDepth: 0, runningRequests: 500, tokensPerSecond: 60_000, reporting: 5, missing: 1 } }],
    ['samples of pods that are not Ready are ignored', () => {
      const p = pods({ ready: 2, terminating: 3 });
      const s = [...samples(p, at(0), 1.5), { pod: 'terminating-0', time: at(0), waiting: 0, running: 500, promptTokensPerSecond: 400_000, generationTokensPerSecond: 0 }];
      return { policy: policy(), pods: p, samples: s, previous: steady(2), currentReplicas: 2, now: at(0) };
    }, { desiredReplicas: 2, reason: 'Steady', terminating: 3 }],
    ['`now` as a Date decides like the same number', () => {
      const p = pods({ ready: 4 });
      return { policy: policy(), pods: p, samples: samples(p, at(0), 6.3), previous: steady(4), currentReplicas: 4, now: new Date(at(0)) };
    }, { desiredReplicas: 7, reason: 'ScaleUp' }],
  ])('%s', (_name, input, expected) => {
    expect(decide(input())).toMatchObject(expected);
  });

  it('minReplicas holds when the load is gone: the low spell ends at minReplicas', () => {
    const spec = policy({ minReplicas: 2 });
    const r = run({ policy: spec, pods: pods({ ready: 3 }), currentReplicas: 3, previous: steady(3, 2.5, spec), load: 0 }, 0, 600);
    expect(r.changes).toEqual([[195, 2, 'ScaleDown']]);
  });

  it('missing or stale metrics never scale down, however long', () => {
    const r = run({ policy: policy(), pods: pods({ ready: 4 }), currentReplicas: 4, previous: steady(4), load: 0.5, ageSeconds: 60 }, 0, 1800);
    expect(r.changes).toEqual([]);
    expect(r.last.reason).toBe('MetricsMissing');
  });

  it('a Ready pod that stays silent never lets the count go down (it may be busy and would be removed first)', () => {
    const p = pods({ ready: 6 });
    let previous = steady(6);
    const changes: number[] = [];
    for (let t = 0; t <= 600; t += 15) {
      const d = decide({ policy: policy(), pods: p, samples: samples(p, at(t), 1.5, { omit: 1 }), previous, currentReplicas: 6, now: at(t) });
      if (d.desiredReplicas !== previous.desiredReplicas) changes.push(d.desiredReplicas);
      previous = d.state;
    }
    expect(changes).toEqual([]);
  });
});

describe('decide: scale-down waits for H = max(stabilization window, break-even delay)', () => {
  // Load drops from 7.5 to 2.5 at t = 0; the last high recommendation was at t = -15; pods took 200 s to start.
  const p = pods({ ready: 8, startupSeconds: 200 });
  const base = { policy: policy(), pods: p, currentReplicas: 8, previous: steady(8) };
  it.each<[string, Partial<AutoscalingSpec>, [number, number, string][], number]>([
    ['the break-even rule: H = the learned start time, 200 s after the last high recommendation', {}, [[195, 3, 'ScaleDown']], 200],
    ['a longer stabilization window wins over the break-even delay', { stabilizationWindowSeconds: 400 }, [[390, 3, 'ScaleDown']], 400],
    ['an explicit scaleDownDelaySeconds replaces the learned start time', { scaleDownDelaySeconds: 90 }, [[90, 3, 'ScaleDown']], 90],
    ['an explicit zero delay and window scale down at once', { scaleDownDelaySeconds: 0, stabilizationWindowSeconds: 0 }, [[0, 3, 'ScaleDown']], 0],
  ])('%s', (_name, overrides, changes, hold) => {
    const r = run({ ...base, policy: policy(overrides), load: 2.5 }, 0, 600);
    expect(r.changes).toEqual(changes);
    expect(r.last.scaleDownHoldSeconds).toBe(hold);
  });

  it.each<[string, number | undefined, number]>([
    ['pods that start in 20 s: the default delay does not drop below 60 s', 20, 60],
    ['pods that start in 7 minutes: the delay follows them', 420, 420],
  ])('%s', (_name, startupSeconds, hold) => {
    const quick = pods({ ready: 8, ...(startupSeconds !== undefined ? { startupSeconds } : {}) });
    const r = run({ policy: policy({ stabilizationWindowSeconds: 0 }), pods: quick, currentReplicas: 8, previous: steady(8), load: 2.5 }, 0, 15);
    expect(r.last.scaleDownHoldSeconds).toBe(hold);
  });

  it('before any pod was seen starting, the delay assumes 300 s', () => {
    const unknown = pods({ ready: 0, starting: 2 });
    expect(decide({ policy: policy({ stabilizationWindowSeconds: 0 }), pods: unknown, samples: [], currentReplicas: 2, now: at(0) }).scaleDownHoldSeconds).toBe(300);
  });

  it('waits with reason ScaleDownDelayed and says since when load is low', () => {
    const r = run({ ...base, load: 2.5 }, 0, 90);
    expect(r.last).toMatchObject({ desiredReplicas: 8, reason: 'ScaleDownDelayed', learnedStartupSeconds: 200 });
    expect(r.state.lowLoadSince).toBe(new Date(at(0)).toISOString());
  });

  it('a burst inside the window holds the level it needed', () => {
    const r = run({ ...base, load: (t) => (t === 150 ? 6.2 : 2.5) }, 0, 600);
    expect(r.changes).toEqual([[195, 7, 'ScaleDown'], [360, 3, 'ScaleDown']]);
  });

  it('a new leader (no status) scales down only after a full window of its own fresh samples', () => {
    const r = run({ policy: policy(), pods: p, currentReplicas: 8, load: 2.5 }, 0, 600);
    expect(r.changes).toEqual([[210, 3, 'ScaleDown']]);
  });

  it('a new leader continuing from status keeps the old leader\'s window: no early scale-down, no restart', () => {
    const before = run({ ...base, load: 2.5 }, 0, 120).state;
    // The old leader stops after 120 s; the new one takes over 30 s later with the stored status.
    const r = run({ ...base, previous: before, load: 2.5 }, 150, 600);
    expect(r.changes).toEqual([[195, 3, 'ScaleDown']]);
  });

  it('a gap in the history (no decision for minutes) restarts the window', () => {
    const before = run({ ...base, load: 2.5 }, 0, 120).state;
    const r = run({ ...base, previous: before, load: 2.5 }, 600, 1200);
    expect(r.changes).toEqual([[810, 3, 'ScaleDown']]);
  });

  it('stale samples in the middle of a low spell restart the clock', () => {
    let previous = base.previous;
    const changes: number[] = [];
    for (let t = 0; t <= 600; t += 15) {
      const time = t === 150 ? at(t - 120) : at(t);
      const d = decide({ ...base, previous, now: at(t), samples: samples(p, time, 2.5) });
      if (d.desiredReplicas !== previous.desiredReplicas) changes.push(t);
      previous = d.state;
    }
    expect(changes).toEqual([360]);
  });
});

describe('decide: pods Pending for lack of GPUs', () => {
  it('are requested, reported and never capacity', () => {
    const p = pods({ ready: 4, pendingGpu: 2 });
    const d = decide({ policy: policy(), pods: p, samples: samples(p, at(0), 5.5), previous: steady(6), currentReplicas: 6, now: at(0) });
    expect(d).toMatchObject({ desiredReplicas: 6, reason: 'WaitingForGpus', pendingForGpus: 2, ready: 4, starting: 0 });
    expect(d.state.pendingSince).toBe(new Date(at(0)).toISOString());
    expect(d.message).toMatch(/2 pods Pending for lack of GPUs/);
  });

  it.each<[string, number, Partial<ScaleDecision>]>([
    ['still requested just before pendingTimeoutSeconds', 885, { desiredReplicas: 6, reason: 'WaitingForGpus' }],
    ['withdrawn after pendingTimeoutSeconds: only what was scheduled stays requested', 915, { desiredReplicas: 4, reason: 'GpuWaitExpired' }],
  ])('%s', (_name, seconds, expected) => {
    const p = pods({ ready: 4, pendingGpu: 2 });
    const previous = { ...steady(6), pendingSince: new Date(at(0)).toISOString() };
    const r = run({ policy: policy(), pods: p, currentReplicas: 6, previous, load: 5.5 }, seconds - 30, seconds);
    expect(r.last).toMatchObject(expected);
  });

  it('after withdrawal the extra replicas are asked for again one more timeout later', () => {
    const p = pods({ ready: 4 });
    const previous = { ...steady(4), pendingSince: new Date(at(-1000)).toISOString() };
    const r = run({ policy: policy(), pods: p, currentReplicas: 4, previous, load: 5.5 }, 0, 900);
    expect(r.changes).toEqual([[810, 6, 'ScaleUp']]);
    expect(r.state.pendingSince).toBe(new Date(at(810)).toISOString());
  });

  it('quota refusals are reported like unschedulable pods', () => {
    const p = pods({ ready: 4 });
    const d = decide({ policy: policy(), pods: p, samples: samples(p, at(0), 5.5), previous: steady(6), currentReplicas: 6, refusedReplicas: 2, now: at(0) });
    expect(d).toMatchObject({ desiredReplicas: 6, reason: 'WaitingForGpus', refusedReplicas: 2, unschedulable: 2 });
  });
});

describe('decide: full queues', () => {
  it('turn queue growth into replicas with the work per request learned before', () => {
    const p = pods({ ready: 4 });
    // 4 replicas at 1.25 x target each, 300 waiting growing by 30 requests/s, 0.05 replica-seconds per request.
    const previous: AutoscalingStatus = { ...steady(4), queueDepth: 0, workPerRequestSeconds: 0.05 };
    const d = decide({ policy: policy(), pods: p, samples: samples(p, at(0), 5, { waiting: 450, finishedPerPod: 25 }), previous, currentReplicas: 4, now: at(0) });
    expect(d).toMatchObject({ desiredReplicas: 7, reason: 'ScaleUpOnQueue' });
  });

  it('without a learned work per request, at most double the Ready replicas, and not while pods load', () => {
    const p = pods({ ready: 3 });
    const d = decide({ policy: policy(), pods: p, samples: samples(p, at(0), 3.7, { waiting: 900 }), previous: steady(3), currentReplicas: 3, now: at(0) });
    expect(d).toMatchObject({ desiredReplicas: 6, reason: 'ScaleUpOnQueue' });
    const loading = pods({ ready: 3, starting: 3 });
    const d2 = decide({ policy: policy(), pods: loading, samples: samples(loading, at(15), 3.7, { waiting: 2000 }), previous: d.state, currentReplicas: 6, now: at(15) });
    expect(d2).toMatchObject({ desiredReplicas: 6, reason: 'ScaleDownDelayed', starting: 3 });
  });

  it('learn the work per request only from busy replicas with short queues', () => {
    const p = pods({ ready: 4 });
    const calm = decide({ policy: policy(), pods: p, samples: samples(p, at(0), 2, { finishedPerPod: 10 }), previous: steady(4), currentReplicas: 4, now: at(0) });
    expect(calm.state.workPerRequestSeconds).toBe(0.05);
    const saturated = decide({ policy: policy(), pods: p, samples: samples(p, at(0), 5, { waiting: 400, finishedPerPod: 10 }), previous: steady(4), currentReplicas: 4, now: at(0) });
    expect(saturated.state.workPerRequestSeconds).toBeUndefined();
  });

  it('without any token target, scale on the queue alone: ceil(waiting / queueDepthPerReplica)', () => {
    const p = pods({ ready: 2 });
    const s = p.map((x) => ({ pod: x.name, time: at(0), waiting: 9, running: 50 }));
    const d = decide({ policy: AutoscalingSpec.parse({ enabled: true, maxReplicas: 10 }), pods: p, samples: s, previous: { desiredReplicas: 2 }, currentReplicas: 2, now: at(0) });
    expect(d).toMatchObject({ desiredReplicas: 5, reason: 'ScaleUpOnQueue' });
  });
});

describe('decide: a standing backlog is demand', () => {
  const p = pods({ ready: 10 });
  // 10 replicas serving 6 replicas of load while 400 requests stand in their queues (no growth).
  const backlog = (t: number, waiting: number): PodSample[] => samples(p, at(t), 6, { waiting });

  it('never scales down while more than queueDepthPerReplica requests per Ready replica wait, however long', () => {
    let previous: AutoscalingStatus = { ...steady(10, 9.5), queueDepth: 400, workPerRequestSeconds: 0.05 };
    const seen: number[] = [];
    for (let t = 0; t <= 1800; t += 15) {
      const d = decide({ policy: policy({ maxReplicas: 40, scaleDownDelaySeconds: 30 }), pods: p, samples: backlog(t, 400), previous, currentReplicas: previous.desiredReplicas ?? 10, now: at(t) });
      seen.push(d.desiredReplicas);
      previous = d.state;
    }
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(10);
    expect(previous.saturatedSince).toBe(new Date(at(0)).toISOString());
  });

  it('turns the standing backlog into replicas that drain it within the learned start time', () => {
    // U = 6, excess = 400 - 4 x 10 = 360 requests x 0.05 s / 200 s (learned start) = 0.09: ceil(6.09) = 7 < 10 Ready,
    // so the Ready 10 stay.
    const small = decide({ policy: policy({ maxReplicas: 40 }), pods: p, samples: backlog(0, 400), previous: { ...steady(10, 9.5), queueDepth: 400, workPerRequestSeconds: 0.05 }, currentReplicas: 10, now: at(0) });
    expect(small).toMatchObject({ desiredReplicas: 10, load: { replicasForQueue: 7 } });
    // 40,000 waiting: 39,960 x 0.05 / 200 = 9.99 more: ceil(15.99) = 16.
    const large = decide({ policy: policy({ maxReplicas: 40 }), pods: p, samples: backlog(0, 40_000), previous: { ...steady(10, 9.5), queueDepth: 40_000, workPerRequestSeconds: 0.05 }, currentReplicas: 10, now: at(0) });
    expect(large).toMatchObject({ desiredReplicas: 16, reason: 'ScaleUpOnQueue' });
  });

  it('keeps pods started for a scale-up until the Ready pods alone carried the whole hold', () => {
    // 4 Ready and 4 starting (asked for 60 s ago); the queue has just drained and the load is 3.5 replicas.
    const loading = pods({ ready: 4, starting: 4 });
    let previous: AutoscalingStatus = { desiredReplicas: 8, recommendations: [{ time: new Date(at(-60)).toISOString(), replicas: 8 }], learnedStartupSeconds: 200 };
    const changes: [number, number][] = [];
    for (let t = 0; t <= 300; t += 15) {
      const d = decide({ policy: policy({ scaleDownDelaySeconds: 30 }), pods: loading, samples: samples(loading, at(t), t < 120 ? 5.5 : 3.5), previous, currentReplicas: previous.desiredReplicas ?? 8, now: at(t) });
      if (d.desiredReplicas !== previous.desiredReplicas) changes.push([t, d.desiredReplicas]);
      previous = d.state;
    }
    // 5.5 replicas of load until 105 s need the starting pods; the Ready pods carry the 3.5 from 120 s on, and after
    // the hold (the 60 s stabilization window) the starting pods go.
    expect(changes).toEqual([[180, 4]]);
  });

  it('learns a longer hold when requests waited for replicas removed shortly before (the rebound)', () => {
    const ready = pods({ ready: 6 });
    let previous: AutoscalingStatus = { ...steady(6, 5.5), workPerRequestSeconds: 0.05, learnedStartupSeconds: 200 };
    const holds: number[] = [];
    // Bursts every 600 s: 5.5 replicas of load for 60 s, then 0.5 for 540 s; each burst's queue is 2,000 requests.
    for (let t = 0; t <= 3000; t += 15) {
      const phase = t % 600;
      const burst = phase < 60;
      const d = decide({ policy: policy(), pods: ready, samples: samples(ready, at(t), burst ? 5.5 : 0.5, { waiting: burst && phase < 30 ? 2000 : 0 }), previous, currentReplicas: previous.desiredReplicas ?? 6, now: at(t) });
      holds.push(d.scaleDownHoldSeconds);
      previous = d.state;
    }
    expect(holds[0]).toBe(200);
    expect(Math.max(...holds)).toBeGreaterThan(500);
    expect(Math.max(...holds)).toBeLessThanOrEqual(5 * 200);
  });
});

describe('decide: capacity learned in both directions', () => {
  // Samples from the engine model of capacity.ts: a replica with load U (units of the targets) and true utilization
  // u per unit runs n = tau0 g / (1 - u U + tau0 g / M) requests on average.
  const tau0 = 0.006;
  const M = 1024;
  const modelSamples = (list: PodView[], t: number, loads: number[], u: number): PodSample[] => list.filter((x) => x.phase === 'Ready').map((x, i) => {
    // A saturated replica serves what it can, 1 / u, and its queue grows.
    const U = Math.min(loads[i % loads.length] ?? 1, 1 / u);
    const gen = 0.3 * U * G;
    const prompt = 0.7 * U * P;
    const busy = Math.min(0.999, u * U);
    const n = Math.min(M, (tau0 * gen) / (1 - busy + (tau0 * gen) / M));
    return { pod: x.name, time: at(t), waiting: u * U >= 0.999 ? 50 : 0, running: Math.round(n), meanRunning: n, promptTokensPerSecond: prompt, generationTokensPerSecond: gen };
  });
  const learn = (u: number, loads: number[]): ScaleDecision => {
    const p = pods({ ready: 10 });
    let previous: AutoscalingStatus = steady(10, 9.5);
    let last: ScaleDecision | undefined;
    for (let t = 0; t <= 1800; t += 15) {
      last = decide({ policy: policy({ maxReplicas: 40 }), pods: p, samples: modelSamples(p, t, loads, u), previous, currentReplicas: 10, now: at(t), batchLimit: M });
      previous = { ...last.state, desiredReplicas: 10 };
    }
    if (!last) throw new Error('no decision');
    return last;
  };
  const loads = [0.6, 0.7, 0.8, 0.9, 1.0];

  it.each<[string, number, number]>([
    ['targets that overstate a replica by 30% (u = 0.8 / 0.7): aim at 0.7 x the targets', 0.8 / 0.7, 0.7],
    ['targets that understate a replica by 30% (u = 0.8 / 1.3): aim at 1.3 x the targets', 0.8 / 1.3, 1.3],
  ])('%s', (_name, u, factor) => {
    const d = learn(u, loads);
    // Within 7.5% of the truth after 30 minutes (the prior u = 0.8 still weighs a little).
    const learned = (d.load.capacityPerReplica ?? 1.25) * 0.8;
    expect(Math.abs(learned / factor - 1)).toBeLessThan(0.075);
    // The served load (saturated replicas serve 1 / u each) needs served / f replicas.
    const served = loads.reduce((a, U) => a + Math.min(U, 1 / u), 0) * 2;
    expect(d.load.replicasForThroughput).toBeCloseTo(served / learned, 1);
  });

  it('targets that are right change nothing', () => {
    const d = learn(0.8, loads);
    expect(d.load.capacityPerReplica).toBeUndefined();
    expect(d.state.capacityFit?.samples).toBeGreaterThan(100);
  });

  it('replicas that are idle part of the time teach nothing', () => {
    const p = pods({ ready: 4 });
    const idle = p.map((x) => ({ pod: x.name, time: at(0), waiting: 0, running: 3, promptTokensPerSecond: 0.5 * P, generationTokensPerSecond: 0 }));
    const d = decide({ policy: policy(), pods: p, samples: idle, previous: steady(4), currentReplicas: 4, now: at(0), batchLimit: M });
    expect(d.state.capacityFit?.samples ?? 0).toBe(0);
  });
});

describe('decide: status round trip', () => {
  it('writes a status that the API schema accepts, with RFC 3339 times', () => {
    const p = pods({ ready: 4, pendingGpu: 1 });
    const { state } = run({ policy: policy(), pods: p, currentReplicas: 5, previous: { desiredReplicas: 5 }, load: 4.5 }, 0, 600);
    expect(() => AutoscalingStatus.parse(state)).not.toThrow();
    expect(state.recommendations?.length).toBeLessThanOrEqual(128);
    expect(state.recommendations?.every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(r.time))).toBe(true);
    expect(state.reason).toMatch(/^WaitingForGpus: /);
  });

  it('keeps only the recommendations that can still be a window maximum', () => {
    const p = pods({ ready: 8 });
    const { state } = run({ policy: policy(), pods: p, currentReplicas: 8, previous: { desiredReplicas: 8 }, load: (t) => 8 - t / 200 }, 0, 1200);
    const values = state.recommendations?.map((r) => r.replicas) ?? [];
    expect(values).toEqual([...values].sort((a, b) => b - a));
    expect(new Set(values).size).toBe(values.length);
  });
});

describe('computeLearnedStartupSeconds', () => {
  it.each<[string, PodView[], number | undefined, number | undefined]>([
    ['median of creation-to-ready', [
      { name: 'a', phase: 'Ready', createdAt: 0, readyAt: 100_000 },
      { name: 'b', phase: 'Ready', createdAt: 0, readyAt: 180_000 },
      { name: 'c', phase: 'Ready', createdAt: 0, readyAt: 600_000 },
    ], undefined, 180],
    ['no Ready pod yet: the previous value', [{ name: 'a', phase: 'Starting', createdAt: 0 }], 240, 240],
    ['readiness regained hours later is not a startup', [{ name: 'a', phase: 'Ready', createdAt: 0, readyAt: 7_200_000 }], 150, 150],
  ])('%s', (_name, list, previous, expected) => {
    expect(computeLearnedStartupSeconds(list, previous)).toBe(expected);
  });
});

describe('buildOperatorPolicy', () => {
  it('drives decide() through the benchmark\'s interface and keeps status between calls', () => {
    const op = buildOperatorPolicy(policy());
    const p = pods({ ready: 2 });
    expect(op.decide({ now: at(0), currentReplicas: 2, pods: p, samples: samples(p, at(0), 3.5) })).toEqual({ desiredReplicas: 4, reason: 'ScaleUp' });
    expect(op.status()?.desiredReplicas).toBe(4);
    expect(op.periodSeconds).toBe(15);
  });
});
