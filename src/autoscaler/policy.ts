// Pure. What a scaling policy sees and returns: the one interface the operator's loop and the benchmark drive, so
// that the operator's decide() and the baselines run the same way. Performs no I/O and reads no clock.
import type { AutoscalingSpec, AutoscalingStatus } from '../api/v1alpha1.js';
import { decide, type PodSample, type PodView } from './decide.js';
import type { ActivatorCounts } from './scale-to-zero.js';

export interface ScalingView {
  /** Milliseconds since the epoch (simulated in the benchmark). */
  now: number;
  /** The child Deployment's spec.replicas. */
  currentReplicas: number;
  pods: readonly PodView[];
  /** The latest scrape of each Ready pod that answered; pods missing here had no metrics. */
  samples: readonly PodSample[];
  /** Replicas the ReplicaSet could not create (ResourceQuota refusals, from the Deployment's ReplicaFailure). */
  refusedReplicas?: number;
  /**
   * Requests held in front of the engines (an endpoint picker's flow-control queue), when the request path reports
   * them: with such a gateway the engines' own queues stay short and the backlog is only visible here.
   */
  gatewayWaiting?: number;
  /** With scaleToZero: what the activators report (requests held now, refused and expired); DecideInput.activators. */
  activators?: ActivatorCounts;
}

export interface ScalingChoice {
  desiredReplicas: number;
  reason?: string;
}

/** A policy called every periodSeconds with what the scrapes and the pod list show. */
export interface ScalingPolicy {
  readonly name: string;
  readonly periodSeconds: number;
  /** How often the policy's metrics are scraped, in seconds. */
  readonly scrapeIntervalSeconds: number;
  decide(view: ScalingView): ScalingChoice;
}

/**
 * The operator's policy behind the common interface. Its only memory is the AutoscalingStatus it would write to
 * status.autoscaling, so a policy built from a stored status continues where the previous leader stopped.
 */
export function buildOperatorPolicy(spec: AutoscalingSpec, status?: AutoscalingStatus, name = 'operator', batchLimit?: number): ScalingPolicy & { status(): AutoscalingStatus | undefined } {
  let state = status;
  return {
    name,
    periodSeconds: spec.scrapeIntervalSeconds,
    scrapeIntervalSeconds: spec.scrapeIntervalSeconds,
    decide(view: ScalingView): ScalingChoice {
      const decision = decide({
        policy: spec,
        pods: view.pods,
        samples: view.samples,
        previous: state,
        currentReplicas: view.currentReplicas,
        now: view.now,
        refusedReplicas: view.refusedReplicas ?? 0,
        ...(view.gatewayWaiting !== undefined ? { gatewayWaiting: view.gatewayWaiting } : {}),
        ...(batchLimit !== undefined ? { batchLimit } : {}),
        ...(view.activators !== undefined ? { activators: view.activators } : {}),
      });
      state = decision.state;
      return { desiredReplicas: decision.desiredReplicas, reason: decision.reason };
    },
    status: () => state,
  };
}
