import { describe, expect, it } from 'vitest';
import {
  buildEppQueueSample, combineEppQueues, FLOW_CONTROL_QUEUE_SIZE, LEGACY_FLOW_CONTROL_QUEUE_SIZE,
} from '../../src/metrics/epp-sample.js';
import { parsePrometheusText } from '../../src/metrics/prometheus-text.js';

// Hand-written in the shape llm-d-router v0.10.0's EPP serves on :9090/metrics (client_golang's text format: label
// pairs sorted by name, HELP prefixed with the stability level). Names, labels and help texts from
// llm-d/llm-d-router pkg/epp/metrics/llm_d_router_metrics.go (llmdFlowControlQueueSize, subsystem "llm_d_epp",
// labels fairness_id, priority, inference_pool, model_name, target_model_name) and pkg/epp/metrics/metrics.go (the
// deprecated twin inference_extension_flow_control_queue_size, set by the same Inc/DecFlowControlQueueSize calls);
// "default-flow" is metadata.DefaultFairnessID. Values invented: pool "lfm-a" holds 7 + 3 + 0 + 2 = 12 requests, and a
// stray series names another pool.
const V0_10_0_EXPOSITION = `# HELP inference_extension_flow_control_queue_size [ALPHA] [Deprecated: Use llm_d_epp_flow_control_queue_size] Current number of requests actively held in the Flow Control queue.
# TYPE inference_extension_flow_control_queue_size gauge
inference_extension_flow_control_queue_size{fairness_id="default-flow",inference_pool="lfm-a",model_name="lfm2-24b",priority="0",target_model_name="lfm2-24b"} 7
inference_extension_flow_control_queue_size{fairness_id="default-flow",inference_pool="lfm-a",model_name="lfm2-24b",priority="-1",target_model_name="lfm2-24b"} 3
inference_extension_flow_control_queue_size{fairness_id="team-b",inference_pool="lfm-a",model_name="lfm2-24b",priority="10",target_model_name="lfm2-24b"} 0
inference_extension_flow_control_queue_size{fairness_id="team-b",inference_pool="lfm-a",model_name="other",priority="10",target_model_name="other"} 2
inference_extension_flow_control_queue_size{fairness_id="default-flow",inference_pool="lfm-b",model_name="lfm2-8b",priority="0",target_model_name="lfm2-8b"} 40
# HELP inference_extension_info [ALPHA] General information of the current build of Inference Extension.
# TYPE inference_extension_info gauge
inference_extension_info{build_ref="v0.10.0",commit="71f4f0999f95b96c49a9d0c4afbd18dfdb943c26"} 1
# HELP llm_d_epp_flow_control_pool_saturation [ALPHA] Current saturation level of the inference pool (0.0 = empty, 1.0 = fully saturated).
# TYPE llm_d_epp_flow_control_pool_saturation gauge
llm_d_epp_flow_control_pool_saturation{inference_pool="lfm-a"} 1
# HELP llm_d_epp_flow_control_queue_bytes [ALPHA] Current total size in bytes of requests actively held in the Flow Control queue.
# TYPE llm_d_epp_flow_control_queue_bytes gauge
llm_d_epp_flow_control_queue_bytes{fairness_id="default-flow",inference_pool="lfm-a",model_name="lfm2-24b",priority="0",target_model_name="lfm2-24b"} 28672
# HELP llm_d_epp_flow_control_queue_size [ALPHA] Current number of requests actively held in the Flow Control queue.
# TYPE llm_d_epp_flow_control_queue_size gauge
llm_d_epp_flow_control_queue_size{fairness_id="default-flow",inference_pool="lfm-a",model_name="lfm2-24b",priority="0",target_model_name="lfm2-24b"} 7
llm_d_epp_flow_control_queue_size{fairness_id="default-flow",inference_pool="lfm-a",model_name="lfm2-24b",priority="-1",target_model_name="lfm2-24b"} 3
llm_d_epp_flow_control_queue_size{fairness_id="team-b",inference_pool="lfm-a",model_name="lfm2-24b",priority="10",target_model_name="lfm2-24b"} 0
llm_d_epp_flow_control_queue_size{fairness_id="team-b",inference_pool="lfm-a",model_name="other",priority="10",target_model_name="other"} 2
llm_d_epp_flow_control_queue_size{fairness_id="default-flow",inference_pool="lfm-b",model_name="lfm2-8b",priority="0",target_model_name="lfm2-8b"} 40
# HELP llm_d_epp_info [ALPHA] General information of the current build of Inference Extension.
# TYPE llm_d_epp_info gauge
llm_d_epp_info{build_ref="v0.10.0",commit="71f4f0999f95b96c49a9d0c4afbd18dfdb943c26"} 1
# HELP llm_d_epp_ready_endpoints [ALPHA] The number of ready endpoints in the inference server pool.
# TYPE llm_d_epp_ready_endpoints gauge
llm_d_epp_ready_endpoints{name="lfm-a"} 0
`;

/** The exposition with only the series of one metric name kept (HELP and TYPE lines of the others dropped too). */
const only = (name: string): string => V0_10_0_EXPOSITION.split('\n').filter((l) => !/flow_control_queue_size/.test(l) || l.includes(name)).join('\n');

describe('buildEppQueueSample: the v0.10.0 exposition', () => {
  it('parses cleanly', () => {
    expect(parsePrometheusText(V0_10_0_EXPOSITION).problems).toEqual([]);
  });

  it('sums the pool\'s series over every fairness id, priority and model, reading the current name only (the twin is the same requests)', () => {
    expect(buildEppQueueSample(V0_10_0_EXPOSITION, { poolName: 'lfm-a' })).toEqual({ waiting: 12, metric: FLOW_CONTROL_QUEUE_SIZE, series: 4 });
  });

  it('keeps another pool\'s series out, and counts every series without a pool filter', () => {
    expect(buildEppQueueSample(V0_10_0_EXPOSITION, { poolName: 'lfm-b' }).waiting).toBe(40);
    expect(buildEppQueueSample(V0_10_0_EXPOSITION).waiting).toBe(52);
  });

  it('falls back to the deprecated twin when the current name is absent (an older image)', () => {
    expect(buildEppQueueSample(only(LEGACY_FLOW_CONTROL_QUEUE_SIZE), { poolName: 'lfm-a' })).toEqual({ waiting: 12, metric: LEGACY_FLOW_CONTROL_QUEUE_SIZE, series: 4 });
  });

  it('reads the current name alone when the twin is gone (later releases)', () => {
    expect(buildEppQueueSample(only(FLOW_CONTROL_QUEUE_SIZE), { poolName: 'lfm-a' })).toEqual({ waiting: 12, metric: FLOW_CONTROL_QUEUE_SIZE, series: 4 });
  });
});

describe('buildEppQueueSample: edge cases', () => {
  it.each([
    ['no series at all (nothing queued yet, or the flowControl gate off): 0', 'llm_d_epp_ready_endpoints{name="lfm-a"} 1\n', { waiting: 0, series: 0 }],
    ['an empty body: 0', '', { waiting: 0, series: 0 }],
    ['series without the pool label, or with an empty one, are the pool\'s',
      'llm_d_epp_flow_control_queue_size{fairness_id="a",priority="0"} 2\nllm_d_epp_flow_control_queue_size{fairness_id="b",inference_pool="",priority="0"} 1\n',
      { waiting: 3, metric: FLOW_CONTROL_QUEUE_SIZE, series: 2 }],
    ['NaN and infinite series are skipped',
      'llm_d_epp_flow_control_queue_size{inference_pool="lfm-a",priority="0"} NaN\nllm_d_epp_flow_control_queue_size{inference_pool="lfm-a",priority="1"} +Inf\nllm_d_epp_flow_control_queue_size{inference_pool="lfm-a",priority="2"} 4\n',
      { waiting: 4, metric: FLOW_CONTROL_QUEUE_SIZE, series: 1 }],
    ['a negative sum is floored at 0', 'llm_d_epp_flow_control_queue_size{inference_pool="lfm-a",priority="0"} -1\n', { waiting: 0, metric: FLOW_CONTROL_QUEUE_SIZE, series: 1 }],
    ['the current name for another pool only: 0, without falling back to the twin',
      'llm_d_epp_flow_control_queue_size{inference_pool="other"} 5\ninference_extension_flow_control_queue_size{inference_pool="lfm-a"} 5\n',
      { waiting: 0, metric: FLOW_CONTROL_QUEUE_SIZE, series: 0 }],
  ])('%s', (_name, text, expected) => {
    expect(buildEppQueueSample(text, { poolName: 'lfm-a' })).toEqual(expected);
  });

  it('accepts an already parsed exposition', () => {
    expect(buildEppQueueSample(parsePrometheusText(V0_10_0_EXPOSITION), { poolName: 'lfm-a' }).waiting).toBe(12);
  });
});

describe('combineEppQueues', () => {
  it.each([
    ['no EPP replica: unknown', [], {}, { waiting: undefined, lastKnown: {}, failed: 0, unknown: 0 }],
    ['one replica', [{ uid: 'a', waiting: 5 }], {}, { waiting: 5, lastKnown: { a: 5 }, failed: 0, unknown: 0 }],
    ['the leader and an idle standby: the leader\'s queue', [{ uid: 'leader', waiting: 9 }, { uid: 'standby', waiting: 0 }], {},
      { waiting: 9, lastKnown: { leader: 9, standby: 0 }, failed: 0, unknown: 0 }],
    ['a new leader and the old one still draining its own queue: both count', [{ uid: 'new', waiting: 4 }, { uid: 'old', waiting: 3 }], {},
      { waiting: 7, lastKnown: { new: 4, old: 3 }, failed: 0, unknown: 0 }],
    ['a failed scrape keeps the replica\'s last value (never lowers the count)', [{ uid: 'a', waiting: undefined }], { a: 6 },
      { waiting: 6, lastKnown: { a: 6 }, failed: 1, unknown: 0 }],
    ['a failed scrape with no earlier value: unknown', [{ uid: 'a', waiting: undefined }], {},
      { waiting: undefined, lastKnown: {}, failed: 1, unknown: 1 }],
    ['one replica unknown, another answers: what is known', [{ uid: 'a', waiting: undefined }, { uid: 'b', waiting: 2 }], {},
      { waiting: 2, lastKnown: { b: 2 }, failed: 1, unknown: 1 }],
    ['an answer replaces the last value, lower or not', [{ uid: 'a', waiting: 0 }], { a: 6 }, { waiting: 0, lastKnown: { a: 0 }, failed: 0, unknown: 0 }],
    ['a replica that is gone is forgotten', [{ uid: 'b', waiting: 1 }], { a: 6, b: 3 }, { waiting: 1, lastKnown: { b: 1 }, failed: 0, unknown: 0 }],
  ])('%s', (_name, scrapes, last, expected) => {
    const result = combineEppQueues(scrapes, new Map(Object.entries(last)));
    expect({ ...result, lastKnown: Object.fromEntries(result.lastKnown) }).toEqual(expected);
  });

  it('never lowers the count when scrapes fail, whatever the order of failures and answers', () => {
    let last = new Map<string, number>();
    const values: (number | undefined)[] = [3, undefined, undefined, 8, undefined, 1];
    const seen: (number | undefined)[] = [];
    for (const waiting of values) {
      const r = combineEppQueues([{ uid: 'a', waiting }], last);
      last = r.lastKnown;
      seen.push(r.waiting);
    }
    expect(seen).toEqual([3, 3, 3, 8, 8, 1]);
  });
});
