// Property tests of decide(): invariants over random sequences of pods and engine samples (fast-check), not examples.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AutoscalingSpec, AutoscalingStatus } from '../../src/api/v1alpha1.js';
import type { DecideInput, ScaleDecision } from '../../src/autoscaler/decide.js';
import { decide } from '../../src/autoscaler/decide.js';
import type { PodSample, PodView } from '../../src/autoscaler/decide.js';

const P = 40_000;
const G = 12_000;
const T0 = Date.parse('2026-03-01T12:00:00Z');

/** One scrape interval of the world: pods by phase, each Ready pod's load and queue, and which pods answered. */
interface Step {
  ready: number;
  starting: number;
  pendingGpu: number;
  /** Per Ready pod: load in units of the targets, waiting, running, answered. */
  pods: { load: number; waiting: number; running: number; answered: boolean; generationShare: number }[];
  /** Seconds since the previous step (a scrape interval, sometimes a gap). */
  elapsed: number;
}

const stepArb = fc.integer({ min: 0, max: 12 }).chain((ready) => fc.record({
  ready: fc.constant(ready),
  starting: fc.integer({ min: 0, max: 4 }),
  pendingGpu: fc.integer({ min: 0, max: 2 }),
  pods: fc.array(fc.record({
    load: fc.double({ min: 0, max: 2, noNaN: true }),
    waiting: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5000 })),
    running: fc.integer({ min: 0, max: 1024 }),
    answered: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    generationShare: fc.double({ min: 0, max: 1, noNaN: true }),
  }), { minLength: ready, maxLength: ready }),
  elapsed: fc.oneof({ weight: 9, arbitrary: fc.constant(15) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 600 }) }),
}));

const policyArb = fc.record({
  minReplicas: fc.integer({ min: 0, max: 3 }),
  maxReplicas: fc.integer({ min: 3, max: 40 }),
  queueDepthPerReplica: fc.constantFrom(1, 4, 16),
  scaleDownDelaySeconds: fc.option(fc.constantFrom(0, 30, 300), { nil: undefined }),
  stabilizationWindowSeconds: fc.constantFrom(0, 60, 300),
}).map((o) => AutoscalingSpec.parse({ enabled: true, promptTokensPerSecondPerReplica: P, generationTokensPerSecondPerReplica: G, ...o }));

function buildWorld(step: Step, now: number): { pods: PodView[]; samples: PodSample[] } {
  const pods: PodView[] = [];
  const samples: PodSample[] = [];
  step.pods.forEach((p, i) => {
    const name = `ready-${i}`;
    pods.push({ name, phase: 'Ready', createdAt: now - 3_900_000, readyAt: now - 3_600_000 });
    if (!p.answered) return;
    samples.push({
      pod: name, time: now, waiting: p.waiting, running: p.running,
      promptTokensPerSecond: p.load * (1 - p.generationShare) * P, generationTokensPerSecond: p.load * p.generationShare * G,
      requestsPerSecond: p.load * 20,
    });
  });
  for (let i = 0; i < step.starting; i++) pods.push({ name: `starting-${i}`, phase: 'Starting', createdAt: now - 30_000 });
  for (let i = 0; i < step.pendingGpu; i++) pods.push({ name: `pending-${i}`, phase: 'Pending', createdAt: now - 30_000, pendingReason: 'InsufficientGPU' });
  return { pods, samples };
}

/** Runs a sequence, calling check(input, decision) on every decision. */
function play(spec: AutoscalingSpec, steps: Step[], check: (input: DecideInput, d: ScaleDecision, step: Step) => void): void {
  let previous: AutoscalingStatus | undefined;
  let now = T0;
  let current = Math.max(1, spec.minReplicas);
  for (const step of steps) {
    now += step.elapsed * 1000;
    const world = buildWorld(step, now);
    const input: DecideInput = { policy: spec, pods: world.pods, samples: world.samples, currentReplicas: current, now, ...(previous ? { previous } : {}), batchLimit: 1024 };
    const d = decide(input);
    check(input, d, step);
    expect(() => AutoscalingStatus.parse(d.state)).not.toThrow();
    previous = d.state;
    current = d.desiredReplicas;
  }
}

const sequences = fc.tuple(policyArb, fc.array(stepArb, { minLength: 1, maxLength: 40 }));
const RUNS = { numRuns: 300 };

describe('decide: invariants over random sample sequences', () => {
  it('stays within minReplicas and maxReplicas', () => {
    fc.assert(fc.property(sequences, ([spec, steps]) => {
      play(spec, steps, (_input, d) => {
        expect(d.desiredReplicas).toBeGreaterThanOrEqual(spec.minReplicas);
        expect(d.desiredReplicas).toBeLessThanOrEqual(Math.max(spec.maxReplicas, spec.minReplicas));
      });
    }), RUNS);
  });

  it('never scales down while the waiting requests exceed queueDepthPerReplica per Ready replica', () => {
    fc.assert(fc.property(sequences, ([spec, steps]) => {
      play(spec, steps, (input, d, step) => {
        const waiting = step.pods.filter((p) => p.answered).reduce((a, p) => a + p.waiting, 0);
        const before = input.previous?.desiredReplicas ?? input.currentReplicas;
        const cap = Math.max(spec.maxReplicas, spec.minReplicas);
        // Only the bounds and withdrawn GPU requests (reason GpuWaitExpired) may lower the count then.
        if (step.ready > 0 && waiting > spec.queueDepthPerReplica * step.ready && before <= cap && d.reason !== 'GpuWaitExpired') {
          expect(d.desiredReplicas).toBeGreaterThanOrEqual(before);
        }
      });
    }), RUNS);
  });

  it('missing metrics never lower the count: a silent Ready pod or no sample at all holds it', () => {
    fc.assert(fc.property(sequences, ([spec, steps]) => {
      play(spec, steps, (input, d, step) => {
        const before = input.previous?.desiredReplicas ?? input.currentReplicas;
        const cap = Math.max(spec.maxReplicas, spec.minReplicas);
        if (step.ready > 0 && step.pods.some((p) => !p.answered) && before <= cap && d.reason !== 'GpuWaitExpired') {
          expect(d.desiredReplicas).toBeGreaterThanOrEqual(before);
        }
      });
    }), RUNS);
  });

  it('is monotone in the waiting count: more waiting never asks for fewer replicas', () => {
    fc.assert(fc.property(sequences, fc.integer({ min: 1, max: 20_000 }), ([spec, steps], extra) => {
      // Play the sequence once; at its last step decide twice from the same history, with and without extra waiting.
      let previous: AutoscalingStatus | undefined;
      let now = T0;
      let current = Math.max(1, spec.minReplicas);
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i];
        if (!step) continue;
        now += step.elapsed * 1000;
        const world = buildWorld(step, now);
        const input: DecideInput = { policy: spec, pods: world.pods, samples: world.samples, currentReplicas: current, now, ...(previous ? { previous } : {}), batchLimit: 1024 };
        const d = decide(input);
        if (i === steps.length - 1 && world.samples.length > 0) {
          const more = world.samples.map((s, k) => (k === 0 ? { ...s, waiting: s.waiting + extra } : s));
          const dMore = decide({ ...input, samples: more });
          expect(dMore.desiredReplicas).toBeGreaterThanOrEqual(d.desiredReplicas);
        }
        previous = d.state;
        current = d.desiredReplicas;
      }
    }), RUNS);
  });

  it('is a pure function: the same input gives the same decision', () => {
    fc.assert(fc.property(sequences, ([spec, steps]) => {
      play(spec, steps, (input, d) => {
        expect(decide(input)).toEqual(d);
      });
    }), { numRuns: 50 });
  });
});
