// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: acquire when the lease
// is free or expired, renew every retry period, give up leadership when a renewal cannot succeed before the renew
// deadline, and release on clean shutdown. Expiry is judged on this replica's clock only, never on the holder's.
import { RESOURCES, isConflict, isNotFound, type KubeObject, type ResourceType } from '../kube/client.js';
import { systemClock, type Clock } from './workqueue.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log?: (msg: string, extra?: Record<string, unknown>) => void;
  /** This replica's clock: expiry and the retry timer. Default: the system clock. */
  clock?: Clock;
}

export interface Lease extends KubeObject {
  spec?: { holderIdentity?: string | null; leaseDurationSeconds?: number; acquireTime?: string | null; renewTime?: string | null; leaseTransitions?: number };
}

/** The three Lease calls the elector makes. KubeClient satisfies it; unit tests pass an in-memory store. */
export interface LeaseStore {
  get(type: ResourceType, namespace: string, name: string): Promise<Lease>;
  create(type: ResourceType, lease: Lease): Promise<unknown>;
  update(type: ResourceType, lease: Lease, fieldManager: string): Promise<unknown>;
}

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

/** The leader record as compared between observations: any field written by a renewal or a takeover changes it. */
function buildLeaderRecord(spec: Lease['spec']): string {
  return JSON.stringify([spec?.holderIdentity ?? '', spec?.leaseDurationSeconds ?? 0, spec?.acquireTime ?? '', spec?.renewTime ?? '', spec?.leaseTransitions ?? 0]);
}

/**
 * expired ⇔ now > observedTime + leaseDurationSeconds × 1000, where observedTime is when this replica, on its own
 * clock, last saw the leader record change. The holder's renewTime is compared for equality only, never against our
 * clock, so skew between two machines cannot let both lead (client-go's isLeaseValid:
 * https://github.com/kubernetes/client-go/blob/master/tools/leaderelection/leaderelection.go).
 */
export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: unknown;
  private lastRenew = 0;
  private observedRecord?: string;
  private observedTime = 0;
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retry: number;
  private readonly clock: Clock;

  constructor(private readonly client: LeaseStore, private readonly o: LeaderElectionOptions) {
    this.duration = o.leaseDurationSeconds ?? 15;
    this.renewDeadline = o.renewDeadlineSeconds ?? 10;
    this.retry = o.retryPeriodSeconds ?? 2;
    this.clock = o.clock ?? systemClock;
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  private schedule(): void {
    if (!this.stopped) this.timer = this.clock.setTimeout(() => void this.tick(), this.retry * 1000);
  }

  private async tick(): Promise<void> {
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) {
        this.lastRenew = this.clock.now();
        if (!this.leading) {
          this.leading = true;
          this.o.log?.('became leader', { lease: `${this.o.namespace}/${this.o.name}` });
          this.o.onStartedLeading();
        }
      } else if (this.leading) {
        this.loseLeadership('another replica holds the lease');
      }
    } catch (err) {
      this.o.log?.('lease update failed', { err: (err as Error).message });
      if (this.leading && this.clock.now() - this.lastRenew > this.renewDeadline * 1000) {
        this.loseLeadership('could not renew the lease before the renew deadline');
      }
    }
    this.schedule();
  }

  private loseLeadership(why: string): void {
    this.leading = false;
    this.o.log?.('lost leadership', { why });
    this.o.onStoppedLeading();
  }

  private observe(spec: Lease['spec'], at: number): void {
    this.observedRecord = buildLeaderRecord(spec);
    this.observedTime = at;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    let lease: Lease | undefined;
    try {
      lease = await this.client.get(RESOURCES.lease, this.o.namespace, this.o.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const now = this.clock.now();
    if (!lease) {
      const spec = { holderIdentity: this.o.identity, leaseDurationSeconds: this.duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
      try {
        await this.client.create(RESOURCES.lease, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec,
        });
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
      this.observe(spec, now);
      return true;
    }
    const spec = lease.spec ?? {};
    if (buildLeaderRecord(spec) !== this.observedRecord) this.observe(spec, now);
    const holder = spec.holderIdentity ?? '';
    const expired = now > this.observedTime + (spec.leaseDurationSeconds ?? this.duration) * 1000;
    if (holder && holder !== this.o.identity && !expired) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === this.o.identity ? 0 : 1);
    const next: Lease = {
      ...lease,
      spec: {
        holderIdentity: this.o.identity,
        leaseDurationSeconds: this.duration,
        acquireTime: holder === this.o.identity ? (spec.acquireTime ?? microTime(now)) : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: transitions,
      },
    };
    try {
      await this.client.update(RESOURCES.lease, next, 'lfm-operator');
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
    this.observe(next.spec, now);
    return true;
  }

  /** Stops renewing and, if leading, releases the lease so another replica can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get(RESOURCES.lease, this.o.namespace, this.o.name);
      if (lease.spec?.holderIdentity === this.o.identity) {
        await this.client.update(RESOURCES.lease, { ...lease, spec: { ...lease.spec, holderIdentity: null, renewTime: null, acquireTime: null, leaseDurationSeconds: 1 } }, 'lfm-operator');
      }
    } catch (err) {
      this.o.log?.('lease release failed', { err: (err as Error).message });
    }
  }
}
