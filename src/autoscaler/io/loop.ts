// The autoscaler loop, on the leader only: every scrape interval of each autoscaled LfmDeployment it scrapes the
// Ready engine pods' /metrics, calls the pure decide(), applies the Deployment's spec.replicas as lfm-autoscaler,
// marks the least-loaded pods to go first (pod-deletion-cost) and writes status.autoscaling. No decisions here.
import http from 'node:http';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { LfmDeployment, type AutoscalingStatus } from '../../api/v1alpha1.js';
import { ENGINES } from '../../engines/index.js';
import { RESOURCES, type KubeClient, type KubeObject } from '../../kube/client.js';
import type { EventRecorder } from '../../kube/events.js';
import { buildEngineSample, buildSampleMetricNames, computeEngineRatesOver, RATE_WINDOW_SECONDS, type EngineSample } from '../../metrics/engine-sample.js';
import { AUTOSCALER_FIELD_MANAGER } from '../../render/children.js';
import type { Logger } from '../../telemetry/logger.js';
import type { OperatorMetrics } from '../../telemetry/metrics.js';
import { listPodsOf, type Cache } from '../../controller/informer.js';
import { decide } from '../decide.js';
import type { PodSample } from '../decide.js';
import { buildPodView, computeRefusedReplicas } from '../pod-view.js';
import { isAutoscalingStatusChanged, isSameAutoscalingStatus } from '../status-change.js';

export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export interface AutoscalerDeps {
  client: KubeClient;
  lfmDeployments: Cache<KubeObject>;
  deployments: Cache<KubeObject>;
  pods: Cache<KubeObject>;
  log: Logger;
  metrics: OperatorMetrics;
  events: EventRecorder;
  scrapeTimeoutMs?: number;
  now?: () => number;
}

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
  private stopped = false;

  constructor(private readonly d: AutoscalerDeps) {}

  start(): void {
    this.timer = setInterval(() => this.schedule(), 1000);
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
    for (const raw of listed) {
      const key = `${raw.metadata?.namespace}/${raw.metadata?.name}`;
      const spec = (raw as { spec?: { autoscaling?: { enabled?: boolean; scrapeIntervalSeconds?: number } } }).spec;
      if (!spec?.autoscaling?.enabled || this.running.has(key)) continue;
      const interval = (spec.autoscaling.scrapeIntervalSeconds ?? 15) * 1000;
      if (now - (this.lastTick.get(key) ?? 0) < interval) continue;
      this.lastTick.set(key, now);
      this.running.add(key);
      this.tick(key).catch((err: Error) => this.d.log.warn({ lfmdeployment: key, err: err.message }, 'autoscaler tick failed'))
        .finally(() => this.running.delete(key));
    }
  }

  /** One decision for one LfmDeployment. */
  async tick(key: string): Promise<void> {
    const raw = this.d.lfmDeployments.get(key);
    const parsed = LfmDeployment.safeParse(raw);
    if (!raw || !parsed.success || !parsed.data.spec.autoscaling.enabled) return;
    const lfmd = parsed.data;
    const deployment = this.d.deployments.get(key) as (V1Deployment & KubeObject) | undefined;
    const owned = deployment?.metadata?.ownerReferences?.some((r) => r.controller && r.uid === raw.metadata?.uid);
    if (!deployment || !owned) return;
    const engine = ENGINES[lfmd.spec.engine.name];
    const servedName = lfmd.spec.model.servedName ?? lfmd.metadata.name;
    const pods = listPodsOf(this.d.pods, lfmd.metadata.namespace ?? '', lfmd.metadata.name) as (V1Pod & KubeObject)[];
    const views = pods.map(buildPodView);

    const now = this.now();
    const samples: PodSample[] = [];
    await Promise.all(pods.map(async (pod, i) => {
      if (views[i]?.phase !== 'Ready' || !pod.status?.podIP) return;
      const uid = pod.metadata?.uid ?? pod.metadata?.name ?? '';
      try {
        const text = await scrapeMetrics(pod.status.podIP, engine.port, this.d.scrapeTimeoutMs ?? 2000);
        const { sample } = buildEngineSample(text, buildSampleMetricNames(engine), this.now(), { modelName: servedName });
        if (!sample) return;
        const history = [...(this.history.get(uid) ?? []), sample].filter((h) => sample.time - h.time <= RATE_WINDOW_SECONDS * 1000);
        this.history.set(uid, history);
        const rates = computeEngineRatesOver(history);
        samples.push({
          pod: pod.metadata?.name ?? '', time: sample.time, waiting: sample.waiting, running: sample.running,
          ...(rates ? { promptTokensPerSecond: rates.promptTokensPerSecond, generationTokensPerSecond: rates.generationTokensPerSecond } : {}),
          ...(rates?.requestsPerSecond !== undefined ? { requestsPerSecond: rates.requestsPerSecond } : {}),
          ...(rates?.meanRunning !== undefined ? { meanRunning: rates.meanRunning } : {}),
          ...(rates?.recentPromptTokensPerSecond !== undefined && rates.recentGenerationTokensPerSecond !== undefined
            ? { recentPromptTokensPerSecond: rates.recentPromptTokensPerSecond, recentGenerationTokensPerSecond: rates.recentGenerationTokensPerSecond } : {}),
        });
      } catch (err) {
        this.d.log.debug({ pod: pod.metadata?.name, err: (err as Error).message }, 'scrape failed');
      }
    }));
    const live = new Set(pods.map((p) => p.metadata?.uid ?? ''));
    for (const uid of this.history.keys()) if (!live.has(uid)) this.history.delete(uid);

    const current = deployment.spec?.replicas ?? lfmd.spec.autoscaling.minReplicas;
    const stored = lfmd.status?.autoscaling;
    const remembered = this.memory.get(key);
    const previous = remembered && isSameAutoscalingStatus(stored, remembered.written) ? remembered.state : stored;
    const decision = decide({
      policy: lfmd.spec.autoscaling, pods: views, samples, currentReplicas: current, now,
      ...(previous ? { previous } : {}),
      refusedReplicas: computeRefusedReplicas(deployment, pods.length),
      ...(lfmd.spec.serving.maxConcurrentSequences !== undefined ? { batchLimit: lfmd.spec.serving.maxConcurrentSequences } : {}),
    });
    const log = this.d.log.child({ lfmdeployment: key });
    if (!this.d.lfmDeployments.get(key)) return;

    if (decision.desiredReplicas !== current) {
      if (decision.desiredReplicas < current) await this.markLeastLoaded(pods, samples);
      await this.d.client.apply(RESOURCES.deployment, {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: lfmd.metadata.name, namespace: lfmd.metadata.namespace }, spec: { replicas: decision.desiredReplicas },
      }, AUTOSCALER_FIELD_MANAGER, { force: true });
      this.d.metrics.scaleDecisions.inc({ direction: decision.desiredReplicas > current ? 'up' : 'down' });
      log.info({ from: current, to: decision.desiredReplicas, reason: decision.reason, message: decision.message }, 'scaled');
      this.d.events.record(raw, 'Normal', 'Scaled', `${current} -> ${decision.desiredReplicas} replicas: ${decision.reason}: ${decision.message}`);
    }
    if (!isAutoscalingStatusChanged(stored, decision.state)) {
      this.memory.set(key, { written: stored, state: decision.state });
      return;
    }
    await this.d.client.apply(RESOURCES.lfmDeployment, {
      apiVersion: raw.apiVersion, kind: raw.kind, metadata: { name: lfmd.metadata.name, namespace: lfmd.metadata.namespace },
      status: { autoscaling: decision.state },
    }, AUTOSCALER_FIELD_MANAGER, { force: true, subresource: 'status' });
    this.memory.set(key, { written: decision.state, state: decision.state });
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
