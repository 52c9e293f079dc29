// Pure. The autoscaler's decision: policy + pods + engine samples + previous status + now -> replicas, reason and the
// next status.autoscaling. Performs no I/O, reads no clock, and imports nothing from kube/ or controller/.
//
// One call per scrape interval I, in named phases (each a function below with its own formula):
//   classifyPods        r Ready, starting, blocked (Pending for GPUs, unschedulable, quota-refused), terminating
//   selectFresh         samples of Ready pods no older than 2 I; a Ready pod without one is silent or missing
//                       (W below also counts the requests held at a gateway, when the request path reports them)
//   measureLoad         U0 = Σ prompt / P + Σ gen / G (or Σ tokens / T): the served load in replicas at target over
//                       the rate window, or over the last scrape interval when that is BURST_RATIO x higher; W = Σ waiting; per-pod
//                       observations for the capacity fit
//   computeCapacity     f, the correction of the targets learned in both directions (capacity.ts); U = U0 / f
//   learnWork           w = replica-seconds at target per request, learned as U / finished requests per second
//                       while queues are short
//   computeDemand       the standing backlog is demand. With a standing queue (W > q r, q = queueDepthPerReplica):
//                         R_queue = ceil(U + (max(0, dW/dt) + (W - q r) / D) x w / f),  D = the drain time, the
//                         learned start time L^ (a backlog cannot be served sooner by replicas that are not there)
//                       R_up = clamp(min, max, max(ceil(U), R_queue)), and R_up >= r while the queue stands
//   computeHold         H = max(stabilizationWindowSeconds, scaleDownDelaySeconds or max(60, L^), rebound hold):
//                       the break-even rule (an idle replica is kept as long as a new one takes to start), lengthened
//                       to the idle gaps after which demand came back (removed replicas were needed again)
//   chooseDesired       up at once to R_up (starting pods are already counted, so a steady load adds nothing);
//                       down only to the highest recommendation of the last H, never while the queue stands, never
//                       while a Ready pod is silent or metrics are missing, and never removing pods still starting
//                       unless the Ready pods alone carried every recommendation of the last H
//   applyGpuWait        pods Pending for GPUs are requested until pendingTimeoutSeconds, then withdrawn for one
//                       more timeout, then requested again; never capacity
import type { AutoscalingSpec, AutoscalingStatus } from '../api/v1alpha1.js';
import type { CapacityObservation } from './capacity.js';
import { computeCapacity } from './capacity.js';

/** A sample older than this many scrape intervals is stale. */
export const STALE_INTERVALS = 2;
/** No decision for this many scrape intervals means the history has a gap (a restart or a new leader). */
export const GAP_INTERVALS = 3;
/** Before the work per request is known, the queue term at most doubles the Ready replicas per decision. */
export const QUEUE_GROWTH_LIMIT = 2;
/** Scale-down delay floor, and the start time assumed before any pod was seen becoming Ready, in seconds. */
export const MIN_SCALE_DOWN_DELAY_SECONDS = 60;
export const UNKNOWN_STARTUP_SECONDS = 300;
/** Creation-to-ready times longer than this are not startups (a pod that lost and regained readiness). */
export const MAX_LEARNED_STARTUP_SECONDS = 3600;
/** Work per request is learned from windows with at least this many finished requests per Ready pod per second. */
export const MIN_FINISHED_PER_POD_SECOND = 1;
/** The last scrape interval's load replaces the rate window's when it is this many times higher (a burst). */
export const BURST_RATIO = 2.5;
/** Weight of a new observation of the work per request (an exponential moving average per decision). */
export const WORK_LEARNING_RATE = 0.2;
/** The rebound hold never exceeds this many learned start times, and fades with this time constant (seconds). */
export const MAX_REBOUND_STARTUPS = 5;
export const REBOUND_MEMORY_SECONDS = 3600;
/** status.autoscaling.recommendations holds at most this many entries. */
export const MAX_RECOMMENDATIONS = 128;

export type ScaleReason =
  | 'ScaleUp'
  | 'ScaleUpOnQueue'
  | 'ScaleDown'
  | 'Steady'
  | 'ScaleDownDelayed'
  | 'QueueStanding'
  | 'MetricsMissing'
  | 'WaitingForGpus'
  | 'GpuWaitExpired'
  | 'Bounds';

/**
 * A pod as the autoscaler sees it. Starting = scheduled but not Ready (pulling, loading weights: capacity on the
 * way); Pending = not scheduled yet (with pendingReason when the scheduler refused it).
 */
export interface PodView {
  name: string;
  phase: 'Pending' | 'Starting' | 'Ready' | 'Terminating';
  /** metadata.creationTimestamp, in milliseconds since the epoch. */
  createdAt: number;
  /** When the pod became Ready (its Ready condition's lastTransitionTime), in milliseconds since the epoch. */
  readyAt?: number;
  /**
   * Why the scheduler left a Pending pod unscheduled: InsufficientGPU (no node with a free GPU of the type; a
   * cluster autoscaler or Karpenter may add one) or Unschedulable (any other reason). Unset while it is simply
   * being scheduled.
   */
  pendingReason?: 'InsufficientGPU' | 'Unschedulable';
}

/** One Ready pod's latest scrape: gauges, and token rates over the scrape before it (absent on a first scrape). */
export interface PodSample {
  pod: string;
  /** When the scrape was taken, in milliseconds since the epoch. */
  time: number;
  waiting: number;
  running: number;
  promptTokensPerSecond?: number;
  generationTokensPerSecond?: number;
  /** Finished requests per second over the same span, when the engine counts them. */
  requestsPerSecond?: number;
  /** Time-averaged running requests over the same span, when the engine exports its running-time histogram. */
  meanRunning?: number;
  /** Token rates over the last scrape interval alone (a burst shorter than the rate window shows there in full). */
  recentPromptTokensPerSecond?: number;
  recentGenerationTokensPerSecond?: number;
}

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
  /** Most requests one engine runs at once (spec.serving.maxConcurrentSequences), when known: sharpens the capacity fit. */
  batchLimit?: number;
  /** Requests held at the gateway (an endpoint picker's flow-control queue): waiting like the engines' queues. */
  gatewayWaiting?: number;
}

export interface ScaleLoad {
  /** Replicas the measured token throughput needs at target (U), or undefined without a token target. */
  replicasForThroughput?: number;
  /** Replicas the standing queue needs (R_queue), when a queue stands. */
  replicasForQueue?: number;
  /** The learned capacity of a replica in units of the targets (1 / 0.8 = what the targets assume). */
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

/** ceil() that forgives floating-point noise just above an integer. */
const ceilOf = (x: number): number => Math.ceil(x - 1e-9);

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function formatNumber(x: number): string {
  return x >= 100 ? String(Math.round(x)) : String(Math.round(x * 100) / 100);
}

/** Creation-to-ready times of the visible pods, in seconds; the median is the learned start time. */
export function computeLearnedStartupSeconds(pods: readonly PodView[], previous?: number): number | undefined {
  const startups = pods
    .filter((p) => p.readyAt !== undefined)
    .map((p) => ((p.readyAt ?? 0) - p.createdAt) / 1000)
    .filter((s) => s >= 0 && s <= MAX_LEARNED_STARTUP_SECONDS);
  return median(startups) ?? previous;
}

export interface PodCounts {
  ready: number;
  readyNames: Set<string>;
  /** Scheduled (or being scheduled) but not Ready: capacity on the way. */
  starting: number;
  pendingForGpus: number;
  unschedulable: number;
  refused: number;
  /** pendingForGpus + unschedulable + refused: requested, never capacity. */
  blocked: number;
  /** Ready + starting. */
  scheduled: number;
  terminating: number;
}

/** Pods by what they are worth: Ready, starting (capacity on the way), blocked (never capacity) and terminating. */
export function classifyPods(pods: readonly PodView[], refusedReplicas = 0): PodCounts {
  const live = pods.filter((p) => p.phase !== 'Terminating');
  const readyPods = live.filter((p) => p.phase === 'Ready');
  const pendingForGpus = live.filter((p) => p.phase === 'Pending' && p.pendingReason === 'InsufficientGPU').length;
  const unschedulable = live.filter((p) => p.phase === 'Pending' && p.pendingReason === 'Unschedulable').length;
  const refused = Math.max(0, refusedReplicas);
  return {
    ready: readyPods.length,
    readyNames: new Set(readyPods.map((p) => p.name)),
    starting: live.length - readyPods.length - pendingForGpus - unschedulable,
    pendingForGpus,
    unschedulable,
    refused,
    blocked: pendingForGpus + unschedulable + refused,
    scheduled: live.length - pendingForGpus - unschedulable,
    terminating: pods.length - live.length,
  };
}

/** The newest sample of each Ready pod that is no older than STALE_INTERVALS x I (and not from the future). */
export function selectFresh(samples: readonly PodSample[], readyNames: ReadonlySet<string>, now: number, intervalMs: number): PodSample[] {
  const fresh = new Map<string, PodSample>();
  for (const s of samples) {
    if (!readyNames.has(s.pod) || now - s.time > STALE_INTERVALS * intervalMs || s.time > now + intervalMs) continue;
    const seen = fresh.get(s.pod);
    if (!seen || seen.time < s.time) fresh.set(s.pod, s);
  }
  return [...fresh.values()];
}

export interface MeasuredLoad {
  hasTarget: boolean;
  /** U0: the served load in replicas at target, uncorrected; undefined without a token target. */
  measured?: number;
  prompt: number;
  generation: number;
  /** Finished requests per second over the fresh pods, when every one reports it. */
  finishedPerSecond?: number;
  waiting: number;
  running: number;
  /** Fresh pods, and fresh pods with token rates. */
  reporting: number;
  withRates: number;
  observations: CapacityObservation[];
}

/** The last interval's load counts when it exceeds the window's by BURST_RATIO: a burst, not noise. */
export function computeBurstAwareLoad(windowLoad: number, recentLoad: number): number {
  return recentLoad > BURST_RATIO * windowLoad ? recentLoad : windowLoad;
}

/**
 * U0 = load(Σ prompt_i, Σ gen_i) with load(a, b) = max(a / P + b / G, (a + b) / T) over fresh Ready pods with rates
 * (unset targets drop out), over the rate window, or over the last scrape interval alone when that is more than
 * BURST_RATIO times higher: a burst shorter than the rate window is averaged away in the window. W and the running count over every fresh pod.
 */
export function measureLoad(policy: AutoscalingSpec, fresh: readonly PodSample[]): MeasuredLoad {
  const P = policy.promptTokensPerSecondPerReplica;
  const G = policy.generationTokensPerSecondPerReplica;
  const T = policy.tokensPerSecondPerReplica;
  const hasTarget = (P !== undefined && G !== undefined) || T !== undefined;
  const loadOf = (promptRate: number, generationRate: number): number => Math.max(
    P !== undefined && G !== undefined ? promptRate / P + generationRate / G : 0,
    T !== undefined ? (promptRate + generationRate) / T : 0,
  );
  let prompt = 0;
  let generation = 0;
  let recentPrompt = 0;
  let recentGeneration = 0;
  let finishedPerSecond: number | undefined = 0;
  let waiting = 0;
  let running = 0;
  let withRates = 0;
  const observations: CapacityObservation[] = [];
  for (const s of fresh) {
    waiting += s.waiting;
    running += s.running;
    if (s.promptTokensPerSecond === undefined || s.generationTokensPerSecond === undefined) continue;
    prompt += s.promptTokensPerSecond;
    generation += s.generationTokensPerSecond;
    recentPrompt += s.recentPromptTokensPerSecond ?? s.promptTokensPerSecond;
    recentGeneration += s.recentGenerationTokensPerSecond ?? s.generationTokensPerSecond;
    finishedPerSecond = finishedPerSecond === undefined || s.requestsPerSecond === undefined ? undefined : finishedPerSecond + s.requestsPerSecond;
    if (hasTarget) {
      observations.push({ promptTokensPerSecond: s.promptTokensPerSecond, generationTokensPerSecond: s.generationTokensPerSecond, running: s.meanRunning ?? s.running, ...(s.meanRunning !== undefined ? { runningNow: s.running } : {}), waiting: s.waiting, load: loadOf(s.promptTokensPerSecond, s.generationTokensPerSecond) });
    }
    withRates++;
  }
  return {
    hasTarget,
    ...(hasTarget ? { measured: computeBurstAwareLoad(loadOf(prompt, generation), loadOf(recentPrompt, recentGeneration)) } : {}),
    prompt, generation,
    ...(finishedPerSecond !== undefined ? { finishedPerSecond } : {}),
    waiting, running, reporting: fresh.length, withRates, observations,
  };
}

/**
 * w, replica-seconds at target per request: an exponential moving average (rate WORK_LEARNING_RATE, each step within
 * a factor of two) of U / finished requests per second, from decisions whose replicas are busy (at least
 * MIN_FINISHED_PER_POD_SECOND per Ready pod) and whose queues are short (saturated replicas finish at capacity,
 * not at demand).
 */
export function learnWork(previous: number | undefined, load: number | undefined, finishedPerSecond: number | undefined, ready: number, queueStands: boolean): number | undefined {
  if (queueStands || load === undefined || finishedPerSecond === undefined || ready === 0 || finishedPerSecond < ready * MIN_FINISHED_PER_POD_SECOND) return previous;
  const observed = load / finishedPerSecond;
  if (previous === undefined) return observed;
  return previous + WORK_LEARNING_RATE * (clamp(observed, previous / 2, previous * 2) - previous);
}

export interface DemandInput {
  policy: AutoscalingSpec;
  /** U = U0 / f, in replicas; undefined without a token target. */
  load?: number;
  waiting: number;
  ready: number;
  starting: number;
  blocked: number;
  /** Waiting requests per second of growth since the previous decision (0 after a gap). */
  growthPerSecond: number;
  /** w / f, replica-seconds per request, when known. */
  workPerRequest?: number;
  drainSeconds: number;
}

export interface Demand {
  /** The queue stands: more than queueDepthPerReplica waiting requests per Ready replica. */
  queueStands: boolean;
  /** R_queue, the replicas the standing queue needs (0 without one). */
  queueReplicas: number;
  /** R_up before the bounds: what the measured load and the standing queue need now. */
  replicas: number;
}

/**
 * The replicas the load needs now. With a standing queue (W > q r) the served throughput understates demand, so
 *   R_queue = ceil(U + (max(0, dW/dt) + (W - q r) / D) x w)       with a token target and w known
 *           = min(2 r, r + ceil((W - q r) / q))                      with a token target, w unknown, nothing starting
 *           = ceil(W / q)                                           without a token target (queue-only scaling)
 * and R_up = max(ceil(U), R_queue), never below r while the queue stands.
 */
export function computeDemand(d: DemandInput): Demand {
  const q = d.policy.queueDepthPerReplica;
  const r = d.ready;
  const queueStands = r > 0 && d.waiting > q * r;
  const throughput = d.load === undefined ? 0 : ceilOf(d.load);
  let queueReplicas = 0;
  if (d.load === undefined) {
    queueReplicas = ceilOf(d.waiting / q);
  } else if (queueStands && d.workPerRequest !== undefined) {
    const excess = d.waiting - q * r;
    queueReplicas = ceilOf(d.load + (Math.max(0, d.growthPerSecond) + excess / d.drainSeconds) * d.workPerRequest);
  } else if (queueStands && d.starting === 0 && d.blocked === 0) {
    queueReplicas = Math.min(QUEUE_GROWTH_LIMIT * Math.max(1, r), r + ceilOf((d.waiting - q * r) / q));
  }
  const replicas = Math.max(throughput, queueReplicas, queueStands ? r : 0);
  return { queueStands, queueReplicas, replicas };
}

export interface HoldInput {
  policy: AutoscalingSpec;
  learnedStartupSeconds?: number;
  /** The rebound hold of the previous decision, and the seconds since it. */
  reboundSeconds?: number;
  elapsedSeconds: number;
}

/**
 * H = max(stabilizationWindowSeconds, scaleDownDelaySeconds, rebound), where an unset scaleDownDelaySeconds is the
 * break-even delay max(60, L^) and the rebound hold (learned in chooseDesired when demand came back after a
 * scale-down) fades as exp(-t / REBOUND_MEMORY_SECONDS). An explicit scaleDownDelaySeconds turns the rebound off.
 */
export function computeHold(h: HoldInput): { holdSeconds: number; baseSeconds: number; reboundSeconds?: number } {
  const explicit = h.policy.scaleDownDelaySeconds;
  const delay = explicit ?? Math.max(MIN_SCALE_DOWN_DELAY_SECONDS, h.learnedStartupSeconds ?? UNKNOWN_STARTUP_SECONDS);
  const baseSeconds = Math.max(h.policy.stabilizationWindowSeconds, delay);
  const rebound = explicit === undefined && h.reboundSeconds !== undefined ? h.reboundSeconds * Math.exp(-Math.max(0, h.elapsedSeconds) / REBOUND_MEMORY_SECONDS) : undefined;
  const kept = rebound !== undefined && rebound > baseSeconds ? rebound : undefined;
  return { holdSeconds: Math.round(Math.max(baseSeconds, kept ?? 0)), baseSeconds, ...(kept !== undefined ? { reboundSeconds: kept } : {}) };
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

/** Decides the replica count. See the header for the phases and their formulas. */
export function decide(input: DecideInput): ScaleDecision {
  const { policy, previous } = input;
  const now = typeof input.now === 'number' ? input.now : input.now.getTime();
  const intervalMs = policy.scrapeIntervalSeconds * 1000;
  const min = policy.minReplicas;
  const max = Math.max(policy.maxReplicas, min);

  const pods = classifyPods(input.pods, input.refusedReplicas ?? 0);
  const r = pods.ready;
  const fresh = selectFresh(input.samples, pods.readyNames, now, intervalMs);
  const measuredLoad = measureLoad(policy, fresh);
  // Requests held at a gateway wait like those in the engines' queues (and only there while the engines run full).
  const m = { ...measuredLoad, waiting: measuredLoad.waiting + Math.max(0, input.gatewayWaiting ?? 0) };
  const missing = r - (m.hasTarget ? m.withRates : m.reporting);
  const blind = r === 0 || m.reporting === 0 || (m.hasTarget && m.withRates === 0);
  const silent = r - m.reporting;

  // History: the previous decision, its window and whether it is recent enough to continue.
  const previousDesired = previous?.desiredReplicas ?? input.currentReplicas;
  let window = readRecommendations(previous);
  const last = window[window.length - 1];
  const gap = last === undefined || now - last.time > GAP_INTERVALS * intervalMs;
  const elapsedSeconds = last !== undefined && now > last.time ? (now - last.time) / 1000 : 0;
  const learned = computeLearnedStartupSeconds(input.pods, previous?.learnedStartupSeconds);

  // Capacity (both directions) and work per request.
  const capacity = computeCapacity(previous?.capacityFit, elapsedSeconds, blind ? [] : m.observations, input.batchLimit);
  const f = capacity.factor;
  const U = m.measured === undefined ? undefined : m.measured / f;
  const q = policy.queueDepthPerReplica;
  const queueStandsNow = r > 0 && m.waiting > q * r;
  const workPerRequest = learnWork(previous?.workPerRequestSeconds, blind ? undefined : m.measured, m.finishedPerSecond, r, queueStandsNow);
  const before = previous?.queueDepth;
  const growthPerSecond = !gap && before !== undefined && elapsedSeconds > 0 ? (m.waiting - before) / elapsedSeconds : 0;
  const drainSeconds = Math.max(MIN_SCALE_DOWN_DELAY_SECONDS, learned ?? UNKNOWN_STARTUP_SECONDS);
  const demand = computeDemand({
    policy, ...(U !== undefined ? { load: U } : {}), waiting: m.waiting, ready: r, starting: pods.starting, blocked: pods.blocked,
    growthPerSecond, ...(workPerRequest !== undefined ? { workPerRequest: workPerRequest / f } : {}), drainSeconds,
  });
  const queueStands = !blind && demand.queueStands;

  // The hold H, with the rebound learned from the last scale-down.
  const hold = computeHold({ policy, ...(learned !== undefined ? { learnedStartupSeconds: learned } : {}), ...(previous?.reboundHoldSeconds !== undefined ? { reboundSeconds: previous.reboundHoldSeconds } : {}), elapsedSeconds });
  let holdSeconds = hold.holdSeconds;
  let reboundSeconds = hold.reboundSeconds;
  const holdMs = holdSeconds * 1000;

  // The recommendation window. A gap in the history or a blind decision records a hold at the previous count, so
  // nothing scales down until H of fresh samples has passed. Missing pods count as fully loaded.
  const upRaw = clamp(demand.replicas, min, max);
  const safeRaw = clamp(Math.max(demand.replicas, ceilOf((U ?? 0) + Math.max(0, missing))), min, max);
  if (gap) window = pushRecommendation(window, { time: now - 1, replicas: Math.max(previousDesired, last?.replicas ?? 0) }, holdMs);
  const holding = blind || silent > 0;
  window = pushRecommendation(window, { time: now, replicas: holding ? Math.max(previousDesired, upRaw) : Math.max(upRaw, safeRaw) }, holdMs);
  const windowMax = Math.max(...window.filter((e) => e.time >= now - holdMs).map((e) => e.replicas));

  // Blocked pods: requested until the timeout, then withdrawn for one more timeout.
  let pendingSince = parseTime(previous?.pendingSince);
  const demandBeyondScheduled = Math.max(upRaw, previousDesired) > pods.scheduled;
  if (pods.blocked > 0) pendingSince ??= now;
  else if (!demandBeyondScheduled) pendingSince = undefined;
  const timeoutMs = policy.pendingTimeoutSeconds * 1000;
  if (pendingSince !== undefined && now - pendingSince >= 2 * timeoutMs) pendingSince = now;
  const withdrawn = pendingSince !== undefined && now - pendingSince >= timeoutMs;
  const cap = withdrawn ? clamp(pods.scheduled, min, max) : max;

  // chooseDesired.
  let desired = clamp(previousDesired, min, max);
  let reason: ScaleReason = desired === previousDesired ? 'Steady' : 'Bounds';
  let message: string;
  const loadText = U !== undefined
    ? `${formatNumber(U)} replicas of load (${formatNumber(m.prompt)} prompt + ${formatNumber(m.generation)} generated tokens/s` +
      (f !== 1 ? `, a replica measured at ${formatNumber(f)} x the targets` : '') + `), ${formatNumber(m.waiting)} waiting`
    : `${formatNumber(m.waiting)} waiting requests`;
  // Pods still starting go first when the count falls (the ReplicaSet's order): only when the Ready pods alone met
  // every recommendation of the hold has the load really fallen below what was started for it.
  const downFloor = pods.starting > 0 && windowMax > r ? Math.min(desired, r + pods.starting) : 0;
  const downTo = Math.max(windowMax, downFloor);
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
    reason = demand.queueReplicas > ceilOf(U ?? 0) ? 'ScaleUpOnQueue' : 'ScaleUp';
    message = `${loadText}: scaling up to ${desired} (${r} ready, ${pods.starting} starting)`;
  } else if (queueStands && downTo < desired) {
    reason = 'QueueStanding';
    message = `${loadText}: more than ${formatNumber(q)} waiting per Ready replica, keeping ${desired} (${r} ready, ${pods.starting} starting); no scale-down while the queue stands`;
  } else if (holding && upRaw < desired) {
    reason = 'MetricsMissing';
    message = `${silent} of ${r} Ready pods do not answer their scrape: holding ${desired}; no scale-down while one is silent`;
  } else if (downTo < desired) {
    desired = downTo;
    reason = 'ScaleDown';
    message = `${loadText}; the highest recommendation of the last ${holdSeconds}s is ${windowMax}` +
      (downTo > windowMax ? ` (keeping the ${pods.starting} pods still starting)` : '') + `: scaling down to ${desired}`;
  } else if (upRaw < desired) {
    reason = 'ScaleDownDelayed';
    message = `${loadText} needs ${upRaw}; keeping ${desired} until the recommendations of the last ${holdSeconds}s are lower` +
      (downFloor > windowMax ? ` and the ${pods.starting} pods still starting are not needed` : '') +
      (missing > 0 ? ` (${missing} Ready pods without metrics count as fully loaded)` : '');
  } else if (reason === 'Bounds') {
    message = `desired replicas kept within minReplicas ${min} and maxReplicas ${max}: ${desired}`;
  } else {
    message = `${loadText}: ${desired} replicas (${r} ready, ${pods.starting} starting)`;
  }
  if (desired > cap) {
    desired = cap;
    reason = 'GpuWaitExpired';
    message = `${pods.blocked} replicas waited ${policy.pendingTimeoutSeconds}s without a GPU: withdrawn, ${desired} requested until they are retried`;
  } else if (pods.blocked > 0 && reason !== 'ScaleUp' && reason !== 'ScaleUpOnQueue' && reason !== 'ScaleDown') {
    reason = 'WaitingForGpus';
    message = `${pods.pendingForGpus} pods Pending for lack of GPUs` + (pods.unschedulable > 0 ? `, ${pods.unschedulable} unschedulable` : '') +
      (pods.refused > 0 ? `, ${pods.refused} refused by quota` : '') + ` (not capacity): ${desired} requested; ${message}`;
  }

  // Rebound: demand came back above the level of the last scale-down, with requests waiting, within
  // MAX_REBOUND_STARTUPS start times of the time it was last needed: the removed replicas would have served them, so
  // hold at least that long next time. (A scale-up on throughput alone, before anything waits, teaches nothing.)
  const lastDown = previous?.lastScaleDown;
  const lastDownTime = parseTime(lastDown?.time);
  let scaleDown = lastDown;
  if (desired > previousDesired && reason === 'ScaleUpOnQueue' && lastDown !== undefined && lastDownTime !== undefined && desired > lastDown.to && policy.scaleDownDelaySeconds === undefined) {
    const idleSeconds = (now - lastDownTime) / 1000 + lastDown.holdSeconds;
    const limit = MAX_REBOUND_STARTUPS * (learned ?? UNKNOWN_STARTUP_SECONDS);
    if (idleSeconds <= limit) {
      reboundSeconds = Math.max(reboundSeconds ?? 0, Math.min(limit, idleSeconds + policy.scrapeIntervalSeconds));
      holdSeconds = Math.max(holdSeconds, Math.round(reboundSeconds));
    }
    scaleDown = undefined;
  }
  if (desired < previousDesired) scaleDown = { time: toRfc3339(now), from: previousDesired, to: desired, holdSeconds };

  // Since when fresh recommendations have stayed below the replica count, and since when the queue has stood.
  const lowNow = !blind && Math.max(upRaw, safeRaw) < desired;
  const lowLoadSince = !lowNow ? undefined : desired === previousDesired ? (parseTime(previous?.lowLoadSince) ?? now) : now;
  const saturatedSince = queueStands ? (gap ? now : (parseTime(previous?.saturatedSince) ?? now)) : undefined;
  const previousScale = parseTime(previous?.lastScaleTime);
  const lastScaleTime = desired !== previousDesired ? now : previousScale;
  const capacityPerReplica = f !== 1 ? f / 0.8 : undefined;
  const state: AutoscalingStatus = {
    desiredReplicas: desired,
    queueDepth: m.waiting,
    runningRequests: m.running,
    tokensPerSecond: Math.round(m.prompt + m.generation),
    ...(lastScaleTime !== undefined ? { lastScaleTime: toRfc3339(lastScaleTime) } : {}),
    reason: `${reason}: ${message}`,
    ...(learned !== undefined ? { learnedStartupSeconds: Math.round(learned * 10) / 10 } : {}),
    ...(lowLoadSince !== undefined ? { lowLoadSince: toRfc3339(lowLoadSince) } : {}),
    recommendations: window.map((e) => ({ time: toRfc3339(e.time), replicas: e.replicas })),
    ...(pendingSince !== undefined ? { pendingSince: toRfc3339(pendingSince) } : {}),
    ...(workPerRequest !== undefined ? { workPerRequestSeconds: Math.round(workPerRequest * 1e6) / 1e6 } : {}),
    ...(capacityPerReplica !== undefined ? { capacityPerReplica: Math.round(capacityPerReplica * 1e4) / 1e4 } : {}),
    capacityFit: roundFit(capacity.fit),
    ...(saturatedSince !== undefined ? { saturatedSince: toRfc3339(saturatedSince) } : {}),
    ...(reboundSeconds !== undefined ? { reboundHoldSeconds: Math.round(reboundSeconds) } : {}),
    ...(scaleDown !== undefined ? { lastScaleDown: scaleDown } : {}),
  };
  return {
    desiredReplicas: desired,
    reason,
    message,
    state,
    pendingForGpus: pods.pendingForGpus,
    unschedulable: pods.unschedulable + pods.refused,
    refusedReplicas: pods.refused,
    ready: r,
    starting: pods.starting,
    terminating: pods.terminating,
    load: {
      ...(U !== undefined ? { replicasForThroughput: U } : {}),
      ...(queueStands ? { replicasForQueue: demand.queueReplicas } : {}),
      ...(capacityPerReplica !== undefined ? { capacityPerReplica } : {}),
      queueDepth: m.waiting,
      runningRequests: m.running,
      tokensPerSecond: m.prompt + m.generation,
      reporting: m.reporting,
      missing,
    },
    scaleDownHoldSeconds: holdSeconds,
    ...(learned !== undefined ? { learnedStartupSeconds: learned } : {}),
  };
}

/** The fit's sums with 6 significant digits (status stays small and stable). */
function roundFit(fit: NonNullable<AutoscalingStatus['capacityFit']>): NonNullable<AutoscalingStatus['capacityFit']> {
  const r6 = (x: number): number => (x === 0 ? 0 : Number(x.toPrecision(6)));
  return { xx: r6(fit.xx), xu: r6(fit.xu), uu: r6(fit.uu), x: r6(fit.x), u: r6(fit.u), samples: r6(fit.samples) };
}
