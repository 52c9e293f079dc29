// Wires the operator: informers for LfmDeployments and their children, a coalescing work queue feeding reconcile
// workers, leader election (only the leader reconciles and autoscales), /healthz, /readyz and /metrics, periodic
// resync, and a clean shutdown. All decisions live in pure code; this file only moves events and results.
import http from 'node:http';
import type { KubeObject } from '../kube/client.js';
import { isNotFound, KubeClient, RESOURCES } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { LABEL_DEPLOYMENT } from '../render/children.js';
import { ACTIVATOR_LABEL_SELECTOR, ENDPOINT_SLICE_MANAGER, LABEL_MANAGED_BY } from '../render/endpoints.js';
import { ENDPOINT_PICKER_KINDS, LABEL_ROUTING, ROUTING_KINDS, type RoutingKind } from '../render/routing.js';
import type { Logger } from '../telemetry/logger.js';
import type { OperatorMetrics } from '../telemetry/metrics.js';
import type { OperatorConfig } from './config.js';
import { InformerSet, LABEL_ENDPOINT_PICKER, objectKey, stripForCache } from './informer.js';
import { readGroupVersionWith, RoutingDiscovery, type KindAvailability } from './discovery.js';
import { LeaderElector } from './leader-election.js';
import { Reconciler, type LabelledRoutingKind } from './reconcile.js';
import { WorkQueue } from './workqueue.js';

export interface OperatorHooks {
  /** Started on the leader after the caches synced (the autoscaler loop); stopped when leadership ends. */
  onLeading?: (ctx: { client: KubeClient; caches: OperatorCaches; enqueue: (key: string) => void }) => { stop: () => Promise<void> };
}

export interface OperatorCaches {
  lfmDeployments: InformerSet<KubeObject>;
  deployments: InformerSet<KubeObject>;
  services: InformerSet<KubeObject>;
  podDisruptionBudgets: InformerSet<KubeObject>;
  pods: InformerSet<KubeObject>;
  /** The endpoint pickers' pods (label LABEL_ENDPOINT_PICKER), which the engine pods' selector leaves out. */
  endpointPickerPods: InformerSet<KubeObject>;
  /** Scale to zero: the EndpointSlices the operator manages, and the activator pods (in the activator namespace). */
  endpointSlices: InformerSet<KubeObject>;
  activatorPods: InformerSet<KubeObject>;
}

/** spec.autoscaling.scaleToZero, read from the object as stored (it need not parse). */
function usesScaleToZero(raw: KubeObject): boolean {
  return (raw as { spec?: { autoscaling?: { scaleToZero?: unknown } } }).spec?.autoscaling?.scaleToZero !== undefined;
}

/** spec.routing.inferencePool.enabled, read from the object as stored (it need not parse). */
function usesRouting(raw: KubeObject): boolean {
  return (raw as { spec?: { routing?: { inferencePool?: { enabled?: unknown } } } }).spec?.routing?.inferencePool?.enabled === true;
}

function parseAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  return { host: host || '0.0.0.0', port: Number(address.slice(i + 1)) };
}

function listen(server: http.Server, address: string): Promise<string> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? `${a.address}:${a.port}` : address);
    });
  });
}

export class Operator {
  readonly client: KubeClient;
  readonly caches: OperatorCaches;
  private readonly queue = new WorkQueue({ baseDelayMs: 200, maxDelayMs: 300_000 });
  private readonly reconciler: Reconciler;
  readonly events: EventRecorder;
  private elector?: LeaderElector;
  private workers: Promise<void>[] = [];
  private resyncTimer?: NodeJS.Timeout;
  private readonly servers: http.Server[] = [];
  private leading = false;
  private ready = false;
  private leaderTask?: { stop: () => Promise<void> };
  /** The request path: which optional kinds the API server serves, and the caches of its objects. */
  private readonly discovery: RoutingDiscovery;
  private readonly routingCaches: Record<LabelledRoutingKind, InformerSet<KubeObject>>;
  /** One informer per optional kind while the API server serves it (started and stopped as discovery finds it). */
  private readonly kindCaches = new Map<RoutingKind, InformerSet<KubeObject>>();
  private started = false;
  /** Where the health and metrics servers listen, once started. */
  readonly addresses: { health?: string; metrics?: string } = {};

  constructor(private readonly config: OperatorConfig, private readonly log: Logger, private readonly metrics: OperatorMetrics, private readonly hooks: OperatorHooks = {}) {
    this.client = KubeClient.fromKubeconfig(config.kubeconfig);
    this.client.onRequest = (method, _path, status) => metrics.apiRequests.inc({ method, code: String(status) });
    const ns = config.namespaces;
    const informerOptions = (resource: string) => ({
      transform: stripForCache,
      onError: (err: unknown, attempt: number) => {
        metrics.informerRestarts.inc({ resource });
        log.warn({ resource, attempt, err: (err as Error).message }, 'list-watch failed; restarting with backoff');
      },
    });
    // Children are cached whole, not label-selected: a child's name held by an object we do not own must be seen
    // (NameConflict) without a GET per reconcile, and its deletion must wake the waiting resource.
    this.caches = {
      lfmDeployments: new InformerSet(this.client, RESOURCES.lfmDeployment, ns, informerOptions('lfmdeployments')),
      deployments: new InformerSet(this.client, RESOURCES.deployment, ns, informerOptions('deployments')),
      services: new InformerSet(this.client, RESOURCES.service, ns, informerOptions('services')),
      podDisruptionBudgets: new InformerSet(this.client, RESOURCES.podDisruptionBudget, ns, informerOptions('poddisruptionbudgets')),
      pods: new InformerSet(this.client, RESOURCES.pod, ns, { labelSelector: LABEL_DEPLOYMENT, ...informerOptions('pods') }),
      // A label selector cannot say "either label" (its requirements are ANDed), so the EPP pods, which never carry
      // LABEL_DEPLOYMENT, have an informer of their own; the autoscaler reads their flow-control queue.
      endpointPickerPods: new InformerSet(this.client, RESOURCES.pod, ns, { labelSelector: LABEL_ENDPOINT_PICKER, ...informerOptions('endpointpickerpods') }),
      endpointSlices: new InformerSet(this.client, RESOURCES.endpointSlice, ns, { labelSelector: `${LABEL_MANAGED_BY}=${ENDPOINT_SLICE_MANAGER}`, ...informerOptions('endpointslices') }),
      activatorPods: new InformerSet(this.client, RESOURCES.pod, [config.activatorNamespace], { labelSelector: ACTIVATOR_LABEL_SELECTOR, ...informerOptions('activatorpods') }),
    };
    // The endpoint picker's ServiceAccounts, Roles, RoleBindings and ConfigMaps are cached by the routing label: every
    // namespace holds many objects of these kinds (a whole cache would cost memory for nothing).
    const labelled = (kind: LabelledRoutingKind) => new InformerSet<KubeObject>(this.client, ENDPOINT_PICKER_KINDS[kind], ns, { labelSelector: LABEL_ROUTING, ...informerOptions(ENDPOINT_PICKER_KINDS[kind].plural) });
    this.routingCaches = { serviceAccount: labelled('serviceAccount'), role: labelled('role'), roleBinding: labelled('roleBinding'), configMap: labelled('configMap') };
    this.discovery = new RoutingDiscovery(readGroupVersionWith(this.client), { onError: (err) => log.warn({ err: (err as Error).message }, 'API discovery of the routing kinds failed') });
    this.discovery.onChange((now, before) => this.onRoutingKindsChanged(now, before));
    this.events = new EventRecorder(this.client, { component: 'lfm-operator', instance: config.identity }, (err) => log.warn({ err: err.message }, 'could not record event'));
    this.reconciler = new Reconciler({
      client: this.client,
      ...this.caches,
      renderOptions: {
        images: { VLLM: config.vllmImage, SGLang: config.sglangImage, LlamaCpp: config.llamacppImage },
        gpuImages: { LlamaCpp: config.llamacppGpuImage },
      },
      events: this.events,
      routing: { discovery: this.discovery, labelled: this.routingCaches, kindCache: (kind) => this.kindCaches.get(kind) },
      endpointSlices: this.caches.endpointSlices,
      activatorPods: this.caches.activatorPods,
    });
    this.caches.lfmDeployments.on((_e, obj) => this.enqueue(objectKey(obj)));
    // A child event re-runs the whole reconcile of the LfmDeployment of the same name (level-triggered); a pod's
    // owner is in its selector label.
    // An activator pod that comes, goes or changes readiness moves the endpoints of every scale-to-zero Service.
    this.caches.activatorPods.on(() => {
      for (const obj of this.caches.lfmDeployments.list()) if (usesScaleToZero(obj)) this.enqueue(objectKey(obj));
    });
    for (const cache of [this.caches.deployments, this.caches.services, this.caches.podDisruptionBudgets, this.caches.endpointSlices, ...Object.values(this.routingCaches)]) {
      cache.on((_e, obj) => this.enqueueOwnersOf(obj));
    }
    this.caches.pods.on((_e, obj) => {
      const owner = obj.metadata?.labels?.[LABEL_DEPLOYMENT];
      if (owner && obj.metadata?.namespace) this.enqueue(`${obj.metadata.namespace}/${owner}`);
    });
  }

  /**
   * Enqueues the LfmDeployment a child belongs to: the one of the child's name (the engine's children, the pool, the
   * route, and a foreign object holding such a name) and the one its routing label names (the endpoint picker's
   * objects NAME-epp, the objectives).
   */
  private enqueueOwnersOf(obj: KubeObject): void {
    const ns = obj.metadata?.namespace;
    if (!ns) return;
    for (const name of new Set([obj.metadata?.name, obj.metadata?.labels?.[LABEL_ROUTING]])) {
      if (name && this.caches.lfmDeployments.get(`${ns}/${name}`)) this.enqueue(`${ns}/${name}`);
    }
  }

  /**
   * Starts an informer for each optional kind the API server now serves (the gateways' writes to a pool's
   * status.parents reach RoutingReady through the InferencePool informer), stops those of kinds no longer served, and
   * reconciles the resources with routing.
   */
  private onRoutingKindsChanged(now: KindAvailability, before: KindAvailability | undefined): void {
    for (const kind of Object.keys(ROUTING_KINDS) as RoutingKind[]) {
      const cache = this.kindCaches.get(kind);
      if (now[kind] && !cache) {
        const type = ROUTING_KINDS[kind];
        const created = new InformerSet<KubeObject>(this.client, type, this.config.namespaces, {
          transform: stripForCache,
          onError: (err: unknown, attempt: number) => {
            this.metrics.informerRestarts.inc({ resource: type.plural });
            this.log.warn({ resource: type.plural, attempt, err: (err as Error).message }, 'list-watch failed; restarting with backoff');
            // 404: the CRD was removed; discovery stops this informer.
            if (isNotFound(err)) this.discovery.refresh().catch(() => undefined);
          },
        });
        created.on((_e, obj) => this.enqueueOwnersOf(obj));
        this.kindCaches.set(kind, created);
        if (this.started) created.start();
      } else if (!now[kind] && cache) {
        this.kindCaches.delete(kind);
        cache.stop().catch(() => undefined);
      }
    }
    this.log.info({ kinds: now }, before ? 'the served routing kinds changed' : 'discovered the routing kinds');
    for (const obj of this.caches.lfmDeployments.list()) if (usesRouting(obj)) this.enqueue(objectKey(obj));
  }

  enqueue(key: string): void {
    if (!this.leading) return;
    this.queue.add(key);
    this.metrics.queueDepth.set(this.queue.length);
  }

  async start(): Promise<void> {
    await this.startServers();
    // Before the caches start, so that those of the optional kinds start with them; a failure is retried on demand.
    await this.discovery.refresh().catch(() => undefined);
    this.started = true;
    const caches = [...Object.values(this.caches), ...Object.values(this.routingCaches), ...this.kindCaches.values()];
    for (const c of caches) c.start();
    await Promise.all(caches.map((c) => c.waitForSync()));
    this.ready = true;
    this.log.info({ namespaces: this.config.namespaces.length ? this.config.namespaces : 'all' }, 'caches synced');
    if (this.config.leaderElect) {
      this.elector = new LeaderElector(this.client, {
        namespace: this.config.leaderElectionNamespace,
        name: this.config.leaderElectionId,
        identity: this.config.identity,
        onStartedLeading: () => this.startLeading(),
        onStoppedLeading: () => this.stopLeading(),
        log: (msg, extra) => this.log.info(extra ?? {}, msg),
      });
      this.elector.start();
    } else {
      this.startLeading();
    }
  }

  private startLeading(): void {
    this.leading = true;
    this.metrics.isLeader.set(1);
    for (let i = 0; i < this.config.concurrency; i++) this.workers.push(this.runWorker());
    for (const obj of this.caches.lfmDeployments.list()) this.enqueue(objectKey(obj));
    this.resyncTimer = setInterval(() => {
      for (const obj of this.caches.lfmDeployments.list()) this.enqueue(objectKey(obj));
    }, this.config.resyncSeconds * 1000);
    this.leaderTask = this.hooks.onLeading?.({ client: this.client, caches: this.caches, enqueue: (k) => this.enqueue(k) });
  }

  private stopLeading(): void {
    // A replica that lost its lease must stop acting at once; exiting lets the Deployment restart it as a follower.
    this.leading = false;
    this.metrics.isLeader.set(0);
    this.log.error('lost leadership; exiting so that no two replicas act');
    process.exit(1);
  }

  private async runWorker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.queueDepth.set(this.queue.length);
      const log = this.log.child({ lfmdeployment: key, reconcileId: Math.random().toString(36).slice(2, 10) });
      const end = this.metrics.reconcileDuration.startTimer();
      try {
        const result = await this.reconciler.reconcile(key, log);
        this.queue.forget(key);
        if (result.requeueAfterMs) this.queue.addAfter(key, result.requeueAfterMs);
        this.metrics.reconcileTotal.inc({ result: result.invalid ? 'invalid' : result.requeueAfterMs ? 'requeue' : 'success' });
        if (result.writes > 0) log.debug({ writes: result.writes }, 'reconciled');
      } catch (err) {
        const delay = this.queue.addRateLimited(key);
        this.metrics.reconcileTotal.inc({ result: 'error' });
        log.warn({ err: (err as Error).message, retryInMs: delay }, 'reconcile failed; retrying with backoff');
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }

  private async startServers(): Promise<void> {
    const health = http.createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(200).end('ok');
      } else if (req.url === '/readyz') {
        res.writeHead(this.ready ? 200 : 503).end(this.ready ? 'ok' : 'caches not synced');
      } else {
        res.writeHead(404).end();
      }
    });
    const metricsServer = http.createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.metrics.registry.metrics().then((body) => {
        res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(body);
      }, (err: Error) => res.writeHead(500).end(err.message));
    });
    this.servers.push(health, metricsServer);
    this.addresses.health = await listen(health, this.config.healthProbeBindAddress);
    this.addresses.metrics = await listen(metricsServer, this.config.metricsBindAddress);
    this.log.info({ health: this.addresses.health, metrics: this.addresses.metrics }, 'serving probes and metrics');
  }

  /** Stops leading (releasing the lease), drains the workers and closes everything. */
  async stop(): Promise<void> {
    this.leading = false;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.leaderTask?.stop();
    this.queue.shutDown();
    await Promise.all(this.workers);
    await this.events.flush();
    await this.elector?.stop();
    await Promise.all([...Object.values(this.caches), ...Object.values(this.routingCaches), ...this.kindCaches.values()].map((c) => c.stop()));
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}
