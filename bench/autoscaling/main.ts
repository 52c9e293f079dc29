// `npm run bench:autoscaling`: replays a trace (or the trace suite, --suite) against the operator's decide(), the
// baselines and the oracle in the simulator of reference/autoscaling.md §5, prints the figure table (or --json) and
// writes the SVG chart. The only file I/O of the benchmark lives here; progress goes to stderr.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort } from 'node:worker_threads';
import type { GridName } from './baselines.js';
import { BASELINE_FAMILIES, parseFamily } from './baselines.js';
import type { ScaleToZeroOptions } from './activator.js';
import { DEFAULT_ACTIVATOR } from './activator.js';
import { IDLE_KINDS } from './generators.js';
import { ORACLE_PARAMETERS } from './oracle.js';
import type { PolicyRow, TraceKind } from './report.js';
import { buildRows, computeTargets, computeVerdict, computeZeroVerdict, formatTable, formatVerdict, formatZeroVerdict } from './report.js';
import type { PolicyJob, Scenario, ScenarioOptions } from './scenario.js';
import { OPERATOR_TARGET_UTILIZATION, buildJobSimulation, buildJobs, buildOperatorSpec, buildPolicy, buildScenario } from './scenario.js';
import type { Routing, SimulationResult } from './simulator.js';
import { runSimulation } from './simulator.js';
import type { SuiteEntry } from './suite.js';
import { buildSmokeSuite, buildSuite, resolveTraceOptions } from './suite.js';
import type { SuiteTrace } from './suite-report.js';
import { buildSuiteReport, chooseFamilyBests, computeRefinementRanges, formatSuiteReport } from './suite-report.js';
import type { ChartPanel } from './svg.js';
import { buildReplicaChart } from './svg.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEFAULT_TRACE = '../shared/traces/AzureLLMInferenceTrace_conv.csv';
const ROUTINGS: readonly Routing[] = ['random', 'least-outstanding', 'gateway'];
const GRIDS: readonly GridName[] = ['smoke', 'coarse', 'fine'];

const USAGE = `usage: node dist/bench/autoscaling/main.js [options]
  --trace FILE|synthetic:KIND|NAME:DERIVATION   Azure-format CSV (default ${DEFAULT_TRACE}, from the repository root),
                               a generated trace (synthetic:step|spike|ramp|onoff|bursty|bursty-recurring|diurnal|
                               heavy-tail|decode-heavy|idle-gaps|workday|sparse-sessions)
                               or a derived one (conv:prefill-heavy, ...)
  --amplify K                  each request becomes K copies (default 40 for a CSV, 1 for synthetic traces)
  --startup SECONDS            median replica startup L, hidden from the policies (default 180)
  --capacity-multiplier X      replica speed relative to the LFM2-24B-A2B H100 profile (default 1)
  --routing random|least-outstanding|gateway   kube-proxy-like random routing (default) or a labelled variant
  --policies LIST              only these baselines (families or labels: hpa,keda@5,kubeai@118,rule@300/0.2,...);
                               the operator and the oracle rows always run
  --grid smoke|coarse|fine     the baseline sweep (default coarse for one trace, fine for --suite, smoke with --smoke):
                               coarse = geometric steps of 1.25-1.28 over each family's range; fine = coarse, then 5%
                               steps around each family's best settings (a second stage)
  --suite                      run the trace suite (suite.ts; --trace, --amplify, --startup and --capacity-multiplier
                               do not apply) and print one table over it (or --json: [{trace, rows}])
  --smoke                      with --suite: the CI smoke suite and grid (under a minute)
  --scale-to-zero IDLE|startup add the row operator-zero: decide() with minReplicas 0 and scaleToZero.idleSeconds
                               IDLE (startup: the break-even rule, idleSeconds = the median startup L), played behind
                               the activator (as is oracle-zero-min); adds the cold-start columns and ratioToZeroMinOracle
  --max-held N                 with --scale-to-zero: scaleToZero.maxHeldRequests (default ${DEFAULT_ACTIVATOR.maxHeldRequests}; one more gets 429)
  --max-hold S                 with --scale-to-zero: scaleToZero.maxHoldSeconds (default ${DEFAULT_ACTIVATOR.maxHoldSeconds}; then 503)
  --seed N                     PRNG seed (default 1)
  --workers N                  worker threads (default: 2, or fewer cores)
  --svg FILE                   chart output for one trace (default bench/autoscaling/out/replicas.svg)
  --json                       print only the JSON rows
`;

/** One simulation to run: a job on a suite entry (entry 0 for a single trace). */
interface Task { entry: number; job: PolicyJob }
interface WorkerRequest { id: number; entry: number; options?: ScenarioOptions; job: PolicyJob; keepSeries: boolean }
interface WorkerReply { id: number; result: SimulationResult; seconds: number }

/** Runs one job; the scenario of the last entry seen is kept (tasks arrive entry by entry). */
function buildRunner(): (request: WorkerRequest) => WorkerReply {
  let cached: { entry: number; scenario: Scenario } | undefined;
  return (request) => {
    if (request.options) cached = { entry: request.entry, scenario: buildScenario(request.options) };
    if (!cached || cached.entry !== request.entry) throw new Error(`worker: no scenario for entry ${request.entry}`);
    const scenario = cached.scenario;
    const started = performance.now();
    const result = runSimulation(scenario.trace, buildPolicy(request.job, scenario), buildJobSimulation(request.job, scenario));
    return { id: request.id, result: request.keepSeries ? result : { ...result, series: [] }, seconds: (performance.now() - started) / 1000 };
  };
}

/**
 * Runs the tasks on `workers` threads (or in this thread for 1), each task handed to the next free worker; results
 * come back in task order whatever the scheduling, so the output does not depend on the number of workers.
 */
async function runTasks(tasks: readonly Task[], entries: readonly ScenarioOptions[], workers: number, keepSeries: boolean, onResult: (task: Task, reply: WorkerReply, done: number) => void): Promise<SimulationResult[]> {
  const results = new Array<SimulationResult>(tasks.length);
  let done = 0;
  const record = (reply: WorkerReply): void => {
    const task = tasks[reply.id];
    if (!task) return;
    results[reply.id] = reply.result;
    done++;
    onResult(task, reply, done);
  };
  if (workers <= 1) {
    const run = buildRunner();
    let entry = -1;
    tasks.forEach((task, id) => {
      const options = task.entry !== entry ? entries[task.entry] : undefined;
      entry = task.entry;
      record(run({ id, entry: task.entry, ...(options ? { options } : {}), job: task.job, keepSeries }));
    });
    return results;
  }
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(workers, tasks.length) }, () => new Promise<void>((finish, fail) => {
    const worker = new Worker(fileURLToPath(import.meta.url));
    let entry = -1;
    const send = (): void => {
      const id = next++;
      const task = tasks[id];
      if (!task) {
        worker.postMessage(null);
        return;
      }
      const options = task.entry !== entry ? entries[task.entry] : undefined;
      entry = task.entry;
      worker.postMessage({ id, entry: task.entry, ...(options ? { options } : {}), job: task.job, keepSeries } satisfies WorkerRequest);
    };
    worker.on('message', (reply: WorkerReply) => {
      record(reply);
      send();
    });
    worker.on('error', fail);
    worker.on('exit', (code) => (code === 0 ? finish() : fail(new Error(`worker exited with ${code}`))));
    send();
  })));
  return results;
}

function resolveTrace(path: string): string {
  const fromCwd = resolve(path);
  if (existsSync(fromCwd)) return fromCwd;
  const fromRoot = resolve(REPO_ROOT, path);
  if (existsSync(fromRoot)) return fromRoot;
  throw new Error(`trace not found: ${path} (looked in ${process.cwd()} and ${REPO_ROOT})`);
}

const readTrace = (path: string): string => readFileSync(resolveTrace(path), 'utf8');

/** One entry's bound figures, computed in this thread: the bounds and the analytic costs of the bound rows. */
interface EntryBounds { scenario: Omit<Scenario, 'trace'> & { name: string; requests: number }; analytic: Record<string, number> }

function computeEntryBounds(options: ScenarioOptions): EntryBounds {
  const { trace, ...scenario } = buildScenario(options);
  // Like the oracle's own bounds, over the admitted requests only (refused ones are never served).
  return { scenario: { ...scenario, name: trace.name, requests: trace.arrival.length }, analytic: { 'oracle-zero-min': scenario.zeroMinBounds.startup } };
}

/** --scale-to-zero IDLE|startup for a scenario at startup L: idleSeconds IDLE, or L (the break-even rule). */
function resolveScaleToZero(idle: number | 'startup' | undefined, startupSeconds: number, maxHeldRequests: number, maxHoldSeconds: number): ScaleToZeroOptions | undefined {
  if (idle === undefined) return undefined;
  return { idleSeconds: idle === 'startup' ? Math.max(1, Math.round(startupSeconds)) : idle, maxHeldRequests, maxHoldSeconds };
}

/** The settings run per family, for the header of the suite table (the grid actually run). */
function describeGrid(jobs: readonly PolicyJob[]): string[] {
  return BASELINE_FAMILIES.map((family) => {
    const labels = jobs.filter((j) => parseFamily(j.label) === family).map((j) => j.label.slice(family.length + 1));
    return labels.length === 0 ? '' : `  ${family} (${labels.length}): ${labels.join(' ')}`;
  }).filter((l) => l !== '');
}

/**
 * Runs the grid on every entry: the coarse (or smoke) stage, then for `fine` the 5% ladder inside the ranges the
 * first stage points to, on every entry (so that every trace has the same labels). Returns the rows per entry and
 * the jobs run, in grid order.
 */
async function runGrid(entries: readonly { name: string; kind: TraceKind; options: ScenarioOptions }[], bounds: readonly EntryBounds[], only: readonly string[] | undefined, grid: GridName, workers: number, keepSeries: boolean, log: (line: string) => void): Promise<{ jobs: PolicyJob[]; results: SimulationResult[][]; rows: PolicyRow[][] }> {
  const options = entries.map((e) => e.options);
  const byLabel = entries.map(() => new Map<string, SimulationResult>());
  const runStage = async (jobs: readonly PolicyJob[], stage: string): Promise<void> => {
    const tasks: Task[] = entries.flatMap((_, entry) => jobs.map((job) => ({ entry, job })));
    const width = String(tasks.length).length;
    log(`${stage}: ${jobs.length} policies x ${entries.length} trace${entries.length > 1 ? 's' : ''} = ${tasks.length} runs on ${workers} worker${workers > 1 ? 's' : ''}`);
    const results = await runTasks(tasks, options, workers, keepSeries, (task, reply, done) => {
      log(`[${String(done).padStart(width)}/${tasks.length}] ${(entries[task.entry]?.name ?? '').padEnd(20)} ${task.job.label.padEnd(20)} ${reply.seconds.toFixed(1)} s`);
    });
    tasks.forEach((task, i) => {
      const r = results[i];
      if (r) byLabel[task.entry]?.set(task.job.label, r);
    });
  };
  const rowsOf = (jobs: readonly PolicyJob[]): { results: SimulationResult[][]; rows: PolicyRow[][] } => {
    const results = entries.map((_, e) => jobs.map((j) => byLabel[e]?.get(j.label)).filter((r): r is SimulationResult => r !== undefined));
    const rows = results.map((r, e) => {
      const b = bounds[e];
      if (!b) throw new Error(`no bounds for entry ${e}`);
      return buildRows(r, b.scenario.bounds, b.analytic, entries[e]?.options.scaleToZero !== undefined);
    });
    return { results, rows };
  };
  const zero = entries.some((e) => e.options.scaleToZero !== undefined);
  const first = buildJobs(only, grid === 'smoke' ? 'smoke' : 'coarse', [], zero);
  await runStage(first, grid === 'fine' ? 'stage 1 (coarse grid)' : `${grid} grid`);
  if (grid !== 'fine') return { jobs: first, ...rowsOf(first) };
  const stage1 = rowsOf(first);
  const ranges = computeRefinementRanges(entries.map((e, i) => ({ trace: e.name, kind: e.kind, rows: stage1.rows[i] ?? [] })));
  const all = buildJobs(only, 'fine', ranges, zero);
  const ran = new Set(first.map((j) => j.label));
  const second = all.filter((j) => !ran.has(j.label));
  log(`stage 2 ranges: ${ranges.map((r) => `${r.family} ${r.lo}..${r.hi}`).join(', ') || 'none'}`);
  if (second.length > 0) await runStage(second, 'stage 2 (5% ladder)');
  return { jobs: all, ...rowsOf(all) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trace: { type: 'string', default: DEFAULT_TRACE },
      amplify: { type: 'string' },
      startup: { type: 'string', default: '180' },
      'capacity-multiplier': { type: 'string', default: '1' },
      routing: { type: 'string' },
      policies: { type: 'string' },
      grid: { type: 'string' },
      suite: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      seed: { type: 'string', default: '1' },
      'scale-to-zero': { type: 'string' },
      'max-held': { type: 'string' },
      'max-hold': { type: 'string' },
      workers: { type: 'string' },
      svg: { type: 'string', default: 'bench/autoscaling/out/replicas.svg' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const number = (name: string, raw: string | undefined, fallback: number): number => {
    const x = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
    return x;
  };
  const routing = (values.routing ?? 'random') as Routing;
  if (!ROUTINGS.includes(routing)) throw new Error(`--routing must be one of ${ROUTINGS.join(', ')}, got ${values.routing}`);
  if (values.smoke && !values.suite) throw new Error('--smoke goes with --suite');
  const grid = (values.grid ?? (values.smoke ? 'smoke' : values.suite ? 'fine' : 'coarse')) as GridName;
  if (!GRIDS.includes(grid)) throw new Error(`--grid must be one of ${GRIDS.join(', ')}, got ${values.grid}`);
  const only = values.policies?.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  const seed = Math.round(number('seed', values.seed, 1));
  const workers = Math.max(1, Math.round(number('workers', values.workers, Math.min(2, availableParallelism()))));
  const rawIdle = values['scale-to-zero'];
  if (rawIdle === undefined && (values['max-held'] !== undefined || values['max-hold'] !== undefined)) throw new Error('--max-held and --max-hold go with --scale-to-zero');
  const idle = rawIdle === undefined ? undefined : rawIdle === 'startup' ? 'startup' as const : Math.round(number('scale-to-zero', rawIdle, 1));
  const maxHeld = Math.round(number('max-held', values['max-held'], DEFAULT_ACTIVATOR.maxHeldRequests));
  const maxHold = Math.round(number('max-hold', values['max-hold'], DEFAULT_ACTIVATOR.maxHoldSeconds));
  const log = (line: string): void => { process.stderr.write(`${line}\n`); };
  const print = (line = ''): void => { process.stdout.write(`${line}\n`); };
  const started = performance.now();
  const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;

  if (values.suite) {
    const suite: SuiteEntry[] = (values.smoke ? buildSmokeSuite : buildSuite)(readTrace, seed, routing).map((e) => {
      const scaleToZero = resolveScaleToZero(idle, e.options.startupSeconds, maxHeld, maxHold);
      return scaleToZero ? { ...e, options: { ...e.options, scaleToZero } } : e;
    });
    const bounds = suite.map((e) => computeEntryBounds(e.options));
    suite.forEach((e, i) => log(`bench:autoscaling --suite: ${e.name} (${e.kind}): ${bounds[i]?.scenario.requests ?? 0} requests, G_L ${(bounds[i]?.scenario.bounds.startup ?? 0).toFixed(2)} GPU-h`));
    const { jobs, rows } = await runGrid(suite, bounds, only, grid, workers, false, log);
    const traces: SuiteTrace[] = suite.map((e, i) => ({ trace: e.name, kind: e.kind, rows: rows[i] ?? [] }));
    if (values.json) {
      print(JSON.stringify(traces.map((t) => ({ trace: t.trace, rows: t.rows })), null, 2));
      log(`done in ${elapsed()}`);
      return;
    }
    print(`suite        ${values.smoke ? 'smoke ' : ''}${suite.length} traces (${suite.map((e) => e.name).join(', ')}), L = 180 s, capacity x1, ${routing} routing, seed ${seed}`);
    print(`grid         ${grid}: ${jobs.length} policies per trace (operator, ${idle !== undefined ? 'operator-zero, ' : ''}oracle, oracle-zero-startup, oracle-zero-min and the baselines below)`);
    const zero = suite[0]?.options.scaleToZero;
    if (zero) print(`scale to zero  operator-zero: minReplicas 0, idleSeconds ${idle === 'startup' ? `L (${zero.idleSeconds} s)` : zero.idleSeconds}, maxHeldRequests ${zero.maxHeldRequests}, maxHoldSeconds ${zero.maxHoldSeconds}; it and oracle-zero-min behind the activator`);
    for (const line of describeGrid(jobs)) print(line);
    print();
    print(formatSuiteReport(buildSuiteReport(traces)));
    log(`done in ${elapsed()}`);
    return;
  }

  const synthetic = values.trace.startsWith('synthetic:');
  const source = resolveTraceOptions(values.trace, readTrace);
  const options: ScenarioOptions = {
    ...source,
    amplify: Math.round(number('amplify', values.amplify, synthetic ? 1 : 40)),
    startupSeconds: number('startup', values.startup, 180),
    capacityMultiplier: number('capacity-multiplier', values['capacity-multiplier'], 1),
    routing,
    seed,
  };
  const scaleToZero = resolveScaleToZero(idle, options.startupSeconds, maxHeld, maxHold);
  if (scaleToZero) options.scaleToZero = scaleToZero;
  const entryBounds = computeEntryBounds(options);
  const isConvX40 = !synthetic && values.trace.endsWith('AzureLLMInferenceTrace_conv.csv') && options.amplify === 40 && options.startupSeconds === 180 && options.capacityMultiplier === 1;
  const isIdle = (IDLE_KINDS as readonly string[]).some((k) => values.trace === `synthetic:${k}`);
  const kind: TraceKind = isConvX40 ? 'conv' : isIdle ? 'idle' : 'other';
  const name = entryBounds.scenario.name.replace(REPO_ROOT + '/', '');
  log(`bench:autoscaling: ${name}: ${entryBounds.scenario.requests} requests`);
  const { results, rows: allRows } = await runGrid([{ name: name.replace(/^.*\//, ''), kind, options }], [entryBounds], only, grid, workers, true, log);
  const rows = allRows[0] ?? [];
  const targets = computeTargets(kind);
  const verdict = computeVerdict(rows, targets);

  // The chart: the operator, the oracle, and each baseline family at its best setting in hindsight.
  const byPolicy = new Map((results[0] ?? []).map((r) => [r.policy, r]));
  const chosen: ChartPanel[] = [];
  const addPanel = (row: PolicyRow | undefined, note?: string): void => {
    const result = row && byPolicy.get(row.policy);
    if (row && result) chosen.push({ row, series: result.series, ...(note ? { note } : {}) });
  };
  addPanel(rows.find((r) => r.policy === 'operator'));
  addPanel(rows.find((r) => r.policy === 'operator-zero'));
  addPanel(rows.find((r) => r.policy === 'oracle'));
  addPanel(rows.find((r) => r.policy === 'oracle-zero-min'), 'GPU-hours: the analytic G_L with minReplicas 0');
  for (const best of chooseFamilyBests(rows, targets.maxWaitOver5sPct)) addPanel(best.row, `the ${best.family} setting best in hindsight`);
  const b = entryBounds.scenario.bounds;
  const simulation = entryBounds.scenario.simulation;
  const title = `Replicas over time: ${name.replace(/^.*\//, '')}, L = ${options.startupSeconds} s, capacity x${options.capacityMultiplier}, ${routing} routing`;
  const svgPath = resolve(values.svg);
  mkdirSync(dirname(svgPath), { recursive: true });
  writeFileSync(svgPath, buildReplicaChart(title, b, chosen));

  if (values.json) {
    print(JSON.stringify(rows, null, 2));
    log(`chart: ${svgPath}; ${elapsed()}`);
    return;
  }
  const spec = buildOperatorSpec();
  const sha = options.traceText === undefined ? 'generated' : createHash('sha256').update(options.traceText).digest('hex').slice(0, 16);
  print(`trace        ${name.replace(/^.*\//, '')} (sha256 ${sha}), ${entryBounds.scenario.requests} requests over ${(b.horizonSeconds / 60).toFixed(0)} min, amplify x${options.amplify}, seed ${options.seed}`);
  print(`replicas     LFM2-24B-A2B on one H100 (26.8K tokens/s at 1,024 x 1,024/512), capacity x${options.capacityMultiplier}; startup L = ${options.startupSeconds} s (lognormal, sigma 0.2), hidden from policies`);
  print(`cluster      ${routing} routing; terminating pods drain up to ${simulation.drainSeconds} s (the rendered preStop) then are killed; ${simulation.initialReplicas} warm replicas at t = 0; policies start at ${simulation.controllerStartSeconds} s`);
  print(`oracle       clairvoyant, pays startup: delta = ${ORACLE_PARAMETERS.bucketSeconds} s, rho = ${ORACLE_PARAMETERS.utilization}, minReplicas = ${ORACLE_PARAMETERS.minReplicas}; G_L = ${b.startup.toFixed(2)} GPU-h (G_int = ${b.integer.toFixed(2)}, G_fluid = ${b.fluid.toFixed(2)})`);
  print(`operator     decide() with API defaults plus promptTokensPerSecondPerReplica ${spec.promptTokensPerSecondPerReplica}, generationTokensPerSecondPerReplica ${spec.generationTokensPerSecondPerReplica} (${OPERATOR_TARGET_UTILIZATION} x the anchor profile), min 1, max ${spec.maxReplicas}`);
  if (scaleToZero) {
    const zb = entryBounds.scenario.zeroMinBounds;
    print(`zero         operator-zero: the same with minReplicas 0, scaleToZero idleSeconds ${scaleToZero.idleSeconds}${idle === 'startup' ? ' (= L, the break-even rule)' : ''}, maxHeldRequests ${scaleToZero.maxHeldRequests}, maxHoldSeconds ${scaleToZero.maxHoldSeconds}; behind the activator with oracle-zero-min (G_L with minReplicas 0 = ${zb.startup.toFixed(2)} GPU-h, ${zb.warmReplicas} warm replicas); waiting shares of these rows over the requests that met no cold start`);
  }
  print(`grid         ${grid}`);
  print();
  print(formatTable(rows));
  print();
  const op = rows.find((r) => r.policy === 'operator');
  if (verdict && op) print(formatVerdict(verdict, op));
  const zeroVerdict = computeZeroVerdict(rows, targets);
  if (zeroVerdict) print(formatZeroVerdict(zeroVerdict));
  print(`chart        ${svgPath.replace(process.cwd() + '/', '')}`);
  log(`done in ${elapsed()}`);
}

// Last, once every declaration above is initialized: a worker serves jobs, the main thread runs the benchmark.
if (!isMainThread) {
  const run = buildRunner();
  parentPort?.on('message', (request: WorkerRequest | null) => {
    if (request === null) {
      parentPort?.close();
      return;
    }
    parentPort?.postMessage(run(request));
  });
} else {
  await main();
}
