import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Exposition, Sample } from '../../src/metrics/prometheus-text.js';
import { parseFloatToken, parsePrometheusText } from '../../src/metrics/prometheus-text.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/metrics/${name}`, import.meta.url), 'utf8');
const samplesOf = (exposition: Exposition, name: string, labels: Record<string, string> = {}): Sample[] =>
  exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

describe('parsePrometheusText: format edge cases', () => {
  it.each([
    ['a bare sample', 'up 1', [{ name: 'up', labels: {}, value: 1 }]],
    ['labels, in any order, with a trailing comma', 'x{b="2",a="1",} 3', [{ name: 'x', labels: { a: '1', b: '2' }, value: 3 }]],
    ['spaces around labels and values', 'x { a = "1" , b="2" }   7.5', [{ name: 'x', labels: { a: '1', b: '2' }, value: 7.5 }]],
    ['escaped quote, backslash and newline in a label value', 'x{p="a\\"b\\\\c\\nd"} 1', [{ name: 'x', labels: { p: 'a"b\\c\nd' }, value: 1 }]],
    ['braces and commas inside a label value', 'x{p="{a,b}=c"} 1', [{ name: 'x', labels: { p: '{a,b}=c' }, value: 1 }]],
    ['empty label value', 'x{p=""} 1', [{ name: 'x', labels: { p: '' }, value: 1 }]],
    ['+Inf', 'x_bucket{le="+Inf"} +Inf', [{ name: 'x_bucket', labels: { le: '+Inf' }, value: Infinity }]],
    ['-Inf', 'x -Inf', [{ name: 'x', labels: {}, value: -Infinity }]],
    ['exponent notation', 'x 1.7769301736864982e+09', [{ name: 'x', labels: {}, value: 1776930173.6864982 }]],
    ['a timestamp in milliseconds', 'x 1 1700000000000', [{ name: 'x', labels: {}, value: 1, timestampMs: 1700000000000 }]],
    ['an OpenMetrics timestamp in seconds', 'x 1 1700000000.5', [{ name: 'x', labels: {}, value: 1, timestampMs: 1700000000500 }]],
    ['an OpenMetrics exemplar is dropped', 'x_bucket{le="1"} 4 # {trace_id="abc"} 0.5 1700000000', [{ name: 'x_bucket', labels: { le: '1' }, value: 4 }]],
    ['a quoted UTF-8 metric name (Prometheus 3)', '{"my.metric", a="1"} 2', [{ name: 'my.metric', labels: { a: '1' }, value: 2 }]],
    ['colons in names (vLLM, SGLang)', 'vllm:num_requests_waiting{engine="0"} 0.0', [{ name: 'vllm:num_requests_waiting', labels: { engine: '0' }, value: 0 }]],
    ['HELP (with escapes) and TYPE lines are skipped', '# HELP x Requests \\\\ served.\\nSecond line.\n# TYPE x GAUGE\nx 1', [{ name: 'x', labels: {}, value: 1 }]],
    ['comments, blank lines, CRLF and # EOF', '# a comment\r\n\r\nx 1\r\n# EOF\r\n', [{ name: 'x', labels: {}, value: 1 }]],
  ])('%s', (_name, text, expected) => {
    const parsed = parsePrometheusText(text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.samples).toEqual(expected);
  });

  it('parses NaN (which toEqual cannot compare to a literal)', () => {
    const [sample] = parsePrometheusText('x{a="1"} NaN').samples;
    expect(sample?.labels).toEqual({ a: '1' });
    expect(Number.isNaN(sample?.value)).toBe(true);
  });

  it.each([
    ['an unterminated label value', 'x{a="1} 2', /unterminated/],
    ['an unquoted label value', 'x{a=1} 2', /double-quoted/],
    ['an invalid escape', 'x{a="\\t"} 2', /invalid escape/],
    ['a duplicate label', 'x{a="1",a="2"} 2', /twice/],
    ['a missing value', 'x{a="1"}', /needs a value/],
    ['a value that is not a number', 'x 12abc', /invalid value/],
    ['a hex value (Go accepts it, the format does not)', 'x 0x10', /invalid value/],
    ['too many fields', 'x 1 2 3', /too many fields/],
    ['an unknown TYPE', '# TYPE x widget', /unknown metric type/],
  ])('reports %s with its line number and keeps the good lines', (_name, bad, message) => {
    const parsed = parsePrometheusText(`good 1\n${bad}\nalso_good 2`);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]?.line).toBe(2);
    expect(parsed.problems[0]?.message).toMatch(message);
    expect(parsed.samples.map((s) => s.name)).toEqual(['good', 'also_good']);
  });

  it.each([
    ['decimal', '12.5', 12.5],
    ['integer', '7', 7],
    ['leading dot', '.5', 0.5],
    ['+Inf', '+Inf', Infinity],
    ['Inf spelled out, any case', 'infinity', Infinity],
    ['-Inf', '-Inf', -Infinity],
    ['empty', '', undefined],
    ['garbage', 'abc', undefined],
  ])('parseFloatToken %s', (_name, token, expected) => {
    expect(parseFloatToken(token)).toBe(expected);
  });
});

describe('parsePrometheusText: real /metrics samples (PROVENANCE.md)', () => {
  it.each([
    ['vLLM docs example', 'vllm-docs-design-metrics.prom', 14, 'vllm:generation_tokens_total', {}, 27453],
    ['SGLang docs example', 'sglang-docs-production-metrics.prom', 21, 'sglang:num_queue_reqs', {}, 2826],
    ['SGLang docs example, exponent counter', 'sglang-docs-production-metrics.prom', 21, 'sglang:prompt_tokens_total', {}, 8128902],
    ['SGLang docs example, float-noise le', 'sglang-docs-production-metrics.prom', 21, 'sglang:func_latency_seconds_bucket', { le: '0.07500000000000001' }, 14006],
    ['SGLang docs example, +Inf bucket', 'sglang-docs-production-metrics.prom', 21, 'sglang:time_to_first_token_seconds_bucket', { le: '+Inf' }, 11008],
    ['vLLM 0.11 shape, escaped LoRA names', 'vllm-0.11-dp2-handwritten.prom', 29, 'vllm:lora_requests_info', { running_lora_adapters: 'sql-lora,chat "v2"', waiting_lora_adapters: 'C:\\adapters\\x\nnext' }, 1764029123.4],
  ])('%s', (_name, file, count, name, labels, value) => {
    const parsed = parsePrometheusText(fixture(file));
    expect(parsed.problems).toEqual([]);
    expect(parsed.samples).toHaveLength(count);
    const found = samplesOf(parsed, name, labels);
    expect(found).toHaveLength(1);
    expect(found[0]?.value).toBe(value);
  });

  it('finds several label sets of one metric', () => {
    const parsed = parsePrometheusText(fixture('vllm-docs-design-metrics.prom'));
    expect(samplesOf(parsed, 'vllm:request_success_total').map((s) => [s.labels.finished_reason, s.value])).toEqual([['stop', 1], ['length', 131], ['abort', 0]]);
  });
});
