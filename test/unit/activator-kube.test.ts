import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { computeRetryAfterSeconds, computeTarget, KubeTargetSource, parseActivatorFlags, StatusReporter, type StatusWriter } from '../../src/activator/kube.js';
import type { ListWatch } from '../../src/controller/informer.js';
import { ApiError, RESOURCES, type KubeList, type KubeObject, type ResourceType, type WatchEvent } from '../../src/kube/client.js';
import { lfmDeployment } from '../support/builders.js';

const log = pino({ level: 'silent' });
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const zero = (name = 'llm') => lfmDeployment(name).namespace('team-a').quantization('FP8').autoscaling({
  enabled: true, minReplicas: 0, maxReplicas: 2, scaleToZero: { idleSeconds: 60, maxHeldRequests: 7, maxHoldSeconds: 30 },
}).input() as unknown as KubeObject;

function pod(name: string, o: { ip?: string; ready?: boolean; deleting?: boolean; owner?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'team-a', resourceVersion: '1', labels: { 'serving.lfm-operator.io/deployment': o.owner ?? 'llm' }, ...(o.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
    status: { ...(o.ip ? { podIP: o.ip } : {}), conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

describe('computeTarget', () => {
  it('lists the Ready pods with an IP that are not being deleted, on the engine\'s port, with the scaleToZero limits', () => {
    const pods = [pod('a', { ip: '10.0.0.2' }), pod('b', { ip: '10.0.0.1' }), pod('c', { ip: '10.0.0.3', ready: false }), pod('d'), pod('e', { ip: '10.0.0.5', deleting: true })];
    expect(computeTarget(zero(), pods)).toEqual({
      namespace: 'team-a', name: 'llm', maxHeldRequests: 7, maxHoldSeconds: 30, retryAfterSeconds: 60,
      endpoints: [{ ip: '10.0.0.1', port: 8000 }, { ip: '10.0.0.2', port: 8000 }],
    });
  });

  it('has no target without scaleToZero or with a spec that does not parse', () => {
    expect(computeTarget(lfmDeployment('llm').namespace('team-a').input() as unknown as KubeObject, [])).toBeUndefined();
    const broken = zero();
    (broken['spec'] as Record<string, unknown>)['unknownField'] = true;
    expect(computeTarget(broken, [])).toBeUndefined();
  });

  it('ignores a status it cannot parse (a newer operator\'s)', () => {
    const obj = { ...zero(), status: { somethingNew: 1, autoscaling: { coldStart: { p90Seconds: 12.2, held: 0, refused: 0, expired: 0 } } } };
    expect(computeTarget(obj, [])?.retryAfterSeconds).toBe(13);
  });

  it.each([
    ['p90 first', { coldStart: { p90Seconds: 41.2, lastSeconds: 10 }, learnedStartupSeconds: 5 }, 42],
    ['then the last', { coldStart: { lastSeconds: 10.01 }, learnedStartupSeconds: 5 }, 11],
    ['then the learned startup', { learnedStartupSeconds: 5 }, 5],
    ['else 60', {}, 60],
    ['at least 1', { coldStart: { p90Seconds: 0.2 } }, 1],
  ])('Retry-After: %s', (_name, autoscaling, expected) => {
    expect(computeRetryAfterSeconds({ autoscaling })).toBe(expected);
  });
});

/** LfmDeployments and pods in memory: lists are snapshots, watches are driven by the test. */
class MemoryApi implements ListWatch<KubeObject> {
  readonly objects = new Map<string, Map<string, KubeObject>>([['lfmdeployments', new Map()], ['pods', new Map()]]);
  readonly watches = new Map<string, (e: WatchEvent<KubeObject>) => void>();
  private rv = 10;

  async list(type: ResourceType): Promise<KubeList<KubeObject>> {
    return { metadata: { resourceVersion: String(this.rv) }, items: [...this.objects.get(type.plural)!.values()].map((o) => structuredClone(o)) };
  }

  watch(type: ResourceType, options: { signal?: AbortSignal }, onEvent: (e: WatchEvent<KubeObject>) => void): Promise<void> {
    this.watches.set(type.plural, onEvent);
    return new Promise((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
  }

  put(plural: string, obj: KubeObject, type: 'ADDED' | 'MODIFIED' | 'DELETED' = 'ADDED'): void {
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, resourceVersion: String(++this.rv) };
    if (type === 'DELETED') this.objects.get(plural)!.delete(o.metadata.name!);
    else this.objects.get(plural)!.set(o.metadata.name!, o);
    this.watches.get(plural)?.({ type, object: o });
  }
}

describe('KubeTargetSource', () => {
  it('is ready once both caches synced, and follows the deployment and its pods, notifying on each change', async () => {
    const api = new MemoryApi();
    api.objects.get('lfmdeployments')!.set('llm', zero());
    const source = new KubeTargetSource({ client: api, log });
    const changes: string[] = [];
    source.onChange((ns, name) => changes.push(`${ns}/${name}`));
    expect(source.ready()).toBe(false);
    source.start();
    await source.waitForSync();
    await settle();
    expect(source.ready()).toBe(true);
    expect(source.get('team-a', 'llm')?.endpoints).toEqual([]);
    expect(source.get('team-a', 'other')).toBeUndefined();

    api.put('pods', pod('p1', { ip: '10.0.0.9', ready: false }));
    expect(source.get('team-a', 'llm')?.endpoints).toEqual([]);
    api.put('pods', pod('p1', { ip: '10.0.0.9' }), 'MODIFIED');
    expect(source.get('team-a', 'llm')?.endpoints).toEqual([{ ip: '10.0.0.9', port: 8000 }]);
    api.put('pods', pod('p1', { ip: '10.0.0.9' }), 'DELETED');
    expect(source.get('team-a', 'llm')?.endpoints).toEqual([]);
    api.put('pods', pod('q1', { ip: '10.0.0.8', owner: 'other' }));
    expect(changes).toEqual(['team-a/llm', 'team-a/llm', 'team-a/llm', 'team-a/llm', 'team-a/other']);

    const withoutZero = lfmDeployment('llm').namespace('team-a').input() as unknown as KubeObject;
    api.put('lfmdeployments', withoutZero, 'MODIFIED');
    expect(source.get('team-a', 'llm')).toBeUndefined();
    await source.stop();
  });
});

describe('StatusReporter', () => {
  let writes: { at: number; entry: Record<string, unknown>; fieldManager: string; options: unknown; name: string }[];
  let failures: unknown[];
  let client: StatusWriter;
  const warn = vi.fn();
  const logger = { ...log, warn, info: () => undefined, debug: () => undefined } as unknown as typeof log;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    writes = [];
    failures = [];
    warn.mockClear();
    client = {
      apply: async (_type, obj, fieldManager, options) => {
        const err = failures.shift();
        if (err) throw err;
        const entry = (obj as { status: { activation: { activators: Record<string, unknown>[] } } }).status.activation.activators[0]!;
        writes.push({ at: Date.now() - 1_000_000, entry, fieldManager, options, name: obj.metadata!.name! });
        expect(obj).toMatchObject({ apiVersion: 'serving.lfm-operator.io/v1alpha1', kind: 'LfmDeployment', metadata: { name: obj.metadata!.name, namespace: 'ns' } });
        return obj;
      },
    };
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const reporter = () => new StatusReporter({ client, pod: 'act-1', log: logger });
  const counts = (held: number, refused = 0, expired = 0) => ({ held, refused, expired });
  const heldOf = () => writes.map((w) => [w.at, w.entry['held']]);

  it('writes nothing before a report, the first held request at once, then at most once per second', async () => {
    const r = reporter();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(writes).toEqual([]);
    r.report('ns', 'llm', counts(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ at: 10_000, fieldManager: 'lfm-activator/act-1', options: { force: true, subresource: 'status' }, entry: { name: 'act-1', held: 1, refused: 0, expired: 0 } });
    for (let held = 2; held <= 5; held++) r.report('ns', 'llm', counts(held));
    await vi.advanceTimersByTimeAsync(999);
    expect(writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(heldOf()).toEqual([[10_000, 1], [11_000, 5]]);
    await r.stop();
  });

  it('writes a held request at once after held went back to zero, even within a second of the last write', async () => {
    const r = reporter();
    r.report('ns', 'llm', counts(1));
    await vi.advanceTimersByTimeAsync(1000);
    r.report('ns', 'llm', counts(0));
    await vi.advanceTimersByTimeAsync(100);
    r.report('ns', 'llm', counts(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(heldOf()).toEqual([[0, 1], [1000, 0], [1100, 1]]);
    await r.stop();
  });

  it('rewrites a holding entry every 5 s with a new heartbeat, writes the change to zero held, and then stays quiet', async () => {
    const r = reporter();
    r.report('ns', 'llm', counts(2));
    await vi.advanceTimersByTimeAsync(12_000);
    expect(heldOf()).toEqual([[0, 2], [5000, 2], [10_000, 2]]);
    const beats = writes.map((w) => w.entry['heartbeat'] as number);
    expect(new Set(beats).size).toBe(3);
    expect([...beats].sort((a, b) => a - b)).toEqual(beats);
    r.report('ns', 'llm', counts(0, 1, 0));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(heldOf()).toEqual([[0, 2], [5000, 2], [10_000, 2], [12_000, 0]]);
    expect(writes.at(-1)!.entry).toMatchObject({ held: 0, refused: 1, expired: 0 });
    await r.stop();
  });

  it('retries a failed write with backoff, warning once per failure streak', async () => {
    const r = reporter();
    failures.push(new Error('boom'), new Error('boom'), new Error('boom'));
    r.report('ns', 'llm', counts(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(4000);
    expect(heldOf()).toEqual([[7000, 1]]);
    expect(warn).toHaveBeenCalledTimes(1);
    await r.stop();
  });

  it('forgets a deployment that is gone (404) and never throws from report()', async () => {
    const r = reporter();
    failures.push(new ApiError(404, 'NotFound', 'not found'));
    r.report('ns', 'gone', counts(1));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(writes).toEqual([]);
    expect(r.written('ns', 'gone')).toBeUndefined();
    const throwing = new StatusReporter({ client: { apply: () => { throw new Error('sync throw'); } }, pod: 'p', log: logger });
    expect(() => throwing.report('ns', 'llm', counts(1))).not.toThrow();
    await vi.advanceTimersByTimeAsync(0);
    await throwing.stop();
    await r.stop();
  });

  it('stop() writes the last counts at once and then ignores reports', async () => {
    const r = reporter();
    r.report('ns', 'llm', counts(3));
    await vi.advanceTimersByTimeAsync(100);
    r.report('ns', 'llm', counts(0, 0, 3));
    await r.stop();
    expect(heldOf()).toEqual([[0, 3], [100, 0]]);
    r.report('ns', 'llm', counts(1));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(writes).toHaveLength(2);
    expect(RESOURCES.lfmDeployment.plural).toBe('lfmdeployments');
  });
});

describe('parseActivatorFlags', () => {
  it('defaults: :8080, info, POD_NAME, all namespaces, KUBECONFIG\'s first path', () => {
    expect(parseActivatorFlags({}, { POD_NAME: 'act-0', HOSTNAME: 'h', KUBECONFIG: '/a:/b' }, () => 'r')).toEqual({ ok: true, flags: { kubeconfig: '/a', listen: ':8080', logLevel: 'info', identity: 'act-0', namespaces: [] } });
    expect(parseActivatorFlags({ kubeconfig: '/k', listen: '127.0.0.1:9', logLevel: 'debug', namespaces: 'a, b' }, { HOSTNAME: 'h' }, () => 'r')).toEqual({ ok: true, flags: { kubeconfig: '/k', listen: '127.0.0.1:9', logLevel: 'debug', identity: 'h', namespaces: ['a', 'b'] } });
    expect(parseActivatorFlags({}, {}, () => 'r1')).toMatchObject({ ok: true, flags: { identity: 'activator-r1' } });
  });

  it('refuses a bad log level or listen address', () => {
    expect(parseActivatorFlags({ logLevel: 'loud' }, {}, () => 'r')).toMatchObject({ ok: false, message: expect.stringContaining('--log-level') as unknown });
    expect(parseActivatorFlags({ listen: '8080' }, {}, () => 'r')).toMatchObject({ ok: false, message: expect.stringContaining('--listen') as unknown });
  });
});
