// The activator's own Prometheus metrics, in their own registry (served on the activator's /metrics): how many
// requests it holds per target, how each request ended, how long forwarded requests waited, and requests whose Host
// names no target.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How a request through the activator ended: one outcome per request. */
export type Outcome = 'forwarded' | 'refused' | 'expired' | 'failed' | 'client_closed' | 'shutdown';

export interface ActivatorMetrics {
  registry: Registry;
  heldRequests: Gauge<'namespace' | 'name'>;
  requestsTotal: Counter<'namespace' | 'name' | 'outcome'>;
  holdSeconds: Histogram;
  unknownHostTotal: Counter;
}

export function createActivatorMetrics(): ActivatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lfm_activator_process_' });
  return {
    registry,
    heldRequests: new Gauge({ name: 'lfm_activator_held_requests', help: 'Requests this activator replica holds for a target while it has no Ready replica (queued, or connecting to a replica that is not yet accepting).', labelNames: ['namespace', 'name'], registers: [registry] }),
    requestsTotal: new Counter({ name: 'lfm_activator_requests_total', help: 'Requests for a target by outcome: forwarded (streamed to the end), refused (429, hold queue full), expired (503, no Ready replica within maxHoldSeconds), failed (the replica failed mid-request: 502 or a cut response), client_closed (the client went away) or shutdown (503, the activator stopped).', labelNames: ['namespace', 'name', 'outcome'], registers: [registry] }),
    holdSeconds: new Histogram({ name: 'lfm_activator_hold_seconds', help: 'How long held requests waited before they were forwarded to a Ready replica (requests that arrived while a replica was Ready are not observed).', buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600], registers: [registry] }),
    unknownHostTotal: new Counter({ name: 'lfm_activator_unknown_host_total', help: 'Requests answered 404 because their Host header names no LfmDeployment with spec.autoscaling.scaleToZero.', registers: [registry] }),
  };
}
