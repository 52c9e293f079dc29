// Pure. Whether a new status.autoscaling says something the stored one does not, so that the loop writes it only on
// change (as the controller writes the resource's status). Performs no I/O and reads no clock.
//
// Two parts of the state move on every tick without changing what a reader, or a new leader, learns from it:
//  - the newest recommendation's time, when the recommendations are otherwise the same: the newest entry is the
//    current recommendation, re-stamped each tick. A new leader that reads the older stamp sees a larger gap since
//    the last decision and decays the capacity fit over it, which is what it would have done step by step.
//  - the capacity fit's decay alone: every sum multiplied by one factor exp(-dt / memory). Decay composes
//    (exp(-a) exp(-b) = exp(-(a + b))), so the stored, less decayed fit decayed over the longer gap is the same fit.
// Everything else (counts, reasons, load figures, learned times, every other timestamp) is compared exactly.
import type { AutoscalingStatus } from '../api/v1alpha1.js';

type Fit = NonNullable<AutoscalingStatus['capacityFit']>;
const FIT_KEYS = ['xx', 'xu', 'uu', 'x', 'u'] as const;
/** The fit is stored with 6 significant digits: a pure decay agrees with its scaled original to about 1e-6. */
const FIT_TOLERANCE = 1e-5;

/** True when `next` is a pure decay of `before` (every sum scaled by one factor in (0, 1]), or equal to it. */
export function isFitDecayOnly(before: Fit | undefined, next: Fit | undefined): boolean {
  if (before === undefined || next === undefined) return before === next;
  if (before.samples === 0) return FIT_KEYS.every((k) => next[k] === before[k]) && next.samples === 0;
  const k = next.samples / before.samples;
  if (!(k > 0 && k <= 1 + FIT_TOLERANCE)) return false;
  return FIT_KEYS.every((key) => Math.abs(next[key] - before[key] * k) <= FIT_TOLERANCE * Math.max(Math.abs(next[key]), Math.abs(before[key] * k), 1e-12));
}

/** The recommendations without the newest one's time (it is re-stamped every tick). */
function recommendationShape(list: AutoscalingStatus['recommendations']): string {
  const entries = list ?? [];
  return JSON.stringify(entries.map((e, i) => (i === entries.length - 1 ? { replicas: e.replicas } : e)));
}

/** Whether writing `next` over `before` changes what status.autoscaling says. */
export function isAutoscalingStatusChanged(before: AutoscalingStatus | undefined, next: AutoscalingStatus): boolean {
  if (before === undefined) return true;
  const { recommendations: rb, capacityFit: fb, ...restBefore } = before;
  const { recommendations: rn, capacityFit: fn, ...restNext } = next;
  if (recommendationShape(rb) !== recommendationShape(rn)) return true;
  if (!isFitDecayOnly(fb, fn)) return true;
  return stableJson(restBefore) !== stableJson(restNext);
}

/** Whether two statuses are the same document (the stored one read back is the one last written). */
export function isSameAutoscalingStatus(a: AutoscalingStatus | undefined, b: AutoscalingStatus | undefined): boolean {
  return stableJson(a ?? null) === stableJson(b ?? null);
}

/** JSON with object keys sorted, so that key order (the API server's or ours) never counts as a change. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v));
}
