// Pure. The autoscaler's decision: policy + pods + engine samples + previous status + now -> replicas, reason and the
// next status.autoscaling. Performs no I/O, reads no clock, and imports nothing from kube/ or controller/.
//
// One call per scrape interval I, in named phases (each a function below with its own formula; decide() runs them in
// this order):
//   classifyPods        r Ready, starting, blocked (Pending for GPUs, unschedulable, quota-refused), terminating
//   selectFresh         samples of Ready pods no older than 2 I; a Ready pod without one is silent or missing
//                       (W below also counts the requests held at a gateway, when the request path reports them)
//   measureLoad         U0 = Σ prompt / P + Σ gen / G (or Σ tokens / T): the served load in replicas at target over
//                       the rate window, or over the last scrape interval when that is BURST_RATIO x higher; W = Σ waiting; per-pod
//                       observations for the capacity fit (observeLoad adds the gateway's queue and the Ready pods
//                       the samples miss)
//   readHistory         the previous decision: its count, its recommendation window, whether a gap (GAP_INTERVALS x I
//                       without a decision) breaks it, and the learned start time L^
//   computeCapacity     f, the correction of the targets learned in both directions (capacity.ts); U = U0 / f
//   learnWork           w = replica-seconds at target per request, learned as U / finished requests per second
//                       while queues are short
//   computeDemand       the standing backlog is demand. With a standing queue (W > q r, q = queueDepthPerReplica):
//                         R_queue = ceil(U + (max(0, dW/dt) + (W - q r) / D) x w / f),  D = the drain time, the
//                         learned start time L^ (a backlog cannot be served sooner by replicas that are not there)
//                       R_up = clamp(min, max, max(ceil(U), R_queue)), and R_up >= r while the queue stands
//                       (estimateNeed runs computeCapacity, learnWork and computeDemand)
//   computeHold         H = max(stabilizationWindowSeconds, scaleDownDelaySeconds or max(60, L^), rebound hold):
//                       the break-even rule (an idle replica is kept as long as a new one takes to start), lengthened
//                       to the idle gaps after which demand came back (removed replicas were needed again)
//   recordRecommendation  R_up (missing pods counted as fully loaded) joins the recommendations of the last H; after
//                       a gap, or while blind or a pod is silent, the previous count is recorded instead
//   chooseDesired       up at once to R_up (starting pods are already counted, so a steady load adds nothing);
//                       down only to the highest recommendation of the last H, never while the queue stands, never
//                       while a Ready pod is silent or metrics are missing, and never removing pods still starting
//                       unless the Ready pods alone carried every recommendation of the last H
//   applyGpuWait        pods Pending for GPUs are requested until pendingTimeoutSeconds, then withdrawn for one
//                       more timeout, then requested again; never capacity
//   applyScaleToZero    with scaleToZero (scale-to-zero.ts): up from zero on requests held by the activators, to
//                       max(1, ceil(held x w / D)); down to zero after idleSeconds without a request, never with work
//                       in flight; the cold-start record
//   learnRebound        demand back on a standing queue within MAX_REBOUND_STARTUPS L^ of a scale-down: the next H
//                       lasts at least that idle gap; a scale-down is recorded for the next rebound
//   buildState          the next status.autoscaling (with lowLoadSince, saturatedSince, lastScaleTime), and
//   buildDecision       the ScaleDecision
import type { AutoscalingSpec, AutoscalingStatus } from '../api/v1alpha1.js';
import type { CapacityEstimate, CapacityObservation } from './capacity.js';
import { computeCapacity } from './capacity.js';
import { applyScaleToZero, computeFloor, type ActivatorCounts, type ZeroChoice } from './scale-to-zero.js';

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
  | 'Bounds'
  | 'ScaleUpFromZero'
  | 'ScaleToZero'
  | 'ScaledToZero';

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
  /**
   * The request path has a gateway queue (routing on) but no endpoint picker answered its scrape: requests may wait
   * there unseen, so the count is held as for a silent pod (no scale-down) until one answers.
   */
  gatewaySilent?: boolean;
  /**
   * With scaleToZero: what the activators report (status.activation entries still renewed): requests held now, and
   * those refused or expired. Held requests wait like the engines' queues; at zero they start a replica.
   */
  activators?: ActivatorCounts;
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
  const queueStands = queueStandsAt(d.policy, d.waiting, r);
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
 * break-even delay max(60, L^) and the rebound hold (learned in learnRebound when demand came back after a
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

/** The clock and the bounds of one decision. */
interface Clock {
  /** Milliseconds since the epoch. */
  now: number;
  /** The scrape interval I, in milliseconds. */
  intervalMs: number;
  min: number;
  /** maxReplicas, never below minReplicas. */
  max: number;
}

function readClock(input: DecideInput): Clock {
  const { policy } = input;
  const min = computeFloor(policy);
  return {
    now: typeof input.now === 'number' ? input.now : input.now.getTime(),
    intervalMs: policy.scrapeIntervalSeconds * 1000,
    min,
    max: Math.max(policy.maxReplicas, min),
  };
}

/** The measured load with the gateway's queue, and what the scrape did not see. */
interface ObservedLoad extends MeasuredLoad {
  /** Ready pods without fresh samples (without token rates, with a token target): they count as fully loaded. */
  missing: number;
  /** No Ready pod, no fresh sample, or (with a token target) no token rates: nothing to decide on. */
  blind: boolean;
  /** Ready pods without a fresh sample. */
  silent: number;
  /** The gateway's queue is expected but unknown (DecideInput.gatewaySilent). */
  gatewaySilent: boolean;
  /** blind, a Ready pod silent, or the gateway silent: no scale-down. */
  holding: boolean;
}

/** measureLoad's result plus the requests held at a gateway, and the Ready pods it does not cover. */
function observeLoad(measured: MeasuredLoad, ready: number, gatewayWaiting: number | undefined, gatewaySilent = false): ObservedLoad {
  // Requests held at a gateway wait like those in the engines' queues (and only there while the engines run full).
  const m = { ...measured, waiting: measured.waiting + Math.max(0, gatewayWaiting ?? 0) };
  const blind = ready === 0 || m.reporting === 0 || (m.hasTarget && m.withRates === 0);
  const silent = ready - m.reporting;
  return { ...m, missing: ready - (m.hasTarget ? m.withRates : m.reporting), blind, silent, gatewaySilent, holding: blind || silent > 0 || gatewaySilent };
}

/** The previous decision, as far as this one continues it. */
interface History {
  /** The previous desiredReplicas (the Deployment's spec.replicas when there is none). */
  previousDesired: number;
  /** The recommendation window as the previous decision left it, oldest first, and its newest entry. */
  window: Recommendation[];
  last: Recommendation | undefined;
  /** No decision for GAP_INTERVALS x I: a restart or a new leader. */
  gap: boolean;
  /** Seconds since the previous decision (0 without one). */
  elapsedSeconds: number;
  /** L^, the learned start time in seconds. */
  learned: number | undefined;
}

/** History: the previous decision, its window and whether it is recent enough to continue. */
function readHistory(input: DecideInput, clock: Clock): History {
  const { previous } = input;
  const { now } = clock;
  const window = readRecommendations(previous);
  const last = window[window.length - 1];
  return {
    previousDesired: previous?.desiredReplicas ?? input.currentReplicas,
    window,
    last,
    gap: last === undefined || now - last.time > GAP_INTERVALS * clock.intervalMs,
    elapsedSeconds: last !== undefined && now > last.time ? (now - last.time) / 1000 : 0,
    learned: computeLearnedStartupSeconds(input.pods, previous?.learnedStartupSeconds),
  };
}

interface NeedInput {
  input: DecideInput;
  clock: Clock;
  pods: PodCounts;
  m: ObservedLoad;
  history: History;
}

/** What the load needs: the capacity correction, the work per request, the demand and the recommendations. */
interface Need {
  capacity: CapacityEstimate;
  /** U = U0 / f, in replicas; undefined without a token target. */
  load: number | undefined;
  /** w as learned (uncorrected by f). */
  workPerRequest: number | undefined;
  demand: Demand;
  /** The queue stands, and the metrics can tell. */
  queueStands: boolean;
  /** R_up within the bounds, and the same with the missing pods counted as fully loaded. */
  up: number;
  safe: number;
  /** The learned capacity of a replica in units of the targets, when f is not 1. */
  capacityPerReplica: number | undefined;
}

/** A queue stands: more than queueDepthPerReplica waiting requests per Ready replica. */
function queueStandsAt(policy: AutoscalingSpec, waiting: number, ready: number): boolean {
  return ready > 0 && waiting > policy.queueDepthPerReplica * ready;
}

/** Runs computeCapacity (both directions), learnWork and computeDemand, and bounds the recommendations. */
function estimateNeed(n: NeedInput): Need {
  const { input: { policy, previous }, clock, pods, m, history } = n;
  const r = pods.ready;
  const capacity = computeCapacity(previous?.capacityFit, history.elapsedSeconds, m.blind ? [] : m.observations, n.input.batchLimit);
  const f = capacity.factor;
  const U = m.measured === undefined ? undefined : m.measured / f;
  const workPerRequest = learnWork(previous?.workPerRequestSeconds, m.blind ? undefined : m.measured, m.finishedPerSecond, r, queueStandsAt(policy, m.waiting, r));
  const demand = computeDemand({
    policy, load: U, waiting: m.waiting, ready: r, starting: pods.starting, blocked: pods.blocked,
    growthPerSecond: queueGrowthPerSecond(m.waiting, previous?.queueDepth, history),
    workPerRequest: workPerRequest === undefined ? undefined : workPerRequest / f,
    drainSeconds: Math.max(MIN_SCALE_DOWN_DELAY_SECONDS, history.learned ?? UNKNOWN_STARTUP_SECONDS),
  });
  return {
    capacity,
    load: U,
    workPerRequest,
    demand,
    queueStands: !m.blind && demand.queueStands,
    // Missing pods count as fully loaded.
    up: clamp(demand.replicas, clock.min, clock.max),
    safe: clamp(Math.max(demand.replicas, ceilOf((U ?? 0) + Math.max(0, m.missing))), clock.min, clock.max),
    capacityPerReplica: f !== 1 ? f / 0.8 : undefined,
  };
}

/** dW/dt: waiting requests per second of growth since the previous decision (0 after a gap). */
function queueGrowthPerSecond(waiting: number, before: number | undefined, history: History): number {
  return !history.gap && before !== undefined && history.elapsedSeconds > 0 ? (waiting - before) / history.elapsedSeconds : 0;
}

interface WindowInput {
  clock: Clock;
  history: History;
  /** H, in seconds. */
  holdSeconds: number;
  up: number;
  safe: number;
  holding: boolean;
}

/**
 * The recommendation window. A gap in the history or a blind decision records a hold at the previous count, so
 * nothing scales down until H of fresh samples has passed. Missing pods count as fully loaded.
 */
function recordRecommendation(w: WindowInput): { window: Recommendation[]; windowMax: number } {
  const { now } = w.clock;
  const { previousDesired, last } = w.history;
  const holdMs = w.holdSeconds * 1000;
  let window = w.history.window;
  if (w.history.gap) window = pushRecommendation(window, { time: now - 1, replicas: Math.max(previousDesired, last?.replicas ?? 0) }, holdMs);
  window = pushRecommendation(window, { time: now, replicas: w.holding ? Math.max(previousDesired, w.up) : Math.max(w.up, w.safe) }, holdMs);
  const windowMax = Math.max(...window.filter((e) => e.time >= now - holdMs).map((e) => e.replicas));
  return { window, windowMax };
}

/** The load as the messages give it. */
function describeLoad(load: number | undefined, f: number, m: MeasuredLoad): string {
  return load !== undefined
    ? `${formatNumber(load)} replicas of load (${formatNumber(m.prompt)} prompt + ${formatNumber(m.generation)} generated tokens/s` +
      (f !== 1 ? `, a replica measured at ${formatNumber(f)} x the targets` : '') + `), ${formatNumber(m.waiting)} waiting`
    : `${formatNumber(m.waiting)} waiting requests`;
}

export interface Choice {
  desiredReplicas: number;
  reason: ScaleReason;
  message: string;
}

export interface ChoiceInput {
  policy: AutoscalingSpec;
  min: number;
  max: number;
  previousDesired: number;
  pods: PodCounts;
  /** Nothing to decide on, a Ready pod silent, and the Ready pods without metrics. */
  blind: boolean;
  holding: boolean;
  silent: number;
  missing: number;
  queueStands: boolean;
  /** R_up within the bounds, R_queue and U (undefined without a token target). */
  up: number;
  queueReplicas: number;
  load: number | undefined;
  /** The highest recommendation of the last H, and H in seconds. */
  windowMax: number;
  holdSeconds: number;
  /** The load as the messages give it. */
  loadText: string;
}

/**
 * Up at once to R_up (starting pods are already counted, so a steady load adds nothing); down only to the highest
 * recommendation of the last H, never while the queue stands, never while a Ready pod is silent or metrics are
 * missing, and never removing pods still starting unless the Ready pods alone carried every recommendation of the
 * last H. The first rule that applies decides.
 */
export function chooseDesired(c: ChoiceInput): Choice {
  const kept = clamp(c.previousDesired, c.min, c.max);
  const { ready: r, starting } = c.pods;
  // Pods still starting go first when the count falls (the ReplicaSet's order): only when the Ready pods alone met
  // every recommendation of the hold has the load really fallen below what was started for it.
  const downFloor = starting > 0 && c.windowMax > r ? Math.min(kept, r + starting) : 0;
  const downTo = Math.max(c.windowMax, downFloor);
  if (c.blind) return chooseBlind(c, kept);
  if (c.up > kept) {
    const reason = c.queueReplicas > ceilOf(c.load ?? 0) ? 'ScaleUpOnQueue' : 'ScaleUp';
    return { desiredReplicas: c.up, reason, message: `${c.loadText}: scaling up to ${c.up} (${r} ready, ${starting} starting)` };
  }
  if (c.queueStands && downTo < kept) {
    return {
      desiredReplicas: kept, reason: 'QueueStanding',
      message: `${c.loadText}: more than ${formatNumber(c.policy.queueDepthPerReplica)} waiting per Ready replica, keeping ${kept} (${r} ready, ${starting} starting); no scale-down while the queue stands`,
    };
  }
  if (c.holding && c.up < kept) {
    const message = c.silent > 0
      ? `${c.silent} of ${r} Ready pods do not answer their scrape: holding ${kept}; no scale-down while one is silent`
      : `the endpoint picker does not answer its scrape, so the gateway's queue is unknown: holding ${kept}; no scale-down until it answers`;
    return { desiredReplicas: kept, reason: 'MetricsMissing', message };
  }
  if (downTo < kept) {
    const message = `${c.loadText}; the highest recommendation of the last ${c.holdSeconds}s is ${c.windowMax}` +
      (downTo > c.windowMax ? ` (keeping the ${starting} pods still starting)` : '') + `: scaling down to ${downTo}`;
    return { desiredReplicas: downTo, reason: 'ScaleDown', message };
  }
  if (c.up < kept) return { desiredReplicas: kept, reason: 'ScaleDownDelayed', message: delayedMessage(c, kept, downFloor) };
  if (kept !== c.previousDesired) {
    return { desiredReplicas: kept, reason: 'Bounds', message: `desired replicas kept within minReplicas ${c.min} and maxReplicas ${c.max}: ${kept}` };
  }
  return { desiredReplicas: kept, reason: 'Steady', message: `${c.loadText}: ${kept} replicas (${r} ready, ${starting} starting)` };
}

/** Without usable metrics: up on what is known, never down. */
function chooseBlind(c: ChoiceInput, kept: number): Choice {
  if (c.up > kept) return { desiredReplicas: c.up, reason: 'ScaleUp', message: `${c.loadText}: scaling up to ${c.up}` };
  return {
    desiredReplicas: kept, reason: 'MetricsMissing',
    message: `no fresh metrics from ${c.missing} of ${c.pods.ready} Ready pods: holding ${kept}; no scale-down until ${c.holdSeconds}s of fresh samples`,
  };
}

function delayedMessage(c: ChoiceInput, kept: number, downFloor: number): string {
  return `${c.loadText} needs ${c.up}; keeping ${kept} until the recommendations of the last ${c.holdSeconds}s are lower` +
    (downFloor > c.windowMax ? ` and the ${c.pods.starting} pods still starting are not needed` : '') +
    (c.missing > 0 ? ` (${c.missing} Ready pods without metrics count as fully loaded)` : '');
}

export interface GpuWaitInput {
  policy: AutoscalingSpec;
  now: number;
  min: number;
  max: number;
  pods: PodCounts;
  /** status.autoscaling.pendingSince of the previous decision. */
  pendingSince: string | undefined;
  /** R_up within the bounds, and the previous desiredReplicas: together, whether demand exceeds the scheduled pods. */
  up: number;
  previousDesired: number;
  choice: Choice;
}

export interface GpuWait {
  choice: Choice;
  /** Since when replicas have waited Pending (the next status.autoscaling.pendingSince), in milliseconds. */
  pendingSince: number | undefined;
}

/** Since when blocked replicas have been requested, and the cap on the replica count it implies. */
function trackGpuWait(g: GpuWaitInput): { pendingSince: number | undefined; cap: number } {
  const { now, pods } = g;
  let pendingSince = parseTime(g.pendingSince);
  const demandBeyondScheduled = Math.max(g.up, g.previousDesired) > pods.scheduled;
  if (pods.blocked > 0) pendingSince ??= now;
  else if (!demandBeyondScheduled) pendingSince = undefined;
  const timeoutMs = g.policy.pendingTimeoutSeconds * 1000;
  if (pendingSince !== undefined && now - pendingSince >= 2 * timeoutMs) pendingSince = now;
  const withdrawn = pendingSince !== undefined && now - pendingSince >= timeoutMs;
  return { pendingSince, cap: withdrawn ? clamp(pods.scheduled, g.min, g.max) : g.max };
}

/**
 * Blocked pods: requested until pendingTimeoutSeconds, then withdrawn for one more timeout (the count capped at the
 * scheduled pods), then requested again; never capacity. Otherwise the choice is reported as waiting for GPUs,
 * unless it scales.
 */
export function applyGpuWait(g: GpuWaitInput): GpuWait {
  const { choice, pods } = g;
  const { pendingSince, cap } = trackGpuWait(g);
  if (choice.desiredReplicas > cap) {
    const message = `${pods.blocked} replicas waited ${g.policy.pendingTimeoutSeconds}s without a GPU: withdrawn, ${cap} requested until they are retried`;
    return { choice: { desiredReplicas: cap, reason: 'GpuWaitExpired', message }, pendingSince };
  }
  if (pods.blocked > 0 && choice.reason !== 'ScaleUp' && choice.reason !== 'ScaleUpOnQueue' && choice.reason !== 'ScaleDown') {
    const message = `${pods.pendingForGpus} pods Pending for lack of GPUs` + (pods.unschedulable > 0 ? `, ${pods.unschedulable} unschedulable` : '') +
      (pods.refused > 0 ? `, ${pods.refused} refused by quota` : '') + ` (not capacity): ${choice.desiredReplicas} requested; ${choice.message}`;
    return { choice: { desiredReplicas: choice.desiredReplicas, reason: 'WaitingForGpus', message }, pendingSince };
  }
  return { choice, pendingSince };
}

type ScaleDownRecord = NonNullable<AutoscalingStatus['lastScaleDown']>;

export interface ReboundInput {
  policy: AutoscalingSpec;
  now: number;
  /** status.autoscaling.lastScaleDown of the previous decision. */
  lastScaleDown: ScaleDownRecord | undefined;
  previousDesired: number;
  choice: Choice;
  /** L^, the learned start time in seconds. */
  learned: number | undefined;
  /** H and the rebound hold of computeHold. */
  holdSeconds: number;
  reboundSeconds: number | undefined;
}

export interface Rebound {
  holdSeconds: number;
  reboundSeconds: number | undefined;
  /** The next status.autoscaling.lastScaleDown. */
  scaleDown: ScaleDownRecord | undefined;
}

/**
 * Rebound: demand came back above the level of the last scale-down, with requests waiting, within
 * MAX_REBOUND_STARTUPS start times of the time it was last needed: the removed replicas would have served them, so
 * hold at least that long next time. (A scale-up on throughput alone, before anything waits, teaches nothing.) A
 * scale-down is recorded for the next rebound.
 */
export function learnRebound(b: ReboundInput): Rebound {
  const { policy, now, previousDesired, choice: { desiredReplicas: desired } } = b;
  const lastDown = b.lastScaleDown;
  const lastDownTime = parseTime(lastDown?.time);
  let { holdSeconds, reboundSeconds } = b;
  let scaleDown = lastDown;
  if (desired > previousDesired && b.choice.reason === 'ScaleUpOnQueue' && lastDown !== undefined && lastDownTime !== undefined && desired > lastDown.to && policy.scaleDownDelaySeconds === undefined) {
    const idleSeconds = (now - lastDownTime) / 1000 + lastDown.holdSeconds;
    const limit = MAX_REBOUND_STARTUPS * (b.learned ?? UNKNOWN_STARTUP_SECONDS);
    if (idleSeconds <= limit) {
      reboundSeconds = Math.max(reboundSeconds ?? 0, Math.min(limit, idleSeconds + policy.scrapeIntervalSeconds));
      holdSeconds = Math.max(holdSeconds, Math.round(reboundSeconds));
    }
    scaleDown = undefined;
  }
  if (desired < previousDesired) scaleDown = { time: toRfc3339(now), from: previousDesired, to: desired, holdSeconds };
  return { holdSeconds, reboundSeconds, scaleDown };
}

interface StateInput {
  now: number;
  previous: AutoscalingStatus | undefined;
  history: History;
  choice: Choice;
  m: ObservedLoad;
  need: Need;
  window: Recommendation[];
  pendingSince: number | undefined;
  rebound: Rebound;
  /** Scale to zero's record, with scaleToZero set. */
  zero: ZeroChoice | undefined;
}

/** Since when fresh recommendations have stayed below the replica count, and since when the queue has stood. */
function trackSince(s: StateInput): { lowLoadSince: number | undefined; saturatedSince: number | undefined; lastScaleTime: number | undefined } {
  const { now, previous, history: { previousDesired, gap }, need } = s;
  const desired = s.choice.desiredReplicas;
  const lowNow = !s.m.blind && Math.max(need.up, need.safe) < desired;
  const lowLoadSince = !lowNow ? undefined : desired === previousDesired ? (parseTime(previous?.lowLoadSince) ?? now) : now;
  const saturatedSince = need.queueStands ? (gap ? now : (parseTime(previous?.saturatedSince) ?? now)) : undefined;
  const previousScale = parseTime(previous?.lastScaleTime);
  const lastScaleTime = desired !== previousDesired ? now : previousScale;
  return { lowLoadSince, saturatedSince, lastScaleTime };
}

/** The next status.autoscaling. */
function buildState(s: StateInput): AutoscalingStatus {
  const { choice, m, need, rebound, pendingSince } = s;
  const { learned } = s.history;
  const { workPerRequest, capacityPerReplica } = need;
  const { reboundSeconds, scaleDown } = rebound;
  const { lowLoadSince, saturatedSince, lastScaleTime } = trackSince(s);
  return {
    desiredReplicas: choice.desiredReplicas,
    queueDepth: m.waiting,
    runningRequests: m.running,
    tokensPerSecond: Math.round(m.prompt + m.generation),
    ...(lastScaleTime !== undefined ? { lastScaleTime: toRfc3339(lastScaleTime) } : {}),
    reason: `${choice.reason}: ${choice.message}`,
    ...(learned !== undefined ? { learnedStartupSeconds: Math.round(learned * 10) / 10 } : {}),
    ...(lowLoadSince !== undefined ? { lowLoadSince: toRfc3339(lowLoadSince) } : {}),
    recommendations: s.window.map((e) => ({ time: toRfc3339(e.time), replicas: e.replicas })),
    ...(pendingSince !== undefined ? { pendingSince: toRfc3339(pendingSince) } : {}),
    ...(workPerRequest !== undefined ? { workPerRequestSeconds: Math.round(workPerRequest * 1e6) / 1e6 } : {}),
    ...(capacityPerReplica !== undefined ? { capacityPerReplica: Math.round(capacityPerReplica * 1e4) / 1e4 } : {}),
    capacityFit: roundFit(need.capacity.fit),
    ...(saturatedSince !== undefined ? { saturatedSince: toRfc3339(saturatedSince) } : {}),
    ...(reboundSeconds !== undefined ? { reboundHoldSeconds: Math.round(reboundSeconds) } : {}),
    ...(scaleDown !== undefined ? { lastScaleDown: scaleDown } : {}),
    ...(s.zero?.idleSince !== undefined ? { idleSince: toRfc3339(s.zero.idleSince) } : {}),
    ...(s.zero !== undefined ? { coldStart: s.zero.coldStart } : {}),
  };
}

/** Tokens per second over the last scrape interval over the fresh samples; undefined when one has no rates yet. */
function sumRecentTokens(fresh: readonly PodSample[]): number | undefined {
  let sum = 0;
  for (const s of fresh) {
    if (s.promptTokensPerSecond === undefined || s.generationTokensPerSecond === undefined) return undefined;
    sum += (s.recentPromptTokensPerSecond ?? s.promptTokensPerSecond) + (s.recentGenerationTokensPerSecond ?? s.generationTokensPerSecond);
  }
  return sum;
}

function describeScaleLoad(m: ObservedLoad, need: Need): ScaleLoad {
  const { load, capacityPerReplica } = need;
  return {
    ...(load !== undefined ? { replicasForThroughput: load } : {}),
    ...(need.queueStands ? { replicasForQueue: need.demand.queueReplicas } : {}),
    ...(capacityPerReplica !== undefined ? { capacityPerReplica } : {}),
    queueDepth: m.waiting,
    runningRequests: m.running,
    tokensPerSecond: m.prompt + m.generation,
    reporting: m.reporting,
    missing: m.missing,
  };
}

interface DecisionInput {
  choice: Choice;
  state: AutoscalingStatus;
  pods: PodCounts;
  m: ObservedLoad;
  need: Need;
  /** H after the rebound learning, and L^. */
  holdSeconds: number;
  learned: number | undefined;
}

function buildDecision(d: DecisionInput): ScaleDecision {
  const { choice, pods, learned } = d;
  return {
    desiredReplicas: choice.desiredReplicas,
    reason: choice.reason,
    message: choice.message,
    state: d.state,
    pendingForGpus: pods.pendingForGpus,
    unschedulable: pods.unschedulable + pods.refused,
    refusedReplicas: pods.refused,
    ready: pods.ready,
    starting: pods.starting,
    terminating: pods.terminating,
    load: describeScaleLoad(d.m, d.need),
    scaleDownHoldSeconds: d.holdSeconds,
    ...(learned !== undefined ? { learnedStartupSeconds: learned } : {}),
  };
}

/** Decides the replica count: the phases of the header, in order. */
export function decide(input: DecideInput): ScaleDecision {
  const { policy, previous } = input;
  const clock = readClock(input);
  const { now, min, max } = clock;
  const pods = classifyPods(input.pods, input.refusedReplicas ?? 0);
  const fresh = selectFresh(input.samples, pods.readyNames, now, clock.intervalMs);
  const held = Math.max(0, input.activators?.held ?? 0);
  const m = observeLoad(measureLoad(policy, fresh), pods.ready, (input.gatewayWaiting ?? 0) + held, input.gatewaySilent);
  const history = readHistory(input, clock);
  const { previousDesired, learned } = history;
  const need = estimateNeed({ input, clock, pods, m, history });
  const hold = computeHold({ policy, learnedStartupSeconds: learned, reboundSeconds: previous?.reboundHoldSeconds, elapsedSeconds: history.elapsedSeconds });
  const { window, windowMax } = recordRecommendation({ clock, history, holdSeconds: hold.holdSeconds, up: need.up, safe: need.safe, holding: m.holding });
  const chosen = chooseDesired({
    policy, min, max, previousDesired, pods, blind: m.blind, holding: m.holding, silent: m.silent, missing: m.missing,
    queueStands: need.queueStands, up: need.up, queueReplicas: need.demand.queueReplicas, load: need.load, windowMax,
    holdSeconds: hold.holdSeconds, loadText: describeLoad(need.load, need.capacity.factor, m),
  });
  const waited = applyGpuWait({ policy, now, min, max, pods, pendingSince: previous?.pendingSince, up: need.up, previousDesired, choice: chosen });
  const { pendingSince } = waited;
  const zero = applyScaleToZero({
    policy, now, previousDesired, desired: waited.choice.desiredReplicas, reason: waited.choice.reason, message: waited.choice.message, max, ready: pods.ready, previous,
    activators: input.activators ?? { held: 0, refused: 0, expired: 0 },
    ...(need.workPerRequest !== undefined ? { workPerRequest: need.workPerRequest / need.capacity.factor } : {}),
    drainSeconds: Math.max(MIN_SCALE_DOWN_DELAY_SECONDS, learned ?? UNKNOWN_STARTUP_SECONDS),
    activity: { waiting: m.waiting - held, running: m.running, held, recentTokensPerSecond: sumRecentTokens(fresh), starting: pods.starting, blocked: pods.blocked, terminating: pods.terminating, holding: m.holding && pods.ready > 0 },
  });
  const choice = zero?.reason !== undefined ? { desiredReplicas: zero.desiredReplicas, reason: zero.reason, message: zero.message ?? '' } : waited.choice;
  const rebound = learnRebound({ policy, now, lastScaleDown: previous?.lastScaleDown, previousDesired, choice, learned, holdSeconds: hold.holdSeconds, reboundSeconds: hold.reboundSeconds });
  const state = buildState({ now, previous, history, choice, m, need, window, pendingSince, rebound, zero });
  return buildDecision({ choice, state, pods, m, need, holdSeconds: rebound.holdSeconds, learned });
}

/** The fit's sums with 6 significant digits (status stays small and stable). */
function roundFit(fit: NonNullable<AutoscalingStatus['capacityFit']>): NonNullable<AutoscalingStatus['capacityFit']> {
  const r6 = (x: number): number => (x === 0 ? 0 : Number(x.toPrecision(6)));
  return { xx: r6(fit.xx), xu: r6(fit.xu), uu: r6(fit.uu), x: r6(fit.x), u: r6(fit.u), samples: r6(fit.samples) };
}
