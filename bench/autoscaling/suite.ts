// The trace suite of the autoscaling benchmark (`--suite`): ONE list of scenarios every policy is run on, and a tiny
// smoke version of it for CI. Values only: the caller passes a `read(path)` that returns a file's text.
//
//   name                 trace                                          requests (seed 1)  mean replicas (work / span)
//   conv-x40             Azure conv CSV, amplify x40                    774,640            8.6 (oracle peak 16)
//   mooncake-x8          Mooncake CSV (1,022 s, prefill-heavy), x8       31,944            5.3 (5,168 refused: > 32,768)
//   bursty               synthetic:bursty (code-assistant-like)         349,854            3.8 (bursts to 54)
//   bursty-recurring     synthetic:bursty-recurring (the issue's shape)  ~470K             5 (bursts to ~40)
//   diurnal              synthetic:diurnal (0.2x -> 2x -> 0.2x in 1 h)  396,060            4.2 (0.8 .. 7.8)
//   heavy-tail           synthetic:heavy-tail (p99 prompt 21K)          241,683            5.1
//   decode-heavy         synthetic:decode-heavy (200 in / 1-2K out)     161,221            4.9
//   conv-prefill-heavy   conv:prefill-heavy (conv prompts x3), x20      387,320            9.6 (20 refused)
//   step, spike, ramp, onoff   the §5.2 unit traces (synthetic:KIND)    541K, 415K, 721K, 360K   5.8, 4.4, 7.7, 5.1
//   idle-gaps, workday, sparse-sessions   silences of tens of minutes (synthetic:KIND; IDLE_KINDS in generators.ts)
//
// Each entry's kind sets its targets: 'conv' for the Azure conv trace x40 (1.10x, 1%), 'bursty' for the traces of the
// bursty kind with idle gaps (bursty, bursty-recurring, onoff: 1.5x, 2%), 'idle' for the traces with silences of tens
// of minutes (1.25x, 2%; with --scale-to-zero, operator-zero at most 1.25x oracle-zero-min), 'other' for the rest
// (1.25x, 2%).
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DERIVATIONS, parseDerivedTraceName } from './generators.js';
import type { ScenarioOptions } from './scenario.js';
import type { Routing } from './simulator.js';

export interface SuiteEntry {
  name: string;
  kind: 'conv' | 'bursty' | 'idle' | 'other';
  options: ScenarioOptions;
}

/** The repository root, from this module's place in bench/autoscaling/ or dist/bench/autoscaling/. */
function findRepoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const up2 = resolve(here, '../..');
  return basename(up2) === 'dist' ? resolve(up2, '..') : up2;
}

export const REPO_ROOT = findRepoRoot();

/** The Azure-format CSVs of the suite, relative to the repository root (../shared/traces/README.md describes them). */
export const SUITE_TRACE_FILES = {
  conv: '../shared/traces/AzureLLMInferenceTrace_conv.csv',
  mooncake: '../shared/traces/MooncakeSynthetic_azure_format.csv',
} as const;

export function resolveSuiteTrace(source: keyof typeof SUITE_TRACE_FILES): string {
  return resolve(REPO_ROOT, SUITE_TRACE_FILES[source]);
}

/**
 * The options of a trace name as the CLI's --trace takes it: synthetic:KIND (no file), NAME:DERIVATION with NAME a
 * suite CSV (conv:prefill-heavy reads the conv CSV), or a path to an Azure-format CSV (read as given).
 */
export function resolveTraceOptions(trace: string, read: (path: string) => string): Pick<ScenarioOptions, 'trace' | 'traceText'> {
  if (trace.startsWith('synthetic:')) return { trace };
  const source = /^([a-z][a-z0-9_-]*):[a-z-]+$/.exec(trace)?.[1];
  if (source !== undefined && Object.hasOwn(SUITE_TRACE_FILES, source)) {
    if (!parseDerivedTraceName(trace)) throw new Error(`unknown derived trace ${trace}: use ${source}:${Object.keys(DERIVATIONS).join(`, ${source}:`)}`);
    return { trace, traceText: read(resolveSuiteTrace(source as keyof typeof SUITE_TRACE_FILES)) };
  }
  return { trace, traceText: read(trace) };
}

const common = (seed: number, routing: Routing): Pick<ScenarioOptions, 'startupSeconds' | 'capacityMultiplier' | 'routing' | 'seed'> => ({ startupSeconds: 180, capacityMultiplier: 1, routing, seed });

/** The trace suite: every entry at L = 180 s, capacity x1, the given routing and seed. Reads the two CSVs once each. */
export function buildSuite(read: (path: string) => string, seed: number, routing: Routing = 'random'): SuiteEntry[] {
  const conv = resolveSuiteTrace('conv');
  const mooncake = resolveSuiteTrace('mooncake');
  const convText = read(conv);
  const mooncakeText = read(mooncake);
  const c = common(seed, routing);
  const generated = (kind: string, entryKind: SuiteEntry['kind']): SuiteEntry => ({ name: kind, kind: entryKind, options: { trace: `synthetic:${kind}`, amplify: 1, ...c } });
  return [
    { name: 'conv-x40', kind: 'conv', options: { trace: conv, traceText: convText, amplify: 40, ...c } },
    { name: 'mooncake-x8', kind: 'other', options: { trace: mooncake, traceText: mooncakeText, amplify: 8, ...c } },
    generated('bursty', 'bursty'),
    generated('bursty-recurring', 'bursty'),
    generated('diurnal', 'other'),
    generated('heavy-tail', 'other'),
    generated('decode-heavy', 'other'),
    { name: 'conv-prefill-heavy', kind: 'other', options: { trace: 'conv:prefill-heavy', traceText: convText, amplify: 20, ...c } },
    generated('step', 'other'),
    generated('spike', 'other'),
    generated('ramp', 'other'),
    generated('onoff', 'bursty'),
    generated('idle-gaps', 'idle'),
    generated('workday', 'idle'),
    generated('sparse-sessions', 'idle'),
  ];
}

/**
 * The CI smoke suite: five tiny entries (5-10 minutes, 3-7K requests each, and two hours of sparse sessions) covering
 * the CSV path with a window, the refusals (Mooncake), two generators and an idle trace (silences of tens of
 * minutes: scale to zero's path with --scale-to-zero), so that every policy runs on all of them in seconds.
 */
export function buildSmokeSuite(read: (path: string) => string, seed: number, routing: Routing = 'random'): SuiteEntry[] {
  const c = common(seed, routing);
  return [
    { name: 'conv-smoke', kind: 'conv', options: { trace: resolveSuiteTrace('conv'), traceText: read(resolveSuiteTrace('conv')), amplify: 4, durationSeconds: 300, ...c } },
    { name: 'mooncake-smoke', kind: 'other', options: { trace: resolveSuiteTrace('mooncake'), traceText: read(resolveSuiteTrace('mooncake')), amplify: 4, durationSeconds: 300, ...c } },
    { name: 'bursty-smoke', kind: 'bursty', options: { trace: 'synthetic:bursty', amplify: 1, baseRate: 8, durationSeconds: 600, ...c } },
    { name: 'diurnal-smoke', kind: 'other', options: { trace: 'synthetic:diurnal', amplify: 1, baseRate: 10, durationSeconds: 600, ...c } },
    { name: 'idle-smoke', kind: 'idle', options: { trace: 'synthetic:sparse-sessions', amplify: 1, durationSeconds: 7200, ...c } },
  ];
}
