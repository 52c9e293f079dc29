// `npm run bench:autoscaling`: replays a trace against the operator's decide(), the baselines and the oracle in the
// simulator of reference/autoscaling.md §5, prints the figure table (or --json) and writes the SVG chart. The only
// file I/O of the benchmark lives here; progress goes to stderr.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { PolicyJob, Scenario, ScenarioOptions } from './scenario.js';
import { OPERATOR_TARGET_UTILIZATION, ORACLE_PARAMETERS, buildJobs, buildOperatorSpec, buildPolicy, buildScenario } from './scenario.js';
import type { ChartPanel } from './svg.js';
import { buildReplicaChart } from './svg.js';
import type { PolicyRow } from './report.js';
import { buildRows, computeTargets, computeVerdict, formatTable, formatVerdict } from './report.js';
import type { Routing, SimulationResult } from './simulator.js';
import { runSimulation } from './simulator.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEFAULT_TRACE = '../shared/traces/AzureLLMInferenceTrace_conv.csv';

const USAGE = `usage: node dist/bench/autoscaling/main.js [options]
  --trace FILE|synthetic:KIND  Azure-format CSV (default ${DEFAULT_TRACE}, from the repository root),
                               or synthetic:step|spike|ramp|onoff
  --amplify K                  each request becomes K copies (default 40 for a CSV, 1 for synthetic traces)
  --startup SECONDS            median replica startup L, hidden from the policies (default 180)
  --capacity-multiplier X      replica speed relative to the LFM2-24B-A2B H100 profile (default 1)
  --routing random|least-outstanding   kube-proxy-like random routing (default) or the labelled variant
  --policies LIST              only these baselines (labels or kinds: hpa,keda@5,...); operator and oracle always run
  --seed N                     PRNG seed (default 1)
  --workers N                  worker threads (default: 2, or fewer cores)
  --svg FILE                   chart output (default bench/autoscaling/out/replicas.svg)
  --json                       print only the JSON array of rows
`;

interface WorkerInput { options: ScenarioOptions; jobs: PolicyJob[] }
interface WorkerOutput { index: number; result: SimulationResult; seconds: number }

function runJobs(scenario: Scenario, jobs: readonly { job: PolicyJob; index: number }[], report: (out: WorkerOutput) => void): void {
  for (const { job, index } of jobs) {
    const started = performance.now();
    const result = runSimulation(scenario.trace, buildPolicy(job, scenario), scenario.simulation);
    report({ index, result, seconds: (performance.now() - started) / 1000 });
  }
}

if (!isMainThread) {
  const input = workerData as WorkerInput & { indices: number[] };
  const scenario = buildScenario(input.options);
  runJobs(scenario, input.jobs.map((job, i) => ({ job, index: input.indices[i] ?? i })), (out) => parentPort?.postMessage(out));
} else {
  await main();
}

function resolveTrace(path: string): string {
  if (path.startsWith('synthetic:')) return path;
  const fromCwd = resolve(path);
  if (existsSync(fromCwd)) return fromCwd;
  const fromRoot = resolve(REPO_ROOT, path);
  if (existsSync(fromRoot)) return fromRoot;
  throw new Error(`trace not found: ${path} (looked in ${process.cwd()} and ${REPO_ROOT})`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      trace: { type: 'string', default: DEFAULT_TRACE },
      amplify: { type: 'string' },
      startup: { type: 'string', default: '180' },
      'capacity-multiplier': { type: 'string', default: '1' },
      routing: { type: 'string', default: 'random' },
      policies: { type: 'string' },
      seed: { type: 'string', default: '1' },
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
  const tracePath = resolveTrace(values.trace);
  const synthetic = tracePath.startsWith('synthetic:');
  const routing = values.routing as Routing;
  if (routing !== 'random' && routing !== 'least-outstanding') throw new Error(`--routing must be random or least-outstanding, got ${values.routing}`);
  const traceText = synthetic ? undefined : readFileSync(tracePath, 'utf8');
  const options: ScenarioOptions = {
    trace: tracePath,
    ...(traceText !== undefined ? { traceText } : {}),
    amplify: Math.round(number('amplify', values.amplify, synthetic ? 1 : 40)),
    startupSeconds: number('startup', values.startup, 180),
    capacityMultiplier: number('capacity-multiplier', values['capacity-multiplier'], 1),
    routing,
    seed: Math.round(number('seed', values.seed, 1)),
  };
  const log = (line: string): void => { process.stderr.write(`${line}\n`); };
  const started = performance.now();
  const scenario = buildScenario(options);
  const jobs = buildJobs(values.policies?.split(',').map((p) => p.trim()).filter((p) => p.length > 0));
  const workers = Math.max(1, Math.min(jobs.length, Math.round(number('workers', values.workers, Math.min(2, availableParallelism())))));
  log(`bench:autoscaling: ${scenario.trace.name.replace(REPO_ROOT + '/', '')}: ${scenario.trace.arrival.length} requests, ${jobs.length} policies on ${workers} worker${workers > 1 ? 's' : ''}`);

  const results: SimulationResult[] = new Array<SimulationResult>(jobs.length);
  let done = 0;
  const onResult = (out: WorkerOutput): void => {
    results[out.index] = out.result;
    done++;
    log(`[${String(done).padStart(2)}/${jobs.length}] ${out.result.policy.padEnd(12)} ${out.seconds.toFixed(1)} s`);
  };
  if (workers === 1) {
    runJobs(scenario, jobs.map((job, index) => ({ job, index })), onResult);
  } else {
    await Promise.all(Array.from({ length: workers }, (_, w) => {
      const indices = jobs.map((_, i) => i).filter((i) => i % workers === w);
      const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { options, jobs: indices.map((i) => jobs[i]), indices } });
      worker.on('message', onResult);
      return new Promise<void>((done, fail) => {
        worker.on('error', fail);
        worker.on('exit', (code) => (code === 0 ? done() : fail(new Error(`worker exited with ${code}`))));
      });
    }));
  }

  const rows = buildRows(results, scenario.bounds);
  const isConvX40 = !synthetic && tracePath.endsWith('AzureLLMInferenceTrace_conv.csv') && options.amplify === 40 && options.startupSeconds === 180 && options.capacityMultiplier === 1;
  const verdict = computeVerdict(rows, computeTargets(isConvX40));

  // The chart: the operator, the oracle, and each baseline family at its setting with the least waiting.
  const byPolicy = new Map(results.map((r) => [r.policy, r]));
  const chosen: ChartPanel[] = [];
  const addPanel = (row: PolicyRow | undefined, note?: string): void => {
    const result = row && byPolicy.get(row.policy);
    if (row && result) chosen.push({ row, series: result.series, ...(note ? { note } : {}) });
  };
  addPanel(rows.find((r) => r.policy === 'operator'));
  addPanel(rows.find((r) => r.policy === 'oracle'));
  for (const kind of ['hpa', 'keda', 'kubeai', 'kpa']) {
    const family = rows.filter((r) => r.policy.startsWith(`${kind}@`));
    const best = [...family].sort((a, b) => (a.waitOver5sPct ?? Infinity) - (b.waitOver5sPct ?? Infinity) || a.gpuHours - b.gpuHours)[0];
    addPanel(best, `the ${kind} setting with the least waiting`);
  }
  const title = `Replicas over time: ${scenario.trace.name.replace(/^.*\//, '')}, L = ${options.startupSeconds} s, capacity x${options.capacityMultiplier}, ${routing} routing`;
  const svgPath = resolve(values.svg);
  mkdirSync(dirname(svgPath), { recursive: true });
  writeFileSync(svgPath, buildReplicaChart(title, scenario.bounds, chosen));

  if (values.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    log(`chart: ${svgPath}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return;
  }
  const spec = buildOperatorSpec();
  const sha = traceText === undefined ? 'generated' : createHash('sha256').update(traceText).digest('hex').slice(0, 16);
  const b = scenario.bounds;
  const print = (line = ''): void => { process.stdout.write(`${line}\n`); };
  print(`trace        ${scenario.trace.name.replace(/^.*\//, '')} (sha256 ${sha}), ${scenario.trace.arrival.length} requests over ${(b.horizonSeconds / 60).toFixed(0)} min, amplify x${options.amplify}, seed ${options.seed}`);
  print(`replicas     LFM2-24B-A2B on one H100 (26.8K tokens/s at 1,024 x 1,024/512), capacity x${options.capacityMultiplier}; startup L = ${options.startupSeconds} s (lognormal, sigma 0.2), hidden from policies`);
  print(`cluster      ${routing} routing; terminating pods drain up to ${scenario.simulation.drainSeconds} s (the rendered preStop) then are killed; ${scenario.simulation.initialReplicas} warm replicas at t = 0; policies start at ${scenario.simulation.controllerStartSeconds} s`);
  print(`oracle       clairvoyant, pays startup: delta = ${ORACLE_PARAMETERS.bucketSeconds} s, rho = ${ORACLE_PARAMETERS.utilization}, minReplicas = ${ORACLE_PARAMETERS.minReplicas}; G_L = ${b.startup.toFixed(2)} GPU-h (G_int = ${b.integer.toFixed(2)}, G_fluid = ${b.fluid.toFixed(2)})`);
  print(`operator     decide() with API defaults plus promptTokensPerSecondPerReplica ${spec.promptTokensPerSecondPerReplica}, generationTokensPerSecondPerReplica ${spec.generationTokensPerSecondPerReplica} (${OPERATOR_TARGET_UTILIZATION} x the anchor profile), min 1, max ${spec.maxReplicas}`);
  print();
  print(formatTable(rows));
  print();
  const op = rows.find((r) => r.policy === 'operator');
  if (verdict && op) print(formatVerdict(verdict, op));
  print(`chart        ${svgPath.replace(process.cwd() + '/', '')}`);
  log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
