import { describe, expect, it } from 'vitest';
import { buildHpaPolicy, buildKubeAiPolicy } from '../../bench/autoscaling/baselines.js';
import { computeClosedLoopThroughput, computePrefillThroughput } from '../../bench/autoscaling/calibration.js';
import { computeBounds } from '../../bench/autoscaling/oracle.js';
import { LFM2_24B_H100, ReplicaEngine, RequestTable, buildScaledProfile, computeRequestWork } from '../../bench/autoscaling/replica.js';
import { buildOperatorSpec } from '../../bench/autoscaling/scenario.js';
import { DEFAULT_SIMULATION, runSimulation } from '../../bench/autoscaling/simulator.js';
import { buildSyntheticTrace } from '../../bench/autoscaling/trace.js';
import { buildOperatorPolicy } from '../../src/autoscaler/policy.js';
import type { PodView } from '../../src/autoscaler/decide.js';
import type { ScalingView } from '../../src/autoscaler/policy.js';

describe('replica model calibration (reference/autoscaling.md §5.3)', () => {
  it('(a) a closed loop of 1,024 concurrent 1,024-in / 512-out requests gives 26.8K total tokens/s within 3%', () => {
    const result = computeClosedLoopThroughput(LFM2_24B_H100, 1024, 1024, 512);
    expect(result.totalTokensPerSecond).toBeGreaterThan(26_800 * 0.97);
    expect(result.totalTokensPerSecond).toBeLessThan(26_800 * 1.03);
    // About 2:1 prompt to output, as the anchor's run (prompts count when their prefill completes).
    expect(result.promptTokensPerSecond / result.generationTokensPerSecond).toBeGreaterThan(1.9);
    expect(result.promptTokensPerSecond / result.generationTokensPerSecond).toBeLessThan(2.1);
  });

  it('(b) prefill-only saturation gives about 48K tokens/s (within 5%)', () => {
    const tokensPerSecond = computePrefillThroughput(LFM2_24B_H100);
    expect(tokensPerSecond).toBeGreaterThan(48_000 * 0.95);
    expect(tokensPerSecond).toBeLessThan(48_000 * 1.05);
  });

  it('the step time at 1,024 decoding sequences is 72.2 ms, and d = kDecode + tau0 / 1,024 = 7.05e-5 s/token', () => {
    const p = LFM2_24B_H100;
    expect(p.stepSeconds + 1024 * p.decodeSecondsPerSequence).toBeCloseTo(0.0722, 6);
    expect(computeRequestWork(p, 0, 1)).toBeCloseTo(7.05e-5, 7);
    expect(computeRequestWork(p, 1, 0)).toBeCloseTo(2.07e-5, 9);
  });

  it('the capacity multiplier scales throughput and not the shape', () => {
    const faster = computeClosedLoopThroughput(buildScaledProfile(LFM2_24B_H100, 1.3), 1024, 1024, 512);
    const base = computeClosedLoopThroughput(LFM2_24B_H100, 1024, 1024, 512);
    expect(faster.totalTokensPerSecond / base.totalTokensPerSecond).toBeGreaterThan(1.3 * 0.98);
    expect(faster.totalTokensPerSecond / base.totalTokensPerSecond).toBeLessThan(1.3 * 1.02);
  });

  it('a lone request: TTFT is one prefill step, then one token per decode step', () => {
    const requests = new RequestTable(new Float64Array([0]), new Int32Array([1000]), new Int32Array([3]), Infinity);
    const engine = new ReplicaEngine(LFM2_24B_H100, requests, 0);
    engine.enqueue(0);
    engine.advance(10);
    const p = LFM2_24B_H100;
    const prefill = p.stepSeconds + 1000 * p.prefillSecondsPerToken;
    const decode = p.stepSeconds + p.decodeSecondsPerSequence;
    expect(requests.firstToken[0]).toBeCloseTo(prefill, 9);
    expect(requests.finished[0]).toBeCloseTo(prefill + 2 * decode, 9);
    expect(engine.promptTokens).toBe(1000);
    expect(engine.generationTokens).toBe(3);
  });
});

describe('simulator invariants (§5.10)', () => {
  const trace = buildSyntheticTrace('ramp', { baseRate: 30, durationSeconds: 1200, seed: 3 });
  const bounds = computeBounds(trace, LFM2_24B_H100, 180, 185);
  const config = { ...DEFAULT_SIMULATION, profile: LFM2_24B_H100, startupSeconds: 180, initialReplicas: bounds.warmReplicas, horizonSeconds: bounds.horizonSeconds };
  const operator = () => buildOperatorPolicy(buildOperatorSpec(LFM2_24B_H100, 64));

  it('G_fluid <= G_int <= G_L', () => {
    expect(bounds.fluid).toBeLessThanOrEqual(bounds.integer);
    expect(bounds.integer).toBeLessThanOrEqual(bounds.startup);
  });

  it('conserves work: served tokens = trace tokens - killed - dropped', () => {
    const result = runSimulation(trace, operator(), config);
    expect(result.servedTokens + result.killedOrDroppedTokens).toBe(result.traceTokens);
  });

  it('is deterministic: the same seed gives identical results', () => {
    expect(runSimulation(trace, operator(), config)).toEqual(runSimulation(trace, operator(), config));
  });

  it('kills what a terminating pod still runs at the end of its drain', () => {
    const long = buildSyntheticTrace('step', { baseRate: 20, durationSeconds: 600, seed: 5 });
    for (let i = 0; i < long.output.length; i++) long.output[i] = 4000;
    const dropToOne = { name: 'drop', periodSeconds: 15, scrapeIntervalSeconds: 15, decide: (v: ScalingView) => ({ desiredReplicas: v.now > 300_000 ? 1 : 4 }) };
    const result = runSimulation(long, dropToOne, { ...config, initialReplicas: 4, horizonSeconds: 600, drainSeconds: 30 });
    expect(result.killed).toBeGreaterThan(0);
    expect(result.servedTokens + result.killedOrDroppedTokens).toBe(result.traceTokens);
  });
});

describe('baselines follow their published rules', () => {
  const ready = (n: number): PodView[] => Array.from({ length: n }, (_, i) => ({ name: `p${i}`, phase: 'Ready' as const, createdAt: 0, readyAt: 1 }));
  const view = (now: number, replicas: number, running: number): ScalingView => ({
    now, currentReplicas: replicas, pods: ready(replicas),
    samples: ready(replicas).map((p) => ({ pod: p.name, time: now, waiting: 0, running })),
  });

  it('HPA scale-up is capped at max(2 x current, current + 4) per sync', () => {
    const hpa = buildHpaPolicy(100, { minReplicas: 1, maxReplicas: 100 }, 'hpa');
    expect(hpa.decide(view(0, 2, 1000)).desiredReplicas).toBe(6);
    expect(hpa.decide(view(15_000, 6, 1000)).desiredReplicas).toBe(12);
  });

  it('HPA scales down only to the highest recommendation of the last 300 s', () => {
    const hpa = buildHpaPolicy(100, { minReplicas: 1, maxReplicas: 100 }, 'hpa');
    expect(hpa.decide(view(0, 10, 100)).desiredReplicas).toBe(10);
    expect(hpa.decide(view(15_000, 10, 20)).desiredReplicas).toBe(10);
    expect(hpa.decide(view(301_000, 10, 20)).desiredReplicas).toBe(2);
  });

  it('KubeAI needs 3 consecutive lower results to scale down', () => {
    // 4 pods x 25 active requests = 100 = one pod at target 100.
    const kubeai = buildKubeAiPolicy(100, { minReplicas: 1, maxReplicas: 100 }, 'kubeai');
    expect([0, 10_000, 20_000].map((t) => kubeai.decide(view(t, 4, 25)).desiredReplicas)).toEqual([4, 4, 1]);
    const interrupted = buildKubeAiPolicy(100, { minReplicas: 1, maxReplicas: 100 }, 'kubeai');
    expect([0, 10_000].map((t) => interrupted.decide(view(t, 4, 25)).desiredReplicas)).toEqual([4, 4]);
    expect(interrupted.decide(view(20_000, 1, 25)).desiredReplicas).toBe(1);
  });
});
