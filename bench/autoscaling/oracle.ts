// The ideal limits of reference/autoscaling.md §4.2, and the clairvoyant oracle as a policy the simulator can play.
// Pure arithmetic on the trace; no I/O.
//
//   w(r)      = p x in(r) + d x out(r)                              replica-seconds at full batch
//   G_fluid   = Σ_r w(r)                                            (no integer replicas, no startup, no queueing)
//   R*(b)     = max(minReplicas, ceil(W(b) / (rho x Δ)))            W(b) = work arriving in bucket b of width Δ
//   G_int     = Σ_b R*(b) x Δ                                       (zero startup)
//   G_L       : each level j = 1..max R* is on where R*(b) >= j; on-runs closer than L merge (ski rental: idling
//               through a gap <= L is cheaper than a restart); each run costs its length + L, except a run that
//               starts within the lead time (L + scheduling) of t = 0: those replicas are the warm start every policy
//               gets, Ready at t = 0 and billed from 0
import type { ScalingChoice, ScalingPolicy, ScalingView } from '../../src/autoscaler/policy.js';
import type { ReplicaProfile } from './replica.js';
import { computeRequestWork } from './replica.js';
import type { Trace } from './trace.js';

export interface OracleParameters {
  bucketSeconds: number;
  utilization: number;
  minReplicas: number;
}

export const ORACLE_PARAMETERS: OracleParameters = { bucketSeconds: 60, utilization: 0.85, minReplicas: 1 };

export interface Bounds {
  /** GPU-hours. */
  fluid: number;
  integer: number;
  startup: number;
  /** R*(b) per bucket. */
  replicas: number[];
  /** Offered work per bucket, in replicas (W(b) / Δ). */
  offered: number[];
  /** Horizon: number of buckets x Δ, in seconds. */
  horizonSeconds: number;
  /** The oracle's schedule: [start, end) intervals when each level is needed, one list per level (gaps <= L merged). */
  runs: { start: number; end: number }[][];
  /** Replicas Ready at t = 0: the levels the oracle would have started before the trace begins. */
  warmReplicas: number;
}

/** Computes G_fluid, G_int, G_L and the oracle's schedule for a trace, a replica profile and a startup time L. */
export function computeBounds(trace: Trace, profile: ReplicaProfile, startupSeconds: number, leadSeconds: number, params: OracleParameters = ORACLE_PARAMETERS): Bounds {
  const Δ = params.bucketSeconds;
  const n = trace.arrival.length;
  const last = n > 0 ? (trace.arrival[n - 1] ?? 0) : 0;
  const buckets = Math.max(1, Math.floor(last / Δ) + 1);
  const work = new Array<number>(buckets).fill(0);
  let fluid = 0;
  for (let i = 0; i < n; i++) {
    const w = computeRequestWork(profile, trace.input[i] ?? 0, trace.output[i] ?? 0);
    fluid += w;
    const b = Math.min(buckets - 1, Math.floor((trace.arrival[i] ?? 0) / Δ));
    work[b] = (work[b] ?? 0) + w;
  }
  const replicas = work.map((w) => Math.max(params.minReplicas, Math.ceil(w / (params.utilization * Δ) - 1e-9)));
  const integer = replicas.reduce((s, r) => s + r * Δ, 0);
  const peak = Math.max(0, ...replicas);
  let startup = 0;
  const runs: { start: number; end: number }[][] = [];
  for (let j = 1; j <= peak; j++) {
    const level: { start: number; end: number }[] = [];
    let b = 0;
    while (b < buckets) {
      if ((replicas[b] ?? 0) < j) { b++; continue; }
      let end = b;
      while (end < buckets && (replicas[end] ?? 0) >= j) end++;
      const run = { start: b * Δ, end: end * Δ };
      const previous = level[level.length - 1];
      if (previous && run.start - previous.end <= startupSeconds) previous.end = run.end;
      else level.push(run);
      b = end;
    }
    for (const run of level) startup += run.start <= leadSeconds ? run.end : run.end - run.start + startupSeconds;
    runs.push(level);
  }
  const warm = runs.filter((level) => (level[0]?.start ?? Infinity) <= leadSeconds).length;
  return {
    fluid: fluid / 3600,
    integer: integer / 3600,
    startup: startup / 3600,
    replicas,
    offered: work.map((w) => w / Δ),
    horizonSeconds: buckets * Δ,
    runs,
    warmReplicas: Math.max(params.minReplicas, warm),
  };
}

/** Replicas the oracle's schedule asks for at time t (seconds), each level created `leadSeconds` before it is needed. */
export function computeOracleReplicas(bounds: Bounds, t: number, leadSeconds: number, minReplicas = 1): number {
  let count = 0;
  for (const level of bounds.runs) if (level.some((r) => t >= r.start - leadSeconds && t < r.end)) count++;
  return Math.max(minReplicas, count);
}

/**
 * The clairvoyant oracle as a policy: it reads its precomputed schedule, never the metrics, and creates each pod
 * the scheduling delay plus the median startup ahead of need (its pods still start with the simulator's spread).
 * `oracle-zero-min` is the same schedule computed and played with minReplicas 0.
 */
export function buildOraclePolicy(bounds: Bounds, leadSeconds: number, name = 'oracle', minReplicas = 1): ScalingPolicy {
  return {
    name,
    periodSeconds: 5,
    scrapeIntervalSeconds: 60,
    decide(view: ScalingView): ScalingChoice {
      return { desiredReplicas: computeOracleReplicas(bounds, view.now / 1000 + 1e-6, leadSeconds, minReplicas) };
    },
  };
}

/**
 * oracle-zero-startup (§4.2 item 2): the per-minute R* itself, asked for at the start of each minute and played
 * with no scheduling delay and no startup, so that its cost is G_int and its waits those of perfect foresight with
 * instant replicas.
 */
export function buildZeroStartupOraclePolicy(bounds: Bounds, name = 'oracle-zero-startup'): ScalingPolicy {
  return {
    name,
    periodSeconds: 5,
    scrapeIntervalSeconds: 60,
    decide(view: ScalingView): ScalingChoice {
      const Δ = bounds.horizonSeconds / Math.max(1, bounds.replicas.length);
      const b = Math.min(bounds.replicas.length - 1, Math.floor((view.now / 1000 + 1e-6) / Δ));
      return { desiredReplicas: bounds.replicas[b] ?? 1 };
    },
  };
}

/** The largest per-minute R* of the trace: static@peak's replica count. */
export function computePeakReplicas(bounds: Bounds): number {
  return Math.max(1, ...bounds.replicas);
}
