// Pure. Reads the requests an endpoint picker (EPP) holds in its flow-control queue for one InferencePool from the
// EPP's /metrics (port 9090), and combines the EPP replicas into the gateway's queue; performs no I/O.
//
// The metric, in llm-d-router v0.10.0 (the pinned EPP; ../shared/reference/routing/README.md §4 "Queue metric"):
//   llm_d_epp_flow_control_queue_size{fairness_id, priority, inference_pool, model_name, target_model_name}  gauge
//   help "[ALPHA] Current number of requests actively held in the Flow Control queue."
// Source: llm-d/llm-d-router pkg/epp/metrics/llm_d_router_metrics.go (llmdFlowControlQueueSize: subsystem
// LLMDRouterEndpointPickerSubsystem = "llm_d_epp", labels fairness_id, priority, inference_pool + modelLabels
// model_name, target_model_name). The same release still emits the deprecated twin
// inference_extension_flow_control_queue_size with the same labels and values (pkg/epp/metrics/metrics.go,
// flowControlQueueSize, "[Deprecated: Use llm_d_epp_flow_control_queue_size]"): both are incremented by
// IncFlowControlQueueSize and decremented by DecFlowControlQueueSize around FlowController.EnqueueAndWait
// (pkg/epp/flowcontrol/controller/controller.go), with inference_pool = req.InferencePoolName(), the pool the EPP
// serves (--pool-name). Later releases stop emitting the twin; earlier ones had only it. So:
//   queue(EPP replica) = Σ series of the current name                     when the exposition has that name
//                      = Σ series of the deprecated twin                  otherwise (an older image)
//                      (never both: they are the same requests counted twice)
//   series kept        = inference_pool absent, empty or equal to the pool (an EPP serves one pool; a stray label
//                        value is not ours), finite values only; the sum is floored at 0
//   no series at all   = 0: the gauge vector has no series before the first request is queued, and none with the
//                        flowControl feature gate off (then nothing waits in the EPP)
// The series of every fairness_id and priority count: each is a request waiting for an engine, sheddable or not.
//
// Several EPP replicas: each holds its own queue, in its own memory (README §4: "Queues are per replica"). With
// leader election (replicas > 1) only the leader is Ready, so only it is behind the EPP Service and receives
// requests; standbys report an empty queue, and a previous leader still draining holds requests of its own. The
// gateway's queue is therefore the sum over the replicas (llm-d's own KEDA guide queries
// sum(llm_d_epp_flow_control_queue_size{...}) over the EPP's pods), which is the leader's queue when the others are
// empty, and never double counts since no request is queued in two replicas.
//
// A replica whose scrape fails keeps the value it last reported, for as long as the pod exists: a failed scrape
// never lowers the count. A replica that never answered contributes nothing; with no value from any replica the
// gateway's queue is unknown (undefined). A pod that is gone is forgotten (its queue went with it).
import type { Exposition } from './prometheus-text.js';
import { parsePrometheusText } from './prometheus-text.js';

/** The flow-control queue gauge of llm-d-router v0.10.0, and its deprecated twin (older images have only that). */
export const FLOW_CONTROL_QUEUE_SIZE = 'llm_d_epp_flow_control_queue_size';
export const LEGACY_FLOW_CONTROL_QUEUE_SIZE = 'inference_extension_flow_control_queue_size';
/** The label that names the InferencePool a queued request is for. */
export const INFERENCE_POOL_LABEL = 'inference_pool';
/** Where the EPP serves /metrics (--metrics-port, default 9090). */
export const EPP_METRICS_PORT = 9090;

export interface EppQueueFilter {
  /** Keep only series for this InferencePool (series without the label, or with an empty one, are kept). */
  poolName?: string;
}

export interface EppQueueSample {
  /** Requests held in the EPP's flow-control queue for the pool (0 when the exposition has none). */
  waiting: number;
  /** The metric read, or undefined when the exposition has neither name. */
  metric?: string;
  /** Series summed. */
  series: number;
}

function keepSeries(labels: Readonly<Record<string, string>>, value: number, filter: EppQueueFilter): boolean {
  if (!Number.isFinite(value)) return false;
  const pool = labels[INFERENCE_POOL_LABEL];
  return filter.poolName === undefined || pool === undefined || pool === '' || pool === filter.poolName;
}

/** The queue one EPP replica holds for the pool, from its exposition (text or already parsed). */
export function buildEppQueueSample(input: string | Exposition, filter: EppQueueFilter = {}): EppQueueSample {
  const exposition = typeof input === 'string' ? parsePrometheusText(input) : input;
  const metric = [FLOW_CONTROL_QUEUE_SIZE, LEGACY_FLOW_CONTROL_QUEUE_SIZE].find((name) => exposition.samples.some((s) => s.name === name));
  if (metric === undefined) return { waiting: 0, series: 0 };
  let waiting = 0;
  let series = 0;
  for (const s of exposition.samples) {
    if (s.name !== metric || !keepSeries(s.labels, s.value, filter)) continue;
    waiting += s.value;
    series++;
  }
  return { waiting: Math.max(0, waiting), metric, series };
}

/** One EPP replica's scrape: its pod's uid and the queue it reported, or undefined when the scrape failed. */
export interface EppReplicaScrape {
  uid: string;
  waiting: number | undefined;
}

export interface GatewayQueue {
  /** Requests the gateway holds for the pool (Σ over the replicas), or undefined when no replica's queue is known. */
  waiting: number | undefined;
  /** Each current replica's last known queue, for the next call (replicas that are gone are dropped). */
  lastKnown: Map<string, number>;
  /** Replicas whose scrape failed, and of those, the ones with no earlier value (their queue is unknown). */
  failed: number;
  unknown: number;
}

/**
 * The gateway's queue over the EPP replicas that exist now: the sum of what each reported, a failed replica counted
 * at its last known value (a failed scrape never lowers the count); undefined when no replica's queue is known.
 */
export function combineEppQueues(scrapes: readonly EppReplicaScrape[], lastKnown: ReadonlyMap<string, number>): GatewayQueue {
  const known = new Map<string, number>();
  let failed = 0;
  let unknown = 0;
  for (const { uid, waiting } of scrapes) {
    const value = waiting ?? lastKnown.get(uid);
    if (waiting === undefined) failed++;
    if (value === undefined) unknown++;
    else known.set(uid, value);
  }
  const waiting = known.size === 0 ? undefined : [...known.values()].reduce((a, b) => a + b, 0);
  return { waiting, lastKnown: known, failed, unknown };
}
