// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: acquire when the lease
// is free or expired, renew every retry period, give up leadership when a renewal cannot succeed before the renew
// deadline (so two replicas never both act), and release on clean shutdown so a successor starts at once.
import { RESOURCES, isConflict, isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';

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
}

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string | null; leaseDurationSeconds?: number; acquireTime?: string | null; renewTime?: string | null; leaseTransitions?: number };
}

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private lastRenew = 0;
  private readonly duration: number;
  private readonly renewDeadline: number;
  private readonly retry: number;

  constructor(private readonly client: KubeClient, private readonly o: LeaderElectionOptions) {
    this.duration = o.leaseDurationSeconds ?? 15;
    this.renewDeadline = o.renewDeadlineSeconds ?? 10;
    this.retry = o.retryPeriodSeconds ?? 2;
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  private schedule(): void {
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.retry * 1000);
  }

  private async tick(): Promise<void> {
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok) {
        this.lastRenew = Date.now();
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
      if (this.leading && Date.now() - this.lastRenew > this.renewDeadline * 1000) {
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

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    let lease: Lease | undefined;
    try {
      lease = await this.client.get<Lease>(RESOURCES.lease, this.o.namespace, this.o.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!lease) {
      try {
        await this.client.create(RESOURCES.lease, {
          apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec: { holderIdentity: this.o.identity, leaseDurationSeconds: this.duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (err) {
        if (isConflict(err)) return false;
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? this.duration) * 1000 < now;
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
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Stops renewing and, if leading, releases the lease so another replica can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get<Lease>(RESOURCES.lease, this.o.namespace, this.o.name);
      if (lease.spec?.holderIdentity === this.o.identity) {
        await this.client.update(RESOURCES.lease, { ...lease, spec: { ...lease.spec, holderIdentity: null, renewTime: null, acquireTime: null, leaseDurationSeconds: 1 } }, 'lfm-operator');
      }
    } catch (err) {
      this.o.log?.('lease release failed', { err: (err as Error).message });
    }
  }
}
