// Pure. The autoscaler's decision: policy + pods + engine samples + previous status + now -> replicas, reason and the
// next status.autoscaling. Performs no I/O, reads no clock, and imports nothing from kube/ or controller/.
//
// Each call (one per scrape interval I):
//   fresh       = samples of Ready pods no older than 2 I; a Ready pod without a fresh rate is "missing" (the
//                 loop computes rates over about a minute of scrapes: RATE_WINDOW_SECONDS, computeEngineRatesOver)
//   load U      = max( Σ prompt_i / P + Σ gen_i / G ,  Σ (prompt_i + gen_i) / T )      over fresh Ready pods, in
//                 replicas at target (P, G, T = the *TokensPerSecondPerReplica targets; unset terms drop out)
//   queue term Q, when Σ waiting > q r (r = Ready pods, q = queueDepthPerReplica: the replicas are saturated, so
//                 their throughput understates demand):
//               = ceil(U + max(0, dW/dt) x w / f)   w = replica-seconds per request, learned as U / finished requests
//                                                     per second while queues were short (status workPerRequestSeconds)
//               = min(2 r, r + ceil((Σ waiting - q r) / q))   before w is known, and only while nothing is starting
//                                                     or blocked
//               = ceil(Σ waiting / q)                without any token target
//   capacity    = median load of replicas whose queues stayed full for 4 I (in units of the targets), learned
//                 slowly, fading with a time constant of an hour; when it is below 1 / 0.8 the targets overstate a
//                 replica, and U and the queue term are divided by f = min(1, 0.8 x capacity)
//   R_up        = clamp(min, max, max(ceil(U), Q))              what the measured load needs now
//   R_safe      = clamp(min, max, max(ceil(U + missing), Q))    the same with each missing pod assumed fully loaded
//   window      = the recommendations R_safe of the last H seconds, H = max(stabilizationWindowSeconds, D),
//                 D = scaleDownDelaySeconds, else max(60, L^), L^ = median creation-to-ready time of the pods
//                 (the break-even rule: an idle replica is kept about as long as a new one takes to start)
//   no fresh sample at all, a Ready pod that does not answer, or no decision for 3 I (a new leader)
//                 -> the window gets R = desired instead (hold): missing metrics never cause a scale-down
//   desired'    = R_up                     if R_up > desired             (loading pods are already in desired, so a
//                                                                          steady load never adds more)
//               = max(window)              if max(window) < desired      (only after H of fresh samples below it)
//               = desired                  otherwise
//   blocked     = pods Pending for lack of GPUs or unschedulable, plus quota refusals: never capacity, reported;
//                 they stay requested (up to max) until pendingTimeoutSeconds, then desired' <= scheduled pods for
//                 one more timeout, after which they are requested again
import type { AutoscalingSpec, AutoscalingStatus } from '../api/v1alpha1.js';
import type { PodSample, PodView } from './policy.js';

/** A sample older than this many scrape intervals is stale. */
export const STALE_INTERVALS = 2;
/** No decision for this many scrape intervals means the history has a gap (a restart or a new leader). */
export const GAP_INTERVALS = 3;
/** The queue term at most doubles the Ready replicas per decision. */
export const QUEUE_GROWTH_LIMIT = 2;
/** Scale-down delay floor, and the start time assumed before any pod was seen becoming Ready, in seconds. */
export const MIN_SCALE_DOWN_DELAY_SECONDS = 60;
export const UNKNOWN_STARTUP_SECONDS = 300;
/** Creation-to-ready times longer than this are not startups (a pod that lost and regained readiness). */
export const MAX_LEARNED_STARTUP_SECONDS = 3600;
/** Work per request is learned from windows with at least this many finished requests per Ready pod per second. */
export const MIN_FINISHED_PER_POD_SECOND = 1;
/** Weight of a new observation of the work per request (an exponential moving average per decision). */
export const WORK_LEARNING_RATE = 0.2;
/** The utilization the throughput targets are assumed to stand for (their field descriptions advise 0.8). */
export const TARGET_UTILIZATION = 0.8;
/** Queues full for this many scrape intervals (a rate window) make the replicas' throughput their capacity. */
export const SUSTAINED_SATURATION_INTERVALS = 4;
/**
 * Weight of a new capacity observation; the time constant of its fading without saturation; and the fraction of
 * the assumed capacity above which it is forgotten (about three hours after the last saturation).
 */
export const CAPACITY_LEARNING_RATE = 0.3;
export const CAPACITY_MEMORY_SECONDS = 3600;
export const CAPACITY_FORGET_FRACTION = 0.98;
/** status.autoscaling.recommendations holds at most this many entries. */
export const MAX_RECOMMENDATIONS = 128;

export type ScaleReason =
  | 'ScaleUp'
  | 'ScaleUpOnQueue'
  | 'ScaleDown'
  | 'Steady'
  | 'ScaleDownDelayed'
  | 'MetricsMissing'
  | 'WaitingForGpus'
  | 'GpuWaitExpired'
  | 'Bounds';

export interface DecideInput {
  policy: AutoscalingSpec;
  pods: readonly PodView[];
  samples: readonly PodSample[];
  /** status.autoscaling as the previous decision (possibly by another leader) wrote it. */
  previous?: AutoscalingStatus;
  /** The child Deployment's spec.replicas now (used when previous has no desiredReplicas). */
  currentReplicas: number;
  /** Milliseconds since the epoch, or a Date. */
  now: number | Date;
  /** Replicas the ReplicaSet could not create (ResourceQuota refusals). */
  refusedReplicas?: number;
}

export interface ScaleLoad {
  /** Replicas the measured token throughput needs at target (U), or undefined without a token target. */
  replicasForThroughput?: number;
  /** The learned capacity of a replica in units of the targets, while it is below what the targets assume. */
  capacityPerReplica?: number;
  queueDepth: number;
  runningRequests: number;
  tokensPerSecond: number;
  /** Ready pods with fresh samples, and Ready pods without. */
  reporting: number;
  missing: number;
}

export interface ScaleDecision {
  desiredReplicas: number;
  reason: ScaleReason;
  message: string;
  /** The next status.autoscaling. */
  state: AutoscalingStatus;
  /** Pods Pending because no node has a free GPU: requested, never capacity. */
  pendingForGpus: number;
  /** Pods the scheduler refused for another reason, and replicas a quota refused. */
  unschedulable: number;
  refusedReplicas: number;
  /** Ready, Starting (scheduled or being scheduled) and Terminating pods. */
  ready: number;
  starting: number;
  terminating: number;
  load: ScaleLoad;
  /** The hold before a scale-down, H, in seconds, and the start time it was derived from. */
  scaleDownHoldSeconds: number;
  learnedStartupSeconds?: number;
}

interface Recommendation { time: number; replicas: number }

const toRfc3339 = (ms: number): string => new Date(ms).toISOString();

function parseTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Creation-to-ready times of the visible pods, in seconds; the median is the learned start time. */
export function computeLearnedStartupSeconds(pods: readonly PodView[], previous?: number): number | undefined {
  const startups = pods
    .filter((p) => p.readyAt !== undefined)
    .map((p) => ((p.readyAt ?? 0) - p.createdAt) / 1000)
    .filter((s) => s >= 0 && s <= MAX_LEARNED_STARTUP_SECONDS);
  return median(startups) ?? previous;
}

/**
 * Appends a recommendation to a sliding-window maximum: entries dominated by a later, higher or equal one can
 * never be the maximum again and are dropped, so the list stays short and its first entry in range is the max.
 */
function pushRecommendation(window: Recommendation[], entry: Recommendation, horizonMs: number): Recommendation[] {
  const kept = window.filter((r) => r.time >= entry.time - horizonMs && r.time <= entry.time);
  while (kept.length > 0 && (kept[kept.length - 1]?.replicas ?? Infinity) <= entry.replicas) kept.pop();
  kept.push(entry);
  // Over the status limit: merge the two oldest, keeping the higher value at the later time (never lowers a max).
  while (kept.length > MAX_RECOMMENDATIONS) {
    const [first, second] = kept;
    kept.splice(0, 2, { time: second?.time ?? 0, replicas: Math.max(first?.replicas ?? 0, second?.replicas ?? 0) });
  }
  return kept;
}

function readRecommendations(previous?: AutoscalingStatus): Recommendation[] {
  const out: Recommendation[] = [];
  for (const r of previous?.recommendations ?? []) {
    const time = parseTime(r.time);
    if (time !== undefined) out.push({ time, replicas: r.replicas });
  }
  return out.sort((a, b) => a.time - b.time);
}

/** No load can be measured: no Ready pod, no fresh sample, or (with a token target) no rate yet. */
function isBlind(ready: number, fresh: number, hasTarget: boolean, withRates: number): boolean {
  return ready === 0 || fresh === 0 || (hasTarget && withRates === 0);
}

function formatNumber(x: number): string {
  return x >= 100 ? String(Math.round(x)) : String(Math.round(x * 100) / 100);
}

/** Decides the replica count. See the header for the formula. */
export function decide(input: DecideInput): ScaleDecision {
  const { policy, previous } = input;
  const now = typeof input.now === 'number' ? input.now : input.now.getTime();
  const intervalMs = policy.scrapeIntervalSeconds * 1000;
  const min = policy.minReplicas;
  const max = Math.max(policy.maxReplicas, min);

  // Pods by what they are worth.
  const live = input.pods.filter((p) => p.phase !== 'Terminating');
  const readyPods = live.filter((p) => p.phase === 'Ready');
  const pendingForGpus = live.filter((p) => p.phase === 'Pending' && p.pendingReason === 'InsufficientGPU').length;
  const otherUnschedulable = live.filter((p) => p.phase === 'Pending' && p.pendingReason === 'Unschedulable').length;
  const refused = Math.max(0, input.refusedReplicas ?? 0);
  const blocked = pendingForGpus + otherUnschedulable + refused;
  const starting = live.length - readyPods.length - pendingForGpus - otherUnschedulable;
  const scheduled = live.length - pendingForGpus - otherUnschedulable;
  const terminating = input.pods.length - live.length;

  // Load from fresh samples of Ready pods.
  const readyNames = new Set(readyPods.map((p) => p.name));
  const fresh = new Map<string, PodSample>();
  for (const s of input.samples) {
    if (!readyNames.has(s.pod) || now - s.time > STALE_INTERVALS * intervalMs || s.time > now + intervalMs) continue;
    const seen = fresh.get(s.pod);
    if (!seen || seen.time < s.time) fresh.set(s.pod, s);
  }
  const P = policy.promptTokensPerSecondPerReplica;
  const G = policy.generationTokensPerSecondPerReplica;
  const T = policy.tokensPerSecondPerReplica;
  const hasTarget = (P !== undefined && G !== undefined) || T !== undefined;
  const loadOf = (promptRate: number, generationRate: number): number => Math.max(
    P !== undefined && G !== undefined ? promptRate / P + generationRate / G : 0,
    T !== undefined ? (promptRate + generationRate) / T : 0,
  );
  const q = policy.queueDepthPerReplica;
  let prompt = 0;
  let generation = 0;
  let finishedPerSecond: number | undefined = 0;
  let waiting = 0;
  let running = 0;
  let withRates = 0;
  const saturatedLoads: number[] = [];
  for (const s of fresh.values()) {
    waiting += s.waiting;
    running += s.running;
    if (s.promptTokensPerSecond === undefined || s.generationTokensPerSecond === undefined) continue;
    prompt += s.promptTokensPerSecond;
    generation += s.generationTokensPerSecond;
    finishedPerSecond = finishedPerSecond === undefined || s.requestsPerSecond === undefined ? undefined : finishedPerSecond + s.requestsPerSecond;
    if (s.waiting > q) saturatedLoads.push(loadOf(s.promptTokensPerSecond, s.generationTokensPerSecond));
    withRates++;
  }
  const measured = hasTarget ? loadOf(prompt, generation) : undefined;
  const missing = readyPods.length - (hasTarget ? withRates : fresh.size);
  const r = readyPods.length;

  // The previous decision, and the hold H before a scale-down.
  const previousDesired = previous?.desiredReplicas ?? input.currentReplicas;
  const learned = computeLearnedStartupSeconds(input.pods, previous?.learnedStartupSeconds);
  const delaySeconds = policy.scaleDownDelaySeconds ?? Math.max(MIN_SCALE_DOWN_DELAY_SECONDS, learned ?? UNKNOWN_STARTUP_SECONDS);
  const holdSeconds = Math.round(Math.max(policy.stabilizationWindowSeconds, delaySeconds));
  const holdMs = holdSeconds * 1000;
  let window = readRecommendations(previous);
  const last = window[window.length - 1];
  const gap = last === undefined || now - last.time > GAP_INTERVALS * intervalMs;

  // Saturated replicas serve at capacity, so their throughput understates demand: add the queue's growth, turned
  // into replicas with the work per request learned while queues were short (U / finished requests per second is
  // biased high right after a quiet spell, when requests have started but not finished, so it is learned slowly
  // and only from busy, unsaturated replicas).
  const saturated = waiting > q * r;
  const blind = isBlind(r, fresh.size, hasTarget, withRates);
  let workPerRequest = previous?.workPerRequestSeconds;
  if (!saturated && !blind && measured !== undefined && finishedPerSecond !== undefined && finishedPerSecond >= r * MIN_FINISHED_PER_POD_SECOND) {
    const observed = measured / finishedPerSecond;
    workPerRequest = workPerRequest === undefined ? observed : workPerRequest + WORK_LEARNING_RATE * (clamp(observed, workPerRequest / 2, workPerRequest * 2) - workPerRequest);
  }

  // Capacity: a replica whose queue has stayed full for a rate window carried all it can. When that is less than
  // the targets assume (1 / TARGET_UTILIZATION of a target), the targets overstate a replica, so aim at
  // TARGET_UTILIZATION x the measured capacity instead: f = min(1, TARGET_UTILIZATION x capacityPerReplica).
  // Without saturation the estimate drifts back to the targets, with a time constant of CAPACITY_MEMORY_SECONDS.
  const saturatedSince = saturated && !blind && !gap ? (parseTime(previous?.saturatedSince) ?? now) : saturated && !blind ? now : undefined;
  let capacity = previous?.capacityPerReplica;
  const assumed = 1 / TARGET_UTILIZATION;
  if (capacity !== undefined && !saturated && last !== undefined && now > last.time) {
    capacity += (assumed - capacity) * Math.min(1, (now - last.time) / (CAPACITY_MEMORY_SECONDS * 1000));
  }
  if (saturatedSince !== undefined && now - saturatedSince >= SUSTAINED_SATURATION_INTERVALS * intervalMs && saturatedLoads.length > 0) {
    const observed = median(saturatedLoads) ?? assumed;
    capacity = capacity === undefined ? observed : capacity + CAPACITY_LEARNING_RATE * (observed - capacity);
  }
  if (capacity !== undefined && capacity >= CAPACITY_FORGET_FRACTION * assumed) capacity = undefined;
  const f = capacity === undefined ? 1 : Math.min(1, TARGET_UTILIZATION * capacity);
  const U = measured === undefined ? undefined : measured / f;

  let Q = 0;
  if (!hasTarget) {
    Q = Math.ceil(waiting / q - 1e-9);
  } else if (saturated && U !== undefined && workPerRequest !== undefined) {
    const before = previous?.queueDepth;
    const growth = !gap && last !== undefined && before !== undefined && now > last.time ? (waiting - before) / ((now - last.time) / 1000) : 0;
    Q = Math.ceil(U + (Math.max(0, growth) * workPerRequest) / f - 1e-9);
  } else if (saturated && starting === 0 && blocked === 0) {
    Q = Math.min(QUEUE_GROWTH_LIMIT * Math.max(1, r), r + Math.ceil((waiting - q * r) / q));
  }
  const load: ScaleLoad = {
    ...(U !== undefined ? { replicasForThroughput: U } : {}),
    ...(capacity !== undefined ? { capacityPerReplica: capacity } : {}),
    queueDepth: waiting,
    runningRequests: running,
    tokensPerSecond: prompt + generation,
    reporting: fresh.size,
    missing,
  };

  // The recommendation window. A gap in the history (a new leader, a stalled loop) or a blind decision records a
  // hold at the previous desired count, so that nothing scales down until H of fresh samples has passed.
  const upRaw = clamp(Math.max(Math.ceil((U ?? 0) - 1e-9), Q), min, max);
  const safeRaw = clamp(Math.max(Math.ceil((U ?? 0) + Math.max(0, missing) - 1e-9), Q), min, max);
  if (gap && last !== undefined) window = pushRecommendation(window, { time: now - 1, replicas: Math.max(previousDesired, last.replicas) }, holdMs);
  else if (gap) window = pushRecommendation(window, { time: now - 1, replicas: previousDesired }, holdMs);
  // A Ready pod that does not answer its scrape may be busy: it never lets the count go down (it would be a candidate
  // for removal with its requests in flight), so the window holds at the previous count until it answers again.
  const silent = r - fresh.size;
  const holding = blind || silent > 0;
  window = pushRecommendation(window, { time: now, replicas: holding ? Math.max(previousDesired, upRaw) : Math.max(upRaw, safeRaw) }, holdMs);
  const windowMax = Math.max(...window.filter((e) => e.time >= now - holdMs).map((e) => e.replicas));

  // Blocked pods: requested until the timeout, then withdrawn for one more timeout.
  let pendingSince = parseTime(previous?.pendingSince);
  const demandBeyondScheduled = Math.max(upRaw, previousDesired) > scheduled;
  if (blocked > 0) pendingSince ??= now;
  else if (!demandBeyondScheduled) pendingSince = undefined;
  const timeoutMs = policy.pendingTimeoutSeconds * 1000;
  if (pendingSince !== undefined && now - pendingSince >= 2 * timeoutMs) pendingSince = now;
  const withdrawn = pendingSince !== undefined && now - pendingSince >= timeoutMs;
  const cap = withdrawn ? clamp(scheduled, min, max) : max;

  let desired = clamp(previousDesired, min, max);
  let reason: ScaleReason = desired === previousDesired ? 'Steady' : 'Bounds';
  let message: string;
  const loadText = U !== undefined
    ? `${formatNumber(U)} replicas of load (${formatNumber(prompt)} prompt + ${formatNumber(generation)} generated tokens/s` +
      (capacity !== undefined ? `, a replica measured at ${formatNumber(capacity)} x the targets` : '') + `), ${formatNumber(waiting)} waiting`
    : `${formatNumber(waiting)} waiting requests`;
  if (blind) {
    reason = 'MetricsMissing';
    message = `no fresh metrics from ${missing} of ${r} Ready pods: holding ${desired}; no scale-down until ${holdSeconds}s of fresh samples`;
    if (upRaw > desired) {
      desired = upRaw;
      reason = 'ScaleUp';
      message = `${loadText}: scaling up to ${desired}`;
    }
  } else if (upRaw > desired) {
    desired = upRaw;
    reason = Q > Math.ceil((U ?? 0) - 1e-9) ? 'ScaleUpOnQueue' : 'ScaleUp';
    message = `${loadText}: scaling up to ${desired} (${r} ready, ${starting} starting)`;
  } else if (holding && upRaw < desired) {
    reason = 'MetricsMissing';
    message = `${silent} of ${r} Ready pods do not answer their scrape: holding ${desired}; no scale-down while one is silent`;
  } else if (windowMax < desired) {
    desired = windowMax;
    reason = 'ScaleDown';
    message = `${loadText}; the highest recommendation of the last ${holdSeconds}s is ${windowMax}: scaling down to ${desired}`;
  } else if (upRaw < desired) {
    reason = 'ScaleDownDelayed';
    message = `${loadText} needs ${upRaw}; keeping ${desired} until the recommendations of the last ${holdSeconds}s are lower` +
      (missing > 0 ? ` (${missing} Ready pods without metrics count as fully loaded)` : '');
  } else if (reason === 'Bounds') {
    message = `desired replicas kept within minReplicas ${min} and maxReplicas ${max}: ${desired}`;
  } else {
    message = `${loadText}: ${desired} replicas (${r} ready, ${starting} starting)`;
  }
  if (desired > cap) {
    desired = cap;
    reason = 'GpuWaitExpired';
    message = `${blocked} replicas waited ${policy.pendingTimeoutSeconds}s without a GPU: withdrawn, ${desired} requested until they are retried`;
  } else if (blocked > 0 && reason !== 'ScaleUp' && reason !== 'ScaleUpOnQueue' && reason !== 'ScaleDown') {
    reason = 'WaitingForGpus';
    message = `${pendingForGpus} pods Pending for lack of GPUs` + (otherUnschedulable > 0 ? `, ${otherUnschedulable} unschedulable` : '') +
      (refused > 0 ? `, ${refused} refused by quota` : '') + ` (not capacity): ${desired} requested; ${message}`;
  }

  // Since when fresh recommendations have stayed below the replica count (reset by a change or a blind decision).
  const lowNow = !blind && Math.max(upRaw, safeRaw) < desired;
  const lowLoadSince = !lowNow ? undefined : desired === previousDesired ? (parseTime(previous?.lowLoadSince) ?? now) : now;

  const previousScale = parseTime(previous?.lastScaleTime);
  const lastScaleTime = desired !== previousDesired ? now : previousScale;
  const state: AutoscalingStatus = {
    desiredReplicas: desired,
    queueDepth: waiting,
    runningRequests: running,
    tokensPerSecond: Math.round(prompt + generation),
    ...(lastScaleTime !== undefined ? { lastScaleTime: toRfc3339(lastScaleTime) } : {}),
    reason: `${reason}: ${message}`,
    ...(learned !== undefined ? { learnedStartupSeconds: Math.round(learned * 10) / 10 } : {}),
    ...(lowLoadSince !== undefined ? { lowLoadSince: toRfc3339(lowLoadSince) } : {}),
    recommendations: window.map((e) => ({ time: toRfc3339(e.time), replicas: e.replicas })),
    ...(pendingSince !== undefined ? { pendingSince: toRfc3339(pendingSince) } : {}),
    ...(workPerRequest !== undefined ? { workPerRequestSeconds: Math.round(workPerRequest * 1e6) / 1e6 } : {}),
    ...(capacity !== undefined ? { capacityPerReplica: Math.round(capacity * 1e4) / 1e4 } : {}),
    ...(saturatedSince !== undefined ? { saturatedSince: toRfc3339(saturatedSince) } : {}),
  };
  return {
    desiredReplicas: desired,
    reason,
    message,
    state,
    pendingForGpus,
    unschedulable: otherUnschedulable + refused,
    refusedReplicas: refused,
    ready: r,
    starting,
    terminating,
    load,
    scaleDownHoldSeconds: holdSeconds,
    ...(learned !== undefined ? { learnedStartupSeconds: learned } : {}),
  };
}
