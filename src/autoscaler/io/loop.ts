// The autoscaler loop, on the leader only: every scrape interval of each autoscaled LfmDeployment it scrapes the
// Ready engine pods' /metrics (and, with spec.routing.inferencePool.enabled, its endpoint pickers' /metrics on :9090
// for the requests their flow-control queue holds: decide()'s gatewayWaiting), calls the pure decide(), applies the
// Deployment's spec.replicas as lfm-autoscaler, marks the least-loaded pods to go first (pod-deletion-cost) and
// writes status.autoscaling. No decisions here.
import http from 'node:http';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { LfmDeployment, type AutoscalingStatus } from '../../api/v1alpha1.js';
import { ENGINES, type Engine } from '../../engines/index.js';
import { buildPath, RESOURCES, type KubeClient, type KubeObject } from '../../kube/client.js';
import type { EventRecorder } from '../../kube/events.js';
import { buildEngineSample, buildSampleMetricNames, computeEngineRatesOver, RATE_WINDOW_SECONDS, type EngineRates, type EngineSample } from '../../metrics/engine-sample.js';
import { buildEppQueueSample, combineEppQueues, EPP_METRICS_PORT, type EppReplicaScrape } from '../../metrics/epp-sample.js';
import { AUTOSCALER_FIELD_MANAGER, isRoutingEnabled, LABEL_DEPLOYMENT } from '../../render/children.js';
import type { Logger } from '../../telemetry/logger.js';
import type { OperatorMetrics } from '../../telemetry/metrics.js';
import { listEndpointPickerPodsOf, listPodsOf, type Cache } from '../../controller/informer.js';
import { decide } from '../decide.js';
import type { PodSample, PodView, ScaleDecision } from '../decide.js';
import { buildPodView, computeRefusedReplicas } from '../pod-view.js';
import { isAutoscalingStatusChanged, isSameAutoscalingStatus } from '../status-change.js';
import type { ActivatorCounts } from '../scale-to-zero.js';

export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export interface AutoscalerDeps {
  client: KubeClient;
  lfmDeployments: Cache<KubeObject>;
  deployments: Cache<KubeObject>;
  pods: Cache<KubeObject>;
  /**
   * The endpoint pickers' pods (label serving.lfm-operator.io/endpoint-picker), scraped when the LfmDeployment's
   * spec.routing.inferencePool.enabled is true. Default: `pods` (enough when that cache holds every pod).
   */
  endpointPickerPods?: Cache<KubeObject>;
  /**
   * Scale to zero: the activator pods. An entry of status.activation whose activator pod is not among them is removed
   * (its activator is gone). Without it, entries are only ignored once stale.
   */
  activatorPods?: Cache<KubeObject>;
  log: Logger;
  metrics: OperatorMetrics;
  events: EventRecorder;
  scrapeTimeoutMs?: number;
  now?: () => number;
}

/** An activator entry holding requests that has not changed for this long (on this loop's clock) is ignored. */
export const ACTIVATOR_STALE_MS = 15_000;

type ActivatorEntryView = NonNullable<NonNullable<LfmDeployment['status']>['activation']>['activators'];

/** GETs http://IP:PORT/metrics with a timeout; rejects on errors and non-200 answers. */
export function scrapeMetrics(ip: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: ip, port, path: '/metrics', timeout: timeoutMs, headers: { Accept: 'text/plain' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`status ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** An autoscaled LfmDeployment the loop acts on: as cached, parsed, and the Deployment it controls. */
interface ScaleTarget {
  key: string;
  raw: KubeObject;
  lfmd: LfmDeployment;
  deployment: V1Deployment & KubeObject;
}

/** The pods of one LfmDeployment to scrape: views[i] is pods[i]'s view; series count for `servedName` only. */
interface PodScrapes {
  pods: readonly (V1Pod & KubeObject)[];
  views: readonly PodView[];
  engine: Engine;
  servedName: string;
}

/** What one decision reads besides the policy: the pods, their fresh samples, the current count and the clock. */
interface DecisionInputs {
  target: ScaleTarget;
  views: PodView[];
  samples: PodSample[];
  current: number;
  now: number;
  /** Pods that exist (any phase), for the replicas a quota refused. */
  podCount: number;
  /** Requests the endpoint pickers hold in their flow-control queues, when routing through them and known. */
  gatewayWaiting: number | undefined;
}

/** A scale to apply: from `current` to decision.desiredReplicas. */
interface ScaleWrite {
  target: ScaleTarget;
  current: number;
  decision: ScaleDecision;
  pods: readonly (V1Pod & KubeObject)[];
  samples: readonly PodSample[];
  log: Logger;
}

/** Per LfmDeployment routed through endpoint pickers: each EPP pod's last known queue, and the pods warned about. */
interface GatewayMemory {
  lastKnown: Map<string, number>;
  warned: Set<string>;
}

/** What decide() sees of one pod's scrape: its gauges, and the rates over its history once there are two samples. */
function buildPodSample(pod: string, sample: EngineSample, rates: EngineRates | undefined): PodSample {
  return {
    pod, time: sample.time, waiting: sample.waiting, running: sample.running,
    ...(rates ? { promptTokensPerSecond: rates.promptTokensPerSecond, generationTokensPerSecond: rates.generationTokensPerSecond } : {}),
    ...(rates?.requestsPerSecond !== undefined ? { requestsPerSecond: rates.requestsPerSecond } : {}),
    ...(rates?.meanRunning !== undefined ? { meanRunning: rates.meanRunning } : {}),
    ...(rates?.recentPromptTokensPerSecond !== undefined && rates.recentGenerationTokensPerSecond !== undefined
      ? { recentPromptTokensPerSecond: rates.recentPromptTokensPerSecond, recentGenerationTokensPerSecond: rates.recentGenerationTokensPerSecond } : {}),
  };
}

function objectKeyOf(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

function isPodReady(pod: KubeObject): boolean {
  const p = pod as V1Pod;
  return !p.metadata?.deletionTimestamp && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
}

export class AutoscalerLoop {
  private timer?: NodeJS.Timeout;
  private readonly lastTick = new Map<string, number>();
  /** Each Ready pod's samples of the last RATE_WINDOW_SECONDS (rates span a minute, as Prometheus' rate(x[1m])). */
  private readonly history = new Map<string, EngineSample[]>();
  private readonly running = new Set<string>();
  /**
   * Per LfmDeployment: the status.autoscaling last written and the state of the last decision. status.autoscaling is
   * written only when it changes (status-change.ts), so the next decision continues from the unwritten state as long
   * as the stored status is still the one this loop wrote; any other (a previous leader's) is read as stored.
   */
  private readonly memory = new Map<string, { written: AutoscalingStatus | undefined; state: AutoscalingStatus }>();
  /** Per LfmDeployment with spec.routing.inferencePool.enabled: what its endpoint pickers last reported. */
  private readonly gateways = new Map<string, GatewayMemory>();
  /** Per LfmDeployment, per activator entry: its last heartbeat and held count, and when this loop saw them change. */
  private readonly activatorSeen = new Map<string, Map<string, { heartbeat: number; held: number; seenAt: number }>>();
  /** Deployments to decide again as soon as their running decision ends (a held request or a Ready pod came in). */
  private readonly kicked = new Set<string>();
  private stopped = false;

  constructor(private readonly d: AutoscalerDeps) {}

  start(): void {
    this.timer = setInterval(() => this.schedule(), 1000);
    // Scale to zero decides at once, not at the next scrape interval: when an activator reports held requests while
    // the count is zero (the scale-up must follow the first held request within a second), and when an engine pod
    // becomes Ready during a cold start (which measures it).
    this.d.lfmDeployments.on((_e, obj) => {
      if (!this.stopped && this.isActivationNews(obj)) this.kick(objectKeyOf(obj));
    });
    this.d.pods.on((_e, pod, old) => {
      if (this.stopped || !isPodReady(pod) || (old && isPodReady(old))) return;
      const owner = pod.metadata?.labels?.[LABEL_DEPLOYMENT];
      const key = `${pod.metadata?.namespace ?? ''}/${owner ?? ''}`;
      if (owner && this.isColdStarting(key)) this.kick(key);
    });
  }

  /** Decides for `key` now (or right after its running decision). */
  private kick(key: string): void {
    if (this.running.has(key)) {
      this.kicked.add(key);
      return;
    }
    this.lastTick.set(key, this.now());
    this.running.add(key);
    this.tick(key).catch((err: Error) => this.d.log.warn({ lfmdeployment: key, err: err.message }, 'autoscaler tick failed'))
      .finally(() => this.finishTick(key));
  }

  private finishTick(key: string): void {
    this.running.delete(key);
    if (this.kicked.delete(key) && !this.stopped) this.kick(key);
  }

  /**
   * A scale-to-zero deployment whose activators report something the last decision did not see: requests held at zero
   * (a replica is needed now), or another count of held requests (status.autoscaling.coldStart.held stays current).
   * Activators write at most once a second, so this decides at most about that often.
   */
  private isActivationNews(raw: KubeObject): boolean {
    const spec = (raw as { spec?: { autoscaling?: { enabled?: boolean; scaleToZero?: unknown } } }).spec;
    if (!spec?.autoscaling?.enabled || spec.autoscaling.scaleToZero === undefined) return false;
    const key = objectKeyOf(raw);
    const entries = (raw as { status?: { activation?: { activators?: ActivatorEntryView } } }).status?.activation?.activators ?? [];
    const held = this.countActivators(key, entries).held;
    const replicas = (this.d.deployments.get(key) as V1Deployment | undefined)?.spec?.replicas;
    const decided = this.memory.get(key)?.state.coldStart?.held ?? 0;
    return (replicas === 0 && held > 0) || held !== decided;
  }

  /** A cold start under way: the last decision (written or not) left zero and no pod was Ready yet. */
  private isColdStarting(key: string): boolean {
    const state = this.memory.get(key)?.state ?? (LfmDeployment.safeParse(this.d.lfmDeployments.get(key)).data?.status?.autoscaling);
    return state?.coldStart?.startedAt !== undefined;
  }

  /**
   * What the activators report for one deployment: held requests of the entries still renewed (an entry holding
   * requests that has not changed for ACTIVATOR_STALE_MS on this loop's clock is ignored: its activator stopped), and
   * the refused and expired counts of every entry.
   */
  private countActivators(key: string, entries: ActivatorEntryView): ActivatorCounts {
    const now = this.now();
    const before = this.activatorSeen.get(key) ?? new Map<string, { heartbeat: number; held: number; seenAt: number }>();
    const seen = new Map<string, { heartbeat: number; held: number; seenAt: number }>();
    const counts = { held: 0, refused: 0, expired: 0 };
    for (const e of entries ?? []) {
      const last = before.get(e.name);
      const changed = !last || last.heartbeat !== e.heartbeat || last.held !== e.held;
      const entry = { heartbeat: e.heartbeat, held: e.held, seenAt: changed ? now : last.seenAt };
      seen.set(e.name, entry);
      if (now - entry.seenAt <= ACTIVATOR_STALE_MS) counts.held += e.held;
      counts.refused += e.refused;
      counts.expired += e.expired;
    }
    this.activatorSeen.set(key, seen);
    return counts;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 50));
  }

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.now();
    const listed = this.d.lfmDeployments.list();
    const keys = new Set(listed.map((raw) => `${raw.metadata?.namespace}/${raw.metadata?.name}`));
    for (const key of this.memory.keys()) if (!keys.has(key)) this.memory.delete(key);
    for (const key of this.gateways.keys()) if (!keys.has(key)) this.gateways.delete(key);
    for (const key of this.activatorSeen.keys()) if (!keys.has(key)) this.activatorSeen.delete(key);
    for (const raw of listed) {
      const key = `${raw.metadata?.namespace}/${raw.metadata?.name}`;
      const spec = (raw as { spec?: { autoscaling?: { enabled?: boolean; scrapeIntervalSeconds?: number } } }).spec;
      if (!spec?.autoscaling?.enabled || this.running.has(key)) continue;
      const interval = (spec.autoscaling.scrapeIntervalSeconds ?? 15) * 1000;
      if (now - (this.lastTick.get(key) ?? 0) < interval) continue;
      this.lastTick.set(key, now);
      this.running.add(key);
      this.tick(key).catch((err: Error) => this.d.log.warn({ lfmdeployment: key, err: err.message }, 'autoscaler tick failed'))
        .finally(() => this.finishTick(key));
    }
  }

  /** One decision for one LfmDeployment. */
  async tick(key: string): Promise<void> {
    const target = this.findTarget(key);
    if (!target) return;
    const { lfmd, deployment } = target;
    const pods = listPodsOf(this.d.pods, lfmd.metadata.namespace ?? '', lfmd.metadata.name) as (V1Pod & KubeObject)[];
    const views = pods.map(buildPodView);

    const now = this.now();
    const [samples, gatewayWaiting] = await Promise.all([
      this.scrapeReadyPods({ pods, views, engine: ENGINES[lfmd.spec.engine.name], servedName: lfmd.spec.model.servedName ?? lfmd.metadata.name }),
      this.scrapeGateway(target),
    ]);
    this.forgetGonePods(pods);

    const current = deployment.spec?.replicas ?? lfmd.spec.autoscaling.minReplicas;
    const decision = this.decideFor({ target, views, samples, current, now, podCount: pods.length, gatewayWaiting });
    const log = this.d.log.child({ lfmdeployment: key });
    if (!this.d.lfmDeployments.get(key)) return;

    if (decision.desiredReplicas !== current) await this.applyScale({ target, current, decision, pods, samples, log });
    await this.applyAutoscalingStatus(target, decision.state);
    await this.removeGoneActivators(target, log);
  }

  /** Removes the status.activation entries of activator pods that no longer exist (a test op guards each index). */
  private async removeGoneActivators({ raw, lfmd }: ScaleTarget, log: Logger): Promise<void> {
    const cache = this.d.activatorPods;
    const entries = lfmd.status?.activation?.activators ?? [];
    if (!cache || entries.length === 0 || !lfmd.spec.autoscaling.scaleToZero) return;
    const live = new Set(cache.list().map((p) => p.metadata?.name));
    const gone = entries.map((e, i) => ({ e, i })).filter(({ e }) => !live.has(e.name) && e.held === 0);
    if (gone.length === 0) return;
    // Highest index first, so that the indices of the others stay valid.
    const patch = gone.reverse().flatMap(({ e, i }) => [
      { op: 'test', path: `/status/activation/activators/${i}/name`, value: e.name },
      { op: 'remove', path: `/status/activation/activators/${i}` },
    ]);
    try {
      await this.d.client.request('PATCH', buildPath(RESOURCES.lfmDeployment, lfmd.metadata.namespace, lfmd.metadata.name, 'status'), { body: patch, contentType: 'application/json-patch+json' });
      log.info({ activators: gone.map((g) => g.e.name) }, 'removed the activation entries of activator pods that are gone');
    } catch (err) {
      // 422 (a test op failed: the list moved) or a conflict: the next decision looks again.
      log.debug({ err: (err as Error).message, resourceVersion: raw.metadata?.resourceVersion }, 'could not remove activation entries');
    }
  }

  /** The LfmDeployment of `key` when it parses, is autoscaled and controls its cached Deployment. */
  private findTarget(key: string): ScaleTarget | undefined {
    const raw = this.d.lfmDeployments.get(key);
    const parsed = LfmDeployment.safeParse(raw);
    if (!raw || !parsed.success || !parsed.data.spec.autoscaling.enabled) return undefined;
    const deployment = this.d.deployments.get(key) as (V1Deployment & KubeObject) | undefined;
    const owned = deployment?.metadata?.ownerReferences?.some((r) => r.controller && r.uid === raw.metadata?.uid);
    if (!deployment || !owned) return undefined;
    return { key, raw, lfmd: parsed.data, deployment };
  }

  /** Scrapes every Ready pod with an IP at once; a pod that fails to answer gives no sample. */
  private async scrapeReadyPods({ pods, views, engine, servedName }: PodScrapes): Promise<PodSample[]> {
    const samples: PodSample[] = [];
    await Promise.all(pods.map(async (pod, i) => {
      if (views[i]?.phase !== 'Ready' || !pod.status?.podIP) return;
      const sample = await this.scrapePod(pod, pod.status.podIP, { engine, servedName });
      if (sample) samples.push(sample);
    }));
    return samples;
  }

  /** Scrapes one pod, adds the sample to its history and returns it with the rates over that history. */
  private async scrapePod(pod: V1Pod & KubeObject, ip: string, { engine, servedName }: Pick<PodScrapes, 'engine' | 'servedName'>): Promise<PodSample | undefined> {
    const uid = pod.metadata?.uid ?? pod.metadata?.name ?? '';
    try {
      const text = await scrapeMetrics(ip, engine.port, this.d.scrapeTimeoutMs ?? 2000);
      const { sample } = buildEngineSample(text, buildSampleMetricNames(engine), this.now(), { modelName: servedName });
      if (!sample) return undefined;
      const history = [...(this.history.get(uid) ?? []), sample].filter((h) => sample.time - h.time <= RATE_WINDOW_SECONDS * 1000);
      this.history.set(uid, history);
      return buildPodSample(pod.metadata?.name ?? '', sample, computeEngineRatesOver(history));
    } catch (err) {
      this.d.log.debug({ pod: pod.metadata?.name, err: (err as Error).message }, 'scrape failed');
      return undefined;
    }
  }

  /**
   * The requests the LfmDeployment's endpoint pickers hold in their flow-control queues (epp-sample.ts: summed over
   * the EPP pods, each holding its own queue; a failed scrape counts at the pod's last known value), or undefined
   * when routing does not go through them or no EPP pod's queue is known. Every EPP pod not yet terminated is asked,
   * Ready or not: with leader election only the leader is Ready, and the others answer with an empty queue, or, for
   * a leader being replaced, with the requests it still drains.
   */
  private async scrapeGateway({ key, lfmd }: ScaleTarget): Promise<number | undefined> {
    if (!isRoutingEnabled(lfmd)) {
      this.gateways.delete(key);
      return undefined;
    }
    const name = lfmd.metadata.name;
    const listed = listEndpointPickerPodsOf(this.d.endpointPickerPods ?? this.d.pods, lfmd.metadata.namespace ?? '', name) as (V1Pod & KubeObject)[];
    const pods = listed.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const memory = this.gateways.get(key) ?? { lastKnown: new Map<string, number>(), warned: new Set<string>() };
    const scrapes = await Promise.all(pods.map((pod) => this.scrapeEndpointPicker(pod, name, memory.warned)));
    const queue = combineEppQueues(scrapes, memory.lastKnown);
    const live = new Set(scrapes.map((s) => s.uid));
    for (const uid of memory.warned) if (!live.has(uid)) memory.warned.delete(uid);
    this.gateways.set(key, { lastKnown: queue.lastKnown, warned: memory.warned });
    if (queue.unknown > 0 || pods.length === 0) {
      this.d.log.debug({ lfmdeployment: key, endpointPickers: pods.length, failed: queue.failed, unknown: queue.unknown }, 'flow-control queue not known for every endpoint picker');
    }
    return queue.waiting;
  }

  /** Scrapes one EPP pod's queue for the pool `poolName`; undefined when it has no IP or does not answer. */
  private async scrapeEndpointPicker(pod: V1Pod & KubeObject, poolName: string, warned: Set<string>): Promise<EppReplicaScrape> {
    const uid = pod.metadata?.uid ?? pod.metadata?.name ?? '';
    const ip = pod.status?.podIP;
    if (!ip) return { uid, waiting: undefined };
    try {
      const text = await scrapeMetrics(ip, EPP_METRICS_PORT, this.d.scrapeTimeoutMs ?? 2000);
      warned.delete(uid);
      return { uid, waiting: buildEppQueueSample(text, { poolName }).waiting };
    } catch (err) {
      const message = (err as Error).message;
      const fields = { pod: pod.metadata?.name, namespace: pod.metadata?.namespace, err: message };
      if (warned.has(uid)) {
        this.d.log.debug(fields, 'endpoint picker scrape failed');
      } else {
        warned.add(uid);
        const hint = /status 40[13]/.test(message) ? ' (its /metrics needs --metrics-endpoint-auth=false)' : '';
        this.d.log.warn(fields, `endpoint picker scrape failed${hint}: its flow-control queue counts at its last known value`);
      }
      return { uid, waiting: undefined };
    }
  }

  /** Drops the sample history of pods that no longer exist. */
  private forgetGonePods(pods: readonly KubeObject[]): void {
    const live = new Set(pods.map((p) => p.metadata?.uid ?? ''));
    for (const uid of this.history.keys()) if (!live.has(uid)) this.history.delete(uid);
  }

  /** Calls decide(), continuing from the state this loop last decided while the stored status is the one it wrote. */
  private decideFor({ target, views, samples, current, now, podCount, gatewayWaiting }: DecisionInputs): ScaleDecision {
    const { lfmd, deployment } = target;
    const stored = lfmd.status?.autoscaling;
    const remembered = this.memory.get(target.key);
    const previous = remembered && isSameAutoscalingStatus(stored, remembered.written) ? remembered.state : stored;
    const activators = lfmd.spec.autoscaling.scaleToZero ? this.countActivators(target.key, lfmd.status?.activation?.activators) : undefined;
    return decide({
      policy: lfmd.spec.autoscaling, pods: views, samples, currentReplicas: current, now,
      ...(activators ? { activators } : {}),
      ...(previous ? { previous } : {}),
      refusedReplicas: computeRefusedReplicas(deployment, podCount),
      ...(lfmd.spec.serving.maxConcurrentSequences !== undefined ? { batchLimit: lfmd.spec.serving.maxConcurrentSequences } : {}),
      ...(gatewayWaiting !== undefined ? { gatewayWaiting } : {}),
      // Routing on and no picker answered: the gateway's queue is unknown, never taken as empty.
      ...(gatewayWaiting === undefined && isRoutingEnabled(lfmd) ? { gatewaySilent: true } : {}),
    });
  }

  /** Applies the Deployment's spec.replicas as lfm-autoscaler (marking the idlest pods first when scaling down). */
  private async applyScale({ target, current, decision, pods, samples, log }: ScaleWrite): Promise<void> {
    const { raw, lfmd } = target;
    if (decision.desiredReplicas < current) await this.markLeastLoaded(pods, samples);
    await this.d.client.apply(RESOURCES.deployment, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: lfmd.metadata.name, namespace: lfmd.metadata.namespace }, spec: { replicas: decision.desiredReplicas },
    }, AUTOSCALER_FIELD_MANAGER, { force: true });
    this.d.metrics.scaleDecisions.inc({ direction: decision.desiredReplicas > current ? 'up' : 'down' });
    log.info({ from: current, to: decision.desiredReplicas, reason: decision.reason, message: decision.message }, 'scaled');
    this.d.events.record(raw, 'Normal', 'Scaled', `${current} -> ${decision.desiredReplicas} replicas: ${decision.reason}: ${decision.message}`);
  }

  /** Writes status.autoscaling when it changed; remembers the decided state either way. */
  private async applyAutoscalingStatus({ key, raw, lfmd }: ScaleTarget, state: AutoscalingStatus): Promise<void> {
    const stored = lfmd.status?.autoscaling;
    if (!isAutoscalingStatusChanged(stored, state)) {
      this.memory.set(key, { written: stored, state });
      return;
    }
    await this.d.client.apply(RESOURCES.lfmDeployment, {
      apiVersion: raw.apiVersion, kind: raw.kind, metadata: { name: lfmd.metadata.name, namespace: lfmd.metadata.namespace },
      status: { autoscaling: state },
    }, AUTOSCALER_FIELD_MANAGER, { force: true, subresource: 'status' });
    this.memory.set(key, { written: state, state });
  }

  /** Sets pod-deletion-cost to each Ready pod's in-flight requests, so the ReplicaSet removes the idlest first. */
  private async markLeastLoaded(pods: readonly (V1Pod & KubeObject)[], samples: readonly PodSample[]): Promise<void> {
    for (const s of samples) {
      const pod = pods.find((p) => p.metadata?.name === s.pod);
      if (!pod?.metadata?.name || !pod.metadata.namespace) continue;
      const cost = String(Math.round(s.running + s.waiting));
      if (pod.metadata.annotations?.[POD_DELETION_COST] === cost) continue;
      await this.d.client.apply(RESOURCES.pod, {
        apiVersion: 'v1', kind: 'Pod', metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, annotations: { [POD_DELETION_COST]: cost } },
      }, AUTOSCALER_FIELD_MANAGER, { force: true });
    }
  }
}
