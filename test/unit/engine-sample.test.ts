import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENGINES } from '../../src/engines/index.js';
import type { EngineSample } from '../../src/metrics/engine-sample.js';
import { buildEngineSample, buildSampleMetricNames, computeEngineRates, computeEngineRatesOver } from '../../src/metrics/engine-sample.js';

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
