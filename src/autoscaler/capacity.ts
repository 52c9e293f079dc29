// Pure. Learns what one replica really carries, in units of the throughput targets, from what the engines report, in
// both directions (targets that overstate a replica and targets that understate it). Performs no I/O, reads no clock.
//
// Model: the iteration-level engine of reference/autoscaling.md §3.3 and §5.3 (vLLM V1 and SGLang both batch this
// way). A step costs tau0 + k x n + p x (prefill tokens in the step), and a replica with requests runs steps back to
// back, every running sequence emitting one token a step (steps/s = g / n). Per second of a busy replica:
//     1 = tau0 x g / n + k x g + p x pi                  g generated, pi prompt tokens/s; n running requests
// With d = k + tau0 / M (the full-batch cost of a generated token, M the engine's batch limit) the replica's true
// utilization is rho = p x pi + d x g = u x U, where U = pi / P + g / G is its load in units of the targets and u
// the utilization of one unit of target load (the targets' own assumption: u = 0.8). Substituting:
//     1 = tau0 x x + u x U,        x = g x (1 / n - 1 / M)
// linear in the two unknowns (tau0, u). Every fresh sample of a replica busy without a break (n >=
// MIN_RUNNING_FOR_FIT, each getting at least MIN_TOKENS_PER_RUNNING_SECOND) and steady over the rate window
// (its time-averaged running count within STEADY_RUNNING_TOLERANCE of the gauge) is one equation; (tau0, u) is their least-squares fit, the sums decaying with a time constant of
// CAPACITY_MEMORY_SECONDS, plus PRIOR_WEIGHT equations saying u = TARGET_UTILIZATION (the targets are right until
// the replicas say otherwise). A saturated replica (n = M) has x = 0, so its equation reads u = 1 / U: the capacity
// it carried. A replica that runs far below its batch limit at its target load gives u < 0.8: it could carry more.
//   capacity c  = 1 / u                                  (in units of the targets; the targets assume 1 / 0.8)
//   factor   f  = clamp(TARGET_UTILIZATION x c, MIN_FACTOR, MAX_FACTOR), or 1 within CAPACITY_DEADBAND of 1 (the
//                fit's noise)                                                the autoscaler needs U / f replicas
// Without a batch limit (M unknown) the 1 / M term is dropped. A fit whose determinant is not clearly positive (all
// samples alike in x) is solved without tau0.
import type { AutoscalingStatus } from '../api/v1alpha1.js';

/** The utilization the throughput targets are assumed to stand for (their field descriptions advise 0.8). */
export const TARGET_UTILIZATION = 0.8;
/** Samples of replicas running fewer requests than this may include idle time, which the model does not cover. */
export const MIN_RUNNING_FOR_FIT = 16;
/** A running request of a busy replica gets at least this many tokens a second (a step at most every 0.5 s). */
export const MIN_TOKENS_PER_RUNNING_SECOND = 2;
/** The time-averaged and the instantaneous running counts of a steady replica differ by at most this fraction. */
export const STEADY_RUNNING_TOLERANCE = 0.25;
/** Time constant of the fit's memory, in seconds. */
export const CAPACITY_MEMORY_SECONDS = 1800;
/** Weight of the prior u = TARGET_UTILIZATION, in typical equations. */
export const PRIOR_WEIGHT = 20;
/** Corrections smaller than this are noise of the fit, not a mis-stated target: f stays 1. */
export const CAPACITY_DEADBAND = 0.05;
/** The correction f stays within these bounds: the targets are trusted to within a factor of two. */
export const MIN_FACTOR = 0.5;
export const MAX_FACTOR = 2;

/** One Ready pod's load for the fit. */
export interface CapacityObservation {
  promptTokensPerSecond: number;
  generationTokensPerSecond: number;
  /** Running requests: time-averaged over the rate window when the engine allows, else the gauge. */
  running: number;
  /** The running gauge at the scrape, when running is a time average. */
  runningNow?: number;
  waiting: number;
  /** The pod's load in units of the targets (U). */
  load: number;
}

/** The fit's decayed sums: Σ x², Σ x U, Σ U², Σ x, Σ U over the equations 1 = tau0 x + u U. */
export type CapacityFit = NonNullable<AutoscalingStatus['capacityFit']>;

export interface CapacityEstimate {
  fit: CapacityFit;
  /** u: the utilization of one unit of target load, when the fit is determined. */
  utilizationPerTarget?: number;
  /** f: the replicas needed are U / f. */
  factor: number;
}

const EMPTY: CapacityFit = { xx: 0, xu: 0, uu: 0, x: 0, u: 0, samples: 0 };

/** The equation of one observation, or undefined when it is not a busy replica. */
export function computeCapacityEquation(o: CapacityObservation, batchLimit?: number): { x: number; u: number } | undefined {
  if (o.load <= 0 || !Number.isFinite(o.load) || o.running <= 0) return undefined;
  // The rates span a window: a replica whose running count moved within it (a burst began or ended) was not in the
  // state its rates describe. The time average and the gauge must agree within STEADY_RUNNING_TOLERANCE.
  if (o.runningNow !== undefined && Math.abs(o.runningNow - o.running) > STEADY_RUNNING_TOLERANCE * Math.max(o.runningNow, o.running)) return undefined;
  // Busy without a break: many run and each gets a token at least every 1 / MIN_TOKENS_PER_RUNNING_SECOND seconds
  // (steps back to back). Anything else may hide idle time. Waiting requests are not evidence on their own: a queue
  // must never make a replica look faster (the decision stays monotone in the waiting count).
  const busy = o.running >= MIN_RUNNING_FOR_FIT && o.generationTokensPerSecond >= MIN_TOKENS_PER_RUNNING_SECOND * o.running;
  if (!busy) return undefined;
  const inverseLimit = batchLimit !== undefined && batchLimit > 0 ? 1 / batchLimit : 0;
  const x = o.generationTokensPerSecond * Math.max(0, 1 / o.running - inverseLimit);
  return { x, u: o.load };
}

/** Decays the previous fit by the time passed, adds the new equations, and solves. */
export function computeCapacity(previous: CapacityFit | undefined, elapsedSeconds: number, observations: readonly CapacityObservation[], batchLimit?: number): CapacityEstimate {
  const keep = Math.exp(-Math.max(0, elapsedSeconds) / CAPACITY_MEMORY_SECONDS);
  const base = previous ?? EMPTY;
  const fit: CapacityFit = { xx: base.xx * keep, xu: base.xu * keep, uu: base.uu * keep, x: base.x * keep, u: base.u * keep, samples: base.samples * keep };
  for (const o of observations) {
    const e = computeCapacityEquation(o, batchLimit);
    if (!e) continue;
    fit.xx += e.x * e.x;
    fit.xu += e.x * e.u;
    fit.uu += e.u * e.u;
    fit.x += e.x;
    fit.u += e.u;
    fit.samples += 1;
  }
  const u = solveUtilization(fit);
  const raw = u === undefined ? 1 : TARGET_UTILIZATION / u;
  const factor = Math.abs(raw - 1) <= CAPACITY_DEADBAND ? 1 : Math.min(MAX_FACTOR, Math.max(MIN_FACTOR, raw));
  return { fit, ...(u !== undefined ? { utilizationPerTarget: u } : {}), factor };
}

/**
 * The least-squares u of 1 = tau0 x + u U with the prior: minimise Σ (1 - tau0 x - u U)² + w (u - 0.8)² where w is
 * PRIOR_WEIGHT times the mean U² (so the prior weighs like PRIOR_WEIGHT typical equations). Normal equations:
 *   [Σx²  ΣxU      ] [tau0]   [Σx        ]
 *   [ΣxU  ΣU² + w  ] [u   ] = [ΣU + 0.8 w]
 */
export function solveUtilization(fit: CapacityFit): number | undefined {
  if (fit.samples < 1) return undefined;
  const w = PRIOR_WEIGHT * (fit.uu / fit.samples);
  const a = fit.xx;
  const b = fit.xu;
  const c = fit.uu + w;
  const det = a * c - b * b;
  // Saturated replicas only (x = 0 for all): the equations read u U = 1, and tau0 drops out.
  const u = a <= 1e-12 * c || !(det > 1e-9 * a * c)
    ? (fit.u + TARGET_UTILIZATION * w) / c
    : (a * (fit.u + TARGET_UTILIZATION * w) - b * fit.x) / det;
  return Number.isFinite(u) && u > 0 ? u : undefined;
}
