// Scale to zero in the benchmark (issue 13): the activator's queue as the simulator plays it, and the operator's
// decide() with minReplicas 0 behind the policy interface (`operator-zero`). Pure; no I/O, no clock.
//
// The activator (what simulator.ts does with it; reference: src/activator, src/autoscaler/scale-to-zero.ts):
//   - it is in the path only while a scale-to-zero deployment has no replica in its endpoints; a request arriving
//     then, while some pod is already Ready (its endpoint not yet added), is passed on to a Ready pod at once (not
//     held, not a cold start); otherwise it is held here
//   - at most maxHeldRequests are held (one activator replica's bound: the simulated activator is one replica); one
//     more is refused with 429 (`coldRefused`); a request held maxHoldSeconds is answered 503 (`coldExpired`)
//   - the first request held while the queue was empty triggers an operator decision triggerDelaySeconds (1 s) later,
//     besides the regular scrape-interval decisions; the operator sees `activators.held` at every decision
//   - when a replica becomes Ready every held request is forwarded to a Ready replica (it enters that replica's queue
//     at that instant), and the first Ready replica after none triggers a decision at once (the end of the cold start)
//   - a request "met a cold start" if it was held here (or refused here): its wait is reported apart, and the regular
//     waiting shares are over the other requests
import type { AutoscalingSpec, AutoscalingStatus } from '../../src/api/v1alpha1.js';
import { buildOperatorPolicy, type ScalingChoice, type ScalingPolicy, type ScalingView } from '../../src/autoscaler/policy.js';
import type { ActivatorCounts } from '../../src/autoscaler/scale-to-zero.js';
import { IdQueue } from './replica.js';

export interface ActivatorConfig {
  /** Most requests held at once (spec.autoscaling.scaleToZero.maxHeldRequests); one more gets 429. */
  maxHeldRequests: number;
  /** A request held this long gets 503 (spec.autoscaling.scaleToZero.maxHoldSeconds). */
  maxHoldSeconds: number;
  /** The first held request triggers an operator decision this long after it arrives (the issue: within 1 s). */
  triggerDelaySeconds: number;
}

/** The API defaults (maxHeldRequests 100, maxHoldSeconds 600) and the one-second scale-up write. */
export const DEFAULT_ACTIVATOR: ActivatorConfig = { maxHeldRequests: 100, maxHoldSeconds: 600, triggerDelaySeconds: 1 };

/** What a policy sees when the request path has an activator: the view with the activator's counts (ScalingView.activators). */
export type ActivatorView = ScalingView;

/**
 * A policy the activator can wake: with `activatorTriggers` the simulator calls it 1 s after the first held request
 * and at once when the first replica becomes Ready, besides its regular period.
 */
export interface ActivatorAwarePolicy extends ScalingPolicy {
  readonly activatorTriggers?: boolean;
  decide(view: ActivatorView): ScalingChoice;
}

/** What `offer` did with a request: held (the first of an empty queue, or not) or refused (429). */
export type HoldOutcome = 'first' | 'held' | 'refused';

/** The activator's bounded FIFO of held requests (ids into the run's request table). */
export class ActivatorQueue {
  private readonly queue = new IdQueue();
  /** Requests refused (429) and expired (503) so far, and requests ever held. */
  refused = 0;
  expired = 0;
  heldTotal = 0;

  constructor(readonly config: ActivatorConfig, private readonly arrival: Float64Array) {}

  get size(): number { return this.queue.size; }

  /** Holds request `id`, or refuses it when maxHeldRequests are held. */
  offer(id: number): HoldOutcome {
    if (this.queue.size >= this.config.maxHeldRequests) {
      this.refused++;
      return 'refused';
    }
    const first = this.queue.size === 0;
    this.queue.push(id);
    this.heldTotal++;
    return first ? 'first' : 'held';
  }

  /** When the oldest held request reaches maxHoldSeconds (Infinity when none is held). */
  nextExpiry(): number {
    return this.queue.size === 0 ? Infinity : (this.arrival[this.queue.peek()] ?? 0) + this.config.maxHoldSeconds;
  }

  /** Removes and returns the requests held maxHoldSeconds or longer at time t (each answered 503). */
  expire(t: number): number[] {
    const out: number[] = [];
    while (this.queue.size > 0 && t >= (this.arrival[this.queue.peek()] ?? 0) + this.config.maxHoldSeconds) out.push(this.queue.shift());
    this.expired += out.length;
    return out;
  }

  /** Removes and returns every held request, oldest first (forwarded to a Ready replica). */
  drain(): number[] {
    return this.queue.drain();
  }

  /** DecideInput.activators: held now, refused and expired so far. */
  counts(): ActivatorCounts {
    return { held: this.queue.size, refused: this.refused, expired: this.expired };
  }
}

/** spec.autoscaling.scaleToZero as the benchmark sets it. */
export interface ScaleToZeroOptions {
  idleSeconds: number;
  maxHeldRequests: number;
  maxHoldSeconds: number;
}

/**
 * `operator-zero`: the operator's policy (buildOperatorPolicy, which passes the activator's counts to decide()) with
 * minReplicas 0 and scaleToZero, woken by the activator.
 */
export function buildZeroOperatorPolicy(spec: AutoscalingSpec, name = 'operator-zero', batchLimit?: number): ActivatorAwarePolicy & { status(): AutoscalingStatus | undefined } {
  if (spec.minReplicas !== 0 || spec.scaleToZero === undefined) throw new Error(`${name}: needs minReplicas 0 and scaleToZero`);
  return { ...buildOperatorPolicy(spec, undefined, name, batchLimit), activatorTriggers: true };
}
