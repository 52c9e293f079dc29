// The activator's Kubernetes side: where its targets come from (informers on LfmDeployments with scaleToZero and on
// their engine pods), where the requests it holds go (its own entry of status.activation, applied server-side on the
// status subresource with a field manager of its own), and `lfm-operator activator`, which wires both to the HTTP core
// (server.ts). It never writes anything but its own status.activation entry.
import { randomBytes } from 'node:crypto';
import { LfmDeployment } from '../api/v1alpha1.js';
import { ENGINES } from '../engines/index.js';
import { isNotFound, KubeClient, RESOURCES, type KubeObject } from '../kube/client.js';
import { LABEL_DEPLOYMENT } from '../render/children.js';
import { InformerSet, objectKey, stripForCache, type InformerOptions, type ListWatch } from '../controller/informer.js';
import { createLogger, type Logger } from '../telemetry/logger.js';
import { ActivatorServer } from './server.js';
import type { Endpoint, HeldCounts, HeldReporter, Target, TargetSource } from './types.js';

/** Retry-After while no cold start has been measured or learned yet, in seconds. */
export const DEFAULT_RETRY_AFTER_SECONDS = 60;

interface PodView {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: { podIP?: string; conditions?: { type?: string; status?: string }[] };
}

interface StatusView {
  autoscaling?: { learnedStartupSeconds?: unknown; coldStart?: { lastSeconds?: unknown; p90Seconds?: unknown } };
}

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** ceil(coldStart.p90Seconds ?? coldStart.lastSeconds ?? learnedStartupSeconds ?? 60), at least 1. */
export function computeRetryAfterSeconds(status: unknown): number {
  const a = (status as StatusView | undefined)?.autoscaling;
  const seconds = finite(a?.coldStart?.p90Seconds) ?? finite(a?.coldStart?.lastSeconds) ?? finite(a?.learnedStartupSeconds) ?? DEFAULT_RETRY_AFTER_SECONDS;
  return Math.max(1, Math.ceil(seconds));
}

/** Ready=True, a pod IP, and not being deleted: a pod that may be sent requests. */
export function isServingPod(pod: KubeObject): boolean {
  const p = pod as PodView;
  if (p.metadata?.deletionTimestamp || !p.status?.podIP) return false;
  return p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The target of one LfmDeployment as stored, or undefined when its spec does not parse or has no scaleToZero. Only
 * the spec is parsed: the status is read field by field (a status written by a newer operator must not hide the
 * target).
 */
export function computeTarget(raw: KubeObject, pods: readonly KubeObject[]): Target | undefined {
  const parsed = LfmDeployment.safeParse({ apiVersion: raw.apiVersion, kind: raw.kind, metadata: raw.metadata, spec: raw['spec'] });
  if (!parsed.success) return undefined;
  const lfmd = parsed.data;
  const zero = lfmd.spec.autoscaling?.scaleToZero;
  if (!zero) return undefined;
  const port = ENGINES[lfmd.spec.engine.name].port;
  const endpoints: Endpoint[] = pods.filter(isServingPod)
    .map((p) => ({ ip: (p as PodView).status!.podIP!, port }))
    .sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  return {
    namespace: raw.metadata?.namespace ?? 'default',
    name: lfmd.metadata.name,
    maxHeldRequests: zero.maxHeldRequests,
    maxHoldSeconds: zero.maxHoldSeconds,
    retryAfterSeconds: computeRetryAfterSeconds(raw['status']),
    endpoints,
  };
}

/** What the pod cache keeps of an engine pod: identity, labels, deletion, IP and the Ready condition. */
function slimPod(pod: KubeObject): KubeObject {
  const p = pod as PodView & KubeObject;
  const m = p.metadata;
  return {
    apiVersion: p.apiVersion, kind: p.kind,
    metadata: {
      name: m?.name, namespace: m?.namespace, uid: pod.metadata?.uid, resourceVersion: pod.metadata?.resourceVersion,
      ...(m?.labels ? { labels: m.labels } : {}),
      ...(m?.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    status: {
      ...(p.status?.podIP ? { podIP: p.status.podIP } : {}),
      conditions: (p.status?.conditions ?? []).filter((c) => c.type === 'Ready').map((c) => ({ type: c.type, status: c.status })),
    },
  };
}

export interface KubeTargetSourceOptions {
  client: ListWatch<KubeObject>;
  /** Namespaces to watch; empty or left out: all. */
  namespaces?: readonly string[];
  log: Logger;
}

/**
 * Targets from two informers: LfmDeployments, and engine pods (label serving.lfm-operator.io/deployment). A target is
 * computed on demand and cached until an event of its deployment or of one of its pods, which also notifies the
 * listeners (the server dispatches held requests then).
 */
export class KubeTargetSource implements TargetSource {
  readonly lfmDeployments: InformerSet<KubeObject>;
  readonly pods: InformerSet<KubeObject>;
  private readonly listeners = new Set<(namespace: string, name: string) => void>();
  /** Computed targets by namespace/name (null: no target); dropped on any event of the deployment or its pods. */
  private readonly computed = new Map<string, Target | null>();
  /** Engine pod keys by their deployment's namespace/name. */
  private readonly podsByOwner = new Map<string, Set<string>>();
  private readonly log: Logger;

  constructor(options: KubeTargetSourceOptions) {
    this.log = options.log;
    const namespaces = options.namespaces ?? [];
    const informerOptions = <T extends KubeObject>(resource: string, transform: (obj: T) => T): InformerOptions<T> => ({
      transform,
      onError: (err: unknown, attempt: number) => this.log.warn({ resource, attempt, err: (err as Error).message }, 'list-watch failed; restarting with backoff'),
    });
    this.lfmDeployments = new InformerSet(options.client, RESOURCES.lfmDeployment, namespaces, informerOptions('lfmdeployments', stripForCache));
    this.pods = new InformerSet(options.client, RESOURCES.pod, namespaces, { labelSelector: LABEL_DEPLOYMENT, ...informerOptions('pods', slimPod) });
    this.lfmDeployments.on((_e, obj) => this.changed(obj.metadata?.namespace, obj.metadata?.name));
    this.pods.on((event, obj, old) => this.onPod(event === 'delete', obj, old));
  }

  start(): void {
    this.lfmDeployments.start();
    this.pods.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all([this.lfmDeployments.waitForSync(), this.pods.waitForSync()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.lfmDeployments.stop(), this.pods.stop()]);
  }

  ready(): boolean {
    return [...this.lfmDeployments.informers, ...this.pods.informers].every((i) => i.hasSynced());
  }

  get(namespace: string, name: string): Target | undefined {
    const key = `${namespace}/${name}`;
    const cached = this.computed.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const raw = this.lfmDeployments.get(key);
    const pods = [...(this.podsByOwner.get(key) ?? [])].map((k) => this.pods.get(k)).filter((p): p is KubeObject => p !== undefined);
    const target = raw ? computeTarget(raw, pods) : undefined;
    this.computed.set(key, target ?? null);
    return target;
  }

  onChange(listener: (namespace: string, name: string) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  private onPod(deleted: boolean, pod: KubeObject, old: KubeObject | undefined): void {
    const key = objectKey(pod);
    const ns = pod.metadata?.namespace;
    const owner = pod.metadata?.labels?.[LABEL_DEPLOYMENT];
    const oldOwner = old?.metadata?.labels?.[LABEL_DEPLOYMENT];
    if (oldOwner !== undefined && oldOwner !== owner) {
      this.podsByOwner.get(`${ns}/${oldOwner}`)?.delete(key);
      this.changed(ns, oldOwner);
    }
    if (owner === undefined) return;
    const ownerKey = `${ns}/${owner}`;
    let set = this.podsByOwner.get(ownerKey);
    if (deleted) {
      set?.delete(key);
      if (set?.size === 0) this.podsByOwner.delete(ownerKey);
    } else {
      if (!set) this.podsByOwner.set(ownerKey, (set = new Set()));
      set.add(key);
    }
    this.changed(ns, owner);
  }

  private changed(namespace: string | undefined, name: string | undefined): void {
    if (!namespace || !name) return;
    this.computed.delete(`${namespace}/${name}`);
    for (const l of this.listeners) {
      try {
        l(namespace, name);
      } catch (err) {
        this.log.warn({ err }, 'activator: target change listener threw');
      }
    }
  }
}

/** The one call the reporter makes (KubeClient satisfies it). */
export interface StatusWriter {
  apply(type: typeof RESOURCES.lfmDeployment, obj: KubeObject, fieldManager: string, options: { force?: boolean; subresource?: string }): Promise<unknown>;
}

export interface StatusReporterOptions {
  client: StatusWriter;
  /** This activator's pod name: its list item and its field manager lfm-activator/POD. */
  pod: string;
  log: Logger;
  /** Milliseconds; default Date.now. */
  now?: () => number;
  /** Fewest milliseconds between two writes of one deployment's entry (the first held request is written at once). Default 1000. */
  minIntervalMs?: number;
  /** While it holds requests, the entry is rewritten this often (a new heartbeat). Default 5000. */
  heartbeatMs?: number;
  /** Backoff after a failed write: 1 s, doubling, at most 10 s. */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/** One deployment's entry: the counts last reported, last written, and the write machinery. */
interface EntryState {
  readonly namespace: string;
  readonly name: string;
  wanted: HeldCounts;
  /** The counts of the last successful write; undefined before the first. */
  written?: HeldCounts;
  /** When the last write started (ms). */
  lastWriteAt: number;
  writing: boolean;
  timer?: NodeJS.Timeout;
  /** When the timer fires (ms). */
  timerAt?: number;
  failures: number;
}

const sameCounts = (a: HeldCounts | undefined, b: HeldCounts) => a !== undefined && a.held === b.held && a.refused === b.refused && a.expired === b.expired;

/**
 * Writes this activator's entry of status.activation.activators for each deployment it holds requests for: the first
 * held request at once (the autoscaler scales up on it), later changes at most once per minIntervalMs, a new
 * heartbeat every heartbeatMs while requests are held, and the change back to zero held (the entry stays, with its
 * counts). Writes of one deployment never overlap; a failed one is retried with backoff; a 404 (the deployment is
 * gone) forgets the deployment. Nothing is written before the first report.
 */
export class StatusReporter implements HeldReporter {
  readonly fieldManager: string;
  private readonly states = new Map<string, EntryState>();
  private readonly now: () => number;
  private readonly minIntervalMs: number;
  private readonly heartbeatMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private heartbeat: number;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: StatusReporterOptions) {
    this.fieldManager = `lfm-activator/${options.pod}`;
    this.now = options.now ?? Date.now;
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.backoffInitialMs = options.backoffInitialMs ?? 1000;
    this.backoffMaxMs = options.backoffMaxMs ?? 10_000;
    // Seconds since the epoch, then +1 per write: it changes with every write, also across restarts of this pod.
    this.heartbeat = Math.floor(this.now() / 1000);
  }

  report(namespace: string, name: string, counts: HeldCounts): void {
    try {
      if (this.stopped) return;
      const key = `${namespace}/${name}`;
      let s = this.states.get(key);
      if (!s) {
        s = { namespace, name, wanted: { ...counts }, lastWriteAt: -Infinity, writing: false, failures: 0 };
        this.states.set(key, s);
      }
      s.wanted = { held: counts.held, refused: counts.refused, expired: counts.expired };
      this.schedule(s);
    } catch (err) {
      this.options.log.warn({ err }, 'activator: status report failed');
    }
  }

  /** The entry's counts as last written (for tests and logs). */
  written(namespace: string, name: string): HeldCounts | undefined {
    return this.states.get(`${namespace}/${name}`)?.written;
  }

  /** Writes every entry whose last write differs from its counts now, waiting for writes under way; cancels the timers. */
  async flush(): Promise<void> {
    for (const s of this.states.values()) this.clearTimer(s);
    await Promise.allSettled([...this.inFlight]);
    const pending = [...this.states.values()].filter((s) => !sameCounts(s.written, s.wanted));
    await Promise.allSettled(pending.map((s) => this.write(s)));
    for (const s of this.states.values()) this.clearTimer(s);
  }

  /** Final writes (one attempt each, within timeoutMs), then no more: later reports are ignored and no timer is left. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    await Promise.race([this.flush(), deadline]);
    clearTimeout(timer);
    for (const s of this.states.values()) this.clearTimer(s);
  }

  /** Whether the entry must be written without waiting out minIntervalMs: the first held request after none. */
  private urgent(s: EntryState): boolean {
    return s.wanted.held > 0 && (s.written?.held ?? 0) === 0 && s.failures === 0;
  }

  /** Sets the entry's timer for its next write, if it needs one (an earlier timer wins). */
  private schedule(s: EntryState): void {
    if (this.stopped || s.writing) return;
    const at = this.nextWriteAt(s);
    if (at === undefined) {
      this.clearTimer(s);
      return;
    }
    if (s.timer && s.timerAt !== undefined && s.timerAt <= at) return;
    this.clearTimer(s);
    s.timerAt = at;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      s.timerAt = undefined;
      void this.write(s);
    }, Math.max(0, at - this.now()));
  }

  /** When the entry is next due (ms), or undefined when it is written as it stands and holds nothing. */
  private nextWriteAt(s: EntryState): number | undefined {
    if (s.failures > 0) {
      return s.lastWriteAt + Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** (s.failures - 1));
    }
    if (!sameCounts(s.written, s.wanted)) return this.urgent(s) ? this.now() : s.lastWriteAt + this.minIntervalMs;
    if (s.wanted.held > 0) return s.lastWriteAt + this.heartbeatMs;
    return undefined;
  }

  private clearTimer(s: EntryState): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    s.timerAt = undefined;
  }

  private write(s: EntryState): Promise<void> {
    if (s.writing) return Promise.resolve();
    const p = this.apply(s).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  private async apply(s: EntryState): Promise<void> {
    s.writing = true;
    s.lastWriteAt = this.now();
    const counts = { ...s.wanted };
    this.heartbeat = Math.max(this.heartbeat + 1, Math.floor(this.now() / 1000));
    const entry = { name: this.options.pod, ...counts, heartbeat: this.heartbeat };
    try {
      await this.options.client.apply(RESOURCES.lfmDeployment, {
        apiVersion: `${RESOURCES.lfmDeployment.group}/${RESOURCES.lfmDeployment.version}`,
        kind: RESOURCES.lfmDeployment.kind,
        metadata: { name: s.name, namespace: s.namespace },
        status: { activation: { activators: [entry] } },
      }, this.fieldManager, { force: true, subresource: 'status' });
      if (s.failures > 0) this.options.log.info({ namespace: s.namespace, name: s.name, failures: s.failures }, 'activator: status.activation written again');
      s.failures = 0;
      s.written = counts;
      this.options.log.debug({ namespace: s.namespace, name: s.name, entry }, 'activator: wrote status.activation');
    } catch (err) {
      if (isNotFound(err)) {
        this.options.log.info({ namespace: s.namespace, name: s.name }, 'activator: the LfmDeployment is gone; forgetting it');
        this.clearTimer(s);
        if (this.states.get(`${s.namespace}/${s.name}`) === s) this.states.delete(`${s.namespace}/${s.name}`);
        s.writing = false;
        return;
      }
      s.failures++;
      if (s.failures === 1) this.options.log.warn({ namespace: s.namespace, name: s.name, err: (err as Error).message }, 'activator: writing status.activation failed; retrying with backoff');
    }
    s.writing = false;
    this.schedule(s);
  }
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];

export interface ActivatorFlags {
  kubeconfig?: string;
  listen: string;
  logLevel: string;
  identity: string;
  namespaces: string[];
}

/** Flags (commander's camelCase names) and environment to the activator's settings, or the problem with them. */
export function parseActivatorFlags(flags: Record<string, unknown>, env: Record<string, string | undefined>, random: () => string): { ok: true; flags: ActivatorFlags } | { ok: false; message: string } {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const logLevel = str(flags['logLevel']) ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) return { ok: false, message: `--log-level: must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}` };
  const listen = str(flags['listen']) ?? ':8080';
  if (!/^(\[[0-9a-fA-F:]+\]|[0-9.]*|[A-Za-z0-9.-]*):\d{1,5}$/.test(listen)) return { ok: false, message: `--listen: must be HOST:PORT (":8080" for all interfaces), got ${JSON.stringify(listen)}` };
  const namespaces = (str(flags['namespaces']) ?? env['LFM_OPERATOR_NAMESPACES'] ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  const kubeconfig = str(flags['kubeconfig']) ?? (env['KUBECONFIG']?.split(':')[0] || undefined);
  const identity = env['POD_NAME'] || env['HOSTNAME'] || `activator-${random()}`;
  return { ok: true, flags: { ...(kubeconfig ? { kubeconfig } : {}), listen, logLevel, identity, namespaces } };
}

/**
 * `lfm-operator activator`: informers, the HTTP core and the status reporter; on SIGTERM or SIGINT the held requests
 * are answered 503, the final counts written, and the process exits 0.
 */
export async function runActivator(rawFlags: Record<string, unknown>): Promise<void> {
  const parsed = parseActivatorFlags(rawFlags, process.env, () => randomBytes(4).toString('hex'));
  if (!parsed.ok) {
    process.stderr.write(`error: invalid configuration: ${parsed.message}\n`);
    process.exit(2);
  }
  const flags = parsed.flags;
  const log = createLogger(flags.logLevel).child({ component: 'activator', pod: flags.identity });
  const client = KubeClient.fromKubeconfig(flags.kubeconfig);
  const targets = new KubeTargetSource({ client, namespaces: flags.namespaces, log });
  const reporter = new StatusReporter({ client, pod: flags.identity, log });
  const server = new ActivatorServer({ targets, reporter, log });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'activator shutting down');
    const done = async () => {
      await server.close();
      await reporter.stop();
      await targets.stop();
    };
    done().then(() => process.exit(0), (err: Error) => {
      log.error({ err: err.message }, 'unclean shutdown');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  log.info({ identity: flags.identity, namespaces: flags.namespaces.length ? flags.namespaces : 'all' }, 'starting lfm-operator activator');
  targets.start();
  const address = await server.listen(flags.listen);
  log.info({ address }, 'activator listening');
  await targets.waitForSync();
  log.info({}, 'activator caches synced');
}
