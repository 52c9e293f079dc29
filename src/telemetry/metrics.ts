// The operator's own Prometheus metrics (reconciles, durations, queue depth, errors, API requests), served on
// /metrics by the health server. Engine metrics are not here: they are scraped from the engine pods.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'result'>;
  reconcileDuration: Histogram;
  queueDepth: Gauge;
  apiRequests: Counter<'method' | 'code'>;
  informerRestarts: Counter<'resource'>;
  isLeader: Gauge;
  scaleDecisions: Counter<'direction'>;
}

export function createMetrics(): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lfm_operator_process_' });
  return {
    registry,
    reconcileTotal: new Counter({ name: 'lfm_operator_reconcile_total', help: 'Reconciles by result: success, requeue, error, or invalid (the resource is refused as Stalled=Invalid and waits for a fix).', labelNames: ['result'], registers: [registry] }),
    reconcileDuration: new Histogram({ name: 'lfm_operator_reconcile_duration_seconds', help: 'Reconcile duration in seconds.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    queueDepth: new Gauge({ name: 'lfm_operator_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [registry] }),
    apiRequests: new Counter({ name: 'lfm_operator_api_requests_total', help: 'Requests to the Kubernetes API by method and status code.', labelNames: ['method', 'code'], registers: [registry] }),
    informerRestarts: new Counter({ name: 'lfm_operator_informer_restarts_total', help: 'List-watch restarts after errors, by resource.', labelNames: ['resource'], registers: [registry] }),
    isLeader: new Gauge({ name: 'lfm_operator_leader', help: '1 while this replica holds the leader lease.', registers: [registry] }),
    scaleDecisions: new Counter({ name: 'lfm_operator_autoscaler_scale_total', help: 'Replica changes made by the autoscaler, by direction.', labelNames: ['direction'], registers: [registry] }),
  };
}
