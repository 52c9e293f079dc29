import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engines/engine.js';
import { ENGINES } from '../../src/engines/index.js';
import type { EngineSample } from '../../src/metrics/engine-sample.js';
import { buildEngineSample, buildSampleMetricNames, computeEngineRates, computeEngineRatesOver } from '../../src/metrics/engine-sample.js';
import { parsePrometheusText } from '../../src/metrics/prometheus-text.js';
import { EngineStandIn, formatCppDouble, renderLlamaCppMetrics } from '../support/engine-stand-in.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/metrics/${name}`, import.meta.url), 'utf8');
const vllm = buildSampleMetricNames(ENGINES.VLLM);
const sglang = buildSampleMetricNames(ENGINES.SGLang);

describe('buildSampleMetricNames', () => {
  it('adds each engine\'s finished-requests counter from its vendored table', () => {
    expect(vllm.requestsTotal).toBe('vllm:request_success_total');
    expect(sglang.requestsTotal).toBe('sglang:num_requests_total');
    expect(vllm.queueDepth).toBe('vllm:num_requests_waiting');
    expect(sglang.queueDepth).toBe('sglang:num_queue_reqs');
  });
});

describe('buildEngineSample', () => {
  it.each([
    ['vLLM 0.11, two data-parallel engines: gauges and counters summed over engine="0" and "1"',
      'vllm-0.11-dp2-handwritten.prom', vllm, {},
      { sample: { time: 1000, waiting: 3, running: 410, promptTokens: 15423117 + 14987301, generationTokens: 2811954 + 2734012, requestsFinished: 12011 + 1320 + 2 + 11873 + 1298, countersCreated: 1764028812.3418531, kvCacheUsage: 0.3125 }, missing: [] }],
    ['SGLang docs example (real): queue and running gauges, exponent counters',
      'sglang-docs-production-metrics.prom', sglang, {},
      { sample: { time: 1000, waiting: 2826, running: 162, promptTokens: 8128902, generationTokens: 7557572, kvCacheUsage: 0.28 }, missing: [] }],
    ['SGLang with every scheduler reporting: tensor-parallel rank 1 repeats rank 0 and is not counted twice',
      'sglang-tp2-handwritten.prom', sglang, {},
      { sample: { time: 1000, waiting: 12, running: 87, promptTokens: 2204100, generationTokens: 401233, requestsFinished: 1911, kvCacheUsage: 0.41 }, missing: [] }],
    ['vLLM docs example (real) lacks the waiting gauge: no sample',
      'vllm-docs-design-metrics.prom', vllm, {},
      { missing: ['vllm:num_requests_waiting'] }],
    ['a model_name filter that matches nothing leaves the gauges missing',
      'vllm-0.11-dp2-handwritten.prom', vllm, { modelName: 'other-model' },
      { missing: ['vllm:num_requests_waiting', 'vllm:num_requests_running'] }],
  ])('%s', (_name, file, names, filter, expected) => {
    expect(buildEngineSample(fixture(file), names, 1000, filter)).toEqual(expected);
  });

  it('counts absent counters as 0 (engines create labelled counters on the first request) and says so', () => {
    const result = buildEngineSample('sglang:num_queue_reqs{model_name="m"} 0\nsglang:num_running_reqs{model_name="m"} 0\n', sglang, 5);
    expect(result.sample).toEqual({ time: 5, waiting: 0, running: 0, promptTokens: 0, generationTokens: 0 });
    expect(result.missing).toEqual(['sglang:prompt_tokens_total', 'sglang:generation_tokens_total']);
  });

  it('ignores NaN and infinite series instead of poisoning the sum', () => {
    const text = 'vllm:num_requests_waiting{engine="0"} NaN\nvllm:num_requests_waiting{engine="1"} 2\nvllm:num_requests_running{engine="0"} +Inf\nvllm:num_requests_running{engine="1"} 5\n';
    expect(buildEngineSample(text, vllm, 0).sample).toMatchObject({ waiting: 2, running: 5 });
  });
});

const sample = (time: number, prompt: number, generation: number, extra: Partial<EngineSample> = {}): EngineSample => ({ time, waiting: 0, running: 0, promptTokens: prompt, generationTokens: generation, ...extra });

describe('computeEngineRates', () => {
  it.each([
    ['first sample: no rate yet', undefined, sample(15_000, 100, 10), undefined],
    ['same time: no rate', sample(15_000, 100, 10), sample(15_000, 200, 20), undefined],
    ['time going backwards: no rate', sample(30_000, 100, 10), sample(15_000, 200, 20), undefined],
    ['steady counters', sample(0, 1000, 100), sample(15_000, 31_000, 4_600), { from: 0, to: 15_000, promptTokensPerSecond: 2000, generationTokensPerSecond: 300, reset: false }],
    ['idle: zero rates', sample(0, 1000, 100), sample(15_000, 1000, 100), { from: 0, to: 15_000, promptTokensPerSecond: 0, generationTokensPerSecond: 0, reset: false }],
    ['a restart: the counter fell, so it began again from 0', sample(0, 50_000, 9_000), sample(10_000, 2_000, 500), { from: 0, to: 10_000, promptTokensPerSecond: 200, generationTokensPerSecond: 50, reset: true }],
    ['a restart that already passed the old value, caught by _created',
      sample(0, 1000, 100, { countersCreated: 1.7e9 }), sample(10_000, 3000, 400, { countersCreated: 1.7e9 + 100 }),
      { from: 0, to: 10_000, promptTokensPerSecond: 300, generationTokensPerSecond: 40, reset: true }],
    ['finished requests as a rate when both samples count them',
      sample(0, 0, 0, { requestsFinished: 10 }), sample(10_000, 0, 0, { requestsFinished: 60 }),
      { from: 0, to: 10_000, promptTokensPerSecond: 0, generationTokensPerSecond: 0, requestsPerSecond: 5, reset: false }],
  ])('%s', (_name, previous, current, expected) => {
    expect(computeEngineRates(previous, current)).toEqual(expected);
  });
});

describe('computeEngineRatesOver (a rate window of several scrapes)', () => {
  it.each([
    ['one sample: no rate', [sample(0, 0, 0)], undefined],
    ['four scrapes over 45 s', [sample(0, 0, 0), sample(15_000, 15_000, 1_500), sample(30_000, 45_000, 3_000), sample(45_000, 90_000, 4_500)],
      { from: 0, to: 45_000, promptTokensPerSecond: 2000, generationTokensPerSecond: 100, reset: false, recentPromptTokensPerSecond: 3000, recentGenerationTokensPerSecond: 100 }],
    ['a restart in the middle: increases are summed piecewise, as Prometheus rate() does',
      [sample(0, 100_000, 10_000), sample(15_000, 115_000, 11_500), sample(30_000, 15_000, 1_500)],
      { from: 0, to: 30_000, promptTokensPerSecond: 1000, generationTokensPerSecond: 100, reset: true, recentPromptTokensPerSecond: 1000, recentGenerationTokensPerSecond: 100 }],
  ])('%s', (_name, history, expected) => {
    expect(computeEngineRatesOver(history)).toEqual(expected);
  });
});

// llama-server's /metrics, byte for byte as its late-2025 handler writes it (ggml-org/llama.cpp tools/server/server.cpp,
// the server_http_context version src/engines/data/llamacpp.json describes): counters then gauges, HELP and TYPE
// lines, no labels, values as C++'s ostream prints a double (%g: 6 significant digits).
const llamaCppText = (v: { prompt: string; predicted: string; processing: number; deferred: number }): string => `# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total ${v.prompt}
# HELP llamacpp:prompt_seconds_total Prompt process time
# TYPE llamacpp:prompt_seconds_total counter
llamacpp:prompt_seconds_total 235.743
# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.
# TYPE llamacpp:tokens_predicted_total counter
llamacpp:tokens_predicted_total ${v.predicted}
# HELP llamacpp:tokens_predicted_seconds_total Predict process time
# TYPE llamacpp:tokens_predicted_seconds_total counter
llamacpp:tokens_predicted_seconds_total 412.518
# HELP llamacpp:n_decode_total Total number of llama_decode() calls
# TYPE llamacpp:n_decode_total counter
llamacpp:n_decode_total 8121
# HELP llamacpp:n_tokens_max Largest observed n_tokens.
# TYPE llamacpp:n_tokens_max counter
llamacpp:n_tokens_max 2048
# HELP llamacpp:n_busy_slots_per_decode Average number of busy slots per llama_decode() call
# TYPE llamacpp:n_busy_slots_per_decode counter
llamacpp:n_busy_slots_per_decode 2.71371
# HELP llamacpp:prompt_tokens_seconds Average prompt throughput in tokens/s.
# TYPE llamacpp:prompt_tokens_seconds gauge
llamacpp:prompt_tokens_seconds 140.26
# HELP llamacpp:predicted_tokens_seconds Average generation throughput in tokens/s.
# TYPE llamacpp:predicted_tokens_seconds gauge
llamacpp:predicted_tokens_seconds 18.9107
# HELP llamacpp:requests_processing Number of requests processing.
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing ${v.processing}
# HELP llamacpp:requests_deferred Number of requests deferred.
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred ${v.deferred}
`;

const llamaTable = (JSON.parse(readFileSync(new URL('../../src/engines/data/llamacpp.json', import.meta.url), 'utf8')) as { metrics: Record<string, unknown> & { all: Record<string, string> } }).metrics;
// The engine as the autoscaler's code sees it, from the vendored table alone (kvCacheUsage null, as the table writes it).
const llamaEngineFromTable = {
  table: { metrics: llamaTable },
  metrics: {
    queueDepth: llamaTable['queueDepth'], running: llamaTable['running'], promptTokensTotal: llamaTable['promptTokensTotal'],
    generationTokensTotal: llamaTable['generationTokensTotal'], kvCacheUsage: llamaTable['kvCacheUsage'],
  },
} as unknown as Engine;
const llama = buildSampleMetricNames(llamaEngineFromTable);

describe('llama.cpp metrics', () => {
  it('names: queue depth requests_deferred, running requests_processing, token counters; no KV gauge, no request counter, no running histogram', () => {
    expect(llama).toEqual({
      queueDepth: 'llamacpp:requests_deferred', running: 'llamacpp:requests_processing',
      promptTokensTotal: 'llamacpp:prompt_tokens_total', generationTokensTotal: 'llamacpp:tokens_predicted_total',
    });
  });

  it('the registered LlamaCpp engine gives the same names', () => {
    expect(buildSampleMetricNames(ENGINES.LlamaCpp)).toEqual(llama);
  });

  it('the fixture is the vendored table\'s metric set: every name, in the handler\'s order, with its type', () => {
    const text = llamaCppText({ prompt: '33065', predicted: '7801', processing: 3, deferred: 5 });
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);
    expect(types).toEqual(Object.entries(llamaTable.all).map(([name, type]) => [name, type.split(' ')[0]]));
    expect(parsePrometheusText(text).problems).toEqual([]);
  });

  it.each([
    ['no model filter', {}],
    // The series carry no model_name label: the served-name filter the autoscaler always passes must keep them.
    ['the served-name filter', { modelName: 'lfm2-24b-a2b' }],
  ])('builds a sample from the unlabelled text with %s: waiting = requests_deferred, running = requests_processing', (_name, filter) => {
    const text = llamaCppText({ prompt: '33065', predicted: '7801', processing: 3, deferred: 5 });
    expect(buildEngineSample(text, llama, 1000, filter)).toEqual({
      sample: { time: 1000, waiting: 5, running: 3, promptTokens: 33065, generationTokens: 7801 }, missing: [],
    });
  });

  it('reads the 2026 text too (server-task.cpp to_metrics: new HELP strings, more metrics, a labelled speculative series)', () => {
    const text = [
      '# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed, excluding cached tokens',
      '# TYPE llamacpp:prompt_tokens_total counter', 'llamacpp:prompt_tokens_total 48211',
      '# HELP llamacpp:prompt_tokens_cached_total Number of prompt tokens reused from the cache',
      '# TYPE llamacpp:prompt_tokens_cached_total counter', 'llamacpp:prompt_tokens_cached_total 90112',
      '# HELP llamacpp:tokens_predicted_total Number of generation tokens processed',
      '# TYPE llamacpp:tokens_predicted_total counter', 'llamacpp:tokens_predicted_total 9920',
      '# HELP llamacpp:requests_processing Number of requests processing',
      '# TYPE llamacpp:requests_processing gauge', 'llamacpp:requests_processing 4',
      '# HELP llamacpp:requests_deferred Number of requests deferred',
      '# TYPE llamacpp:requests_deferred gauge', 'llamacpp:requests_deferred 7',
      '# HELP llamacpp:spec_decode_num_accepted_tokens_per_pos_total Accepted tokens per draft position',
      '# TYPE llamacpp:spec_decode_num_accepted_tokens_per_pos_total counter',
      'llamacpp:spec_decode_num_accepted_tokens_per_pos_total{position="0"} 812', '',
    ].join('\n');
    expect(buildEngineSample(text, llama, 0, { modelName: 'lfm2-24b' })).toEqual({
      sample: { time: 0, waiting: 7, running: 4, promptTokens: 48211, generationTokens: 9920 }, missing: [],
    });
  });

  it('reads counters past a million, which llama-server prints with 6 significant digits (1.23457e+06)', () => {
    const text = llamaCppText({ prompt: '1.23457e+06', predicted: '246913', processing: 4, deferred: 0 });
    expect(buildEngineSample(text, llama, 0).sample).toEqual({ time: 0, waiting: 0, running: 4, promptTokens: 1_234_570, generationTokens: 246_913 });
  });

  it('token rates from two scrapes, without requests per second or mean running (llama.cpp exports neither)', () => {
    const first = buildEngineSample(llamaCppText({ prompt: '1.23457e+06', predicted: '246913', processing: 4, deferred: 2 }), llama, 0).sample!;
    const second = buildEngineSample(llamaCppText({ prompt: '1.26457e+06', predicted: '249913', processing: 4, deferred: 6 }), llama, 15_000).sample!;
    expect(second).toMatchObject({ waiting: 6, running: 4 });
    expect(computeEngineRates(first, second)).toEqual({ from: 0, to: 15_000, promptTokensPerSecond: 2000, generationTokensPerSecond: 200, reset: false });
    const third = buildEngineSample(llamaCppText({ prompt: '1.29457e+06', predicted: '252913', processing: 4, deferred: 0 }), llama, 30_000).sample!;
    expect(computeEngineRatesOver([first, second, third])).toEqual({
      from: 0, to: 30_000, promptTokensPerSecond: 2000, generationTokensPerSecond: 200, reset: false,
      recentPromptTokensPerSecond: 2000, recentGenerationTokensPerSecond: 200,
    });
  });

  it('a restarted llama-server (counters back near 0) is a reset, its counts since the restart the increase', () => {
    const before = buildEngineSample(llamaCppText({ prompt: '33065', predicted: '7801', processing: 1, deferred: 0 }), llama, 0).sample!;
    const after = buildEngineSample(llamaCppText({ prompt: '1000', predicted: '200', processing: 1, deferred: 0 }), llama, 10_000).sample!;
    expect(computeEngineRates(before, after)).toEqual({ from: 0, to: 10_000, promptTokensPerSecond: 100, generationTokensPerSecond: 20, reset: true });
  });
});

describe('the llama.cpp engine stand-in', () => {
  it('renders the upstream text byte for byte from the server\'s metric state', () => {
    const text = renderLlamaCppMetrics({
      promptTokensTotal: 33065, tokensPredictedTotal: 7801, promptMsTotal: 235743.4, predictedMsTotal: 412518.9,
      nDecodeTotal: 8121, nBusySlotsTotal: 22038, nTokensMax: 2048,
      bucketPromptTokens: 1000, bucketPromptMs: 7129.6, bucketPredictedTokens: 200, bucketPredictedMs: 10576,
      processingSlots: 3, deferredTasks: 5,
    });
    expect(text).toBe(llamaCppText({ prompt: '33065', predicted: '7801', processing: 3, deferred: 5 }));
  });

  it.each([
    // Expected strings from printf("%g") (glibc): C++'s default ostream format for a double.
    [0, '0'], [5, '5'], [33065, '33065'], [235.743, '235.743'], [140.26032315978458, '140.26'], [2.71370530128479, '2.71371'],
    [999999, '999999'], [1234567, '1.23457e+06'], [999999.5, '1e+06'], [123456.5, '123456'], [1234565, '1.23456e+06'],
    [1234575, '1.23458e+06'], [0.0001, '0.0001'], [0.00001, '1e-05'], [2.5e20, '2.5e+20'], [-3.5, '-3.5'],
  ])('formats %s as C++ prints it: %s', (value, text) => {
    expect(formatCppDouble(value)).toBe(text);
  });

  it('serves llama.cpp\'s exact /metrics and /health, 503 with its JSON body while loading, and a scrape resets the throughput bucket', async () => {
    const s = new EngineStandIn('p', '127.0.0.1', 0, { slots: 2, serviceSeconds: 1, promptTokens: 1000, outputTokens: 200, servedName: 'm', engine: 'llamacpp' });
    await s.start();
    try {
      s.loading = true;
      for (const path of ['/health', '/metrics']) {
        const r = await fetch(`${s.address}${path}`);
        expect(r.status, path).toBe(503);
        expect(await r.text(), path).toBe('{"error":{"message":"Loading model","type":"unavailable_error","code":503}}');
      }
      s.loading = false;
      const health = await fetch(`${s.address}/health`);
      expect([health.status, await health.text()]).toEqual([200, '{"status":"ok"}']);

      s.waiting.push({ id: 1 }, { id: 2 }, { id: 3 });
      s.step(0);
      s.step(1000);
      const r = await fetch(`${s.address}/metrics`);
      expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4');
      expect(Number(r.headers.get('process-start-time-unix'))).toBe(Math.floor(s.startedAt / 1000));
      const text = await r.text();
      expect(text).not.toContain('{');
      expect(buildEngineSample(text, llama, 0).sample).toEqual({ time: 0, waiting: 0, running: 1, promptTokens: 2000, generationTokens: 400 });
      expect(text).toContain('\nllamacpp:prompt_tokens_seconds 10000\n');
      expect(text).toContain('\nllamacpp:prompt_seconds_total 0.2\n');
      expect(text).toContain('\nllamacpp:n_busy_slots_per_decode 2\n');
      // The throughput gauges average over the time since the last scrape: nothing finished since.
      expect(await (await fetch(`${s.address}/metrics`)).text()).toContain('\nllamacpp:prompt_tokens_seconds 0\n');
    } finally {
      await s.close();
    }
  });

  it('still serves vLLM\'s labelled text by default', () => {
    const s = new EngineStandIn('p', '127.0.0.1', 0, { slots: 1, serviceSeconds: 1, promptTokens: 10, outputTokens: 2, servedName: 'm' });
    s.extraWaiting = 2;
    expect(buildEngineSample(s.metrics(), vllm, 0, { modelName: 'm' }).sample).toMatchObject({ waiting: 2, running: 0 });
    expect(s.metrics()).toContain('vllm:num_requests_waiting{model_name="m",engine="0"} 2');
  });
});
