// An informer: list, then watch from the list's resourceVersion, keeping a cache keyed by namespace/name and calling
// handlers on changes. Unlike @kubernetes/client-node's informer it never stops: 410 Gone relists, any other error
// restarts the list-watch after an exponential backoff with jitter (client-go's reflector behaviour).
import type { KubeList, KubeObject, ResourceType, WatchEvent } from '../kube/client.js';
import { isGone } from '../kube/client.js';
import { LABEL_DEPLOYMENT as POD_SELECTOR_LABEL } from '../render/children.js';
import { LABEL_ENDPOINT_PICKER } from '../render/routing.js';

export type InformerEvent = 'add' | 'update' | 'delete';

/** The two API calls an informer makes. KubeClient satisfies it; unit tests pass an in-memory one. */
export interface ListWatch<T extends KubeObject> {
  list(type: ResourceType, options: { namespace?: string; labelSelector?: string; limit?: number; continue?: string }): Promise<KubeList<T>>;
  watch(type: ResourceType, options: { namespace?: string; labelSelector?: string; resourceVersion: string; signal?: AbortSignal }, onEvent: (e: WatchEvent<T>) => void): Promise<void>;
}

/** The delay in milliseconds before restarting after the attempt-th consecutive failure (attempt ≥ 1). */
export type Backoff = (attempt: number) => number;

/** Waits ms, or less if the signal aborts first; never rejects. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface InformerOptions<T extends KubeObject = KubeObject> {
  namespace?: string;
  labelSelector?: string;
  /** Backoff after a failed list or watch: initial and maximum, in milliseconds (default 500 and 30000). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  onError?: (err: unknown, attempt: number) => void;
  random?: () => number;
  /** Replaces the default exponentialBackoff built from backoffInitialMs, backoffMaxMs and random. */
  backoff?: Backoff;
  /** Default: a timer cancelled by the informer's stop(). */
  sleep?: Sleep;
  /** Applied to every object before it is cached (client-go's SetTransform): drop what is never read. */
  transform?: (obj: T) => T;
}

/** delay(attempt) = min(maxMs, initialMs × 2^(attempt−1)) × (0.5 + random()): full doubling with ±50 % jitter. */
export function exponentialBackoff(o: { initialMs: number; maxMs: number; random: () => number }): Backoff {
  return (attempt) => Math.min(o.maxMs, o.initialMs * 2 ** (attempt - 1)) * (0.5 + o.random());
}

const sleepUnlessAborted: Sleep = (ms, signal) => new Promise<void>((resolve) => {
  const done = () => {
    clearTimeout(t);
    signal.removeEventListener('abort', done);
    resolve();
  };
  const t = setTimeout(done, ms);
  signal.addEventListener('abort', done, { once: true });
});

/**
 * Cache transform: drops managedFields (the bulk of most objects) except whether each Apply manager owns
 * spec.replicas, and kubectl's last-applied annotation. Nothing the operator reads is lost.
 */
export function stripForCache<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata;
  if (!meta) return obj;
  const managedFields = meta.managedFields
    ?.filter((f) => f.operation === 'Apply' && !f.subresource)
    .map((f) => {
      const replicas = (f.fieldsV1 as { 'f:spec'?: { 'f:replicas'?: unknown } } | undefined)?.['f:spec']?.['f:replicas'];
      return { manager: f.manager, operation: f.operation, fieldsV1: replicas === undefined ? {} : { 'f:spec': { 'f:replicas': {} } } };
    });
  const annotations = meta.annotations && 'kubectl.kubernetes.io/last-applied-configuration' in meta.annotations
    ? Object.fromEntries(Object.entries(meta.annotations).filter(([k]) => k !== 'kubectl.kubernetes.io/last-applied-configuration'))
    : meta.annotations;
  return { ...obj, metadata: { ...meta, managedFields, ...(annotations ? { annotations } : {}) } };
}

export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ''}` : (obj.metadata?.name ?? '');
}

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: ((event: InformerEvent, obj: T, old?: T) => void)[] = [];
  private readonly abort = new AbortController();
  private resourceVersion = '';
  private synced = false;
  private syncedWaiters: (() => void)[] = [];
  private running?: Promise<void>;

  constructor(private readonly client: ListWatch<T>, readonly type: ResourceType, private readonly options: InformerOptions<T> = {}) {}

  on(handler: (event: InformerEvent, obj: T, old?: T) => void): void {
    this.handlers.push(handler);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => undefined);
  }

  private emit(event: InformerEvent, obj: T, old?: T): void {
    for (const h of this.handlers) h(event, obj, old);
  }

  private async relist(): Promise<void> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv: string;
    do {
      const page = await this.client.list(this.type, { namespace: this.options.namespace, labelSelector: this.options.labelSelector, limit: 500, continue: cont });
      for (const item of page.items) {
        // List items carry no apiVersion/kind; restore them so handlers see whole objects.
        item.apiVersion ??= this.type.group ? `${this.type.group}/${this.type.version}` : this.type.version;
        item.kind ??= this.type.kind;
        fresh.set(objectKey(item), this.options.transform ? this.options.transform(item) : item);
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    for (const [key, old] of this.store) {
      if (!fresh.has(key)) {
        this.store.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, old);
    }
    this.resourceVersion = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncedWaiters.splice(0)) w();
    }
  }

  private async run(): Promise<void> {
    const backoff = this.options.backoff ?? exponentialBackoff({
      initialMs: this.options.backoffInitialMs ?? 500, maxMs: this.options.backoffMaxMs ?? 30_000, random: this.options.random ?? Math.random,
    });
    const sleep = this.options.sleep ?? sleepUnlessAborted;
    let attempt = 0;
    let needList = true;
    while (!this.abort.signal.aborted) {
      try {
        if (needList) await this.relist();
        needList = false;
        attempt = 0;
        await this.client.watch(this.type, {
          namespace: this.options.namespace, labelSelector: this.options.labelSelector,
          resourceVersion: this.resourceVersion, signal: this.abort.signal,
        }, (e) => {
          const rv = e.object.metadata?.resourceVersion;
          if (rv) this.resourceVersion = rv;
          if (e.type === 'BOOKMARK') return;
          const obj = this.options.transform ? this.options.transform(e.object) : e.object;
          const key = objectKey(obj);
          const old = this.store.get(key);
          if (e.type === 'DELETED') {
            this.store.delete(key);
            this.emit('delete', obj);
          } else {
            this.store.set(key, obj);
            this.emit(old ? 'update' : 'add', obj, old);
          }
        });
      } catch (err) {
        if (this.abort.signal.aborted) return;
        needList = true;
        if (isGone(err)) continue;
        attempt++;
        this.options.onError?.(err, attempt);
        await sleep(backoff(attempt), this.abort.signal);
      }
    }
  }
}

/** The read side of an informer (or of several, one per watched namespace). */
export interface Cache<T extends KubeObject> {
  get(key: string): T | undefined;
  list(): T[];
  on(handler: (event: InformerEvent, obj: T, old?: T) => void): void;
}

/** One informer per watched namespace (or one for all), read as a single cache. */
export class InformerSet<T extends KubeObject> implements Cache<T> {
  readonly informers: Informer<T>[];

  constructor(client: ListWatch<T>, type: ResourceType, namespaces: readonly string[], options: InformerOptions<T> = {}) {
    const scopes = namespaces.length > 0 ? namespaces : [undefined];
    this.informers = scopes.map((namespace) => new Informer<T>(client, type, { ...options, ...(namespace ? { namespace } : {}) }));
  }

  get(key: string): T | undefined {
    for (const i of this.informers) {
      const v = i.get(key);
      if (v) return v;
    }
    return undefined;
  }

  list(): T[] {
    return this.informers.flatMap((i) => i.list());
  }

  on(handler: (event: InformerEvent, obj: T, old?: T) => void): void {
    for (const i of this.informers) i.on(handler);
  }

  start(): void {
    for (const i of this.informers) i.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.waitForSync()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

}

/** The pods of one LfmDeployment, by its selector label. */
export function listPodsOf<T extends KubeObject>(pods: Cache<T>, namespace: string, name: string): T[] {
  return pods.list().filter((p) => p.metadata?.namespace === namespace && p.metadata?.labels?.[POD_SELECTOR_LABEL] === name);
}

/**
 * The label on the pods of an LfmDeployment's endpoint picker (NAME-epp renders it with the LfmDeployment's name as
 * value). EPP pods never carry the deployment label, so the engine pods' cache (selected by that label) does not hold
 * them: the operator caches them apart, selected by this label.
 */
export { LABEL_ENDPOINT_PICKER };

/** The endpoint picker pods of one LfmDeployment, by their label. */
export function listEndpointPickerPodsOf<T extends KubeObject>(pods: Cache<T>, namespace: string, name: string): T[] {
  return pods.list().filter((p) => p.metadata?.namespace === namespace && p.metadata?.labels?.[LABEL_ENDPOINT_PICKER] === name);
}
