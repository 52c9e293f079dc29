import { describe, expect, it } from 'vitest';
import type { ActivatorAwarePolicy, ActivatorView } from '../../bench/autoscaling/activator.js';
import { ActivatorQueue, DEFAULT_ACTIVATOR, buildZeroOperatorPolicy } from '../../bench/autoscaling/activator.js';
import {
  GENERATOR_DEFAULTS, IDLE_KINDS, WORKDAY_SHAPE, buildIdleGapSchedule, buildSparseSessionSchedule, buildTraceOfKind, buildWorkdaySchedule, computeSessionGaps,
} from '../../bench/autoscaling/generators.js';
import { LFM2_24B_H100 } from '../../bench/autoscaling/replica.js';
import type { PolicyRow } from '../../bench/autoscaling/report.js';
import { buildRows, computeTargets, computeZeroVerdict, formatTable } from '../../bench/autoscaling/report.js';
import type { ScenarioOptions } from '../../bench/autoscaling/scenario.js';
import { buildJobSimulation, buildJobs, buildPolicy, buildScenario, buildZeroOperatorSpec } from '../../bench/autoscaling/scenario.js';
import type { SimulationConfig } from '../../bench/autoscaling/simulator.js';
import { DEFAULT_SIMULATION, runSimulation, runSimulationWithRequests } from '../../bench/autoscaling/simulator.js';
import { buildSmokeSuite, buildSuite } from '../../bench/autoscaling/suite.js';
import type { SuiteTrace } from '../../bench/autoscaling/suite-report.js';
import { buildSuiteReport, formatSuiteReport } from '../../bench/autoscaling/suite-report.js';
import type { Trace } from '../../bench/autoscaling/trace.js';

const toTrace = (rows: [number, number, number][]): Trace => ({
  name: 'hand-built',
  arrival: Float64Array.from(rows, (r) => r[0]),
  input: Int32Array.from(rows, (r) => r[1]),
  output: Int32Array.from(rows, (r) => r[2]),
});

interface Call { t: number; held: number | undefined; current: number; ready: number }

/**
 * A scale-from-zero policy that records its calls: one replica while anything is held or once it has one, until
 * `until` seconds; zero otherwise. Regular ticks start at `controllerStartSeconds` (late in these tests).
 */
function recorder(triggers: boolean, until = Infinity, scaleUp = true): ActivatorAwarePolicy & { calls: Call[] } {
  const calls: Call[] = [];
  return {
    name: 'recorder', periodSeconds: 15, scrapeIntervalSeconds: 15, calls,
    ...(triggers ? { activatorTriggers: true } : {}),
    decide(view: ActivatorView) {
      const t = view.now / 1000;
      calls.push({ t, held: view.activators?.held, current: view.currentReplicas, ready: view.pods.filter((p) => p.phase === 'Ready').length });
      const want = scaleUp && t < until && ((view.activators?.held ?? 0) > 0 || view.currentReplicas > 0) ? 1 : 0;
      return { desiredReplicas: want };
    },
  };
}

// Ready 5 s (scheduling) + 30 s (startup, no spread) after the scale-up; in the endpoints 2 s later.
const cold = (overrides: Partial<SimulationConfig> = {}): SimulationConfig => ({
  ...DEFAULT_SIMULATION, profile: LFM2_24B_H100, startupSeconds: 30, startupSigma: 0, initialReplicas: 0, horizonSeconds: 300,
  controllerStartSeconds: 10_000, activator: { ...DEFAULT_ACTIVATOR }, ...overrides,
});

describe('the activator queue', () => {
  it('holds up to maxHeldRequests, refuses one more, expires after maxHoldSeconds, and drains oldest first', () => {
    const q = new ActivatorQueue({ maxHeldRequests: 2, maxHoldSeconds: 10, triggerDelaySeconds: 1 }, Float64Array.from([0, 1, 2, 3]));
    expect(q.nextExpiry()).toBe(Infinity);
    expect(q.offer(0)).toBe('first');
    expect(q.offer(1)).toBe('held');
    expect(q.offer(2)).toBe('refused');
    expect(q.counts()).toEqual({ held: 2, refused: 1, expired: 0 });
    expect(q.nextExpiry()).toBe(10);
    expect(q.expire(9.99)).toEqual([]);
    expect(q.expire(10)).toEqual([0]);
    expect(q.nextExpiry()).toBe(11);
    expect(q.offer(3)).toBe('held');
    expect(q.drain()).toEqual([1, 3]);
    expect(q.counts()).toEqual({ held: 0, refused: 1, expired: 1 });
    expect(q.heldTotal).toBe(3);
    expect(q.offer(2)).toBe('first');
  });
});

describe('scale to zero in the simulator', () => {
  // Three requests before the trigger, one during the cold start, one between Ready and the endpoint, one after.
  const trace = toTrace([[10, 200, 20], [10.2, 200, 20], [10.5, 200, 20], [12, 200, 20], [47, 200, 20], [60, 200, 20]]);

  it('holds requests while no replica is Ready, decides 1 s after the first, forwards them at Ready and decides again', () => {
    const policy = recorder(true);
    const { result, requests } = runSimulationWithRequests(trace, policy, cold());
    // The trigger: 1 s after the first held request, seeing the three held by then.
    expect(policy.calls[0]).toEqual({ t: 11, held: 3, current: 0, ready: 0 });
    // The pod: created at 11, Ready at 11 + 5 + 30 = 46: a decision at once, with nothing held any more.
    expect(policy.calls[1]).toMatchObject({ held: 0, current: 1, ready: 1 });
    expect(policy.calls[1]?.t).toBeCloseTo(46, 6);
    expect(policy.calls).toHaveLength(2);
    // Forwarded at 46: the four held requests are admitted then.
    for (let i = 0; i < 4; i++) expect(requests.admitted[i]).toBeCloseTo(46, 1);
    expect(result.coldStartRequests).toBe(4);
    expect(result.coldStartMaxWaitSeconds).toBeCloseTo(36, 1);
    expect(result.coldStartP50WaitSeconds).toBeCloseTo(35.8, 1);
    expect(result.coldStarts).toBe(1);
    // The request at 47 (Ready pod, endpoint not yet added) and the one at 60 take the normal path: no cold start.
    expect(requests.admitted[4]).toBeLessThan(47.1);
    expect(result.waitOver1sPct).toBe(0);
    expect(result.maxWaitSeconds).toBeLessThan(0.1);
    expect(result.coldRefused + result.coldExpired + result.dropped + result.killed).toBe(0);
    expect(result.servedTokens).toBe(result.traceTokens);
  });

  it('without activatorTriggers nothing wakes the policy: the requests wait for the regular decisions', () => {
    const policy = recorder(false);
    const result = runSimulation(trace, policy, cold({ controllerStartSeconds: 60 }));
    expect(policy.calls[0]?.t).toBeCloseTo(60, 3);
    // The first regular decision (just after 60 s) finds all six held: the one at 60 s too.
    expect(policy.calls[0]?.held).toBe(6);
    expect(result.coldStartRequests).toBe(6);
    expect(result.coldStartMaxWaitSeconds).toBeGreaterThan(60 + 35 - 10);
  });

  it('refuses with 429 beyond maxHeldRequests: counted apart, out of the waiting shares and out of dropped', () => {
    const result = runSimulation(trace, recorder(true), cold({ activator: { ...DEFAULT_ACTIVATOR, maxHeldRequests: 2 } }));
    expect(result.coldStartRequests).toBe(2);
    expect(result.coldRefused).toBe(2);
    expect(result.dropped).toBe(0);
    expect(result.waitOver1sPct).toBe(0);
    expect(result.servedTokens).toBe(4 * 220);
    expect(result.servedTokens + result.killedOrDroppedTokens + result.refusedTokens).toBe(result.traceTokens);
  });

  it('answers 503 after maxHoldSeconds when no replica comes, and counts it apart', () => {
    const early = toTrace([[10, 200, 20], [15, 200, 20], [50, 200, 20]]);
    const result = runSimulation(early, recorder(true, Infinity, false), cold({ activator: { ...DEFAULT_ACTIVATOR, maxHoldSeconds: 20 } }));
    expect(result.coldStartRequests).toBe(3);
    expect(result.coldExpired).toBe(3);
    expect(result.dropped).toBe(0);
    expect(result.coldStartMaxWaitSeconds).toBe(Infinity);
    expect(result.servedTokens).toBe(0);
    expect(result.killedOrDroppedTokens).toBe(result.traceTokens);
    // Expired at arrival + 20 s (30 and 35 s): the replica Ready at 46 s finds nothing held, and the request at 50 s
    // takes the normal path.
    const late = runSimulation(early, recorder(true), cold({ activator: { ...DEFAULT_ACTIVATOR, maxHoldSeconds: 20 } }));
    expect(late.coldExpired).toBe(2);
    expect(late.coldStartRequests).toBe(2);
    expect(late.servedTokens).toBe(220);
    expect(late.maxWaitSeconds).toBeLessThan(0.1);
  });

  it('keeps the activator out of the warm path: with a replica in the endpoints nothing is held', () => {
    const result = runSimulation(trace, recorder(true), cold({ initialReplicas: 1 }));
    expect(result.coldStartRequests).toBe(0);
    expect(result.coldStarts).toBe(0);
    expect(result.maxWaitSeconds).toBeLessThan(0.1);
  });

  it('is deterministic', () => {
    expect(runSimulation(trace, recorder(true), cold())).toEqual(runSimulation(trace, recorder(true), cold()));
  });
});

describe('operator-zero: decide() with scale to zero behind the activator', () => {
  // Two sessions of 3 minutes at 2 requests/s, about 20 minutes apart (the second between two regular decisions).
  const rows: [number, number, number][] = [];
  for (const start of [0, 1387]) for (let t = start; t < start + 180; t += 0.5) rows.push([t, 500, 100]);
  const trace = toTrace(rows);
  const spec = buildZeroOperatorSpec({ idleSeconds: 60, maxHeldRequests: 1000, maxHoldSeconds: 600 });
  const config: SimulationConfig = { ...DEFAULT_SIMULATION, profile: LFM2_24B_H100, startupSeconds: 60, startupSigma: 0, initialReplicas: 1, horizonSeconds: 1620, activator: { ...DEFAULT_ACTIVATOR, maxHeldRequests: 1000 } };

  it('goes to zero idleSeconds after the last request, and back to one 1 s after the next arrives', () => {
    const policy = buildZeroOperatorPolicy(spec);
    const decisions: { t: number; desired: number; reason: string | undefined; held: number }[] = [];
    const decide = policy.decide.bind(policy);
    policy.decide = (view: ActivatorView) => {
      const choice = decide(view);
      decisions.push({ t: view.now / 1000, desired: choice.desiredReplicas, reason: choice.reason, held: view.activators?.held ?? 0 });
      return choice;
    };
    const result = runSimulation(trace, policy, config);
    const toZero = decisions.find((d) => d.reason === 'ScaleToZero');
    expect(toZero).toBeDefined();
    // idleSeconds 60 after the first scrape interval without tokens (the last request ends near 180 s).
    expect(toZero?.t).toBeGreaterThan(180 + 60);
    expect(toZero?.t).toBeLessThan(180 + 60 + 3 * 15);
    const up = decisions.find((d) => d.reason === 'ScaleUpFromZero');
    expect(up?.t).toBeCloseTo(1388, 6);
    expect(up).toMatchObject({ desired: 1, held: 2 });
    expect(result.coldStarts).toBe(1);
    // Held from 1387 until Ready at 1388 + 65: about 130 requests, none refused or expired.
    expect(result.coldStartRequests).toBeGreaterThan(120);
    expect(result.coldStartRequests).toBeLessThan(140);
    expect(result.coldStartMaxWaitSeconds).toBeCloseTo(66, 0);
    expect(result.coldRefused + result.coldExpired).toBe(0);
    // The rest did not wait; the replica that went to zero billed its idle tail (about idleSeconds + a scrape or two).
    expect(result.waitOver1sPct).toBe(0);
    expect(result.idleTailGpuHours * 3600).toBeGreaterThan(60);
    expect(result.idleTailGpuHours * 3600).toBeLessThan(60 + 3 * 15 + 5);
  });

  it('refuses minReplicas 1 or a missing scaleToZero', () => {
    expect(() => buildZeroOperatorPolicy({ ...spec, minReplicas: 1 })).toThrow(/minReplicas 0/);
  });
});

describe('the idle traces', () => {
  it.each([1, 2, 3])('idle-gaps (seed %i): sessions of 10-40 min, silences of 10-60 min, and nothing arrives in them', (seed) => {
    // The schedule does not depend on the base rate: a low one keeps the test fast.
    const { durationSeconds } = GENERATOR_DEFAULTS['idle-gaps'];
    const baseRate = 1;
    const sessions = buildIdleGapSchedule(seed, durationSeconds);
    expect(sessions[0]?.start).toBe(0);
    expect(sessions.length).toBeGreaterThanOrEqual(3);
    for (const s of sessions.slice(0, -1)) expect(s.end - s.start).toBeGreaterThanOrEqual(600);
    for (const g of computeSessionGaps(sessions)) {
      expect(g).toBeGreaterThanOrEqual(600);
      expect(g).toBeLessThanOrEqual(3600);
    }
    const trace = buildTraceOfKind('idle-gaps', { seed, durationSeconds, baseRate });
    // The silences are in the trace: no arrival inside a gap, and as many gaps of >= 10 minutes between arrivals.
    let long = 0;
    for (let i = 1; i < trace.arrival.length; i++) if ((trace.arrival[i] ?? 0) - (trace.arrival[i - 1] ?? 0) >= 600) long++;
    expect(long).toBe(sessions.length - 1);
    expect(trace.arrival.filter((t) => !sessions.some((s) => t >= s.start && t < s.end))).toHaveLength(0);
  });

  it('workday: two office sessions a day with a lunch silence of 20-40 min and a night of 40-100 min', () => {
    const { durationSeconds } = GENERATOR_DEFAULTS.workday;
    for (const seed of [1, 2, 3]) {
      const sessions = buildWorkdaySchedule(seed, durationSeconds);
      expect(sessions).toHaveLength(4);
      const [lunch1, night, lunch2] = computeSessionGaps(sessions);
      for (const lunch of [lunch1, lunch2]) {
        expect(lunch).toBeGreaterThanOrEqual(WORKDAY_SHAPE.lunchSeconds[0]);
        expect(lunch).toBeLessThanOrEqual(WORKDAY_SHAPE.lunchSeconds[1]);
      }
      expect(night).toBeGreaterThanOrEqual(40 * 60);
      expect(night).toBeLessThanOrEqual(100 * 60 + 600);
      // Pauses of 1-3 minutes inside each session, where nothing arrives.
      const trace = buildTraceOfKind('workday', { seed, durationSeconds, baseRate: 2 });
      for (const s of sessions) {
        expect(s.pauses.length).toBeGreaterThanOrEqual(1);
        for (const p of s.pauses) {
          expect(p.end - p.start).toBeGreaterThanOrEqual(60);
          expect(p.end - p.start).toBeLessThanOrEqual(180);
          expect(trace.arrival.some((t) => t >= p.start && t < p.end)).toBe(false);
        }
      }
    }
  });

  it('sparse-sessions: sessions of 2-10 min at 0.1-0.9 requests/s, silences of 10-60 min', () => {
    const { durationSeconds, baseRate } = GENERATOR_DEFAULTS['sparse-sessions'];
    const sessions = buildSparseSessionSchedule(1, durationSeconds);
    expect(sessions.length).toBeGreaterThanOrEqual(8);
    for (const s of sessions.slice(0, -1)) {
      expect(s.end - s.start).toBeGreaterThanOrEqual(120);
      expect(s.end - s.start).toBeLessThanOrEqual(600);
      expect(s.level * baseRate).toBeGreaterThanOrEqual(0.1 - 1e-9);
      expect(s.level * baseRate).toBeLessThanOrEqual(0.9 + 1e-9);
    }
    const gaps = computeSessionGaps(sessions);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(600);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3600);
    const trace = buildTraceOfKind('sparse-sessions', { seed: 1, durationSeconds, baseRate });
    expect(trace.arrival.length).toBeGreaterThan(500);
    expect(trace.arrival.length).toBeLessThan(5000);
  });

  it('are in the suite as the idle kind, and the smoke suite has a tiny one', () => {
    const suite = buildSuite(() => 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0,10,10', 1);
    expect(suite.filter((e) => e.kind === 'idle').map((e) => e.name)).toEqual([...IDLE_KINDS]);
    const smoke = buildSmokeSuite(() => 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0,10,10', 1).find((e) => e.kind === 'idle');
    expect(smoke).toBeDefined();
    const trace = buildScenario(smoke?.options ?? ({} as ScenarioOptions)).trace;
    expect(trace.arrival.length).toBeLessThan(2000);
    let long = 0;
    for (let i = 1; i < trace.arrival.length; i++) if ((trace.arrival[i] ?? 0) - (trace.arrival[i - 1] ?? 0) >= 600) long++;
    expect(long).toBeGreaterThanOrEqual(2);
  });
});

describe('rows, jobs and targets with scale to zero', () => {
  const options: ScenarioOptions = { trace: 'synthetic:sparse-sessions', durationSeconds: 7200, amplify: 1, startupSeconds: 180, capacityMultiplier: 1, routing: 'random', seed: 1 };

  it('operator-zero runs only with scale to zero, after operator; both zero rows play behind the activator from the zero-minimum warm start', () => {
    expect(buildJobs().map((j) => j.label)).not.toContain('operator-zero');
    expect(buildJobs(undefined, 'coarse', [], true).slice(0, 5).map((j) => j.label)).toEqual(['operator', 'operator-zero', 'oracle', 'oracle-zero-startup', 'oracle-zero-min']);
    expect(buildJobs(['static'], 'smoke', [], true).map((j) => j.label)).toEqual(['operator', 'operator-zero', 'oracle', 'oracle-zero-startup', 'oracle-zero-min', 'static@peak']);
    const plain = buildScenario(options);
    expect(() => buildPolicy({ label: 'operator-zero', kind: 'operator-zero' }, plain)).toThrow(/scale to zero/);
    expect(buildJobSimulation({ label: 'oracle-zero-min', kind: 'oracle-zero-min' }, plain).activator).toBeUndefined();
    const zero = buildScenario({ ...options, scaleToZero: { idleSeconds: 180, maxHeldRequests: 50, maxHoldSeconds: 300 } });
    for (const kind of ['operator-zero', 'oracle-zero-min'] as const) {
      const sim = buildJobSimulation({ label: kind, kind }, zero);
      expect(sim.activator).toEqual({ maxHeldRequests: 50, maxHoldSeconds: 300, triggerDelaySeconds: 1 });
      expect(sim.initialReplicas).toBe(zero.zeroMinBounds.warmReplicas);
    }
    expect(buildJobSimulation({ label: 'operator', kind: 'operator' }, zero).activator).toBeUndefined();
    expect(buildPolicy({ label: 'operator-zero', kind: 'operator-zero' }, zero).activatorTriggers).toBe(true);
    expect(buildZeroOperatorSpec({ idleSeconds: 180, maxHeldRequests: 50, maxHoldSeconds: 300 })).toMatchObject({ minReplicas: 0, scaleToZero: { idleSeconds: 180, maxHeldRequests: 50, maxHoldSeconds: 300 } });
  });

  it('every row gets ratioToZeroMinOracle and the cold-start fields; the zero verdict holds operator-zero to 1.25x', () => {
    const zero = buildScenario({ ...options, scaleToZero: { idleSeconds: 180, maxHeldRequests: 100, maxHoldSeconds: 600 } });
    const results = (['operator', 'operator-zero', 'oracle', 'oracle-zero-min'] as const).map((kind) => runSimulation(zero.trace, buildPolicy({ label: kind, kind }, zero), buildJobSimulation({ label: kind, kind }, zero)));
    const rows = buildRows(results, zero.bounds, { 'oracle-zero-min': zero.zeroMinBounds.startup }, true);
    expect(rows.map((r) => r.policy)).toEqual(['operator', 'operator-zero', 'oracle', 'fluid', 'oracle-zero-min']);
    for (const r of rows) expect(r.ratioToZeroMinOracle).toBeDefined();
    const byName = new Map(rows.map((r) => [r.policy, r]));
    expect(byName.get('oracle-zero-min')?.ratioToZeroMinOracle).toBe(1);
    expect(byName.get('fluid')?.coldStartRequests).toBeNull();
    expect(byName.get('operator')?.coldStartRequests).toBe(0);
    const z = byName.get('operator-zero');
    expect(z?.coldStarts).toBeGreaterThanOrEqual(2);
    expect(z?.replicaStarts).toBeGreaterThanOrEqual(z?.coldStarts ?? Infinity);
    expect(z?.coldStartRequests).toBeGreaterThan(0);
    expect(z?.gpuHours).toBeLessThan(byName.get('operator')?.gpuHours ?? 0);
    expect(formatTable(rows)).toContain('x zero-min');
    const verdict = computeZeroVerdict(rows, computeTargets('idle'));
    expect(verdict).toMatchObject({ maxRatio: 1.25, maxWaitOver5sPct: 2 });
    expect(verdict?.met).toBe((z?.ratioToZeroMinOracle ?? Infinity) <= 1.25 && (z?.waitOver5sPct ?? Infinity) <= 2 && z?.killed === 0);
    // Without scale to zero the rows are as before: no new field.
    const plainRows = buildRows(results.filter((r) => r.policy !== 'operator-zero'), zero.bounds, { 'oracle-zero-min': zero.zeroMinBounds.startup });
    expect(plainRows.every((r) => !('ratioToZeroMinOracle' in r))).toBe(true);
    expect(formatTable(plainRows)).not.toContain('x zero-min');
  });

  it('the suite report adds the scale-to-zero table only when operator-zero rows exist, judging the idle traces', () => {
    const row = (policy: string, ratio: number, wait: number, zeroRatio?: number): PolicyRow => ({
      policy, gpuHours: ratio * 10, ratioToOracle: ratio, waitOver1sPct: wait, waitOver5sPct: wait, waitOver30sPct: wait, p99WaitSeconds: 1, killed: 0, dropped: 0, scaleActions: 1, reversals: 0, refused: 0,
      ...(zeroRatio !== undefined ? { ratioToZeroMinOracle: zeroRatio, coldStartRequests: 3, coldStartP50WaitSeconds: 180, coldStartMaxWaitSeconds: 200, coldRefused: 0, coldExpired: 0, coldStarts: 2, replicaStarts: 3, startingGpuHours: 0.1, idleTailGpuHours: 0.1 } : {}),
    });
    const traces: SuiteTrace[] = [
      { trace: 'idle-gaps', kind: 'idle', rows: [row('operator', 1.1, 0, 2), row('operator-zero', 0.6, 0.5, 1.2)] },
      { trace: 'conv', kind: 'conv', rows: [row('operator', 1.08, 0, 1.2), row('operator-zero', 1.08, 0, 1.2)] },
    ];
    const text = formatSuiteReport(buildSuiteReport(traces));
    expect(text).toContain('operator-zero: targets met on 1 of 1 idle traces');
    expect(formatSuiteReport(buildSuiteReport([{ trace: 'conv', kind: 'conv', rows: [row('operator', 1.08, 0)] }]))).not.toContain('scale to zero');
    expect(computeTargets('idle')).toEqual({ maxRatio: 1.25, maxWaitOver5sPct: 2, maxRatioToZeroMin: 1.25 });
  });
});
