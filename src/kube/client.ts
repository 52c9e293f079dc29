// The only place that talks to the API server: a small REST client over node:https with the credentials of a
// @kubernetes/client-node KubeConfig. It speaks server-side apply (also on subresources such as /status, which the
// generated client makes awkward) and streams watches; it holds no cache and makes no decisions.
import https from 'node:https';
import http from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';

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

export const isNotFound = (e: unknown) => e instanceof ApiError && e.status === 404;
export const isConflict = (e: unknown) => e instanceof ApiError && e.status === 409;
export const isGone = (e: unknown) => e instanceof ApiError && e.status === 410;

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

export interface WatchEvent<T> { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: T }

export interface RequestCounter { (method: string, path: string, status: number): void }

export class KubeClient {
  private readonly server: URL;
  private readonly agent: https.Agent | http.Agent;
  private baseOptions?: https.RequestOptions;
  private optionsAt = 0;
  /** Called after every request (the operator's metrics count them). */
  onRequest?: RequestCounter;

  constructor(readonly kubeConfig: KubeConfig, readonly userAgent = 'lfm-operator') {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.agent = this.server.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 32 }) : new http.Agent({ keepAlive: true, maxSockets: 32 });
  }

  static fromKubeconfig(path?: string): KubeClient {
    const kc = new KubeConfig();
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
    return new KubeClient(kc);
  }

  private async options(): Promise<https.RequestOptions> {
    // Credentials are re-read every minute: in-cluster ServiceAccount tokens rotate on disk.
    const now = Date.now();
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

  /** Sends a request and answers whatever the server said (the caller judges the status); rejects only on transport errors. */
  async send(method: string, path: string, options: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<{ status: number; text: string; body: unknown }> {
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const res = await this.open(method, `${path}${buildQuery(options.query)}`, body, options.contentType ?? (body !== undefined ? 'application/json' : undefined));
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = res.statusCode ?? 0;
    this.onRequest?.(method, path, status);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status, text, body: parsed };
  }

  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<T> {
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
   * Gone as an ERROR event) are thrown so the caller can relist.
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
