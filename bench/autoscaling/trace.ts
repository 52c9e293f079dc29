// Request traces for the autoscaling benchmark: the Azure LLM inference CSV format, the amplify transform and the
// synthetic unit traces of reference/autoscaling.md §5.2. Pure functions of their text and seed; no file I/O here.
// The other generated traces (bursty, diurnal, heavy-tail, decode-heavy) and the transforms (scaleLengths,
// timeScale, windowTrace) are in generators.ts; buildTraceOfKind there builds any synthetic:KIND.
import type { Random } from './random.js';
import { buildRandom, computeExponential, computeLognormal } from './random.js';

/** Requests sorted by arrival: seconds from the first request, prompt tokens, output tokens. */
export interface Trace {
  name: string;
  arrival: Float64Array;
  input: Int32Array;
  output: Int32Array;
}

export const SYNTHETIC_KINDS = ['step', 'spike', 'ramp', 'onoff'] as const;
export type SyntheticKind = (typeof SYNTHETIC_KINDS)[number];

/** "2023-11-16 18:15:46.6805900" (no zone; only differences matter) -> milliseconds. */
function parseAzureTimestamp(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '0'] = m;
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return base + Number(`0.${frac}`) * 1000;
}

function sortTrace(name: string, arrival: number[], input: number[], output: number[]): Trace {
  const order = arrival.map((_, i) => i).sort((a, b) => (arrival[a] ?? 0) - (arrival[b] ?? 0) || a - b);
  const first = arrival[order[0] ?? 0] ?? 0;
  const trace: Trace = {
    name,
    arrival: new Float64Array(order.length),
    input: new Int32Array(order.length),
    output: new Int32Array(order.length),
  };
  order.forEach((from, to) => {
    trace.arrival[to] = (arrival[from] ?? 0) - first;
    trace.input[to] = input[from] ?? 0;
    trace.output[to] = output[from] ?? 0;
  });
  return trace;
}

/**
 * Parses an Azure LLM inference trace (TIMESTAMP,ContextTokens,GeneratedTokens; the 2023 and 2024 files share the
 * format). Times become seconds from the first request; rows with no output token are kept with one.
 */
export function parseAzureTrace(text: string, name: string): Trace {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().toLowerCase());
  const ti = header.indexOf('timestamp');
  const ii = header.findIndex((h) => h === 'contexttokens' || h === 'context_tokens');
  const oi = header.findIndex((h) => h === 'generatedtokens' || h === 'generated_tokens');
  if (ti < 0 || ii < 0 || oi < 0) throw new Error(`${name}: not an Azure LLM inference trace (want TIMESTAMP,ContextTokens,GeneratedTokens; got ${lines[0] ?? 'nothing'})`);
  const arrival: number[] = [];
  const input: number[] = [];
  const output: number[] = [];
  for (let n = 1; n < lines.length; n++) {
    const cells = (lines[n] ?? '').split(',');
    const ms = parseAzureTimestamp(cells[ti] ?? '');
    const inTokens = Number(cells[ii]);
    const outTokens = Number(cells[oi]);
    if (ms === undefined || !Number.isFinite(inTokens) || !Number.isFinite(outTokens)) throw new Error(`${name}:${n + 1}: cannot parse ${JSON.stringify(lines[n])}`);
    arrival.push(ms / 1000);
    input.push(Math.max(1, Math.round(inTokens)));
    output.push(Math.max(1, Math.round(outTokens)));
  }
  return sortTrace(name, arrival, input, output);
}

/**
 * amplify k (§5.2): each request becomes k copies; copies 2..k arrive a uniform jitter in [0, jitter) seconds later,
 * which keeps the trace's burst structure at a second and above.
 */
export function buildAmplifiedTrace(trace: Trace, k: number, random: Random, jitterSeconds = 1): Trace {
  if (k === 1) return trace;
  const n = trace.arrival.length;
  const arrival: number[] = new Array<number>(n * k);
  const input: number[] = new Array<number>(n * k);
  const output: number[] = new Array<number>(n * k);
  let j = 0;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      arrival[j] = (trace.arrival[i] ?? 0) + (c === 0 ? 0 : random.next() * jitterSeconds);
      input[j] = trace.input[i] ?? 1;
      output[j] = trace.output[i] ?? 1;
      j++;
    }
  }
  return sortTrace(`${trace.name} x${k}`, arrival, input, output);
}

/** Offered request rate of a synthetic trace at time t (seconds), relative to the base rate. */
export function computeSyntheticRate(kind: SyntheticKind, t: number): number {
  const minute = t / 60;
  switch (kind) {
    case 'step': return minute < 30 ? 1 : 2;
    case 'spike': return minute >= 30 && minute < 31 ? 10 : 1;
    case 'ramp': return minute < 15 ? 1 : minute < 45 ? 1 + 2 * (minute - 15) / 30 : 3;
    case 'onoff': return Math.floor(minute / 15) % 2 === 0 ? 2 : 0;
  }
}

export interface SyntheticOptions {
  /** Base arrival rate in requests per second. */
  baseRate: number;
  durationSeconds: number;
  seed: number;
}

/**
 * The synthetic unit traces of §5.2 item 4: Poisson arrivals (thinning of a rate-limited process) with conv-like
 * lognormal lengths (mean about 1,150 prompt and 210 output tokens):
 *   step   base rate for 30 min, then twice it;     spike  base rate, ten times it for one minute at 30 min;
 *   ramp   base for 15 min, 30-min ramp to 3x base;  onoff  2x base for 15 min, nothing for 15 min, repeated.
 */
export function buildSyntheticTrace(kind: SyntheticKind, options: SyntheticOptions): Trace {
  const random = buildRandom(options.seed);
  const peak = 10 * options.baseRate;
  const arrival: number[] = [];
  const input: number[] = [];
  const output: number[] = [];
  // Lognormal shapes: mean = median x exp(sigma^2 / 2).
  const inSigma = 0.8;
  const outSigma = 0.9;
  const inMedian = 1150 / Math.exp(inSigma * inSigma / 2);
  const outMedian = 210 / Math.exp(outSigma * outSigma / 2);
  for (let t = computeExponential(random, 1 / peak); t < options.durationSeconds; t += computeExponential(random, 1 / peak)) {
    if (random.next() * peak >= computeSyntheticRate(kind, t) * options.baseRate) continue;
    arrival.push(t);
    input.push(Math.min(16000, Math.max(1, Math.round(computeLognormal(random, inMedian, inSigma)))));
    output.push(Math.min(2000, Math.max(1, Math.round(computeLognormal(random, outMedian, outSigma)))));
  }
  // Keep absolute times: a trace that starts quiet must not be shifted to its first request.
  const trace = sortTrace(`synthetic:${kind}`, arrival, input, output);
  const first = arrival[0] ?? 0;
  for (let i = 0; i < trace.arrival.length; i++) trace.arrival[i] = (trace.arrival[i] ?? 0) + first;
  return trace;
}
