// Pure. Extracts what the autoscaler reads from one engine pod's /metrics (waiting and running requests, prompt and
// generation token counters) and turns two scrapes into token rates; performs no I/O and reads no clock.
//
// Per pod, over the series of each metric that pass the filter:
//   waiting, running         = sum of the gauge's series        (vLLM: one series per data-parallel engine)
//   promptTokens, generation = sum of the counter's series (and finished requests, when the engine counts them)
//   rate(c)                  = (c1 - c0) / (t1 - t0)            when the counter did not restart
//                            = c1 / (t1 - t0)                   after a restart (c1 < c0, or its _created moved):
//                                                              the counter began again from 0, as Prometheus assumes
//   first sample             -> no rate yet
// SGLang replicates scheduler gauges on every tensor- and pipeline-parallel rank when
// --enable-metrics-for-all-schedulers is set, so only rank 0 series count (labels tp_rank, pp_rank absent or "0").
// llama-server's series carry no labels at all (one model per process), so the model-name filter keeps series without
// a model_name label; it exports no KV cache usage, no finished-requests counter and no running-time histogram, so
// kvCacheUsage, requestsFinished and runningSeconds are simply absent from its samples (and their rates from its rates).
import type { Engine, EngineMetricNames } from '../engines/engine.js';
import type { Exposition, Sample } from './prometheus-text.js';
import { parsePrometheusText } from './prometheus-text.js';

/** Labels whose non-zero values repeat the same scheduler's state (SGLang tensor/pipeline ranks). */
export const REPLICA_RANK_LABELS = ['tp_rank', 'pp_rank'] as const;

/**
 * The metric names the autoscaler reads: the engine's, plus its finished-requests counter when it has one. The KV
 * cache gauge is optional whatever EngineMetricNames says: llama-server has none.
 */
export interface SampleMetricNames extends Omit<EngineMetricNames, 'kvCacheUsage'> {
  /** KV cache in use, 0..1 (vllm:kv_cache_usage_perc, sglang:token_usage); absent for llama.cpp. */
  kvCacheUsage?: string | undefined;
  /** Counter of finished requests (vllm:request_success_total, sglang:num_requests_total). */
  requestsTotal?: string;
  /**
   * The _sum of the histogram of each finished request's time in the running batch (vllm:request_inference_time_seconds):
   * its rate is the time-averaged number of running requests (Little's law), steadier than the running gauge.
   */
  runningSecondsTotal?: string;
}

/** The names for an engine, the finished-requests counter read from its vendored metrics table. */
export function buildSampleMetricNames(engine: Engine): SampleMetricNames {
  const table = engine.table.metrics;
  const requests = table.requestSuccessTotal ?? table.requestsTotal;
  const all = (table.all ?? {}) as Record<string, unknown>;
  const inference = Object.keys(all).find((name) => name.endsWith(':request_inference_time_seconds'));
  // The vendored tables write a missing metric as null (llamacpp.json's kvCacheUsage): keep only names.
  const { kvCacheUsage, ...names }: Omit<EngineMetricNames, 'kvCacheUsage'> & { kvCacheUsage?: string | null } = engine.metrics;
  return {
    ...names,
    ...(typeof kvCacheUsage === 'string' ? { kvCacheUsage } : {}),
    ...(typeof requests === 'string' ? { requestsTotal: requests } : {}),
    ...(inference !== undefined ? { runningSecondsTotal: `${inference}_sum` } : {}),
  };
}

export interface EngineSample {
  /** When the scrape was taken, in milliseconds since the epoch (the scraper's clock, passed in). */
  time: number;
  waiting: number;
  running: number;
  promptTokens: number;
  generationTokens: number;
  /** Finished requests (all finish reasons), when the engine exports the counter. */
  requestsFinished?: number;
  /** Seconds finished requests spent running, summed (SampleMetricNames.runningSecondsTotal), when exported. */
  runningSeconds?: number;
  /**
   * Earliest creation time of the token counters' series (their _created samples, in seconds), when exported. The
   * earliest, so that a label set appearing later does not look like a restart; a restart moves all of them.
   */
  countersCreated?: number;
  /** KV cache in use, 0..1 (the highest series), when exported. */
  kvCacheUsage?: number;
}

export interface EngineSampleResult {
  sample?: EngineSample;
  /** Metric names the exposition lacks; a sample is only built when both gauges are present. */
  missing: string[];
}

export interface EngineRates {
  /** The two scrape times the rates span, in milliseconds since the epoch. */
  from: number;
  to: number;
  promptTokensPerSecond: number;
  generationTokensPerSecond: number;
  /** Finished requests per second, when both samples have the counter. */
  requestsPerSecond?: number;
  /** Time-averaged running requests (running seconds per second), when both samples have the histogram. */
  meanRunning?: number;
  /** The token rates of the last pair of scrapes alone (one scrape interval: a short burst shows there in full). */
  recentPromptTokensPerSecond?: number;
  recentGenerationTokensPerSecond?: number;
  /** True when a counter restarted between the two scrapes (the engine restarted). */
  reset: boolean;
}

export interface SampleFilter {
  /**
   * Keep only series whose model_name label equals this (the served model name). Series without the label are kept:
   * llama-server labels nothing, its process serves one model.
   */
  modelName?: string;
}

function keep(sample: Sample, filter: SampleFilter): boolean {
  if (!Number.isFinite(sample.value)) return false;
  if (filter.modelName !== undefined && sample.labels.model_name !== undefined && sample.labels.model_name !== filter.modelName) return false;
  return REPLICA_RANK_LABELS.every((label) => sample.labels[label] === undefined || sample.labels[label] === '0');
}

function sumOf(exposition: Exposition, name: string, filter: SampleFilter): number | undefined {
  let total: number | undefined;
  for (const s of exposition.samples) {
    if (s.name !== name || !keep(s, filter)) continue;
    total = (total ?? 0) + s.value;
  }
  return total;
}

function extremeOf(pick: (a: number, b: number) => number, exposition: Exposition, name: string, filter: SampleFilter): number | undefined {
  let best: number | undefined;
  for (const s of exposition.samples) {
    if (s.name !== name || !keep(s, filter)) continue;
    best = best === undefined ? s.value : pick(best, s.value);
  }
  return best;
}


/** The _created series of a counter named `x_total` is `x_created`. */
export function computeCreatedName(counterName: string): string {
  return counterName.replace(/_total$/, '') + '_created';
}

/**
 * Builds one pod's sample from its exposition (text or already parsed). Counters absent from the exposition count
 * as 0: engines create labelled counters lazily, on the first request (SGLang's tokenizer-side metrics).
 */
export function buildEngineSample(input: string | Exposition, names: SampleMetricNames, time: number, filter: SampleFilter = {}): EngineSampleResult {
  const exposition = typeof input === 'string' ? parsePrometheusText(input) : input;
  const waiting = sumOf(exposition, names.queueDepth, filter);
  const running = sumOf(exposition, names.running, filter);
  const missing = [
    ...(waiting === undefined ? [names.queueDepth] : []),
    ...(running === undefined ? [names.running] : []),
  ];
  if (waiting === undefined || running === undefined) return { missing };
  const prompt = sumOf(exposition, names.promptTokensTotal, filter);
  const generation = sumOf(exposition, names.generationTokensTotal, filter);
  if (prompt === undefined) missing.push(names.promptTokensTotal);
  if (generation === undefined) missing.push(names.generationTokensTotal);
  const created = [computeCreatedName(names.promptTokensTotal), computeCreatedName(names.generationTokensTotal)]
    .map((n) => extremeOf(Math.min, exposition, n, filter))
    .filter((v): v is number => v !== undefined);
  const kv = typeof names.kvCacheUsage === 'string' ? extremeOf(Math.max, exposition, names.kvCacheUsage, filter) : undefined;
  const sample: EngineSample = { time, waiting, running, promptTokens: prompt ?? 0, generationTokens: generation ?? 0 };
  if (created.length > 0) sample.countersCreated = Math.min(...created);
  if (kv !== undefined) sample.kvCacheUsage = kv;
  if (names.requestsTotal !== undefined) {
    const finished = sumOf(exposition, names.requestsTotal, filter);
    if (finished !== undefined) sample.requestsFinished = finished;
  }
  if (names.runningSecondsTotal !== undefined) {
    const seconds = sumOf(exposition, names.runningSecondsTotal, filter);
    if (seconds !== undefined) sample.runningSeconds = seconds;
  }
  return { sample, missing };
}

/** Seconds of history a rate should span (Prometheus' habit of rate(x[1m])): long enough to smooth bursts. */
export const RATE_WINDOW_SECONDS = 60;

/**
 * Token rates over a pod's recent samples (oldest first): the increases of consecutive pairs, each reset-aware, over
 * the whole span, like Prometheus' rate() without extrapolation. Undefined with fewer than two samples.
 */
export function computeEngineRatesOver(history: readonly EngineSample[]): EngineRates | undefined {
  let prompt = 0;
  let generation = 0;
  let requests: number | undefined = 0;
  let runningSeconds: number | undefined = 0;
  let reset = false;
  let from: number | undefined;
  let to: number | undefined;
  let recent: EngineRates | undefined;
  for (let i = 1; i < history.length; i++) {
    const before = history[i - 1];
    const after = history[i];
    if (!before || !after) continue;
    const pair = computeEngineRates(before, after);
    if (!pair) continue;
    recent = pair;
    const seconds = (pair.to - pair.from) / 1000;
    prompt += pair.promptTokensPerSecond * seconds;
    generation += pair.generationTokensPerSecond * seconds;
    requests = requests === undefined || pair.requestsPerSecond === undefined ? undefined : requests + pair.requestsPerSecond * seconds;
    runningSeconds = runningSeconds === undefined || pair.meanRunning === undefined ? undefined : runningSeconds + pair.meanRunning * seconds;
    reset ||= pair.reset;
    from ??= pair.from;
    to = pair.to;
  }
  if (from === undefined || to === undefined) return undefined;
  const span = (to - from) / 1000;
  const rates: EngineRates = { from, to, promptTokensPerSecond: prompt / span, generationTokensPerSecond: generation / span, reset };
  if (requests !== undefined) rates.requestsPerSecond = requests / span;
  if (runningSeconds !== undefined) rates.meanRunning = runningSeconds / span;
  if (recent) {
    rates.recentPromptTokensPerSecond = recent.promptTokensPerSecond;
    rates.recentGenerationTokensPerSecond = recent.generationTokensPerSecond;
  }
  return rates;
}

/** Token rates between two samples of the same pod; undefined for a first sample or a non-increasing time. */
export function computeEngineRates(previous: EngineSample | undefined, current: EngineSample): EngineRates | undefined {
  if (!previous || current.time <= previous.time) return undefined;
  const seconds = (current.time - previous.time) / 1000;
  const restarted = previous.countersCreated !== undefined && current.countersCreated !== undefined && current.countersCreated !== previous.countersCreated;
  const promptReset = restarted || current.promptTokens < previous.promptTokens;
  const generationReset = restarted || current.generationTokens < previous.generationTokens;
  const increase = (now: number, before: number, reset: boolean): number => (reset ? now : now - before);
  const rates: EngineRates = {
    from: previous.time,
    to: current.time,
    promptTokensPerSecond: increase(current.promptTokens, previous.promptTokens, promptReset) / seconds,
    generationTokensPerSecond: increase(current.generationTokens, previous.generationTokens, generationReset) / seconds,
    reset: promptReset || generationReset,
  };
  if (previous.requestsFinished !== undefined && current.requestsFinished !== undefined) {
    const requestsReset = restarted || current.requestsFinished < previous.requestsFinished;
    rates.requestsPerSecond = increase(current.requestsFinished, previous.requestsFinished, requestsReset) / seconds;
    rates.reset ||= requestsReset;
  }
  if (previous.runningSeconds !== undefined && current.runningSeconds !== undefined) {
    const runningReset = restarted || current.runningSeconds < previous.runningSeconds;
    rates.meanRunning = increase(current.runningSeconds, previous.runningSeconds, runningReset) / seconds;
  }
  return rates;
}
