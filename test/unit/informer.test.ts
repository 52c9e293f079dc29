import { describe, expect, it } from 'vitest';
import { exponentialBackoff, Informer, type InformerEvent, type ListWatch } from '../../src/controller/informer.js';
import { ApiError, RESOURCES, type KubeList, type KubeObject, type ResourceType, type WatchEvent } from '../../src/kube/client.js';

/** Lets the informer's awaits on the in-memory API settle (they never wait on time). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

interface OpenWatch {
  resourceVersion: string;
  send: (e: WatchEvent<KubeObject>) => void;
  fail: (err: unknown) => void;
  close: () => void;
}

/** The list and watch of one namespace's pods, in memory: lists are whole snapshots, watches are driven by the test. */
class MemoryListWatch implements ListWatch<KubeObject> {
  private readonly objects = new Map<string, KubeObject>();
  private rv = 10;
  lists = 0;
  listFailures: unknown[] = [];
  readonly watches: OpenWatch[] = [];

  async list(_type: ResourceType, _options: object): Promise<KubeList<KubeObject>> {
    this.lists++;
    const err = this.listFailures.shift();
    if (err) throw err;
    return { metadata: { resourceVersion: String(this.rv) }, items: [...this.objects.values()].map((o) => structuredClone(o)) };
  }

  watch(_type: ResourceType, options: { resourceVersion: string; signal?: AbortSignal }, onEvent: (e: WatchEvent<KubeObject>) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.watches.push({ resourceVersion: options.resourceVersion, send: onEvent, fail: reject, close: resolve });
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  put(name: string): KubeObject {
    const obj = { metadata: { namespace: 'ns', name, resourceVersion: String(++this.rv) } };
    this.objects.set(name, obj);
    return structuredClone(obj);
  }

  remove(name: string): KubeObject {
    const obj = this.objects.get(name)!;
    this.objects.delete(name);
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
  }

  get lastWatch(): OpenWatch {
    return this.watches[this.watches.length - 1]!;
  }
}

/** A sleep the test ends by hand, so a test sees both the delay asked for and that nothing happens before it ends. */
class ManualSleep {
  readonly requested: number[] = [];
  private readonly pending: (() => void)[] = [];
  readonly sleep = (ms: number): Promise<void> => {
    this.requested.push(ms);
    return new Promise((resolve) => this.pending.push(resolve));
  };
  async wake(): Promise<void> {
    this.pending.shift()?.();
    await settle();
  }
}

function informerOn(api: MemoryListWatch, options: Partial<ConstructorParameters<typeof Informer>[2]> = {}) {
  const events: string[] = [];
  const errors: number[] = [];
  const informer = new Informer<KubeObject>(api, RESOURCES.pod, { onError: (_err, attempt) => errors.push(attempt), ...options });
  informer.on((e: InformerEvent, obj) => events.push(`${e} ${obj.metadata?.name} ${obj.metadata?.resourceVersion}`));
  return { informer, events, errors };
}

const serverError = () => new ApiError(500, 'InternalError', 'etcd timeout');

describe('Informer', () => {
  it('lists, then watches from the list, and re-watches from the last seen resourceVersion when the server closes the watch', async () => {
    const api = new MemoryListWatch();
    api.put('a');
    api.put('b');
    const sleep = new ManualSleep();
    const { informer, events } = informerOn(api, { sleep: sleep.sleep });
    informer.start();
    await informer.waitForSync();
    await settle();
    expect(events).toEqual(['add a 11', 'add b 12']);
    expect(api.lastWatch.resourceVersion).toBe('12');
    api.lastWatch.send({ type: 'MODIFIED', object: api.put('a') });
    api.lastWatch.send({ type: 'DELETED', object: api.remove('b') });
    api.lastWatch.send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } });
    api.lastWatch.close();
    await settle();
    expect(events.slice(2)).toEqual(['update a 13', 'delete b 14']);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['a']);
    expect(api.lists).toBe(1);
    expect(api.watches.map((w) => w.resourceVersion)).toEqual(['12', '20']);
    expect(sleep.requested).toEqual([]);
    await informer.stop();
  });

  it('relists at once on 410 Gone, without backoff, and emits what changed while the watch was gone', async () => {
    const api = new MemoryListWatch();
    api.put('a');
    api.put('b');
    const sleep = new ManualSleep();
    const { informer, events, errors } = informerOn(api, { sleep: sleep.sleep });
    informer.start();
    await informer.waitForSync();
    await settle();
    api.remove('a');
    api.put('b');
    api.put('c');
    api.lastWatch.fail(new ApiError(410, 'Expired', 'too old resource version: 12 (15)'));
    await settle();
    expect(api.lists).toBe(2);
    expect(sleep.requested).toEqual([]);
    expect(errors).toEqual([]);
    expect(events.slice(2)).toEqual(['delete a 11', 'update b 14', 'add c 15']);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['b', 'c']);
    expect(api.watches.map((w) => w.resourceVersion)).toEqual(['12', '15']);
    await informer.stop();
  });

  it('restarts after other errors only once the backoff delay for that attempt has passed', async () => {
    const api = new MemoryListWatch();
    api.put('a');
    api.listFailures = [serverError(), serverError(), serverError()];
    const sleep = new ManualSleep();
    const { informer, errors } = informerOn(api, { sleep: sleep.sleep, backoff: (attempt) => attempt * 1_000 });
    informer.start();
    await settle();
    for (const attempt of [1, 2, 3]) {
      expect(api.lists).toBe(attempt);
      expect(errors).toEqual([1, 2, 3].slice(0, attempt));
      expect(sleep.requested).toEqual([1_000, 2_000, 3_000].slice(0, attempt));
      await sleep.wake();
    }
    expect(informer.hasSynced()).toBe(true);
    expect(api.lists).toBe(4);
    // A successful list resets the count: a failed watch waits the first delay, then relists.
    api.lastWatch.fail(serverError());
    await settle();
    expect(sleep.requested).toEqual([1_000, 2_000, 3_000, 1_000]);
    expect(errors).toEqual([1, 2, 3, 1]);
    expect(api.lists).toBe(4);
    await sleep.wake();
    expect(api.lists).toBe(5);
    expect(api.watches).toHaveLength(2);
    await informer.stop();
  });

  it('stops during a backoff wait without waiting it out (default sleep)', async () => {
    const api = new MemoryListWatch();
    api.listFailures = [serverError()];
    const { informer, errors } = informerOn(api, { backoff: () => 3_600_000 });
    informer.start();
    await settle();
    expect(errors).toEqual([1]);
    await informer.stop();
    expect(api.lists).toBe(1);
    expect(informer.hasSynced()).toBe(false);
  });
});

describe('exponentialBackoff', () => {
  it.each([
    { name: 'no jitter', random: 0.5, delays: [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000] },
    { name: 'least jitter', random: 0, delays: [250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000] },
    { name: 'most jitter', random: 0.99, delays: [745, 1_490, 2_980, 5_960, 11_920, 23_840, 44_700, 44_700] },
  ])('doubles from initialMs to maxMs, times 0.5 + random ($name)', ({ random, delays }) => {
    const backoff = exponentialBackoff({ initialMs: 500, maxMs: 30_000, random: () => random });
    expect(delays.map((_, i) => Math.round(backoff(i + 1)))).toEqual(delays);
  });
});
