// Seeded trace generators and trace transforms for the autoscaling benchmark's trace suite (suite.ts). Each generator
// is a pure function of its options (seed, duration, base rate) returning a Trace with absolute arrival times (a trace
// that starts quiet is not shifted to its first request); the transforms are pure functions of a Trace. No I/O, no
// Math.random (random.ts only), so the same seed gives the same trace byte for byte.
//
// Work per request at full batch is w = p x in + d x out (replica.ts, computeRequestWork); with conv-like lengths
// (mean 1,150 prompt / 210 output tokens) w = 0.039 replica-seconds, so 100 requests/s need about 3.9 replicas.
//
//   bursty        code-assistant-like. Cycles of: a quiet period made of idle gaps of silence (60-240 s each,
//                 uniform) separated by short trickles (20-90 s at 0.3x base), then a burst of 30-120 s (uniform) at
//                 5-12x base (log-uniform). Each quiet period is as long as it takes for its cycle to average the base
//                 rate, so a burst of h x base for D s is followed by about (h - 1) x D s of quiet: a burst every
//                 5-15 minutes (4-6 an hour), 15-20 idle gaps of >= 60 s an hour, and every burst at >= 5x the
//                 trace's mean rate. Conv-like lognormal lengths. The base rate is the long-run mean rate (the
//                 realized mean is 85-100% of it: the quiet after the last burst is cut at the end).
//   bursty-recurring  the shape the autoscaling issue describes: a minute or two of silence (60-120 s, uniform), then
//                 a burst of 10-40 s (uniform) at 3-7.5x the base rate (log-uniform), recurring every 1.5-3 minutes:
//                 bursts of several hundred requests a second, 3-10x the trace's mean. The silences are shorter than
//                 a replica's start, so break-even holding serves the bursts. Conv-like lengths.
//   diurnal       a daily cycle compressed into the run: rate(t) = base x (0.2 + 1.8 x (1 - cos(2 pi t / T)) / 2),
//                 trough 0.2x at the start and the end, peak 2x at mid-run (mean 1.1x base), Poisson arrivals (a
//                 non-homogeneous Poisson process, by thinning). Conv-like lengths.
//   heavy-tail    heavy-tailed prompts: lognormal with median 1,500 and sigma 1.3, truncated at 30,000 tokens so that
//                 prompt + output fits a 32,768-token context (p50 1.5K, p90 7.4K, p99 21K, mean 3.0K: 11% of the
//                 prompts above 7K, 3% above 15K); conv-like outputs and a conv-like rate.
//   decode-heavy  short prompts (lognormal, median 180, sigma 0.5: mean about 200) and long outputs (uniform
//                 1,000-2,000 tokens), a conv-like rate: the decode batch, not prefill, limits a replica.
//
// The idle kinds (IDLE_KINDS: scale to zero's traces, with silences of tens of minutes; conv-like lengths):
//   idle-gaps     sessions of 10-40 min (uniform) separated by silences of 10-60 min (uniform), the first session at
//                 t = 0. A session runs at base x L (L log-uniform in 1/3..3, per session) x a conv-like multiplier,
//                 ramping in linearly over its first 2-5 min (users arrive) and out over its last 1-3 min.
//   workday       office days compressed to 3.5 h each: a morning session of 45-60 min starting 0-10 min into the
//                 day, a lunch silence of 20-40 min, an afternoon session of 45-60 min, then silence until the next
//                 day (the night: 40-100 min). Each session's rate is base x (0.4 + 1.2 sin(pi u)) (u: the fraction
//                 of the session gone; 0.4x at its ends, 1.6x at its middle) x a conv-like multiplier, with 1-2
//                 pauses of 60-180 s of silence inside it (a meeting, a coffee).
//   sparse-sessions  short sessions of 2-10 min at a constant base x L (L log-uniform in 1/3..3: 0.1-0.9
//                 requests/s at the default base 0.3), separated by silences of 10-60 min: a development or
//                 evaluation endpoint used now and then. The first session at t = 0.
//
// A conv-like rate: the base rate times a per-minute multiplier exp(X_k - s^2/2) where X is a Gaussian AR(1) in the
// minute index with coefficient 0.82 and stationary deviation s = 0.22 (the conv trace's per-minute requests have a
// coefficient of variation of 0.22 and a lag-1 autocorrelation of 0.82), linear between minutes; Poisson arrivals.
import type { Random } from './random.js';
import { buildRandom, computeExponential, computeLognormal, computeNormal } from './random.js';
import type { SyntheticKind, Trace } from './trace.js';
import { SYNTHETIC_KINDS, buildSyntheticTrace } from './trace.js';

export interface GeneratorOptions {
  seed: number;
  durationSeconds: number;
  /** Requests per second; what it means for each kind is in the header above. */
  baseRate: number;
}

/** The generated kinds with silences of tens of minutes (scale to zero's traces). */
export const IDLE_KINDS = ['idle-gaps', 'workday', 'sparse-sessions'] as const;
export type IdleKind = (typeof IDLE_KINDS)[number];

export const GENERATOR_KINDS = ['bursty', 'bursty-recurring', 'diurnal', 'heavy-tail', 'decode-heavy', ...IDLE_KINDS] as const;
export type GeneratorKind = (typeof GENERATOR_KINDS)[number];

/** Every kind addressable as synthetic:KIND: the §5.2 unit traces (trace.ts) and the generators here. */
export const TRACE_KINDS = [...SYNTHETIC_KINDS, ...GENERATOR_KINDS] as const;
export type TraceKind = SyntheticKind | GeneratorKind;

/**
 * Default base rate and length of each generated kind: 4-5 replicas of the LFM2 profile on average (work / time),
 * at most about 400K requests. The §5.2 unit traces keep their own default (SYNTHETIC_BASE_RATE in scenario.ts, 1 h).
 * Counts are for seed 1.
 */
export const GENERATOR_DEFAULTS: Record<GeneratorKind, { baseRate: number; durationSeconds: number }> = {
  // 350K requests, 3.8 replicas on average; bursts of 19-47 replicas at full batch (oracle R* up to 54).
  bursty: { baseRate: 100, durationSeconds: 3600 },
  // 396K requests (mean 1.1 x base), 4.2 replicas on average: 0.8 at the troughs, 7.8 at the peak.
  diurnal: { baseRate: 100, durationSeconds: 3600 },
  // 242K requests, 5.1 replicas on average.
  'heavy-tail': { baseRate: 80, durationSeconds: 3600 },
  // 161K requests, 4.9 replicas on average.
  'decode-heavy': { baseRate: 50, durationSeconds: 3600 },
  // mean about 130/s (470K requests, 5 replicas on average), bursts of 400-1,000/s (16-40 replicas).
  'bursty-recurring': { baseRate: 130, durationSeconds: 3600 },
  // 4 h: 5-7 sessions at 3-30 requests/s (1-2 replicas), silences of 10-60 min.
  'idle-gaps': { baseRate: 10, durationSeconds: 14_400 },
  // two compressed days (7 h): four office sessions peaking at 24 requests/s (1-2 replicas), lunch and night silences.
  workday: { baseRate: 15, durationSeconds: 25_200 },
  // 8 h: 10-15 sessions of 2-10 min at 0.1-0.9 requests/s (a fraction of one replica), silences of 10-60 min.
  'sparse-sessions': { baseRate: 0.3, durationSeconds: 28_800 },
};

export function isTraceKind(kind: string): kind is TraceKind {
  return (TRACE_KINDS as readonly string[]).includes(kind);
}

export function isGeneratorKind(kind: string): kind is GeneratorKind {
  return (GENERATOR_KINDS as readonly string[]).includes(kind);
}

/** Builds any synthetic:KIND trace: the §5.2 unit traces through buildSyntheticTrace, the others here. */
export function buildTraceOfKind(kind: TraceKind, options: GeneratorOptions): Trace {
  switch (kind) {
    case 'bursty': return buildBurstyTrace(options);
    case 'diurnal': return buildDiurnalTrace(options);
    case 'heavy-tail': return buildHeavyTailTrace(options);
    case 'decode-heavy': return buildDecodeHeavyTrace(options);
    case 'bursty-recurring': return buildRecurringBurstTrace(options);
    case 'idle-gaps': return buildIdleGapTrace(options);
    case 'workday': return buildWorkdayTrace(options);
    case 'sparse-sessions': return buildSparseSessionTrace(options);
    default: return buildSyntheticTrace(kind, options);
  }
}

// ---- building blocks ----

/** Collects requests in arrival order (every generator emits arrivals in increasing time). */
class TraceBuilder {
  private arrival: number[] = [];
  private input: number[] = [];
  private output: number[] = [];
  add(t: number, input: number, output: number): void {
    this.arrival.push(t);
    this.input.push(input);
    this.output.push(output);
  }
  build(name: string): Trace {
    return { name, arrival: Float64Array.from(this.arrival), input: Int32Array.from(this.input), output: Int32Array.from(this.output) };
  }
}

type LengthSampler = (random: Random) => [number, number];

/** Conv-like lengths, as the §5.2 unit traces: lognormal, mean about 1,150 prompt and 210 output tokens. */
const CONV_IN_SIGMA = 0.8;
const CONV_OUT_SIGMA = 0.9;
const CONV_IN_MEDIAN = 1150 / Math.exp(CONV_IN_SIGMA * CONV_IN_SIGMA / 2);
const CONV_OUT_MEDIAN = 210 / Math.exp(CONV_OUT_SIGMA * CONV_OUT_SIGMA / 2);
const convOutput = (random: Random): number => Math.min(2000, Math.max(1, Math.round(computeLognormal(random, CONV_OUT_MEDIAN, CONV_OUT_SIGMA))));
const convLengths: LengthSampler = (random) => [
  Math.min(16000, Math.max(1, Math.round(computeLognormal(random, CONV_IN_MEDIAN, CONV_IN_SIGMA)))),
  convOutput(random),
];

const uniform = (random: Random, low: number, high: number): number => low + (high - low) * random.next();

/**
 * Poisson arrivals at rate(t) <= peak over [from, to) by thinning, each with lengths from `lengths`. Arrivals and
 * lengths come from separate streams, so the lengths do not change the arrival times.
 */
function addPoisson(out: TraceBuilder, arrivals: Random, lengthRandom: Random, from: number, to: number, peak: number, rate: (t: number) => number, lengths: LengthSampler): void {
  if (peak <= 0) return;
  for (let t = from + computeExponential(arrivals, 1 / peak); t < to; t += computeExponential(arrivals, 1 / peak)) {
    if (arrivals.next() * peak >= rate(t)) continue;
    const [input, output] = lengths(lengthRandom);
    out.add(t, input, output);
  }
}

/** The conv-like rate multiplier over [0, duration): see the header. Mean about 1. */
export function buildConvLikeMultiplier(random: Random, durationSeconds: number): { at: (t: number) => number; peak: number } {
  const phi = 0.82;
  const s = 0.22;
  const minutes = Math.ceil(durationSeconds / 60) + 1;
  const knots = new Float64Array(minutes);
  let x = s * computeNormal(random);
  for (let k = 0; k < minutes; k++) {
    knots[k] = Math.exp(x - s * s / 2);
    x = phi * x + s * Math.sqrt(1 - phi * phi) * computeNormal(random);
  }
  const at = (t: number): number => {
    const u = Math.max(0, t / 60);
    const k = Math.min(minutes - 2, Math.floor(u));
    const f = Math.min(1, u - k);
    return (knots[k] ?? 1) * (1 - f) + (knots[k + 1] ?? 1) * f;
  };
  return { at, peak: Math.max(...knots) };
}

function streams(seed: number, salt: number): { shape: Random; arrivals: Random; lengths: Random } {
  return { shape: buildRandom(seed * 1_000_003 + salt), arrivals: buildRandom(seed * 1_000_003 + salt + 1), lengths: buildRandom(seed * 1_000_003 + salt + 2) };
}

// ---- the generators ----

/** One piece of a bursty schedule: a constant rate (a multiple of the base rate) over [start, end). */
export interface RatePiece {
  start: number;
  end: number;
  /** Rate as a multiple of the base rate: 0 (silence), 0.3 (trickle) or 5-12 (burst). */
  level: number;
}

export const BURSTY_SHAPE = {
  gapSeconds: [60, 240],
  trickleSeconds: [20, 90],
  trickleLevel: 0.3,
  burstSeconds: [30, 120],
  burstLevel: [5, 12],
} as const;

/** The bursty schedule (exported for tests and the chart's reader): quiet periods then bursts, from t = 0 to the end. */
export function buildBurstySchedule(seed: number, durationSeconds: number): RatePiece[] {
  const { shape } = streams(seed, 11);
  const pieces: RatePiece[] = [];
  const S = BURSTY_SHAPE;
  let t = 0;
  const push = (length: number, level: number): void => {
    const end = Math.min(durationSeconds, t + length);
    if (end > t) pieces.push({ start: t, end, level });
    t = end;
  };
  while (t < durationSeconds) {
    const burst = uniform(shape, S.burstSeconds[0], S.burstSeconds[1]);
    const level = S.burstLevel[0] * Math.pow(S.burstLevel[1] / S.burstLevel[0], shape.next());
    // Quiet until the cycle (quiet + burst) averages the base rate: (level x burst + trickles) / (quiet + burst) = 1.
    let quiet = 0;
    let volume = level * burst;
    for (;;) {
      const need = volume - burst - quiet;
      const gap = Math.max(S.gapSeconds[0], Math.min(uniform(shape, S.gapSeconds[0], S.gapSeconds[1]), need));
      push(gap, 0);
      quiet += gap;
      if (quiet + burst >= volume || t >= durationSeconds) break;
      const trickle = uniform(shape, S.trickleSeconds[0], S.trickleSeconds[1]);
      push(trickle, S.trickleLevel);
      quiet += trickle;
      volume += S.trickleLevel * trickle;
    }
    push(burst, level);
  }
  return pieces;
}

/** Poisson arrivals at each piece's constant rate (level x base), conv-like lengths. */
function buildPiecewiseTrace(pieces: readonly RatePiece[], options: GeneratorOptions, salt: number, name: string): Trace {
  const { arrivals, lengths } = streams(options.seed, salt);
  const out = new TraceBuilder();
  for (const piece of pieces) {
    const rate = piece.level * options.baseRate;
    addPoisson(out, arrivals, lengths, piece.start, piece.end, rate, () => rate, convLengths);
  }
  return out.build(name);
}

/** bursty: see the header. The base rate is the long-run mean. */
export function buildBurstyTrace(options: GeneratorOptions): Trace {
  return buildPiecewiseTrace(buildBurstySchedule(options.seed, options.durationSeconds), options, 11, 'synthetic:bursty');
}

/** The recurring-burst schedule: silence 60-120 s, then a burst of 10-40 s at 3-7.5x base; see the header. */
export function buildRecurringBurstSchedule(seed: number, durationSeconds: number): RatePiece[] {
  const { shape } = streams(seed, 29);
  const pieces: RatePiece[] = [];
  let t = 0;
  while (t < durationSeconds) {
    const silence = uniform(shape, 60, 120);
    const burst = uniform(shape, 10, 40);
    const level = 3 * Math.pow(2.5, shape.next());
    const start = Math.min(durationSeconds, t + silence);
    const end = Math.min(durationSeconds, start + burst);
    if (start > t) pieces.push({ start: t, end: start, level: 0 });
    if (end > start) pieces.push({ start, end, level });
    t = end;
  }
  return pieces;
}

/** bursty-recurring: see the header. Mean rate about 0.95 x base. */
export function buildRecurringBurstTrace(options: GeneratorOptions): Trace {
  return buildPiecewiseTrace(buildRecurringBurstSchedule(options.seed, options.durationSeconds), options, 29, 'synthetic:bursty-recurring');
}

/** The diurnal rate at time t of a run of length T, as a multiple of the base rate: 0.2 at 0 and T, 2 at T / 2. */
export function computeDiurnalRate(t: number, durationSeconds: number): number {
  return 0.2 + 1.8 * (1 - Math.cos(2 * Math.PI * t / durationSeconds)) / 2;
}

/** diurnal: see the header. */
export function buildDiurnalTrace(options: GeneratorOptions): Trace {
  const { arrivals, lengths } = streams(options.seed, 23);
  const out = new TraceBuilder();
  const T = options.durationSeconds;
  addPoisson(out, arrivals, lengths, 0, T, 2 * options.baseRate, (t) => computeDiurnalRate(t, T) * options.baseRate, convLengths);
  return out.build('synthetic:diurnal');
}

export const HEAVY_TAIL_PROMPT = { median: 1500, sigma: 1.3, max: 30_000 } as const;

/** heavy-tail: see the header. */
export function buildHeavyTailTrace(options: GeneratorOptions): Trace {
  const { shape, arrivals, lengths } = streams(options.seed, 37);
  const out = new TraceBuilder();
  const m = buildConvLikeMultiplier(shape, options.durationSeconds);
  const heavy: LengthSampler = (random) => {
    // Truncated, not clamped: draw again above the maximum (about 1% of draws), so no spike at the cap.
    let prompt = Infinity;
    while (prompt > HEAVY_TAIL_PROMPT.max) prompt = Math.max(1, Math.round(computeLognormal(random, HEAVY_TAIL_PROMPT.median, HEAVY_TAIL_PROMPT.sigma)));
    return [prompt, convOutput(random)];
  };
  addPoisson(out, arrivals, lengths, 0, options.durationSeconds, m.peak * options.baseRate, (t) => m.at(t) * options.baseRate, heavy);
  return out.build('synthetic:heavy-tail');
}

/** decode-heavy: see the header. */
export function buildDecodeHeavyTrace(options: GeneratorOptions): Trace {
  const { shape, arrivals, lengths } = streams(options.seed, 41);
  const out = new TraceBuilder();
  const m = buildConvLikeMultiplier(shape, options.durationSeconds);
  const decode: LengthSampler = (random) => [
    Math.min(1000, Math.max(1, Math.round(computeLognormal(random, 180, 0.5)))),
    1000 + Math.floor(random.next() * 1001),
  ];
  addPoisson(out, arrivals, lengths, 0, options.durationSeconds, m.peak * options.baseRate, (t) => m.at(t) * options.baseRate, decode);
  return out.build('synthetic:decode-heavy');
}

// ---- the idle kinds: sessions separated by silences of tens of minutes ----

/** One session of an idle-kind schedule: requests over [start, end) at level x base (with the kind's shape). */
export interface Session {
  start: number;
  end: number;
  level: number;
  /** idle-gaps: the linear ramps at the start and the end, in seconds. */
  rampIn: number;
  rampOut: number;
  /** workday: silences inside the session. */
  pauses: { start: number; end: number }[];
}

const logUniform = (random: Random, low: number, high: number): number => low * Math.pow(high / low, random.next());

/** Sessions of `length()` separated by silences of `gap()`, the first at t = 0, none starting at or after T. */
function buildSessions(durationSeconds: number, length: () => number, gap: () => number, level: () => number, ramps: () => [number, number]): Session[] {
  const out: Session[] = [];
  for (let t = 0; t < durationSeconds;) {
    const end = Math.min(durationSeconds, t + length());
    const [rampIn, rampOut] = ramps();
    out.push({ start: t, end, level: level(), rampIn, rampOut, pauses: [] });
    t = end + gap();
  }
  return out;
}

/** The idle-gaps schedule: see the header. */
export function buildIdleGapSchedule(seed: number, durationSeconds: number): Session[] {
  const { shape } = streams(seed, 43);
  return buildSessions(durationSeconds, () => uniform(shape, 600, 2400), () => uniform(shape, 600, 3600), () => logUniform(shape, 1 / 3, 3), () => [uniform(shape, 120, 300), uniform(shape, 60, 180)]);
}

/** The sparse-sessions schedule: see the header. */
export function buildSparseSessionSchedule(seed: number, durationSeconds: number): Session[] {
  const { shape } = streams(seed, 47);
  return buildSessions(durationSeconds, () => uniform(shape, 120, 600), () => uniform(shape, 600, 3600), () => logUniform(shape, 1 / 3, 3), () => [0, 0]);
}

export const WORKDAY_SHAPE = { daySeconds: 12_600, startSeconds: [0, 600], sessionSeconds: [2700, 3600], lunchSeconds: [1200, 2400], pauseSeconds: [60, 180] } as const;

/** The workday schedule: see the header. */
export function buildWorkdaySchedule(seed: number, durationSeconds: number): Session[] {
  const { shape } = streams(seed, 53);
  const W = WORKDAY_SHAPE;
  const out: Session[] = [];
  const session = (start: number): Session => {
    const end = start + uniform(shape, W.sessionSeconds[0], W.sessionSeconds[1]);
    const pauses: { start: number; end: number }[] = [];
    const count = shape.next() < 0.5 ? 1 : 2;
    // Pauses in separate halves (two) or anywhere in the middle (one), never at the session's edges.
    for (let k = 0; k < count; k++) {
      const from = start + (end - start) * (count === 1 ? 0.2 : 0.1 + 0.45 * k);
      const to = start + (end - start) * (count === 1 ? 0.8 : 0.45 + 0.45 * k);
      const length = uniform(shape, W.pauseSeconds[0], W.pauseSeconds[1]);
      const at = uniform(shape, from, Math.max(from, to - length));
      pauses.push({ start: at, end: at + length });
    }
    return { start, end, level: 1, rampIn: 0, rampOut: 0, pauses };
  };
  for (let day = 0; day * W.daySeconds < durationSeconds; day++) {
    const morning = session(day * W.daySeconds + uniform(shape, W.startSeconds[0], W.startSeconds[1]));
    const afternoon = session(morning.end + uniform(shape, W.lunchSeconds[0], W.lunchSeconds[1]));
    for (const s of [morning, afternoon]) {
      if (s.start >= durationSeconds) continue;
      out.push({ ...s, end: Math.min(s.end, durationSeconds), pauses: s.pauses.filter((p) => p.start < durationSeconds) });
    }
  }
  return out;
}

/** The silences between consecutive sessions of a schedule, in seconds. */
export function computeSessionGaps(sessions: readonly Session[]): number[] {
  return sessions.slice(1).map((s, i) => s.start - (sessions[i]?.end ?? s.start));
}

/** idle-gaps: see the header. */
export function buildIdleGapTrace(options: GeneratorOptions): Trace {
  const { arrivals, lengths } = streams(options.seed, 43);
  const m = buildConvLikeMultiplier(streams(options.seed, 59).shape, options.durationSeconds);
  const out = new TraceBuilder();
  for (const s of buildIdleGapSchedule(options.seed, options.durationSeconds)) {
    const ramp = (t: number): number => Math.min(1, (t - s.start) / Math.max(1e-9, s.rampIn), (s.end - t) / Math.max(1e-9, s.rampOut));
    const rate = (t: number): number => options.baseRate * s.level * m.at(t) * Math.max(0, ramp(t));
    addPoisson(out, arrivals, lengths, s.start, s.end, options.baseRate * s.level * m.peak, rate, convLengths);
  }
  return out.build('synthetic:idle-gaps');
}

/** workday: see the header. */
export function buildWorkdayTrace(options: GeneratorOptions): Trace {
  const { arrivals, lengths } = streams(options.seed, 53);
  const m = buildConvLikeMultiplier(streams(options.seed, 61).shape, options.durationSeconds);
  const out = new TraceBuilder();
  for (const s of buildWorkdaySchedule(options.seed, options.durationSeconds)) {
    const rate = (t: number): number => options.baseRate * (0.4 + 1.2 * Math.sin(Math.PI * (t - s.start) / (s.end - s.start))) * m.at(t);
    const peak = 1.6 * options.baseRate * m.peak;
    // The session between its pauses.
    let from = s.start;
    for (const p of [...s.pauses, { start: s.end, end: s.end }]) {
      addPoisson(out, arrivals, lengths, from, Math.min(p.start, s.end), peak, rate, convLengths);
      from = p.end;
    }
  }
  return out.build('synthetic:workday');
}

/** sparse-sessions: see the header. */
export function buildSparseSessionTrace(options: GeneratorOptions): Trace {
  const { arrivals, lengths } = streams(options.seed, 47);
  const out = new TraceBuilder();
  for (const s of buildSparseSessionSchedule(options.seed, options.durationSeconds)) {
    const rate = options.baseRate * s.level;
    addPoisson(out, arrivals, lengths, s.start, s.end, rate, () => rate, convLengths);
  }
  return out.build('synthetic:sparse-sessions');
}

// ---- transforms of a trace (the Azure CSV or any other) ----

/** Prompt lengths x inFactor and output lengths x outFactor (rounded, at least 1 token); times unchanged. */
export function scaleLengths(trace: Trace, inFactor: number, outFactor: number): Trace {
  return {
    name: `${trace.name} in x${inFactor} out x${outFactor}`,
    arrival: trace.arrival.slice(),
    input: trace.input.map((x) => Math.max(1, Math.round(x * inFactor))),
    output: trace.output.map((x) => Math.max(1, Math.round(x * outFactor))),
  };
}

/** §5.2 timeScale c: t -> t / c (the rate is multiplied by c; bursts get shorter relative to a fixed startup). */
export function timeScale(trace: Trace, factor: number): Trace {
  return { name: `${trace.name} time x${factor}`, arrival: trace.arrival.map((t) => t / factor), input: trace.input.slice(), output: trace.output.slice() };
}

/** §5.2 window [from, to): the requests arriving in it, times shifted so that `from` becomes 0. */
export function windowTrace(trace: Trace, from: number, to: number): Trace {
  let lo = 0;
  while (lo < trace.arrival.length && (trace.arrival[lo] ?? 0) < from) lo++;
  let hi = lo;
  while (hi < trace.arrival.length && (trace.arrival[hi] ?? 0) < to) hi++;
  return {
    name: `${trace.name} [${from}, ${to})`,
    arrival: trace.arrival.slice(lo, hi).map((t) => t - from),
    input: trace.input.slice(lo, hi),
    output: trace.output.slice(lo, hi),
  };
}

/**
 * The requests an engine with a max_model_len of `maxModelLen` accepts (prompt + output <= maxModelLen; vLLM answers
 * HTTP 400 to the others). Returns the trace itself when it has none to refuse.
 */
export function keepAdmissible(trace: Trace, maxModelLen: number): Trace {
  const keep: number[] = [];
  for (let i = 0; i < trace.arrival.length; i++) if ((trace.input[i] ?? 0) + (trace.output[i] ?? 0) <= maxModelLen) keep.push(i);
  if (keep.length === trace.arrival.length) return trace;
  return {
    name: trace.name,
    arrival: Float64Array.from(keep, (i) => trace.arrival[i] ?? 0),
    input: Int32Array.from(keep, (i) => trace.input[i] ?? 0),
    output: Int32Array.from(keep, (i) => trace.output[i] ?? 0),
  };
}

/**
 * Named derivations of a CSV trace, addressable as NAME:DERIVATION (conv:prefill-heavy is the conv CSV's): the
 * derived traces of the suite are generators here, not files.
 */
export const DERIVATIONS = {
  /** Prompts x3: prefill-heavy (a replica is prefill-bound). */
  'prefill-heavy': (trace: Trace): Trace => scaleLengths(trace, 3, 1),
  /** Prompts / 3 and outputs x4: decode-heavy. */
  'decode-heavy': (trace: Trace): Trace => scaleLengths(trace, 1 / 3, 4),
  /** Twice the speed (timestamps halved): bursts half as long relative to the startup time. */
  fast: (trace: Trace): Trace => timeScale(trace, 2),
} as const satisfies Record<string, (trace: Trace) => Trace>;
export type Derivation = keyof typeof DERIVATIONS;

/** Splits NAME:DERIVATION (e.g. conv:prefill-heavy); undefined for anything else (a path, synthetic:KIND). */
export function parseDerivedTraceName(trace: string): { source: string; derivation: Derivation } | undefined {
  const m = /^([a-z][a-z0-9_-]*):([a-z-]+)$/.exec(trace);
  if (!m || m[1] === 'synthetic') return undefined;
  const derivation = m[2] ?? '';
  if (!Object.hasOwn(DERIVATIONS, derivation)) return undefined;
  return { source: m[1] ?? '', derivation: derivation as Derivation };
}
