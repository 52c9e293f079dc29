// The only place that talks to the API server: a small REST client over node:https with the credentials of a
// @kubernetes/client-node KubeConfig. It speaks server-side apply (also on subresources such as /status, which the
// generated client makes awkward) and streams watches; it holds no cache and makes no decisions. Every request but a
// watch has a deadline, and is sent again when the server answers 429 or 5xx with Retry-After (as client-go does).
import https from 'node:https';
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { decideRetry } from './retry-after.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string;
    creationTimestamp?: string;
    managedFields?: { manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }[];
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface KubeList<T> { metadata: { resourceVersion: string; continue?: string }; items: T[] }

export class ApiError extends Error {
  constructor(readonly status: number, readonly reason: string, message: string, readonly body?: unknown) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A request that got no complete answer within the client's request timeout (never raised by a watch). */
export class RequestTimeoutError extends Error {
  constructor(readonly method: string, readonly path: string, readonly timeoutMs: number, readonly lastStatus?: number) {
    super(`${method} ${path}: timed out after ${timeoutMs} ms (client request timeout)${lastStatus ? `; the last answer was ${lastStatus}` : ''}`);
    this.name = 'RequestTimeoutError';
  }
}

export const isNotFound = (e: unknown) => e instanceof ApiError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof ApiError && e.status === 409;
export const isGone = (e: unknown) => e instanceof ApiError && e.status === 410;
export const isRequestTimeout = (e: unknown) => e instanceof RequestTimeoutError;

/** A resource type: where its objects live on the API server. */
export interface ResourceType { group: string; version: string; plural: string; kind: string; namespaced: boolean }

export const RESOURCES = {
  lfmDeployment: { group: 'serving.lfm-operator.io', version: 'v1alpha1', plural: 'lfmdeployments', kind: 'LfmDeployment', namespaced: true },
  deployment: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  service: { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  podDisruptionBudget: { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: true },
  pod: { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  event: { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true },
  lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true },
  node: { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false },
  endpointSlice: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
} as const satisfies Record<string, ResourceType>;

export function buildPath(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const n = name ? `/${encodeURIComponent(name)}` : '';
  return `${base}${ns}/${type.plural}${n}${subresource ? `/${subresource}` : ''}`;
}

type Query = Record<string, string | number | boolean | undefined>;

function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** The request body as sent (objects as JSON) and its content type (JSON unless told). */
function buildPayload(body: unknown, contentType: string | undefined): { body?: string; contentType?: string } {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const type = contentType ?? (text !== undefined ? 'application/json' : undefined);
  return { ...(text !== undefined ? { body: text } : {}), ...(type ? { contentType: type } : {}) };
}

/**
 * The query with the server's own deadline for this attempt, the time the client has left: client-go sends
 * ?timeout= too, so the server stops working on a request nobody waits for. A caller's own timeout parameter wins.
 */
function withServerTimeout(query: Query | undefined, remainingMs: number): Query {
  if (query?.['timeout'] !== undefined) return query;
  return { ...query, timeout: `${Math.max(1, Math.ceil(remainingMs))}ms` };
}

/** One call's deadline on the client's clock: aborts its signal when the time is up (never, for timeoutMs 0). */
class RequestDeadline {
  private readonly abort = new AbortController();
  private readonly at: number;
  private readonly timer: unknown;
  /** The status of the last answer, for the timeout's message. */
  lastStatus?: number;

  constructor(private readonly clock: Clock, private readonly method: string, private readonly path: string, readonly timeoutMs: number) {
    this.at = timeoutMs > 0 ? clock.now() + timeoutMs : Infinity;
    this.timer = timeoutMs > 0 ? clock.setTimeout(() => this.abort.abort(this.timeoutError()), timeoutMs) : undefined;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  remainingMs(): number {
    return this.at - this.clock.now();
  }

  /** The error to raise for err: past the deadline, the timeout (the transport's abort error says less). */
  explain(err: unknown): unknown {
    return this.abort.signal.aborted ? this.timeoutError() : err;
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
  }

  private timeoutError(): RequestTimeoutError {
    return new RequestTimeoutError(this.method, this.path, this.timeoutMs, this.lastStatus);
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

export interface WatchEvent<T> { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: T }

export interface RequestCounter { (method: string, path: string, status: number): void }

/** The client's timers. controller/workqueue's Clock has this shape, so one fake clock drives both in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** One HTTP exchange as the client sends it: path with its query; the response body read whole. */
export interface TransportRequest { method: string; path: string; body?: string; contentType?: string; signal: AbortSignal }
export interface TransportResponse { status: number; headers: Record<string, string | string[] | undefined>; text: string }
/** Sends one request, rejects only on transport errors (or when signal aborts). Default: node:http(s) to the kubeconfig's server. */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

export interface KubeClientOptions {
  /**
   * requestTimeoutMs: the deadline of every request but a watch, in milliseconds, covering all its attempts and
   * Retry-After waits (client-go's rest.Config.Timeout, which also bounds the retry loop); also sent to the server as
   * `?timeout=` so it stops working on an abandoned request, as client-go does. 0 disables it. Default 30000:
   * client-go and kubectl default to none, which leaves a request on a half-open connection (apiserver failover, a
   * dropped NAT entry) hanging forever; the API server itself gives up on non-watch requests after 60 s
   * (kube-apiserver --request-timeout), so 30 s is long for any answer that is still coming. Watches are exempt: the
   * server ends them after their timeoutSeconds.
   */
  requestTimeoutMs?: number;
  /** maxRetries: how many times a request answered 429 or 5xx with Retry-After is sent again. Default 10 (client-go's rest.Request). */
  maxRetries?: number;
  /** clock: measures the deadline and the Retry-After waits, and the credentials' age. Default: the system clock. */
  clock?: Clock;
  /** transport: sends one non-watch request. Default: node:https (or http) with the kubeconfig's credentials. */
  transport?: Transport;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 10;

export class KubeClient {
  private readonly server: URL;
  private readonly agent: https.Agent | http.Agent;
  private baseOptions?: https.RequestOptions;
  private optionsAt = 0;
  private readonly clock: Clock;
  private readonly transport: Transport;
  readonly requestTimeoutMs: number;
  readonly maxRetries: number;
  /** Called after every request, each retry included (the operator's metrics count them). */
  onRequest?: RequestCounter;

  constructor(readonly kubeConfig: KubeConfig, readonly userAgent = 'lfm-operator', options: KubeClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.agent = this.server.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 32 }) : new http.Agent({ keepAlive: true, maxSockets: 32 });
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!Number.isFinite(this.requestTimeoutMs) || this.requestTimeoutMs < 0) throw new Error(`requestTimeoutMs must be a finite number ≥ 0, got ${this.requestTimeoutMs}`);
    // client-go's MaxRetries: a negative value means no retries.
    this.maxRetries = Math.max(0, Math.floor(options.maxRetries ?? DEFAULT_MAX_RETRIES));
    this.clock = options.clock ?? systemClock;
    this.transport = options.transport ?? ((request) => this.exchange(request));
  }

  static fromKubeconfig(path?: string, options: KubeClientOptions = {}): KubeClient {
    const kc = new KubeConfig();
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
    return new KubeClient(kc, undefined, options);
  }

  private async options(): Promise<https.RequestOptions> {
    // Credentials are re-read every minute: in-cluster ServiceAccount tokens rotate on disk.
    const now = this.clock.now();
    if (!this.baseOptions || now - this.optionsAt > 60_000) {
      const opts: https.RequestOptions = { headers: {} };
      await this.kubeConfig.applyToHTTPSOptions(opts);
      this.baseOptions = opts;
      this.optionsAt = now;
    }
    return this.baseOptions;
  }

  private async open(method: string, path: string, body: string | undefined, contentType: string | undefined, signal?: AbortSignal): Promise<http.IncomingMessage> {
    const base = await this.options();
    const transport = this.server.protocol === 'https:' ? https : http;
    const prefix = this.server.pathname.replace(/\/$/, '');
    return new Promise((resolve, reject) => {
      const req = transport.request({
        ...base,
        agent: this.agent,
        protocol: this.server.protocol,
        hostname: this.server.hostname,
        port: this.server.port,
        method,
        path: `${prefix}${path}`,
        headers: {
          ...base.headers,
          Accept: 'application/json',
          'User-Agent': this.userAgent,
          ...(contentType ? { 'Content-Type': contentType } : {}),
          ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}),
        },
        ...(signal ? { signal } : {}),
      }, resolve);
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  /** The default transport: one exchange over the agent, body read whole. */
  private async exchange(request: TransportRequest): Promise<TransportResponse> {
    const res = await this.open(request.method, request.path, request.body, request.contentType, request.signal);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
  }

  /** Waits ms on the client's clock; rejects with the signal's reason if it aborts first. */
  private wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const onAbort = () => {
        this.clock.clearTimeout(handle);
        reject(signal.reason as Error);
      };
      const handle = this.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Sends a request and answers whatever the server said (the caller judges the status); rejects only on transport
   * errors and with RequestTimeoutError past the deadline. A 429 or 5xx with Retry-After is sent again after waiting
   * (decideRetry); the last answer is returned. timeoutMs overrides the client's requestTimeoutMs for this call.
   */
  async send(method: string, path: string, options: { query?: Query; body?: unknown; contentType?: string; timeoutMs?: number } = {}): Promise<{ status: number; text: string; body: unknown }> {
    const payload = buildPayload(options.body, options.contentType);
    const deadline = new RequestDeadline(this.clock, method, path, options.timeoutMs ?? this.requestTimeoutMs);
    try {
      for (let retries = 0; ; retries++) {
        const query = deadline.timeoutMs > 0 ? withServerTimeout(options.query, deadline.remainingMs()) : options.query;
        const res = await this.transport({ method, path: `${path}${buildQuery(query)}`, ...payload, signal: deadline.signal });
        deadline.lastStatus = res.status;
        this.onRequest?.(method, path, res.status);
        const decision = decideRetry({ status: res.status, retryAfter: res.headers['retry-after'], retries, maxRetries: this.maxRetries, msUntilDeadline: deadline.remainingMs() });
        if (!decision.retry) return { status: res.status, text: res.text, body: parseJson(res.text) };
        await this.wait(decision.waitMs, deadline.signal);
      }
    } catch (err) {
      throw deadline.explain(err);
    } finally {
      deadline.stop();
    }
  }

  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown; contentType?: string; timeoutMs?: number } = {}): Promise<T> {
    const { status, text, body } = await this.send(method, path, options);
    if (status < 200 || status >= 300) {
      const s = body as { reason?: string; message?: string } | undefined;
      throw new ApiError(status, s?.reason ?? String(status), `${method} ${path}: ${status} ${s?.message ?? text.slice(0, 500)}`, body);
    }
    return (body ?? text) as T;
  }

  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>('GET', buildPath(type, namespace, name));
  }

  list<T extends KubeObject>(type: ResourceType, options: { namespace?: string; labelSelector?: string; resourceVersion?: string; limit?: number; continue?: string } = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>('GET', buildPath(type, options.namespace), {
      query: { labelSelector: options.labelSelector, resourceVersion: options.resourceVersion, limit: options.limit, continue: options.continue },
    });
  }

  /** Server-side apply: the object as this field manager wants it. */
  apply<T extends KubeObject>(type: ResourceType, obj: KubeObject, fieldManager: string, options: { force?: boolean; subresource?: string } = {}): Promise<T> {
    const path = buildPath(type, obj.metadata?.namespace, obj.metadata?.name, options.subresource);
    return this.request<T>('PATCH', path, {
      query: { fieldManager, force: options.force ?? true, fieldValidation: 'Strict' },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  create<T extends KubeObject>(type: ResourceType, obj: KubeObject, query?: Query): Promise<T> {
    return this.request<T>('POST', buildPath(type, obj.metadata?.namespace), { body: obj, ...(query ? { query } : {}) });
  }

  update<T extends KubeObject>(type: ResourceType, obj: KubeObject, fieldManager: string): Promise<T> {
    return this.request<T>('PUT', buildPath(type, obj.metadata?.namespace, obj.metadata?.name), { body: obj, query: { fieldManager } });
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string, options: { uid?: string; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {}): Promise<void> {
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', ...(options.uid ? { preconditions: { uid: options.uid } } : {}), propagationPolicy: options.propagationPolicy ?? 'Background' };
    await this.request('DELETE', buildPath(type, namespace, name), { body });
  }

  /**
   * Streams a watch from resourceVersion; resolves when the server or the signal closes it. Errors (including 410
   * Gone as an ERROR event) are thrown so the caller can relist. The request timeout does not apply: the server ends
   * the watch after timeoutSeconds (default 300), and the informer's backoff, not Retry-After, paces a failed one.
   */
  async watch<T extends KubeObject>(type: ResourceType, options: { namespace?: string; labelSelector?: string; resourceVersion: string; timeoutSeconds?: number; signal?: AbortSignal }, onEvent: (e: WatchEvent<T>) => void): Promise<void> {
    const path = buildPath(type, options.namespace) + buildQuery({
      watch: true, labelSelector: options.labelSelector, resourceVersion: options.resourceVersion,
      allowWatchBookmarks: true, timeoutSeconds: options.timeoutSeconds ?? 300,
    });
    const res = await this.open('GET', path, undefined, undefined, options.signal);
    if ((res.statusCode ?? 0) !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      throw new ApiError(res.statusCode ?? 0, 'WatchFailed', `watch ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
    }
    let buffer = '';
    for await (const chunk of res) {
      buffer += (chunk as Buffer).toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') {
          const status = event.object as unknown as { code?: number; reason?: string; message?: string };
          throw new ApiError(status.code ?? 500, status.reason ?? 'WatchError', status.message ?? 'watch error');
        }
        onEvent(event);
      }
    }
  }
}
