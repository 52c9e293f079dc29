import { describe, expect, it } from 'vitest';
import { AutoscalingSpec, type AutoscalingStatus } from '../../src/api/v1alpha1.js';
import { decide, type PodView } from '../../src/autoscaler/decide.js';
import { isAutoscalingStatusChanged, isFitDecayOnly, isSameAutoscalingStatus } from '../../src/autoscaler/status-change.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const policy = AutoscalingSpec.parse({ enabled: true, minReplicas: 1, maxReplicas: 4, scrapeIntervalSeconds: 15, promptTokensPerSecondPerReplica: 40_000, generationTokensPerSecondPerReplica: 12_000 });
const pods: PodView[] = [{ name: 'a', phase: 'Ready', createdAt: T0 - 3_900_000, readyAt: T0 - 3_600_000 }];
const tick = (t: number, previous: AutoscalingStatus | undefined, load: number) => decide({
  policy, pods, currentReplicas: 1, now: T0 + t * 1000, ...(previous ? { previous } : {}),
  samples: [{ pod: 'a', time: T0 + t * 1000, waiting: 0, running: 50, promptTokensPerSecond: load, generationTokensPerSecond: load / 10, meanRunning: 50 }],
});

describe('status.autoscaling is written only on change', () => {
  it('an idle, steady deployment has nothing new to say after its first decisions', () => {
    let state = tick(0, undefined, 0).state;
    state = tick(15, state, 0).state;
    const next = tick(30, state, 0).state;
    expect(next.recommendations?.at(-1)?.time).not.toBe(state.recommendations?.at(-1)?.time);
    expect(isAutoscalingStatusChanged(state, next)).toBe(false);
  });

  it('a change of load, count or reason is a change', () => {
    const state = tick(15, tick(0, undefined, 1000).state, 1000).state;
    expect(isAutoscalingStatusChanged(state, tick(30, state, 2000).state)).toBe(true);
    expect(isAutoscalingStatusChanged(state, { ...state, reason: 'other' })).toBe(true);
    expect(isAutoscalingStatusChanged(state, { ...state, desiredReplicas: 2 })).toBe(true);
    expect(isAutoscalingStatusChanged(undefined, state)).toBe(true);
  });

  it('a new recommendation, or an older one re-stamped, is a change; only the newest one re-stamped is not', () => {
    const base: AutoscalingStatus = { desiredReplicas: 2, recommendations: [{ time: '2026-03-01T12:00:00.000Z', replicas: 3 }, { time: '2026-03-01T12:00:15.000Z', replicas: 2 }] };
    const restamped = { ...base, recommendations: [base.recommendations![0]!, { time: '2026-03-01T12:00:30.000Z', replicas: 2 }] };
    expect(isAutoscalingStatusChanged(base, restamped)).toBe(false);
    expect(isAutoscalingStatusChanged(base, { ...base, recommendations: [{ time: '2026-03-01T12:00:05.000Z', replicas: 3 }, base.recommendations![1]!] })).toBe(true);
    expect(isAutoscalingStatusChanged(base, { ...base, recommendations: [...base.recommendations!, { time: '2026-03-01T12:00:30.000Z', replicas: 1 }] })).toBe(true);
  });

  it('a capacity fit that only decayed is not a change; one that learned is', () => {
    const fit = { xx: 4, xu: 2, uu: 9, x: 3, u: 5, samples: 10 };
    const k = Math.exp(-15 / 1800);
    const decayed = Object.fromEntries(Object.entries(fit).map(([key, v]) => [key, Number((v * k).toPrecision(6))])) as typeof fit;
    expect(isFitDecayOnly(fit, decayed)).toBe(true);
    expect(isFitDecayOnly(fit, { ...decayed, samples: decayed.samples + 1, xx: decayed.xx + 0.5 })).toBe(false);
    expect(isFitDecayOnly(fit, { ...decayed, xu: decayed.xu * 1.01 })).toBe(false);
    expect(isFitDecayOnly(fit, { ...fit, samples: 11 })).toBe(false);
  });

  it('continuing from the last written status decides as continuing from the unwritten one', () => {
    // Skipped writes lose nothing: a new leader reading the older status reaches the same count and the same status.
    const written = tick(15, tick(0, undefined, 0).state, 0).state;
    let unwritten = written;
    for (let t = 30; t <= 150; t += 15) unwritten = tick(t, unwritten, 0).state;
    const fromWritten = tick(165, written, 0);
    const fromUnwritten = tick(165, unwritten, 0);
    expect(fromWritten.desiredReplicas).toBe(fromUnwritten.desiredReplicas);
    expect(isAutoscalingStatusChanged(fromUnwritten.state, fromWritten.state)).toBe(false);
  });

  it('compares documents regardless of key order', () => {
    expect(isSameAutoscalingStatus({ desiredReplicas: 1, reason: 'x' }, { reason: 'x', desiredReplicas: 1 })).toBe(true);
    expect(isSameAutoscalingStatus(undefined, { desiredReplicas: 1 })).toBe(false);
  });
});

describe('an unknown gateway queue', () => {
  it('holds the count like a silent pod: no scale-down while the endpoint picker does not answer', () => {
    const idle = { policy, pods: [...pods, { ...pods[0]!, name: 'b' }], currentReplicas: 2 };
    const sample = (t: number, pod: string) => ({ pod, time: T0 + t * 1000, waiting: 0, running: 0, promptTokensPerSecond: 0, generationTokensPerSecond: 0 });
    const play = (extra: { gatewaySilent: boolean } | { gatewayWaiting: number }) => {
      let previous: AutoscalingStatus | undefined;
      let last;
      for (let t = 0; t <= 3600; t += 15) {
        last = decide({ ...idle, now: T0 + t * 1000, samples: [sample(t, 'a'), sample(t, 'b')], ...(previous ? { previous } : {}), ...extra });
        previous = last.state;
      }
      return last!;
    };
    const silentDecision = play({ gatewaySilent: true });
    const heardDecision = play({ gatewayWaiting: 0 });
    expect(silentDecision!.desiredReplicas).toBe(2);
    expect(silentDecision!.reason).toBe('MetricsMissing');
    expect(silentDecision!.message).toMatch(/endpoint picker does not answer/);
    // The same history with the queue known to be empty scales down.
    expect(heardDecision!.desiredReplicas).toBe(1);
  });
});
