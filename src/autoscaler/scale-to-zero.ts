// Pure. Scale to zero (spec.autoscaling.scaleToZero with minReplicas 0): the step to zero, the step back from it, and
// the cold-start record. decide() runs the regular phases with a floor of one replica and then applyScaleToZero:
//
//   at zero       requests held by the activators -> up at once (ScaleUpFromZero), one decision by the leader however
//                 many activator replicas hold them, to R0 = max(1, ceil(H x w / D)): the held work drained within
//                 the drain time D (the learned start time, as a standing queue is in computeDemand), w the learned
//                 replica-seconds per request (corrected by the capacity f); 1 while w is unknown (the regular queue
//                 rule adds replicas once the first is Ready and the backlog stands on it). Else zero stays
//                 (ScaledToZero). Held requests are not divided by queueDepthPerReplica: at a Ready replica they
//                 run in its batch, they do not wait, and a burst of them is no measure of the load that follows
//   above zero    idle = nothing running, waiting, held or generated since the last scrape, no pod starting, Pending
//                 or terminating, and every Ready pod answering with rates; idleSince is when that began. After
//                 idleSeconds of it the count goes to zero from any count (ScaleToZero): idleSeconds alone governs
//                 this step, not the scale-down hold H
//   cold start    starts with the decision that leaves zero and ends at the first decision that sees a Ready pod
//                 (the loop decides at once on that pod event); the last 20 durations are kept, their p90 is the
//                 activator's Retry-After
import type { AutoscalingSpec, AutoscalingStatus } from '../api/v1alpha1.js';

/** Cold starts kept in status.autoscaling.coldStart.recentSeconds. */
export const MAX_COLD_START_SAMPLES = 20;

/** What the activators report for one deployment (status.activation, entries still renewed). */
export interface ActivatorCounts {
  /** Requests held now. */
  held: number;
  /** Requests refused with 429 and answered 503 after maxHoldSeconds, since each activator started. */
  refused: number;
  expired: number;
}

export type ColdStart = NonNullable<AutoscalingStatus['coldStart']>;

/**
 * The regular phases' floor: at least one replica. Only applyScaleToZero goes to zero (with scaleToZero set); a
 * minReplicas 0 stored without scaleToZero (before the rule requiring it) keeps one replica, never a dark Service.
 */
export function computeFloor(policy: AutoscalingSpec): number {
  return Math.max(1, policy.minReplicas);
}

export interface ActivityInput {
  /** Waiting (engines, gateway) and running requests over the fresh samples; held at the activators. */
  waiting: number;
  running: number;
  held: number;
  /** Tokens per second over the last scrape interval, summed over the fresh samples; undefined if any lacks rates. */
  recentTokensPerSecond: number | undefined;
  /** Pods starting, Pending (any reason) and terminating. */
  starting: number;
  blocked: number;
  terminating: number;
  /** A Ready pod silent, no fresh sample, or the gateway silent: activity unknown. */
  holding: boolean;
}

/** Whether anything is in flight or unknown: the count must not go to zero now. */
export function isBusy(a: ActivityInput): boolean {
  return a.waiting > 0 || a.running > 0 || a.held > 0 || a.starting > 0 || a.blocked > 0 || a.terminating > 0 || a.holding ||
    a.recentTokensPerSecond === undefined || a.recentTokensPerSecond > 0;
}

export interface ZeroInput {
  policy: AutoscalingSpec;
  now: number;
  /** The count before this decision, and the regular phases' choice (floor one). */
  previousDesired: number;
  desired: number;
  reason: string;
  message: string;
  /** maxReplicas. */
  max: number;
  activity: ActivityInput;
  ready: number;
  previous: AutoscalingStatus | undefined;
  activators: ActivatorCounts;
  /** w / f, the learned replica-seconds at target per request (corrected by the capacity), when known. */
  workPerRequest?: number;
  /** D, the drain time of a held backlog: the learned start time, at least 60 s (computeDemand's). */
  drainSeconds: number;
}

export interface ZeroChoice {
  desiredReplicas: number;
  /** Undefined: the regular choice stands. */
  reason?: 'ScaleUpFromZero' | 'ScaleToZero' | 'ScaledToZero';
  message?: string;
  /** The next status.autoscaling.idleSince and coldStart (milliseconds / record). */
  idleSince: number | undefined;
  coldStart: ColdStart;
}

const ceilOf = (x: number): number => Math.ceil(x - 1e-9);

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The 90th percentile by nearest rank. */
export function computeP90(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)];
}

/** The cold-start record after this decision: begun when the count leaves zero, measured at the first Ready pod. */
export function trackColdStart(z: { now: number; previousDesired: number; desired: number; ready: number; previous: ColdStart | undefined; activators: ActivatorCounts }): ColdStart {
  const before = z.previous;
  let startedAt = parseTime(before?.startedAt);
  let recent = [...(before?.recentSeconds ?? [])];
  let last = before?.lastSeconds;
  if (z.previousDesired === 0 && z.desired > 0 && z.ready === 0) startedAt ??= z.now;
  if (startedAt !== undefined && z.ready > 0) {
    last = Math.round((z.now - startedAt) / 100) / 10;
    recent = [...recent, last].slice(-MAX_COLD_START_SAMPLES);
    startedAt = undefined;
  } else if (z.desired === 0) {
    startedAt = undefined;
  }
  const p90 = computeP90(recent);
  return {
    ...(last !== undefined ? { lastSeconds: last } : {}),
    ...(p90 !== undefined ? { p90Seconds: p90 } : {}),
    ...(recent.length > 0 ? { recentSeconds: recent } : {}),
    ...(startedAt !== undefined ? { startedAt: new Date(startedAt).toISOString() } : {}),
    held: z.activators.held, refused: z.activators.refused, expired: z.activators.expired,
  };
}

const formatSeconds = (x: number): string => `${Math.round(x * 10) / 10}s`;

/** R0 = max(1, ceil(H x w / D)) within maxReplicas; 1 while w is unknown. */
export function computeReplicasFromZero(held: number, workPerRequest: number | undefined, drainSeconds: number, max: number): number {
  const byWork = workPerRequest === undefined ? 1 : ceilOf((held * workPerRequest) / Math.max(1, drainSeconds));
  return Math.min(max, Math.max(1, byWork));
}

/** The step from zero (held requests) and the step to zero (idleSeconds without a request). */
function chooseAroundZero(z: ZeroInput, idleSince: number | undefined): Pick<ZeroChoice, 'desiredReplicas' | 'reason' | 'message'> {
  const idleSeconds = z.policy.scaleToZero?.idleSeconds ?? Infinity;
  const waiting = z.activity.held + z.activity.waiting;
  if (z.previousDesired === 0) {
    if (waiting > 0) {
      const up = computeReplicasFromZero(waiting, z.workPerRequest, z.drainSeconds, z.max);
      const basis = z.workPerRequest === undefined ? 'the work per request is not learned yet' : `${formatSeconds(waiting * z.workPerRequest)} replica-seconds of held work over ${formatSeconds(z.drainSeconds)}`;
      return { desiredReplicas: up, reason: 'ScaleUpFromZero', message: `${waiting} requests held while scaled to zero (${basis}): starting ${up} (a cold start)` };
    }
    return { desiredReplicas: 0, reason: 'ScaledToZero', message: 'scaled to zero: no request; the activator holds the next one and asks for a replica' };
  }
  if (idleSince !== undefined && z.now - idleSince >= idleSeconds * 1000) {
    return { desiredReplicas: 0, reason: 'ScaleToZero', message: `no request for ${Math.round((z.now - idleSince) / 1000)}s (idleSeconds ${idleSeconds}): scaling ${z.previousDesired} -> 0` };
  }
  return { desiredReplicas: z.desired };
}

/**
 * Applies scale to zero to the regular choice (which never goes below one). Without scaleToZero the choice stands and
 * no record is kept.
 */
export function applyScaleToZero(z: ZeroInput): ZeroChoice | undefined {
  if (z.policy.scaleToZero === undefined || z.policy.minReplicas !== 0) return undefined;
  const busy = isBusy(z.activity);
  const idleSince = busy || z.previousDesired === 0 ? undefined : (parseTime(z.previous?.idleSince) ?? z.now);
  const choice = chooseAroundZero(z, idleSince);
  const coldStart = trackColdStart({ now: z.now, previousDesired: z.previousDesired, desired: choice.desiredReplicas, ready: z.ready, previous: z.previous?.coldStart, activators: z.activators });
  return { ...choice, idleSince: choice.desiredReplicas === 0 ? undefined : idleSince, coldStart };
}
