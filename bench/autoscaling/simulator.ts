// The cluster around the replicas (reference/autoscaling.md §5.4-5.7): pod lifecycle with startup delay and
// draining, kube-proxy-like routing, a Prometheus-like scrape view with staleness, and a scaling policy called on its
// own period. Deterministic for a seed; simulated time only; no I/O.
//
// Routing: `random` (kube-proxy: a uniform choice among the Ready endpoints; the default), `least-outstanding` (the
// endpoint with the fewest running + waiting requests), or `gateway` (an endpoint picker with flow control: requests
// wait in one FCFS gateway queue, and the head goes to the least-loaded Ready endpoint that has room, running + waiting
// < M; while none has room they wait at the gateway, which counts as queue wait). The queue is re-checked at every
// arrival, when an endpoint is added, and every gatewayPollSeconds while it is not empty. With every routing, requests
// arriving while no endpoint is Ready wait at the gateway. A request whose prompt + output exceeds maxModelLen is
// refused at arrival as vLLM does (HTTP 400): never queued, never served, counted in `refused`, and left out of
// every waiting share.
//
// Pod: Pending (scheduling, 5 s; stays Pending with InsufficientGPU beyond the GPU quota) -> Starting (lognormal
// startup, median L, sigma 0.2; billed) -> Ready (serves; /metrics from here on; in the endpoints 2 s later) ->
// Terminating (out of the endpoints after 2 s; keeps serving what it holds, as the rendered preStop drain does, for up
// to drainSeconds, then SIGTERM kills the rest) -> gone. GPU-hours = the time from Starting to gone, within [0, H].
//
// Scale to zero (config.activator, activator.ts): while no replica is in the endpoints, requests wait at the
// activator instead of the gateway queue (bounded: 429 beyond maxHeldRequests, 503 after maxHoldSeconds); the first
// held request triggers a decision 1 s later for a policy with activatorTriggers; a replica becoming Ready receives
// the held requests at once, and the first one after none triggers a decision. Requests held (or refused) there met a
// cold start: their waits are reported apart and every regular waiting share is over the other requests.
import { ENGINES } from '../../src/engines/index.js';
import type { PodSample, PodView } from '../../src/autoscaler/decide.js';
import type { EngineSample } from '../../src/metrics/engine-sample.js';
import { RATE_WINDOW_SECONDS, buildEngineSample, buildSampleMetricNames, computeEngineRatesOver } from '../../src/metrics/engine-sample.js';
import type { ActivatorAwarePolicy, ActivatorConfig, ActivatorView } from './activator.js';
import { ActivatorQueue } from './activator.js';
import type { Random } from './random.js';
import { buildRandom, computeLognormal } from './random.js';
import type { ReplicaProfile } from './replica.js';
import { IdQueue, ReplicaEngine, RequestState, RequestTable } from './replica.js';
import type { Trace } from './trace.js';

export type Routing = 'random' | 'least-outstanding' | 'gateway';

export interface SimulationConfig {
  /** The replica model, already scaled by the capacity multiplier. */
  profile: ReplicaProfile;
  /** Median startup L (Starting -> Ready) in seconds; policies never see it. */
  startupSeconds: number;
  startupSigma: number;
  schedulingSeconds: number;
  endpointDelaySeconds: number;
  /** How long a terminating pod keeps serving (the rendered preStop's serving.drainSeconds, default 120). */
  drainSeconds: number;
  clientTimeoutSeconds: number;
  /** GPUs the cluster has; pods beyond it stay Pending with InsufficientGPU. */
  gpuQuota: number;
  routing: Routing;
  /** Ready replicas at t = 0 (warm start, the same for every policy). */
  initialReplicas: number;
  /** GPU-hours are billed within [0, horizon]; policies stop being called after it. */
  horizonSeconds: number;
  seed: number;
  /** Resolution of the recorded replica time series, in seconds. */
  seriesStepSeconds: number;
  /** Token rates in the scrape view span this much history (RATE_WINDOW_SECONDS, as the operator's loop). */
  rateWindowSeconds: number;
  /**
   * Scrapes and policies start this long after t = 0, once the warm replicas carry traffic, as if they had been
   * running before (at t = 0 every replica is empty, which no running autoscaler ever sees).
   */
  controllerStartSeconds: number;
  /** The engine's max_model_len: a request with prompt + output tokens above it is refused (HTTP 400) at arrival. */
  maxModelLen: number;
  /** With `gateway` routing, how often a non-empty gateway queue is re-checked for room, in seconds. */
  gatewayPollSeconds: number;
  /**
   * Scale to zero: the activator in front of a deployment with no replica in its endpoints (activator.ts). Unset: such
   * requests wait in an unbounded gateway queue until an endpoint is added (the runs without scale to zero).
   */
  activator?: ActivatorConfig;
}

export const DEFAULT_SIMULATION: Omit<SimulationConfig, 'profile' | 'startupSeconds' | 'initialReplicas' | 'horizonSeconds'> = {
  startupSigma: 0.2,
  schedulingSeconds: 5,
  endpointDelaySeconds: 2,
  drainSeconds: 120,
  clientTimeoutSeconds: 600,
  gpuQuota: 64,
  routing: 'random',
  seed: 1,
  seriesStepSeconds: 10,
  rateWindowSeconds: RATE_WINDOW_SECONDS,
  controllerStartSeconds: 60,
  // The LFM2-24B-A2B example's --max-model-len.
  maxModelLen: 32768,
  gatewayPollSeconds: 0.1,
};

export interface SeriesPoint {
  t: number;
  requested: number;
  ready: number;
}

export interface SimulationResult {
  policy: string;
  gpuHours: number;
  gpuHoursStarting: number;
  /** Requests in the trace, refused ones included. */
  requests: number;
  /** Requests refused at arrival (prompt + output > maxModelLen). The waiting shares and percentiles below are over
   * the other requests (requests - refused). */
  refused: number;
  waitOver1sPct: number;
  waitOver5sPct: number;
  waitOver30sPct: number;
  p50WaitSeconds: number;
  p99WaitSeconds: number;
  maxWaitSeconds: number;
  killed: number;
  dropped: number;
  scaleActions: number;
  reversals: number;
  podStarts: number;
  /** Tokens of completed requests and of the whole trace (work conservation). */
  servedTokens: number;
  traceTokens: number;
  killedOrDroppedTokens: number;
  /** Tokens of refused requests: servedTokens + killedOrDroppedTokens + refusedTokens = traceTokens. */
  refusedTokens: number;
  /**
   * Scale to zero (0 without an activator). Requests held at the activator (a cold start met), the median and the
   * longest of their waits (arrival to admission; Infinity for one never admitted), those refused with 429 and those
   * answered 503 after maxHoldSeconds. None of these is in the waiting shares above, nor in `dropped`.
   */
  coldStartRequests: number;
  coldStartP50WaitSeconds: number;
  coldStartMaxWaitSeconds: number;
  coldRefused: number;
  coldExpired: number;
  /** Times the requested count left zero. */
  coldStarts: number;
  /**
   * GPU-hours of the replicas removed by a step to zero, from the last request's completion on any replica to their
   * end (idleSeconds, the time to notice the idleness, and the endpoint removal).
   */
  idleTailGpuHours: number;
  series: SeriesPoint[];
}

/** Per-request mark of the activator's path. */
const COLD = { Warm: 0, Held: 1, Refused: 2, Expired: 3 } as const;

type PodState = 'Pending' | 'Starting' | 'Ready' | 'Terminating' | 'Gone';

interface SimPod {
  id: number;
  name: string;
  state: PodState;
  createdAt: number;
  startAt?: number;
  readyAt?: number;
  deletedAt?: number;
  goneAt?: number;
  startup: number;
  unschedulable: boolean;
  engine?: ReplicaEngine;
  routable: boolean;
  /** Removed by a step to zero: billed as idle tail from this time. */
  tailFrom?: number;
}

const EVENT = { Schedule: 0, Ready: 1, EndpointAdd: 2, EndpointRemove: 3, Gone: 4, Scrape: 5, Tick: 6, Series: 7, EarlyScrape: 8, GatewayPoll: 9, Trigger: 10, HoldExpiry: 11 } as const;
type EventKind = (typeof EVENT)[keyof typeof EVENT];

/** A min-heap of timed events, ties broken by insertion order (deterministic). */
class EventQueue {
  private items: { time: number; seq: number; kind: EventKind; pod: number }[] = [];
  private seq = 0;
  get size(): number { return this.items.length; }
  get nextTime(): number { return this.items[0]?.time ?? Infinity; }
  push(time: number, kind: EventKind, pod = -1): void {
    const item = { time, seq: this.seq++, kind, pod };
    const a = this.items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p];
      if (!parent || parent.time < time || (parent.time === time && parent.seq < item.seq)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = item;
  }
  pop(): { time: number; kind: EventKind; pod: number } {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (!top || !last) throw new Error('empty event queue');
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const lc = a[l];
        const rc = a[r];
        const c = rc && lc && (rc.time < lc.time || (rc.time === lc.time && rc.seq < lc.seq)) ? r : l;
        const child = a[c];
        if (!child || child.time > last.time || (child.time === last.time && child.seq > last.seq)) break;
        a[i] = child;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}


const METRIC_NAMES = buildSampleMetricNames(ENGINES.VLLM);

/** A vLLM-format /metrics page for one replica (what the operator's loop would scrape). */
export function renderEngineMetrics(engine: ReplicaEngine, createdSeconds: number): string {
  const labels = '{engine="0",model_name="lfm2-24b"}';
  return [
    `# HELP ${METRIC_NAMES.running} Number of requests in model execution batches.`,
    `# TYPE ${METRIC_NAMES.running} gauge`,
    `${METRIC_NAMES.running}${labels} ${engine.running}.0`,
    `# HELP ${METRIC_NAMES.queueDepth} Number of requests waiting to be processed.`,
    `# TYPE ${METRIC_NAMES.queueDepth} gauge`,
    `${METRIC_NAMES.queueDepth}${labels} ${engine.queued}.0`,
    `# HELP ${METRIC_NAMES.promptTokensTotal} Number of prefill tokens processed.`,
    `# TYPE ${METRIC_NAMES.promptTokensTotal} counter`,
    `${METRIC_NAMES.promptTokensTotal}${labels} ${engine.promptTokens}`,
    `${METRIC_NAMES.promptTokensTotal.replace(/_total$/, '_created')}${labels} ${createdSeconds}`,
    `# HELP ${METRIC_NAMES.generationTokensTotal} Number of generation tokens processed.`,
    `# TYPE ${METRIC_NAMES.generationTokensTotal} counter`,
    `${METRIC_NAMES.generationTokensTotal}${labels} ${engine.generationTokens}`,
    `# HELP ${METRIC_NAMES.requestsTotal} Count of successfully processed requests.`,
    `# TYPE ${METRIC_NAMES.requestsTotal} counter`,
    `${METRIC_NAMES.requestsTotal}{engine="0",finished_reason="stop",model_name="lfm2-24b"} ${engine.finishedRequests}`,
    `${METRIC_NAMES.requestsTotal}{engine="0",finished_reason="length",model_name="lfm2-24b"} 0.0`,
    `# HELP vllm:request_inference_time_seconds Histogram of time spent in RUNNING phase for request.`,
    `# TYPE vllm:request_inference_time_seconds histogram`,
    `vllm:request_inference_time_seconds_sum${labels} ${engine.runningSeconds}`,
    `vllm:request_inference_time_seconds_count${labels} ${engine.finishedRequests}`,
    '',
  ].join('\n');
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Replays `trace` against `policy` and measures cost and waiting. */
export function runSimulation(trace: Trace, policy: ActivatorAwarePolicy, config: SimulationConfig): SimulationResult {
  return runSimulationWithRequests(trace, policy, config).result;
}

/** runSimulation, also returning the per-request table (admission, first token, finish, final state) to inspect. */
export function runSimulationWithRequests(trace: Trace, policy: ActivatorAwarePolicy, config: SimulationConfig): { result: SimulationResult; requests: RequestTable } {
  const n = trace.arrival.length;
  const requests = new RequestTable(trace.arrival, trace.input, trace.output, config.clientTimeoutSeconds);
  const startupRandom: Random = buildRandom(config.seed * 7919 + 1);
  const routeRandom: Random = buildRandom(config.seed * 104729 + 2);
  const events = new EventQueue();
  const pods: SimPod[] = [];
  const routable: SimPod[] = [];
  const gateway: number[] = [];
  // `gateway` routing: the FCFS queue of the endpoint picker, and whether a poll of it is scheduled.
  const held = new IdQueue();
  let pollPending = false;
  const maxRunning = config.profile.maxRunning;
  let gpusInUse = 0;
  const waitingForGpu: SimPod[] = [];
  let specReplicas = config.initialReplicas;
  let scaleActions = 0;
  let reversals = 0;
  let lastDirection = 0;
  let lastChange = -Infinity;
  let podStarts = 0;
  let gpuSeconds = 0;
  let gpuSecondsStarting = 0;
  const series: SeriesPoint[] = [];
  const sampleHistory = new Map<number, EngineSample[]>();
  const latestSamples = new Map<number, PodSample>();
  const H = config.horizonSeconds;
  // Scale to zero: the activator, each request's path, the Ready pods not yet in the endpoints.
  const activator = config.activator ? new ActivatorQueue(config.activator, trace.arrival) : undefined;
  const triggers = activator !== undefined && policy.activatorTriggers === true;
  const cold = new Uint8Array(activator ? n : 0);
  const readyNotRoutable: SimPod[] = [];
  let expiryPending = false;
  let coldStarts = 0;
  let idleTailSeconds = 0;

  const bill = (from: number, to: number): number => Math.max(0, Math.min(to, H) - Math.max(from, 0));
  const drawStartup = (): number => computeLognormal(startupRandom, config.startupSeconds, config.startupSigma);

  // One of `candidates` (never empty) by the routing: uniform for `random`, else the fewest outstanding requests.
  const sendTo = (candidates: readonly SimPod[], id: number, t: number): void => {
    let target: SimPod | undefined;
    if (config.routing === 'random') {
      target = candidates[Math.floor(routeRandom.next() * candidates.length)];
    } else {
      let best = Infinity;
      for (const p of candidates) {
        p.engine?.advance(t);
        const o = p.engine?.outstanding ?? Infinity;
        if (o < best) { best = o; target = p; }
      }
    }
    const engine = target?.engine;
    if (!engine) throw new Error('routable pod without an engine');
    engine.advance(t);
    engine.enqueue(id);
  };

  const dispatch = (id: number, t: number): void => {
    if (routable.length === 0) {
      gateway.push(id);
      return;
    }
    sendTo(routable, id, t);
  };

  const scheduleExpiry = (): void => {
    if (!activator || expiryPending || activator.size === 0) return;
    expiryPending = true;
    events.push(activator.nextExpiry(), EVENT.HoldExpiry);
  };

  // No replica in the endpoints: a Ready pod takes the request at once (the activator passes it on); else it is held
  // (the first of an empty queue wakes the policy 1 s later) or refused with 429.
  const holdAtActivator = (queue: ActivatorQueue, id: number, t: number): void => {
    if (readyNotRoutable.length > 0) {
      sendTo(readyNotRoutable, id, t);
      return;
    }
    const outcome = queue.offer(id);
    if (outcome === 'refused') {
      cold[id] = COLD.Refused;
      requests.state[id] = RequestState.Dropped;
      return;
    }
    cold[id] = COLD.Held;
    if (outcome === 'first' && triggers) events.push(t + queue.config.triggerDelaySeconds, EVENT.Trigger);
    scheduleExpiry();
  };

  // Gateway routing: the head of the queue goes to the least-loaded Ready endpoint with room (running + waiting < M;
  // ties to the first in endpoint order) until none has room; requests held past the client timeout are dropped.
  const pumpGateway = (t: number): void => {
    while (held.size > 0 && t - (requests.arrival[held.peek()] ?? 0) > config.clientTimeoutSeconds) requests.state[held.shift()] = RequestState.Dropped;
    if (held.size > 0 && routable.length > 0) {
      for (const p of routable) p.engine?.advance(t);
      while (held.size > 0) {
        let target: ReplicaEngine | undefined;
        let best = maxRunning;
        for (const p of routable) {
          const o = p.engine?.outstanding ?? maxRunning;
          if (o < best) { best = o; target = p.engine; }
        }
        if (!target) break;
        target.enqueue(held.shift());
      }
    }
    if (held.size > 0 && !pollPending) {
      pollPending = true;
      events.push(t + config.gatewayPollSeconds, EVENT.GatewayPoll);
    }
  };

  const arrive = (id: number, t: number): void => {
    if ((requests.input[id] ?? 0) + (requests.output[id] ?? 0) > config.maxModelLen) {
      requests.state[id] = RequestState.Refused;
      return;
    }
    if (activator && routable.length === 0) {
      holdAtActivator(activator, id, t);
      return;
    }
    if (config.routing !== 'gateway') {
      dispatch(id, t);
      return;
    }
    held.push(id);
    pumpGateway(t);
  };

  const flushGateway = (t: number): void => {
    const held = gateway.splice(0, gateway.length);
    for (const id of held) {
      if (t - (requests.arrival[id] ?? 0) > config.clientTimeoutSeconds) requests.state[id] = RequestState.Dropped;
      else dispatch(id, t);
    }
  };

  const startPod = (pod: SimPod, t: number): void => {
    pod.state = 'Starting';
    pod.startAt = t;
    pod.unschedulable = false;
    gpusInUse++;
    podStarts++;
    events.push(t + pod.startup, EVENT.Ready, pod.id);
  };

  const createPod = (t: number): void => {
    const pod: SimPod = { id: pods.length, name: `pod-${pods.length}`, state: 'Pending', createdAt: t, startup: drawStartup(), unschedulable: false, routable: false };
    pods.push(pod);
    events.push(t + config.schedulingSeconds, EVENT.Schedule, pod.id);
  };

  const releaseGpu = (t: number): void => {
    gpusInUse--;
    const next = waitingForGpu.shift();
    if (next) startPod(next, t);
  };

  const podGone = (pod: SimPod, t: number): void => {
    if (pod.state === 'Gone') return;
    const held = pod.startAt !== undefined;
    pod.state = 'Gone';
    pod.goneAt = t;
    sampleHistory.delete(pod.id);
    latestSamples.delete(pod.id);
    if (held && pod.startAt !== undefined) {
      gpuSeconds += bill(pod.startAt, t);
      gpuSecondsStarting += bill(pod.startAt, Math.min(t, pod.readyAt ?? t));
      if (pod.tailFrom !== undefined) idleTailSeconds += bill(pod.tailFrom, t);
      releaseGpu(t);
    }
  };

  const deletePod = (pod: SimPod, t: number): void => {
    pod.deletedAt = t;
    if (pod.state === 'Pending') {
      const i = waitingForGpu.indexOf(pod);
      if (i >= 0) waitingForGpu.splice(i, 1);
      pod.state = 'Gone';
      pod.goneAt = t;
      return;
    }
    if (pod.state === 'Starting') {
      podGone(pod, t);
      return;
    }
    const i = readyNotRoutable.indexOf(pod);
    if (i >= 0) readyNotRoutable.splice(i, 1);
    pod.state = 'Terminating';
    latestSamples.delete(pod.id);
    events.push(t + config.endpointDelaySeconds, EVENT.EndpointRemove, pod.id);
  };

  // ReplicaSet victim order: unscheduled, then scheduled-not-ready (newest first), then ready (newest ready first).
  const victimRank = (p: SimPod): number => (p.state === 'Pending' ? 0 : p.state === 'Starting' ? 1 : 2);
  const reconcile = (t: number): void => {
    const live = pods.filter((p) => p.state === 'Pending' || p.state === 'Starting' || p.state === 'Ready');
    if (live.length < specReplicas) {
      for (let i = live.length; i < specReplicas; i++) createPod(t);
      return;
    }
    const victims = live.sort((a, b) => victimRank(a) - victimRank(b) || (b.readyAt ?? b.createdAt) - (a.readyAt ?? a.createdAt) || b.id - a.id);
    for (const pod of victims.slice(0, live.length - specReplicas)) deletePod(pod, t);
  };

  const buildPodViews = (): PodView[] => {
    const views: PodView[] = [];
    for (const p of pods) {
      if (p.state === 'Gone') continue;
      const view: PodView = { name: p.name, phase: p.state, createdAt: p.createdAt * 1000 };
      if (p.readyAt !== undefined) view.readyAt = p.readyAt * 1000;
      if (p.state === 'Pending' && p.unschedulable) view.pendingReason = 'InsufficientGPU';
      views.push(view);
    }
    return views;
  };

  const scrape = (t: number): void => {
    for (const p of pods) {
      if (p.state !== 'Ready' || !p.engine) continue;
      p.engine.advance(t);
      const text = renderEngineMetrics(p.engine, p.readyAt ?? 0);
      const { sample } = buildEngineSample(text, METRIC_NAMES, t * 1000);
      if (!sample) continue;
      const history = sampleHistory.get(p.id) ?? [];
      history.push(sample);
      // Keep the newest sample at least a rate window old, and everything after it.
      while (history.length > 2 && (history[1]?.time ?? 0) <= sample.time - config.rateWindowSeconds * 1000) history.shift();
      sampleHistory.set(p.id, history);
      const rates = computeEngineRatesOver(history);
      const podSample: PodSample = { pod: p.name, time: sample.time, waiting: sample.waiting, running: sample.running };
      if (rates) {
        podSample.promptTokensPerSecond = rates.promptTokensPerSecond;
        podSample.generationTokensPerSecond = rates.generationTokensPerSecond;
        if (rates.requestsPerSecond !== undefined) podSample.requestsPerSecond = rates.requestsPerSecond;
        if (rates.meanRunning !== undefined) podSample.meanRunning = rates.meanRunning;
        if (rates.recentPromptTokensPerSecond !== undefined) podSample.recentPromptTokensPerSecond = rates.recentPromptTokensPerSecond;
        if (rates.recentGenerationTokensPerSecond !== undefined) podSample.recentGenerationTokensPerSecond = rates.recentGenerationTokensPerSecond;
      }
      latestSamples.set(p.id, podSample);
    }
  };

  // A step to zero: the replicas that go are billed as idle tail from the last completion on any replica.
  const markIdleTail = (t: number): void => {
    let lastBusy = -Infinity;
    for (const p of pods) {
      if ((p.state !== 'Ready' && p.state !== 'Terminating') || !p.engine) continue;
      p.engine.advance(t);
      lastBusy = Math.max(lastBusy, Math.min(t, p.engine.lastBusy));
    }
    for (const p of pods) if ((p.state === 'Ready' || p.state === 'Starting') && p.startAt !== undefined) p.tailFrom = Math.max(p.startAt, Math.min(t, lastBusy));
  };

  const tick = (t: number): void => {
    const view: ActivatorView = { now: t * 1000, currentReplicas: specReplicas, pods: buildPodViews(), samples: [...latestSamples.values()] };
    // An endpoint picker with flow control reports the requests it holds; kube-proxy routing has no such queue.
    if (config.routing === 'gateway') view.gatewayWaiting = held.size + gateway.length;
    if (activator) view.activators = activator.counts();
    const desired = Math.max(0, Math.round(policy.decide(view).desiredReplicas));
    if (desired === specReplicas) return;
    if (specReplicas === 0) coldStarts++;
    if (desired === 0) markIdleTail(t);
    const direction = Math.sign(desired - specReplicas);
    if (lastDirection !== 0 && direction !== lastDirection && t - lastChange <= 600) reversals++;
    lastDirection = direction;
    lastChange = t;
    scaleActions++;
    specReplicas = desired;
    reconcile(t);
  };

  // Warm start: the initial replicas were started before t = 0 and are Ready at 0.
  for (let i = 0; i < config.initialReplicas; i++) {
    const startup = drawStartup();
    const pod: SimPod = { id: pods.length, name: `pod-${pods.length}`, state: 'Ready', createdAt: -startup - config.schedulingSeconds, startAt: -startup, readyAt: 0, startup, unschedulable: false, routable: true, engine: new ReplicaEngine(config.profile, requests, 0) };
    pods.push(pod);
    routable.push(pod);
    gpusInUse++;
  }
  // Scrapes before the policies start, so that the first decision already has a rate window.
  const firstTick = config.controllerStartSeconds;
  for (let t = firstTick - config.rateWindowSeconds; t < firstTick; t += policy.scrapeIntervalSeconds) if (t >= 0) events.push(t, EVENT.EarlyScrape);
  events.push(firstTick, EVENT.Scrape);
  events.push(firstTick + 1e-6, EVENT.Tick);
  events.push(0, EVENT.Series);

  let next = 0;
  const end = H + config.clientTimeoutSeconds + config.drainSeconds;
  while (next < n || events.size > 0) {
    const tArrival = next < n ? (trace.arrival[next] ?? Infinity) : Infinity;
    if (events.nextTime <= tArrival) {
      const ev = events.pop();
      const t = ev.time;
      if (t > end) break;
      const pod = pods[ev.pod];
      switch (ev.kind) {
        case EVENT.Schedule:
          if (!pod || pod.state !== 'Pending') break;
          if (gpusInUse < config.gpuQuota) startPod(pod, t);
          else {
            pod.unschedulable = true;
            waitingForGpu.push(pod);
          }
          break;
        case EVENT.Ready:
          if (!pod || pod.state !== 'Starting') break;
          pod.state = 'Ready';
          pod.readyAt = t;
          pod.engine = new ReplicaEngine(config.profile, requests, t);
          events.push(t + config.endpointDelaySeconds, EVENT.EndpointAdd, pod.id);
          if (activator) {
            // The end of a cold start: the held requests go to the Ready replica, and the policy decides at once.
            const first = routable.length === 0 && readyNotRoutable.length === 0;
            readyNotRoutable.push(pod);
            for (const id of activator.drain()) sendTo(readyNotRoutable, id, t);
            if (first && triggers) tick(t);
          }
          break;
        case EVENT.EndpointAdd:
          if (!pod || pod.state !== 'Ready') break;
          pod.routable = true;
          routable.push(pod);
          if (readyNotRoutable.includes(pod)) readyNotRoutable.splice(readyNotRoutable.indexOf(pod), 1);
          flushGateway(t);
          pumpGateway(t);
          break;
        case EVENT.EndpointRemove: {
          if (!pod || !pod.engine) break;
          pod.routable = false;
          const i = routable.indexOf(pod);
          if (i >= 0) routable.splice(i, 1);
          const deletedAt = pod.deletedAt ?? t;
          const engine = pod.engine;
          engine.killAt = deletedAt + config.drainSeconds;
          engine.advance(engine.killAt);
          let gone: number;
          if (!engine.idle) {
            engine.killRemaining();
            gone = engine.killAt;
          } else {
            // The preStop hook polls /metrics every 2 s and lets the pod stop once nothing runs or waits.
            gone = Math.min(engine.killAt, Math.max(t, deletedAt + 2 * Math.ceil((engine.lastBusy - deletedAt) / 2)));
          }
          events.push(gone, EVENT.Gone, pod.id);
          break;
        }
        case EVENT.Gone:
          if (pod) podGone(pod, t);
          break;
        case EVENT.EarlyScrape:
          scrape(t);
          break;
        case EVENT.Scrape:
          scrape(t);
          if (t + policy.scrapeIntervalSeconds <= H) events.push(t + policy.scrapeIntervalSeconds, EVENT.Scrape);
          break;
        case EVENT.Tick:
          tick(t);
          if (t + policy.periodSeconds <= H) events.push(t + policy.periodSeconds, EVENT.Tick);
          break;
        case EVENT.GatewayPoll:
          pollPending = false;
          pumpGateway(t);
          break;
        case EVENT.Trigger:
          tick(t);
          break;
        case EVENT.HoldExpiry:
          expiryPending = false;
          for (const id of activator?.expire(t) ?? []) {
            cold[id] = COLD.Expired;
            requests.state[id] = RequestState.Dropped;
          }
          scheduleExpiry();
          break;
        case EVENT.Series: {
          const ready = pods.filter((p) => p.state === 'Ready').length;
          series.push({ t, requested: specReplicas, ready });
          if (t + config.seriesStepSeconds <= H) events.push(t + config.seriesStepSeconds, EVENT.Series);
          break;
        }
      }
      continue;
    }
    arrive(next, tArrival);
    next++;
  }

  // After the horizon: let every replica finish what it holds (no more billing), and settle the gateway.
  for (const pod of pods) {
    if (pod.state === 'Gone') continue;
    if (pod.engine && pod.state !== 'Terminating') pod.engine.advance(Infinity);
    if (pod.startAt !== undefined) {
      gpuSeconds += bill(pod.startAt, H);
      gpuSecondsStarting += bill(pod.startAt, Math.min(H, pod.readyAt ?? H));
      if (pod.tailFrom !== undefined) idleTailSeconds += bill(pod.tailFrom, H);
    }
  }
  // Still held at the end of the run: never served (503 at maxHoldSeconds).
  for (const id of activator?.drain() ?? []) {
    cold[id] = COLD.Expired;
    requests.state[id] = RequestState.Dropped;
  }
  for (const id of gateway) requests.state[id] = RequestState.Dropped;
  for (const id of held.drain()) requests.state[id] = RequestState.Dropped;

  // Waits: admission - arrival, over the requests not refused; a request never admitted waited forever.
  const waits = new Float64Array(n);
  let m = 0;
  let killed = 0;
  let dropped = 0;
  let refused = 0;
  let over1 = 0;
  let over5 = 0;
  let over30 = 0;
  let traceTokens = 0;
  let lostTokens = 0;
  let refusedTokens = 0;
  const coldWaits: number[] = [];
  let coldRefused = 0;
  let coldExpired = 0;
  for (let i = 0; i < n; i++) {
    const state = requests.state[i];
    const tokens = (requests.input[i] ?? 0) + (requests.output[i] ?? 0);
    traceTokens += tokens;
    if (state === RequestState.Refused) {
      refused++;
      refusedTokens += tokens;
      continue;
    }
    const path = activator ? (cold[i] ?? COLD.Warm) : COLD.Warm;
    if (path === COLD.Refused) {
      coldRefused++;
      lostTokens += tokens;
      continue;
    }
    if (state === RequestState.Killed) { killed++; lostTokens += tokens; }
    if (state === RequestState.Dropped) {
      if (path === COLD.Expired) coldExpired++;
      else dropped++;
      lostTokens += tokens;
    }
    const admitted = requests.admitted[i] ?? NaN;
    const w = Number.isNaN(admitted) ? Infinity : admitted - (requests.arrival[i] ?? 0);
    if (path !== COLD.Warm) {
      coldWaits.push(w);
      continue;
    }
    waits[m++] = w;
    if (w > 1) over1++;
    if (w > 5) over5++;
    if (w > 30) over30++;
  }
  const sorted = waits.subarray(0, m).sort();
  const share = (count: number): number => (m === 0 ? 0 : (100 * count) / m);
  const coldSorted = Float64Array.from(coldWaits).sort();
  const result: SimulationResult = {
    policy: policy.name,
    gpuHours: gpuSeconds / 3600,
    gpuHoursStarting: gpuSecondsStarting / 3600,
    requests: n,
    refused,
    waitOver1sPct: share(over1),
    waitOver5sPct: share(over5),
    waitOver30sPct: share(over30),
    p50WaitSeconds: percentile(sorted, 0.5),
    p99WaitSeconds: percentile(sorted, 0.99),
    maxWaitSeconds: sorted[m - 1] ?? 0,
    killed,
    dropped,
    scaleActions,
    reversals,
    podStarts,
    servedTokens: requests.servedTokens,
    traceTokens,
    killedOrDroppedTokens: lostTokens,
    refusedTokens,
    coldStartRequests: coldSorted.length,
    coldStartP50WaitSeconds: percentile(coldSorted, 0.5),
    coldStartMaxWaitSeconds: coldSorted[coldSorted.length - 1] ?? 0,
    coldRefused,
    coldExpired,
    coldStarts,
    idleTailGpuHours: idleTailSeconds / 3600,
    series,
  };
  return { result, requests };
}
