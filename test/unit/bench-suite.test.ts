import { describe, expect, it } from 'vitest';
import { buildCoarseLadder, buildDynamoPolicy, buildFineLadder, buildRulePolicy, floorSignificant, formatSetting, parseFamily } from '../../bench/autoscaling/baselines.js';
import type { PolicyRow } from '../../bench/autoscaling/report.js';
import { chooseReferenceBest, computeTargets, computeVerdict } from '../../bench/autoscaling/report.js';
import { buildJobs } from '../../bench/autoscaling/scenario.js';
import type { SuiteTrace } from '../../bench/autoscaling/suite-report.js';
import { buildSuiteReport, chooseAcrossSuite, chooseBestInHindsight, computeRefinementRanges, computeSuiteScore, formatSuiteReport, isAtLeastAsGood } from '../../bench/autoscaling/suite-report.js';
import type { PodSample } from '../../src/autoscaler/decide.js';
import type { ScalingView } from '../../src/autoscaler/policy.js';

/** A hand-made row: cost = ratio x 10 GPU-h. */
function row(policy: string, ratio: number, wait: number, killed = 0): PolicyRow {
  return {
    policy, gpuHours: ratio * 10, ratioToOracle: ratio, waitOver1sPct: wait, waitOver5sPct: wait, waitOver30sPct: wait,
    p99WaitSeconds: 1, killed, dropped: 0, scaleActions: 1, reversals: 0, refused: 0,
  };
}

describe('best setting in hindsight', () => {
  it('is the cheapest row within the waiting target', () => {
    const rows = [row('hpa@0.1', 1.6, 0), row('hpa@0.125', 1.3, 0.9), row('hpa@0.16', 1.1, 1.5), row('hpa@0.2', 0.9, 12)];
    expect(chooseBestInHindsight(rows, 1)?.policy).toBe('hpa@0.125');
    expect(chooseBestInHindsight(rows, 2)?.policy).toBe('hpa@0.16');
  });

  it('is the least waiting row when none meets the target, the cheaper one on a tie', () => {
    const rows = [row('keda@1', 3, 9), row('keda@2', 2.5, 4), row('keda@5', 2, 4), row('keda@10', 1.5, 20)];
    expect(chooseBestInHindsight(rows, 2)?.policy).toBe('keda@5');
  });

  it('breaks cost ties by waiting, then by label', () => {
    expect(chooseBestInHindsight([row('kpa@0.2', 1.2, 0.5), row('kpa@0.1', 1.2, 0.1)], 1)?.policy).toBe('kpa@0.1');
    expect(chooseBestInHindsight([row('kpa@0.2', 1.2, 0), row('kpa@0.1', 1.2, 0)], 1)?.policy).toBe('kpa@0.1');
    expect(chooseBestInHindsight([], 1)).toBeUndefined();
  });

  it('the reference rule family: the cheapest rule@ row at <= 2% waiting', () => {
    const rows = [row('operator', 1, 0), row('rule@60/0', 0.9, 5), row('rule@300/0.2', 1.1, 1.9), row('rule@900/1', 1.5, 0), row('hpa@0.1', 0.5, 0)];
    expect(chooseReferenceBest(rows)?.policy).toBe('rule@300/0.2');
  });
});

describe('across the suite', () => {
  const traces: SuiteTrace[] = [
    { trace: 'conv', kind: 'conv', rows: [row('operator', 1.08, 0.2), row('hpa@0.1', 1.5, 0), row('hpa@0.125', 1.2, 0.5), row('hpa@0.16', 1.0, 1.8), row('hpa@0.2', 0.9, 6)] },
    { trace: 'step', kind: 'bursty', rows: [row('operator', 1.2, 3), row('hpa@0.1', 1.4, 1), row('hpa@0.125', 1.3, 2.5), row('hpa@0.16', 1.1, 4), row('hpa@0.2', 0.95, 8), row('hpa@0.14', 1.0, 0)] },
  ];

  it('scores a setting by its worst ratio and worst waiting, and only if it ran on every trace', () => {
    expect(computeSuiteScore(traces, 'hpa@0.125')).toEqual({ policy: 'hpa@0.125', worstRatio: 1.3, worstWaitPct: 2.5 });
    expect(computeSuiteScore(traces, 'hpa@0.14')).toBeUndefined();
  });

  it('chooses the lowest worst ratio among settings whose worst waiting is within 2%', () => {
    // hpa@0.14 would win on step but did not run on conv; hpa@0.125 waits 2.5% on step.
    expect(chooseAcrossSuite(traces, 'hpa')).toMatchObject({ policy: 'hpa@0.1', worstRatio: 1.5, worstWaitPct: 1, feasible: true });
  });

  it('falls back to the least worst waiting when no setting is within 2%', () => {
    expect(chooseAcrossSuite(traces, 'hpa', 0.5)).toMatchObject({ policy: 'hpa@0.1', worstWaitPct: 1, feasible: false });
    const noisy: SuiteTrace[] = [{ trace: 'a', kind: 'other', rows: [row('kpa@0.1', 2, 5), row('kpa@0.2', 1, 5)] }];
    expect(chooseAcrossSuite(noisy, 'kpa')).toMatchObject({ policy: 'kpa@0.2', feasible: false });
    expect(chooseAcrossSuite(noisy, 'keda')).toBeUndefined();
  });

  it('is at least as good as the operator only when neither worst case is worse', () => {
    const op = { policy: 'operator', worstRatio: 1.2, worstWaitPct: 3 };
    expect(isAtLeastAsGood({ policy: 'a', worstRatio: 1.2, worstWaitPct: 3 }, op)).toBe(true);
    expect(isAtLeastAsGood({ policy: 'b', worstRatio: 1.1, worstWaitPct: 2 }, op)).toBe(true);
    expect(isAtLeastAsGood({ policy: 'c', worstRatio: 1.0, worstWaitPct: 3.1 }, op)).toBe(false);
    expect(isAtLeastAsGood({ policy: 'd', worstRatio: 1.21, worstWaitPct: 0 }, op)).toBe(false);
  });

  it('builds the report: per-trace targets and bests, and the dominance check against the operator', () => {
    const report = buildSuiteReport(traces);
    expect(report.operator).toEqual({ policy: 'operator', worstRatio: 1.2, worstWaitPct: 3 });
    const [conv, step] = report.traces;
    expect(conv?.targets).toEqual({ maxRatio: 1.1, maxWaitOver5sPct: 1 });
    expect(conv?.met).toBe(true);
    expect(conv?.bests.find((b) => b.family === 'hpa')?.row.policy).toBe('hpa@0.125');
    expect(step?.targets).toEqual({ maxRatio: 1.5, maxWaitOver5sPct: 2 });
    expect(step?.met).toBe(false); // 3% waiting > 2%
    expect(step?.bests.find((b) => b.family === 'hpa')?.row.policy).toBe('hpa@0.14');
    // hpa@0.1: worst 1.5x (worse than 1.2x) -> not at least as good.
    expect(report.choices.find((c) => c.family === 'hpa')).toMatchObject({ policy: 'hpa@0.1', atLeastAsGoodAsOperator: false });
    const better = buildSuiteReport([{ trace: 'x', kind: 'other', rows: [row('operator', 1.2, 1), row('kubeai@118', 1.1, 0.5)] }]);
    expect(better.choices).toEqual([{ family: 'kubeai', policy: 'kubeai@118', worstRatio: 1.1, worstWaitPct: 0.5, feasible: true, atLeastAsGoodAsOperator: true }]);
    const text = formatSuiteReport(report);
    expect(text).toContain('0.125 1.20/0.50');
    expect(text).toContain('operator: targets met on 1 of 2 traces');
  });

  it('a killed request misses the trace target', () => {
    const report = buildSuiteReport([{ trace: 'x', kind: 'other', rows: [row('operator', 1.0, 0, 3)] }]);
    expect(report.traces[0]?.met).toBe(false);
  });

  it('refines around each trace\'s best settings and the across-suite choice, ranges merged', () => {
    const ranges = computeRefinementRanges(traces);
    // Settings seen: 0.1 0.125 0.14 0.16 0.2. conv: 1% -> 0.125 (0.1..0.14), 2% -> 0.16 (0.14..0.2); step: 2% -> 0.14
    // (0.125..0.16); across the suite: 0.1 (0.1..0.125).
    expect(ranges).toEqual([{ family: 'hpa', lo: 0.1, hi: 0.2 }]);
  });

  it('does not refine where neither cost nor waiting changes, and refines next to a tie with the best', () => {
    const tied: SuiteTrace[] = [{ trace: 'a', kind: 'other', rows: [row('kpa@0.1', 1, 0), row('kpa@0.125', 1, 0), row('kpa@0.16', 1.2, 3)] }];
    expect(computeRefinementRanges(tied)).toEqual([{ family: 'kpa', lo: 0.125, hi: 0.16 }]);
    const flat: SuiteTrace[] = [{ trace: 'a', kind: 'other', rows: [row('kpa@0.1', 1, 0), row('kpa@0.125', 1, 0)] }];
    expect(computeRefinementRanges(flat)).toEqual([]);
  });
});

describe('targets and the single-trace verdict', () => {
  it('conv 1.10x and 1%, bursty 1.5x and 2%, others 1.25x and 2%', () => {
    expect(computeTargets('conv')).toEqual({ maxRatio: 1.1, maxWaitOver5sPct: 1 });
    expect(computeTargets('bursty')).toEqual({ maxRatio: 1.5, maxWaitOver5sPct: 2 });
    expect(computeTargets('other')).toEqual({ maxRatio: 1.25, maxWaitOver5sPct: 2 });
  });

  it('bound rows and the reference rule family never count as a baseline better than the operator', () => {
    const rows = [row('operator', 1.05, 0.5), row('oracle', 1, 0), row('oracle-zero-startup', 0.9, 0), row('rule@60/0', 0.95, 0.1), row('kubeai@118', 1.0, 0.5)];
    const verdict = computeVerdict(rows, computeTargets('conv'));
    expect(verdict?.dominatedBy).toEqual(['kubeai@118']);
    expect(verdict?.reference?.policy).toBe('rule@60/0');
  });
});

describe('grids and labels', () => {
  it('the coarse ladder steps by 1.25-1.28 and the fine ladder by at most 5%, with short stable labels', () => {
    const coarse = buildCoarseLadder(0.02, 1);
    expect(coarse[0]).toBe(0.02);
    expect(coarse[coarse.length - 1]).toBe(1);
    for (let i = 1; i < coarse.length; i++) expect((coarse[i] ?? 0) / (coarse[i - 1] ?? 1)).toBeLessThanOrEqual(1.2801);
    for (const [lo, hi, integer] of [[0.02, 1, false], [0.5, 200, false], [20, 1000, true], [0.32, 1, false]] as const) {
      const fine = buildFineLadder(lo, hi, integer);
      for (const x of coarse.filter((c) => c >= lo && c <= hi)) expect(fine).toContain(x);
      for (let i = 1; i < fine.length; i++) {
        expect((fine[i] ?? 0) / (fine[i - 1] ?? 1)).toBeLessThanOrEqual(1.05 + 1e-12);
        expect(fine[i]).toBeGreaterThan(fine[i - 1] ?? 0);
      }
      for (const x of fine) expect(formatSetting(x).replace(/^0\.0*/, '').replace('.', '').length).toBeLessThanOrEqual(integer ? 4 : 3);
    }
    expect(floorSignificant(0.115499)).toBe(0.115);
    expect(floorSignificant(1234.5)).toBe(1230);
    expect(formatSetting(0.1 * 1.25)).toBe('0.125');
  });

  it('buildJobs: bounds first, then the families; the fine grid has KubeAI 100..130 in steps of 1 and the ranges', () => {
    const coarse = buildJobs();
    expect(coarse.slice(0, 4).map((j) => j.label)).toEqual(['operator', 'oracle', 'oracle-zero-startup', 'oracle-zero-min']);
    const labels = coarse.map((j) => j.label);
    expect(labels).toContain('static@peak');
    expect(labels).toContain('hpa@0.125');
    expect(labels).toContain('hpa@0.7');
    expect(labels).toContain('keda@5');
    expect(labels).toContain('kubeai@100');
    expect(labels).toContain('dynamo@0.85');
    expect(labels).toContain('kpa300@0.02');
    expect(labels).toContain('aibrix@1');
    expect(labels.filter((l) => l.startsWith('rule@'))).toHaveLength(42);
    expect(new Set(labels).size).toBe(labels.length);
    const fine = buildJobs(undefined, 'fine', [{ family: 'keda', lo: 3.2, hi: 4 }]).map((j) => j.label);
    for (let t = 100; t <= 130; t++) expect(fine).toContain(`kubeai@${t}`);
    expect(fine).toEqual(expect.arrayContaining(['keda@3.36', 'keda@3.52', 'keda@3.69', 'keda@3.87']));
    for (const l of labels) expect(fine).toContain(l);
    expect(labels.every((l) => parseFamily(l) !== undefined || ['operator', 'oracle', 'oracle-zero-startup', 'oracle-zero-min'].includes(l))).toBe(true);
  });

  it('--policies keeps the bounds, selects families and labels, and adds labels that are off the grid', () => {
    const jobs = buildJobs(['kubeai@118', 'keda', 'hpa@0.15', 'rule@240/0.4']).map((j) => j.label);
    expect(jobs.slice(0, 4)).toEqual(['operator', 'oracle', 'oracle-zero-startup', 'oracle-zero-min']);
    expect(jobs).toEqual(expect.arrayContaining(['kubeai@118', 'keda@0.5', 'keda@200', 'hpa@0.15', 'rule@240/0.4']));
    expect(jobs.some((l) => l.startsWith('kpa@'))).toBe(false);
    expect(() => buildJobs(['hpa@abc'])).toThrow(/unknown policy/);
    expect(() => buildJobs(['nope@1'])).toThrow(/unknown policy/);
    expect(() => buildJobs(['kubeai@0.1'])).toThrow(/unknown policy/);
  });
});

describe('the new baselines', () => {
  const bounds = { minReplicas: 1, maxReplicas: 64 };
  const sample = (pod: string, extra: Partial<PodSample>): PodSample => ({ pod, time: 0, waiting: 0, running: 0, ...extra });
  const view = (now: number, current: number, samples: PodSample[]): ScalingView => ({ now: now * 1000, currentReplicas: current, pods: [], samples });

  it('rule@H/h scales up at once and down only to the highest recommendation of the last H seconds', () => {
    const policy = buildRulePolicy(60, 0.2, { promptTokensPerSecond: 1000, generationTokensPerSecond: 100 }, bounds, 'rule@60/0.2');
    // load = 2000/1000 + 300/100 = 5 replicas, x 1.2 = 6.
    expect(policy.decide(view(60, 4, [sample('a', { promptTokensPerSecond: 2000, generationTokensPerSecond: 300, requestsPerSecond: 10 })])).desiredReplicas).toBe(6);
    // load 1 -> 2 (ceil 1.2), but 6 was recommended within 60 s.
    expect(policy.decide(view(90, 6, [sample('a', { promptTokensPerSecond: 1000, requestsPerSecond: 10 })])).desiredReplicas).toBe(6);
    expect(policy.decide(view(125, 6, [sample('a', { promptTokensPerSecond: 1000, requestsPerSecond: 10 })])).desiredReplicas).toBe(2);
    // Waiting requests: 600 x (work per request 1/10 replica-s) / 60 s = 1 more replica: (1 + 1) x 1.2 -> 3.
    expect(policy.decide(view(140, 2, [sample('a', { promptTokensPerSecond: 1000, requestsPerSecond: 10, waiting: 600 })])).desiredReplicas).toBe(3);
  });

  it('dynamo@rho plans every 180 s from the interval\'s request and token rates, and holds in between', () => {
    const policy = buildDynamoPolicy(0.5, { prefillSecondsPerToken: 0.001, decodeSecondsPerToken: 0.01 }, bounds, 'dynamo@0.5');
    // num_req x (p isl + d osl) / interval = 1 x 0.001 + 0.1 x 0.01... per second: 2000 x 0.001 + 100 x 0.01 = 3 -> / 0.5 = 6.
    const s = sample('a', { requestsPerSecond: 10, promptTokensPerSecond: 2000, generationTokensPerSecond: 100 });
    expect(policy.decide(view(60, 3, [s])).desiredReplicas).toBe(6);
    const double = sample('a', { requestsPerSecond: 20, promptTokensPerSecond: 4000, generationTokensPerSecond: 200 });
    expect(policy.decide(view(70, 6, [double])).desiredReplicas).toBe(6);
    for (let t = 80; t < 240; t += 10) expect(policy.decide(view(t, 6, [double])).desiredReplicas).toBe(6);
    expect(policy.decide(view(240, 6, [double])).desiredReplicas).toBe(12);
  });
});
