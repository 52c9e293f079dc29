import { describe, expect, it } from 'vitest';
import { AutoscalingSpec, AutoscalingStatus } from '../../src/api/v1alpha1.js';
import type { DecideInput, ScaleDecision } from '../../src/autoscaler/decide.js';
import { computeLearnedStartupSeconds, decide } from '../../src/autoscaler/decide.js';
import type { PodSample, PodView } from '../../src/autoscaler/policy.js';
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

describe('decide: targets that overstate a replica', () => {
  const p = pods({ ready: 10 });
  // Every replica carries 0.875 of a target with its queue full: 10 x 0.875 = 8.75 replicas of load.
  const saturatedSamples = (t: number): PodSample[] => samples(p, at(t), 8.75, { waiting: 500 });

  it('learn the capacity only after a rate window of full queues, then aim at 0.8 x it', () => {
    // A steady queue (no growth) and a known work per request: only the capacity can add replicas.
    let previous: AutoscalingStatus = { ...steady(10, 9.5), queueDepth: 500, workPerRequestSeconds: 0.05 };
    const seen: [number, number | undefined][] = [];
    for (let t = 0; t <= 90; t += 15) {
      const d = decide({ policy: policy({ maxReplicas: 40 }), pods: p, samples: saturatedSamples(t), previous, currentReplicas: previous.desiredReplicas ?? 10, now: at(t) });
      seen.push([t, d.state.capacityPerReplica]);
      previous = d.state;
    }
    expect(seen.slice(0, 4).every(([, c]) => c === undefined)).toBe(true);
    expect(seen[4]).toEqual([60, 0.875]);
    // 8.75 replicas of load at 0.8 x 0.875 = 0.7 of a target per replica: 12.5, so 13.
    expect(previous.desiredReplicas).toBe(13);
  });

  it('a learned capacity fades back to the targets without saturation (time constant an hour), then is forgotten', () => {
    const start = { ...steady(13, 12.5), capacityPerReplica: 0.875 };
    const p13 = pods({ ready: 13 });
    const after = (seconds: number): AutoscalingStatus => run({ policy: policy({ maxReplicas: 40 }), pods: p13, currentReplicas: 13, previous: start, load: 8 }, 0, seconds).state;
    expect(after(0).capacityPerReplica).toBeCloseTo(0.875 + 0.375 * (15 / 3600), 4);
    expect(after(3600).capacityPerReplica).toBeCloseTo(1.25 - 0.375 * Math.exp(-1), 2);
    expect(after(3 * 3600).capacityPerReplica).toBeUndefined();
  });

  it('replicas that saturate at or above what the targets assume change nothing', () => {
    let previous: AutoscalingStatus = { ...steady(10, 9.5), queueDepth: 500, workPerRequestSeconds: 0.05 };
    for (let t = 0; t <= 90; t += 15) {
      previous = decide({ policy: policy({ maxReplicas: 40 }), pods: p, samples: samples(p, at(t), 12.5, { waiting: 500 }), previous, currentReplicas: previous.desiredReplicas ?? 10, now: at(t) }).state;
    }
    expect(previous.capacityPerReplica).toBeUndefined();
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
