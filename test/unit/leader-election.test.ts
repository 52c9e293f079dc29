import { describe, expect, it } from 'vitest';
import { LeaderElector, type Lease, type LeaseStore } from '../../src/controller/leader-election.js';
import type { Clock } from '../../src/controller/workqueue.js';
import { ApiError, type ResourceType } from '../../src/kube/client.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
/** Lets the elector's awaits on the in-memory store settle (they never wait on time). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A manual clock: timers fire, in order, only when the test advances time; each firing is allowed to settle. */
class FakeClock implements Clock {
  t = T0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 0;
  now() { return this.t; }
  setTimeout(fn: () => void, ms: number) { const id = this.next++; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown) { this.timers = this.timers.filter((x) => x.id !== h); }
  async advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
      await settle();
    }
    this.t = end;
  }
}

/** One Lease in memory, with the API server's optimistic concurrency: a stale resourceVersion is a 409. */
class MemoryLeaseStore implements LeaseStore {
  lease?: Lease;
  failing = false;
  private rv = 0;
  async get(_type: ResourceType, _namespace: string, _name: string): Promise<Lease> {
    if (this.failing) throw new ApiError(503, 'ServiceUnavailable', 'apiserver down');
    if (!this.lease) throw new ApiError(404, 'NotFound', 'lease not found');
    return structuredClone(this.lease);
  }
  async create(_type: ResourceType, lease: Lease): Promise<Lease> {
    if (this.failing) throw new ApiError(503, 'ServiceUnavailable', 'apiserver down');
    if (this.lease) throw new ApiError(409, 'AlreadyExists', 'lease exists');
    return this.store(lease);
  }
  async update(_type: ResourceType, lease: Lease, _fieldManager: string): Promise<Lease> {
    if (this.failing) throw new ApiError(503, 'ServiceUnavailable', 'apiserver down');
    if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw new ApiError(409, 'Conflict', 'stale resourceVersion');
    return this.store(lease);
  }
  /** Another replica writes the lease. */
  write(spec: Lease['spec']): void {
    this.store({ ...this.lease, spec });
  }
  private store(lease: Lease): Lease {
    this.lease = structuredClone({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(++this.rv) } });
    return structuredClone(this.lease);
  }
}

function candidate(store: LeaseStore, clock: Clock, identity = 'a') {
  const log: string[] = [];
  const elector = new LeaderElector(store, {
    namespace: 'ns', name: 'lfm-operator-leader', identity, clock,
    leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2,
    onStartedLeading: () => log.push('started'),
    onStoppedLeading: () => log.push('stopped'),
  });
  return { elector, log };
}

const heldBy = (holderIdentity: string, renewTime: number): Lease['spec'] =>
  ({ holderIdentity, leaseDurationSeconds: 15, acquireTime: microTime(renewTime), renewTime: microTime(renewTime), leaseTransitions: 3 });

describe('LeaderElector', () => {
  it('acquires a lease that does not exist', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const { elector, log } = candidate(store, clock);
    elector.start();
    await settle();
    expect(elector.isLeader()).toBe(true);
    expect(log).toEqual(['started']);
    expect(store.lease?.spec).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: microTime(T0), renewTime: microTime(T0), leaseTransitions: 0 });
  });

  it('renews every retry period, keeping acquireTime and the transition count', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const { elector, log } = candidate(store, clock);
    elector.start();
    await settle();
    await clock.advance(2_000);
    expect(store.lease?.spec).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: microTime(T0), renewTime: microTime(T0 + 2_000), leaseTransitions: 0 });
    await clock.advance(60_000);
    expect(store.lease?.spec?.renewTime).toBe(microTime(T0 + 62_000));
    expect(elector.isLeader()).toBe(true);
    expect(log).toEqual(['started']);
  });

  it('steps down at its next renewal when another replica has taken the lease', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const { elector, log } = candidate(store, clock);
    elector.start();
    await settle();
    await clock.advance(1_000);
    store.write(heldBy('b', clock.now()));
    await clock.advance(1_000);
    expect(elector.isLeader()).toBe(false);
    expect(log).toEqual(['started', 'stopped']);
    expect(store.lease?.spec?.holderIdentity).toBe('b');
  });

  it('takes over a lease one lease duration, on its own clock, after it last saw the record change', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    store.write(heldBy('b', T0));
    const { elector, log } = candidate(store, clock);
    elector.start();
    await settle();
    expect(elector.isLeader()).toBe(false);
    await clock.advance(15_000);
    expect(elector.isLeader()).toBe(false);
    await clock.advance(1_000);
    expect(elector.isLeader()).toBe(true);
    expect(log).toEqual(['started']);
    expect(store.lease?.spec).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: microTime(T0 + 16_000), renewTime: microTime(T0 + 16_000), leaseTransitions: 4 });
  });

  it('gives up leadership when renewals fail for longer than the renew deadline', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const { elector, log } = candidate(store, clock);
    elector.start();
    await settle();
    store.failing = true;
    await clock.advance(10_000);
    expect(elector.isLeader()).toBe(true);
    await clock.advance(2_000);
    expect(elector.isLeader()).toBe(false);
    expect(log).toEqual(['started', 'stopped']);
  });

  it('releases the lease on stop, so a successor acquires it at once', async () => {
    const clock = new FakeClock();
    const store = new MemoryLeaseStore();
    const a = candidate(store, clock, 'a');
    a.elector.start();
    await settle();
    await a.elector.stop();
    expect(store.lease?.spec?.holderIdentity).toBeNull();
    const b = candidate(store, clock, 'b');
    b.elector.start();
    await settle();
    expect(b.elector.isLeader()).toBe(true);
    expect(store.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  // The holder writes renewTime from its own clock. Whatever that clock says, we may take over only once the record
  // has stopped changing for a lease duration on our clock: never while it renews, always after it stops.
  describe.each([
    { name: 'in step with ours', skewMs: 0 },
    { name: 'ten minutes ahead', skewMs: 10 * 60_000 },
    { name: 'ten minutes behind', skewMs: -10 * 60_000 },
    { name: 'a day behind', skewMs: -24 * 3_600_000 },
  ])('a holder whose clock runs $name', ({ skewMs }) => {
    it('keeps the lease while it renews and loses it one lease duration after it stops', async () => {
      const clock = new FakeClock();
      const store = new MemoryLeaseStore();
      let holderAlive = true;
      const renewAsHolder = () => {
        if (!holderAlive) return;
        store.write(heldBy('b', clock.now() + skewMs));
        clock.setTimeout(renewAsHolder, 2_000);
      };
      renewAsHolder();
      await clock.advance(1_000);
      const { elector, log } = candidate(store, clock);
      elector.start();
      await settle();
      // Holder renews at 0, 2, 4 … 58 s; we look at 1, 3 … 59 s.
      await clock.advance(58_000);
      expect(elector.isLeader()).toBe(false);
      holderAlive = false;
      // Its last renewal (58 s) was first seen at 59 s; the lease is ours at the first look after 59 + 15 = 74 s.
      await clock.advance(15_000);
      expect(elector.isLeader()).toBe(false);
      await clock.advance(2_000);
      expect(elector.isLeader()).toBe(true);
      expect(log).toEqual(['started']);
      expect(store.lease?.spec?.renewTime).toBe(microTime(T0 + 75_000));
    });
  });
});
