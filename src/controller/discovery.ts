// Which optional kinds of the request path (InferencePool, InferenceObjective, HTTPRoute) the API server serves, by
// API discovery (GET /apis/GROUP/VERSION), cached: refreshed on demand once older than refreshMs, and at the next
// demand after invalidate() (an apply that found no such resource). I/O only in the reader; the rest is pure.
import { ApiError, type KubeClient } from '../kube/client.js';
import { ROUTING_KINDS, type RoutingKind } from '../render/routing.js';

/** Whether the API server serves each optional kind. */
export type KindAvailability = Readonly<Record<RoutingKind, boolean>>;

/** The resources one group-version serves (APIResourceList.resources[].name), or undefined when it is not served. */
export type ReadGroupVersion = (group: string, version: string) => Promise<readonly string[] | undefined>;

const ROUTING_KIND_NAMES = Object.keys(ROUTING_KINDS) as RoutingKind[];
const groupVersion = (kind: RoutingKind): string => `${ROUTING_KINDS[kind].group}/${ROUTING_KINDS[kind].version}`;

/** Discovery through the REST client. Every authenticated user may read it (ClusterRole system:discovery). */
export function readGroupVersionWith(client: Pick<KubeClient, 'send'>): ReadGroupVersion {
  return async (group, version) => {
    const path = `/apis/${group}/${version}`;
    const res = await client.send('GET', path);
    // 404: no such group-version (its CRD is not installed, or installed without this version).
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, String(res.status), `GET ${path}: ${res.status} ${res.text.slice(0, 300)}`);
    return ((res.body as { resources?: { name?: string }[] } | undefined)?.resources ?? []).map((r) => r.name ?? '');
  };
}

/** Each kind is served when its group-version lists its plural (a subresource such as inferencepools/status is not it). */
export function computeKindAvailability(served: ReadonlyMap<string, readonly string[] | undefined>): KindAvailability {
  return Object.fromEntries(ROUTING_KIND_NAMES.map((kind) => [kind, served.get(groupVersion(kind))?.includes(ROUTING_KINDS[kind].plural) === true])) as Record<RoutingKind, boolean>;
}

/** The kinds the children need that the cluster lacks, in ROUTING_KINDS order. */
export function findMissingKinds(children: readonly { needs: readonly RoutingKind[] }[], available: KindAvailability): RoutingKind[] {
  const needed = new Set(children.flatMap((c) => c.needs));
  return ROUTING_KIND_NAMES.filter((kind) => needed.has(kind) && !available[kind]);
}

const sameAvailability = (a: KindAvailability | undefined, b: KindAvailability): boolean => a !== undefined && ROUTING_KIND_NAMES.every((k) => a[k] === b[k]);

export interface RoutingDiscoveryOptions {
  /** How long an answer is used before the next demand refreshes it, in milliseconds. Default 30000. */
  refreshMs?: number;
  /** Milliseconds on a monotonic-enough clock. Default Date.now. */
  now?: () => number;
  /** A refresh failed; the previous answer, if any, is kept until the next refresh. */
  onError?: (err: unknown) => void;
}

export class RoutingDiscovery {
  private value?: KindAvailability;
  private at = -Infinity;
  private inflight?: Promise<KindAvailability>;
  private readonly handlers: ((now: KindAvailability, before: KindAvailability | undefined) => void)[] = [];
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(private readonly read: ReadGroupVersion, private readonly options: RoutingDiscoveryOptions = {}) {
    this.refreshMs = options.refreshMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** The last answer, without I/O (undefined before the first refresh succeeded). */
  known(): KindAvailability | undefined {
    return this.value;
  }

  /** Called after a refresh whose answer differs from the previous one (and after the first). */
  onChange(handler: (now: KindAvailability, before: KindAvailability | undefined) => void): void {
    this.handlers.push(handler);
  }

  /** The answer, refreshed first when it is older than refreshMs or was invalidated. */
  current(): Promise<KindAvailability> {
    if (this.value && this.now() - this.at < this.refreshMs) return Promise.resolve(this.value);
    return this.refresh();
  }

  /** The next current() asks the API server again (after an apply answered 404: the CRD may be gone). */
  invalidate(): void {
    this.at = -Infinity;
  }

  /**
   * Asks the API server now; concurrent callers share one round of requests. On failure the previous answer stands
   * (until refreshMs later); without one, the error is thrown.
   */
  refresh(): Promise<KindAvailability> {
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<KindAvailability> {
    const versions = [...new Set(ROUTING_KIND_NAMES.map((k) => ROUTING_KINDS[k]))].map((t) => ({ group: t.group, version: t.version }));
    try {
      const answers = await Promise.all(versions.map(async (v) => [`${v.group}/${v.version}`, await this.read(v.group, v.version)] as const));
      const next = computeKindAvailability(new Map(answers));
      const before = this.value;
      this.value = next;
      this.at = this.now();
      if (!sameAvailability(before, next)) for (const h of this.handlers) h(next, before);
      return next;
    } catch (err) {
      this.options.onError?.(err);
      if (!this.value) throw err;
      this.at = this.now();
      return this.value;
    }
  }
}
