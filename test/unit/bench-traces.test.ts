import { describe, expect, it } from 'vitest';
import {
  buildRecurringBurstSchedule, buildRecurringBurstTrace,
  BURSTY_SHAPE, TRACE_KINDS, buildBurstySchedule, buildBurstyTrace, buildDecodeHeavyTrace, buildDiurnalTrace, buildHeavyTailTrace, buildTraceOfKind,
  keepAdmissible, scaleLengths, timeScale, windowTrace,
} from '../../bench/autoscaling/generators.js';
import type { ReplicaProfile } from '../../bench/autoscaling/replica.js';
import { LFM2_24B_H100, RequestState, computeRequestWork } from '../../bench/autoscaling/replica.js';
import { buildScenario } from '../../bench/autoscaling/scenario.js';
import type { Routing, SimulationConfig, SimulationResult } from '../../bench/autoscaling/simulator.js';
import { DEFAULT_SIMULATION, runSimulation, runSimulationWithRequests } from '../../bench/autoscaling/simulator.js';
import { buildSmokeSuite, buildSuite, resolveTraceOptions } from '../../bench/autoscaling/suite.js';
import type { Trace } from '../../bench/autoscaling/trace.js';
import { buildSyntheticTrace } from '../../bench/autoscaling/trace.js';
import type { ScalingPolicy, ScalingView } from '../../src/autoscaler/policy.js';

const quantile = (values: ArrayLike<number>, q: number): number => {
  const sorted = Array.from(values).sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))] ?? 0;
};
const mean = (values: ArrayLike<number>): number => Array.from(values).reduce((s, x) => s + x, 0) / Math.max(1, values.length);
const countIn = (trace: Trace, from: number, to: number): number => trace.arrival.filter((t) => t >= from && t < to).length;
const fixed = (replicas: number | ((v: ScalingView) => number)): ScalingPolicy => ({
  name: 'fixed', periodSeconds: 15, scrapeIntervalSeconds: 15,
  decide: (v) => ({ desiredReplicas: typeof replicas === 'number' ? replicas : replicas(v) }),
});
const toTrace = (rows: [number, number, number][]): Trace => ({
  name: 'hand-built',
  arrival: Float64Array.from(rows, (r) => r[0]),
  input: Int32Array.from(rows, (r) => r[1]),
  output: Int32Array.from(rows, (r) => r[2]),
});

describe('trace generators', () => {
  it.each(TRACE_KINDS)('synthetic:%s is deterministic per seed, sorted, and differs between seeds', (kind) => {
    const options = { seed: 7, durationSeconds: 1200, baseRate: 5 };
    const a = buildTraceOfKind(kind, options);
    const b = buildTraceOfKind(kind, options);
    expect(a).toEqual(b);
    expect(a.name).toBe(`synthetic:${kind}`);
    expect(a.arrival.length).toBeGreaterThan(100);
    for (let i = 1; i < a.arrival.length; i++) expect(a.arrival[i]).toBeGreaterThanOrEqual(a.arrival[i - 1] ?? 0);
    expect(a.arrival[a.arrival.length - 1]).toBeLessThan(1200);
    expect(Math.min(...a.input, ...a.output)).toBeGreaterThanOrEqual(1);
    expect(buildTraceOfKind(kind, { ...options, seed: 8 })).not.toEqual(a);
  });

  it('the §5.2 unit traces are unchanged: buildTraceOfKind gives buildSyntheticTrace', () => {
    for (const kind of ['step', 'spike', 'ramp', 'onoff'] as const) {
      expect(buildTraceOfKind(kind, { seed: 3, durationSeconds: 600, baseRate: 10 })).toEqual(buildSyntheticTrace(kind, { seed: 3, durationSeconds: 600, baseRate: 10 }));
    }
  });

  it.each([1, 2, 3])('bursty (seed %i): idle gaps of >= 60 s of silence, bursts of 30-120 s at >= 5x the mean rate', (seed) => {
    const T = 3600;
    const trace = buildBurstyTrace({ seed, durationSeconds: T, baseRate: 20 });
    const rate = trace.arrival.length / T;
    expect(rate).toBeGreaterThan(0.8 * 20);
    expect(rate).toBeLessThan(1.05 * 20);
    let gaps = 0;
    for (let i = 1; i < trace.arrival.length; i++) if ((trace.arrival[i] ?? 0) - (trace.arrival[i - 1] ?? 0) >= 60) gaps++;
    expect(gaps).toBeGreaterThanOrEqual(10);
    const bursts = buildBurstySchedule(seed, T).filter((p) => p.level >= BURSTY_SHAPE.burstLevel[0]);
    expect(bursts.length).toBeGreaterThanOrEqual(3);
    for (const b of bursts.slice(0, -1)) {
      expect(b.end - b.start).toBeGreaterThanOrEqual(30);
      expect(b.end - b.start).toBeLessThanOrEqual(120);
      // The realized rate in every burst is at least 5x the trace's mean (4.5x leaves room for Poisson noise).
      expect(countIn(trace, b.start, b.end) / (b.end - b.start)).toBeGreaterThan(4.5 * rate);
    }
    // Bursts recur: no stretch of 20 minutes without one.
    const starts = [0, ...bursts.map((b) => b.start)];
    for (let i = 1; i < starts.length; i++) expect((starts[i] ?? 0) - (starts[i - 1] ?? 0)).toBeLessThan(1200);
  });

  it('diurnal: 0.2x at the ends, 2x at mid-run, smooth in between', () => {
    const T = 3600;
    const trace = buildDiurnalTrace({ seed: 1, durationSeconds: T, baseRate: 20 });
    const r = (from: number, to: number): number => countIn(trace, from, to) / (to - from) / 20;
    expect(r(0, 120)).toBeLessThan(0.35);
    expect(r(T - 120, T)).toBeLessThan(0.35);
    expect(r(T / 2 - 120, T / 2 + 120)).toBeGreaterThan(1.8);
    expect(trace.arrival.length / T / 20).toBeCloseTo(1.1, 1);
    const tenths = Array.from({ length: 10 }, (_, k) => r(k * T / 10, (k + 1) * T / 10));
    for (let k = 1; k < 5; k++) expect(tenths[k]).toBeGreaterThan(tenths[k - 1] ?? 0);
    for (let k = 5; k < 10; k++) expect(tenths[k]).toBeLessThan(tenths[k - 1] ?? 0);
  });

  it('heavy-tail: p99 prompt >> median, many prompts of thousands and some of tens of thousands, all within the context', () => {
    const trace = buildHeavyTailTrace({ seed: 1, durationSeconds: 1800, baseRate: 20 });
    const p50 = quantile(trace.input, 0.5);
    const p99 = quantile(trace.input, 0.99);
    expect(p50).toBeGreaterThan(1000);
    expect(p50).toBeLessThan(2000);
    expect(p99).toBeGreaterThan(10 * p50);
    expect(trace.input.filter((x) => x >= 2000).length / trace.input.length).toBeGreaterThan(0.3);
    expect(trace.input.filter((x) => x >= 10_000).length / trace.input.length).toBeGreaterThan(0.03);
    for (let i = 0; i < trace.input.length; i++) expect((trace.input[i] ?? 0) + (trace.output[i] ?? 0)).toBeLessThanOrEqual(DEFAULT_SIMULATION.maxModelLen);
  });

  it('decode-heavy: prompts of about 200 tokens, outputs of 1,000-2,000', () => {
    const trace = buildDecodeHeavyTrace({ seed: 1, durationSeconds: 1800, baseRate: 10 });
    expect(mean(trace.input)).toBeGreaterThan(150);
    expect(mean(trace.input)).toBeLessThan(250);
    expect(Math.min(...trace.output)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...trace.output)).toBeLessThanOrEqual(2000);
    expect(mean(trace.output)).toBeCloseTo(1500, -2);
  });

  it('transforms: scaleLengths, timeScale, windowTrace, keepAdmissible', () => {
    const trace = toTrace([[0, 100, 10], [1, 3000, 20], [2.5, 30_000, 500], [4, 7, 1]]);
    const scaled = scaleLengths(trace, 3, 0.5);
    expect(Array.from(scaled.input)).toEqual([300, 9000, 90_000, 21]);
    expect(Array.from(scaled.output)).toEqual([5, 10, 250, 1]);
    expect(Array.from(scaled.arrival)).toEqual([0, 1, 2.5, 4]);
    expect(Array.from(timeScale(trace, 2).arrival)).toEqual([0, 0.5, 1.25, 2]);
    const w = windowTrace(trace, 1, 4);
    expect(Array.from(w.arrival)).toEqual([0, 1.5]);
    expect(Array.from(w.input)).toEqual([3000, 30_000]);
    expect(keepAdmissible(trace, 32_768)).toBe(trace);
    expect(Array.from(keepAdmissible(trace, 30_000).input)).toEqual([100, 3000, 7]);
  });
});

describe('scenarios and the suite', () => {
  const csv = ['TIMESTAMP,ContextTokens,GeneratedTokens', ...Array.from({ length: 600 }, (_, i) => `2023-11-16 18:${String(10 + Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.0000000,${1000 + i},${100 + (i % 7)}`)].join('\n');
  const base = { amplify: 1, startupSeconds: 180, capacityMultiplier: 1, routing: 'random' as Routing, seed: 1 };

  it('buildScenario takes every synthetic:KIND, with base rate and duration overrides', () => {
    for (const kind of TRACE_KINDS) {
      const s = buildScenario({ ...base, trace: `synthetic:${kind}`, baseRate: 2, durationSeconds: 900 });
      expect(s.trace.arrival.length).toBeGreaterThan(0);
      expect(s.trace.arrival[s.trace.arrival.length - 1]).toBeLessThan(900);
    }
    expect(() => buildScenario({ ...base, trace: 'synthetic:nope' })).toThrow(/unknown synthetic trace/);
  });

  it('buildScenario derives conv:prefill-heavy from the CSV text, and windows a CSV with durationSeconds', () => {
    const plain = buildScenario({ ...base, trace: 'conv.csv', traceText: csv });
    const heavy = buildScenario({ ...base, trace: 'conv:prefill-heavy', traceText: csv });
    expect(Array.from(heavy.trace.input)).toEqual(Array.from(plain.trace.input, (x) => 3 * x));
    expect(Array.from(heavy.trace.output)).toEqual(Array.from(plain.trace.output));
    expect(heavy.bounds.fluid).toBeGreaterThan(plain.bounds.fluid);
    expect(buildScenario({ ...base, trace: 'conv.csv', traceText: csv, durationSeconds: 120 }).trace.arrival.length).toBe(120);
    expect(() => buildScenario({ ...base, trace: 'conv:prefill-heavy' })).toThrow(/source CSV/);
  });

  it('the oracle plans without the refused requests', () => {
    const long = csv.replace(/,1000,/, ',40000,');
    const withLong = buildScenario({ ...base, trace: 'x.csv', traceText: long });
    expect(withLong.trace.input[0]).toBe(40_000);
    expect(withLong.bounds.fluid).toBeCloseTo(buildScenario({ ...base, trace: 'x.csv', traceText: csv }).bounds.fluid - computeRequestWork(LFM2_24B_H100, 1000, 100) / 3600, 12);
  });

  it('the suite lists the fifteen traces once, and the smoke suite is tiny', () => {
    const read = (): string => csv;
    const suite = buildSuite(read, 1);
    expect(suite.map((e) => e.name)).toEqual(['conv-x40', 'mooncake-x8', 'bursty', 'bursty-recurring', 'diurnal', 'heavy-tail', 'decode-heavy', 'conv-prefill-heavy', 'step', 'spike', 'ramp', 'onoff', 'idle-gaps', 'workday', 'sparse-sessions']);
    for (const e of suite) expect(e.options).toMatchObject({ startupSeconds: 180, capacityMultiplier: 1, routing: 'random', seed: 1 });
    expect(buildSuite(read, 2, 'gateway').every((e) => e.options.routing === 'gateway' && e.options.seed === 2)).toBe(true);
    const smoke = buildSmokeSuite(read, 1);
    expect(smoke.length).toBeGreaterThanOrEqual(3);
    for (const e of smoke) expect(buildScenario(e.options).trace.arrival.length).toBeLessThan(10_000);
  });

  it('resolveTraceOptions reads the source CSV of a derived trace, and refuses unknown derivations', () => {
    const read = (path: string): string => `read ${path}`;
    expect(resolveTraceOptions('synthetic:bursty', read)).toEqual({ trace: 'synthetic:bursty' });
    expect(resolveTraceOptions('conv:prefill-heavy', read).traceText).toMatch(/read .*AzureLLMInferenceTrace_conv\.csv$/);
    expect(resolveTraceOptions('some/file.csv', read)).toEqual({ trace: 'some/file.csv', traceText: 'read some/file.csv' });
    expect(() => resolveTraceOptions('conv:nope', read)).toThrow(/unknown derived trace/);
  });
});

describe('refusals (prompt + output > max_model_len, HTTP 400)', () => {
  const config = (overrides: Partial<SimulationConfig> = {}): SimulationConfig => ({ ...DEFAULT_SIMULATION, profile: LFM2_24B_H100, startupSeconds: 180, initialReplicas: 1, horizonSeconds: 120, ...overrides });

  it('refuses at arrival, never serves or bills them, and takes the waiting shares over the others', () => {
    // 10 requests: 3 too long (32,000 + 1,000 > 32,768), 7 served at once.
    const rows: [number, number, number][] = Array.from({ length: 10 }, (_, i) => [i, i % 3 === 0 && i > 0 ? 32_000 : 500, i % 3 === 0 && i > 0 ? 1000 : 50]);
    const trace = toTrace(rows);
    const result = runSimulation(trace, fixed(1), config());
    expect(result.requests).toBe(10);
    expect(result.refused).toBe(3);
    expect(result.refusedTokens).toBe(3 * 33_000);
    expect(result.servedTokens).toBe(7 * 550);
    expect(result.servedTokens + result.killedOrDroppedTokens + result.refusedTokens).toBe(result.traceTokens);
    expect(result.dropped + result.killed).toBe(0);
    expect(result.waitOver1sPct).toBe(0);
    expect(result.maxWaitSeconds).toBeLessThan(0.1);
    // Exactly at the limit is accepted.
    expect(runSimulation(toTrace([[0, 32_000, 768]]), fixed(1), config()).refused).toBe(0);
    expect(runSimulation(toTrace([[0, 32_000, 769]]), fixed(1), config()).refused).toBe(1);
  });

  it('a trace of only refused requests has no waits (not NaN)', () => {
    const result = runSimulation(toTrace([[0, 40_000, 10], [1, 40_000, 10]]), fixed(1), config());
    expect(result.refused).toBe(2);
    expect(result.waitOver5sPct).toBe(0);
    expect(result.p99WaitSeconds).toBe(0);
  });
});

describe('gateway routing', () => {
  // Two replicas of four slots each (M = 4), so that they fill up: 30 s at 12 requests/s, then 2/s.
  const small: ReplicaProfile = { ...LFM2_24B_H100, maxRunning: 4 };
  const rows: [number, number, number][] = [];
  let seed = 12345;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let t = 0; t < 120;) {
    rows.push([t, 50 + Math.floor(next() * 400), 20 + Math.floor(next() * 300)]);
    t += -Math.log(1 - next()) / (t < 30 ? 12 : 2);
  }
  const trace = toTrace(rows);
  const config: SimulationConfig = { ...DEFAULT_SIMULATION, profile: small, startupSeconds: 60, initialReplicas: 2, horizonSeconds: 180, routing: 'gateway' };

  /** The longest time any request waited (arrival to admission) while fewer than 2M requests were running. */
  const worstIdleWait = (routing: Routing): { worst: number; result: SimulationResult; admitted: Float64Array } => {
    const { result, requests } = runSimulationWithRequests(trace, fixed(2), { ...config, routing });
    const changes: [number, number][] = [];
    for (let i = 0; i < trace.arrival.length; i++) {
      changes.push([requests.admitted[i] ?? NaN, +1]);
      changes.push([requests.finished[i] ?? NaN, -1]);
    }
    expect(changes.some(([t]) => Number.isNaN(t))).toBe(false);
    changes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    // Intervals [from, to) during which fewer than 2M = 8 requests run: some replica has a free slot.
    const idle: [number, number][] = [];
    let running = 0;
    let since = 0;
    for (const [t, d] of changes) {
      if (running < 8 && running + d >= 8) idle.push([since, t]);
      if (running >= 8 && running + d < 8) since = t;
      running += d;
    }
    idle.push([since, Infinity]);
    let worst = 0;
    for (let i = 0; i < trace.arrival.length; i++) {
      const from = trace.arrival[i] ?? 0;
      const to = requests.admitted[i] ?? 0;
      for (const [a, b] of idle) worst = Math.max(worst, Math.min(to, b) - Math.max(from, a));
    }
    return { worst, result, admitted: requests.admitted };
  };

  it('never leaves a request waiting at the gateway while a Ready replica has room', () => {
    const { worst, result, admitted } = worstIdleWait('gateway');
    expect(result.requests).toBe(trace.arrival.length);
    expect(result.dropped + result.killed).toBe(0);
    // The replicas do fill up: requests wait.
    expect(result.waitOver1sPct).toBeGreaterThan(10);
    // ... but never while one has room, beyond the gateway poll (0.1 s) and one step.
    expect(worst).toBeLessThan(DEFAULT_SIMULATION.gatewayPollSeconds + 0.05);
    // FCFS: admission follows arrival order (within one step, across the two replicas).
    for (let i = 1; i < admitted.length; i++) expect(admitted[i]).toBeGreaterThan((admitted[i - 1] ?? 0) - 0.05);
  });

  it('random routing, in the same scenario, does leave requests queued behind a full replica while the other has room', () => {
    expect(worstIdleWait('random').worst).toBeGreaterThan(1);
  });

  it('holds requests at the gateway while no replica is Ready, then dispatches them; drops them after the client timeout', () => {
    const early = toTrace([[0, 100, 10], [1, 100, 10], [2, 100, 10], [3, 100, 10]]);
    const cold: SimulationConfig = { ...config, initialReplicas: 0, startupSeconds: 30, startupSigma: 0, horizonSeconds: 120, controllerStartSeconds: 0 };
    const result = runSimulation(early, fixed(1), cold);
    expect(result.dropped).toBe(0);
    expect(result.servedTokens).toBe(4 * 110);
    // Ready at 0 + 5 (scheduling) + 30 (startup), in the endpoints 2 s later.
    expect(result.maxWaitSeconds).toBeGreaterThan(33);
    expect(result.maxWaitSeconds).toBeLessThan(38);
    const timedOut = runSimulation(early, fixed(1), { ...cold, clientTimeoutSeconds: 20 });
    expect(timedOut.dropped).toBe(4);
    expect(timedOut.servedTokens + timedOut.killedOrDroppedTokens).toBe(timedOut.traceTokens);
  });

  it.each(['random', 'least-outstanding', 'gateway'] as const)('conserves work under %s routing, with refusals, kills and drops', (routing) => {
    const rows2: [number, number, number][] = [];
    for (let i = 0; i < 2000; i++) rows2.push([i * 0.3, i % 50 === 0 ? 40_000 : 200 + (i % 13) * 50, 6000]);
    const heavy = toTrace(rows2);
    // Four replicas until 300 s, then one: its drain kills what runs, and its queue outlives a 200 s client timeout.
    const dropToOne = fixed((v) => (v.now > 300_000 ? 1 : 4));
    const result = runSimulation(heavy, dropToOne, { ...config, profile: { ...LFM2_24B_H100, maxRunning: 64 }, routing, initialReplicas: 4, horizonSeconds: 600, drainSeconds: 30, clientTimeoutSeconds: 200 });
    expect(result.refused).toBe(40);
    expect(result.killed).toBeGreaterThan(0);
    expect(result.dropped).toBeGreaterThan(0);
    expect(result.servedTokens + result.killedOrDroppedTokens + result.refusedTokens).toBe(result.traceTokens);
    expect(RequestState.Refused).toBe(6);
  });

  it('is deterministic', () => {
    expect(runSimulation(trace, fixed(2), config)).toEqual(runSimulation(trace, fixed(2), config));
  });
});

describe('bursty-recurring', () => {
  it('has the issue\'s shape: silences of 60-120 s, bursts of 10-40 s at 3-7.5x the base rate, recurring', () => {
    const pieces = buildRecurringBurstSchedule(3, 3600);
    const silences = pieces.filter((p) => p.level === 0 && p.end < 3600).map((p) => p.end - p.start);
    const bursts = pieces.filter((p) => p.level > 0 && p.end < 3600);
    expect(silences.every((s) => s >= 60 - 1e-9 && s <= 120 + 1e-9)).toBe(true);
    expect(bursts.every((b) => b.end - b.start >= 10 - 1e-9 && b.end - b.start <= 40 + 1e-9 && b.level >= 3 && b.level <= 7.5)).toBe(true);
    expect(bursts.length).toBeGreaterThan(3600 / 160 - 2);
    const trace = buildRecurringBurstTrace({ seed: 3, durationSeconds: 3600, baseRate: 10 });
    const meanRate = trace.arrival.length / 3600;
    // Bursts are 3-10x the trace's mean rate.
    expect(Math.min(...bursts.map((b) => b.level * 10)) / meanRate).toBeGreaterThan(2.5);
    expect(buildRecurringBurstTrace({ seed: 3, durationSeconds: 3600, baseRate: 10 }).arrival).toEqual(trace.arrival);
  });
});
