// One benchmark scenario: the trace after its transforms, the replica profile, the bounds, and the policies to run
// (the operator, the oracle, and each baseline at each setting of its §5.9 grid). Builds values only; the caller
// passes the trace file's text in.
import { AutoscalingSpec } from '../../src/api/v1alpha1.js';
import { buildOperatorPolicy } from '../../src/autoscaler/policy.js';
import type { ActivatorAwarePolicy, ScaleToZeroOptions } from './activator.js';
import { DEFAULT_ACTIVATOR, buildZeroOperatorPolicy } from './activator.js';
import type { BaselineBounds, BaselineFamily, GridName, SettingRange } from './baselines.js';
import { AIBRIX_KPA, BASELINE_FAMILIES, buildCoarseLadder, buildDynamoPolicy, buildFineLadder, buildHpaPolicy, buildKedaPolicy, buildKpaPolicy, buildKubeAiPolicy, buildRulePolicy, buildStaticPolicy, formatSetting, parseFamily } from './baselines.js';
import type { Bounds } from './oracle.js';
import { ORACLE_PARAMETERS, buildOraclePolicy, buildZeroStartupOraclePolicy, computeBounds, computePeakReplicas } from './oracle.js';
import { buildRandom } from './random.js';
import type { ReplicaProfile } from './replica.js';
import { LFM2_24B_H100, buildScaledProfile } from './replica.js';
import type { Routing, SimulationConfig } from './simulator.js';
import { DEFAULT_SIMULATION } from './simulator.js';
import type { Trace } from './trace.js';
import { buildAmplifiedTrace, parseAzureTrace } from './trace.js';
import { DERIVATIONS, GENERATOR_DEFAULTS, TRACE_KINDS, buildTraceOfKind, isGeneratorKind, isTraceKind, keepAdmissible, parseDerivedTraceName, windowTrace } from './generators.js';

export interface ScenarioOptions {
  /**
   * A path to an Azure-format CSV; synthetic:KIND for a generated trace (step, spike, ramp, onoff, bursty, diurnal,
   * heavy-tail, decode-heavy, the idle kinds idle-gaps, workday, sparse-sessions, ...: TRACE_KINDS in generators.ts);
   * or NAME:DERIVATION for a derived CSV trace (e.g.
   * conv:prefill-heavy: DERIVATIONS in generators.ts applied to traceText).
   */
  trace: string;
  /** The CSV's text (undefined for synthetic traces; the source CSV's for NAME:DERIVATION). */
  traceText?: string;
  /** Generated traces: their length (default: the kind's). CSV traces: keep only the window [0, durationSeconds). */
  durationSeconds?: number;
  /** Generated traces: the base rate in requests per second (default: the kind's). */
  baseRate?: number;
  amplify: number;
  startupSeconds: number;
  capacityMultiplier: number;
  routing: Routing;
  seed: number;
  /**
   * Scale to zero (--scale-to-zero): adds the `operator-zero` row (decide() with minReplicas 0 and these settings),
   * and plays it and `oracle-zero-min` behind the activator, each starting with the zero-minimum oracle's warm replicas.
   */
  scaleToZero?: ScaleToZeroOptions;
}

/**
 * The operator as a user would configure it from the one published anchor, never from the simulator: target 80% of
 * the nominal profile's prefill-only (1/p, 48.3K tokens/s) and full-batch decode (1/d, 14.2K tokens/s) throughput;
 * every other field keeps its API default. The capacity multiplier changes the simulated replicas, not this.
 */
export const OPERATOR_TARGET_UTILIZATION = 0.8;

export function buildOperatorSpec(profile: ReplicaProfile = LFM2_24B_H100, maxReplicas = 64, utilization = OPERATOR_TARGET_UTILIZATION, overrides: Partial<AutoscalingSpec> = {}): AutoscalingSpec {
  const d = profile.decodeSecondsPerSequence + profile.stepSeconds / profile.maxRunning;
  return AutoscalingSpec.parse({
    enabled: true,
    minReplicas: 1,
    maxReplicas,
    promptTokensPerSecondPerReplica: Math.round(utilization / profile.prefillSecondsPerToken),
    generationTokensPerSecondPerReplica: Math.round(utilization / d),
    ...overrides,
  });
}

/**
 * The baseline sweeps (§5.8-5.9). Each swept family has a range [lo, hi]: the coarse grid is the geometric ladder
 * 1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.4, 8 x 10^k inside it (steps of 1.25-1.28) plus the published defaults (`extra`);
 * the fine grid adds, inside the ranges the coarse results point to (main.ts), every value of the 5% ladder between
 * those anchors (3 significant digits, each at most 1.05 x the previous; integers for KubeAI), and KubeAI's default
 * neighbourhood 100..130 in steps of 1. §5.9 sweeps concurrency targets 0.5..0.9 M; with M = 1,024 a replica at 80%
 * load runs only about 130 sequences on the conv mix, so the sweeps reach down to 0.02 M.
 */
export const BASELINE_GRIDS = {
  /** hpa, kpa, kpa300, aibrix: target concurrency as a fraction x of M (0.7 M is §5.8's default). */
  fractions: { lo: 0.02, hi: 1, extra: [0.7] },
  /** keda: threshold on sum(vllm:num_requests_waiting) per replica (5 is §5.8's default). */
  kedaThresholds: { lo: 0.5, hi: 200, extra: [5] },
  /** kubeai: targetRequests per pod, an integer (100 is KubeAI's default); about 0.02..1.0 M. */
  kubeAiTargets: { lo: 20, hi: 1000, extra: [100] },
  /** kubeai on the fine grid: every integer target of KubeAI's default neighbourhood. */
  kubeAiNeighbourhood: { lo: 100, hi: 130 },
  /** dynamo: the utilization rho of its capacity formula (0.85 is §5.8's). */
  dynamoUtilization: { lo: 0.32, hi: 1, extra: [0.85] },
  /** rule (the reference family): hold time H in seconds x headroom h, on every grid but smoke. */
  ruleHoldSeconds: [60, 120, 180, 300, 600, 900],
  ruleHeadroom: [0, 0.1, 0.2, 0.3, 0.5, 0.75, 1],
  /** --grid smoke (CI): a few settings per family. */
  smoke: {
    fractions: [0.125, 0.5],
    kedaThresholds: [2, 10],
    kubeAiTargets: [100],
    dynamoUtilization: [0.85],
    rule: [[60, 0.2], [300, 0.2]],
  },
} as const;

export interface PolicyJob {
  /** The row name: operator, operator-zero, oracle, oracle-VARIANT, or family@setting. */
  label: string;
  kind: 'operator' | 'operator-zero' | 'oracle' | 'oracle-zero-startup' | 'oracle-zero-min' | BaselineFamily;
  /**
   * The family's setting: a fraction of M (hpa, kpa, kpa300, aibrix), a waiting threshold (keda), requests per pod
   * (kubeai), rho (dynamo), the headroom h (rule).
   */
  setting?: number;
  /** rule@H/h: the hold time H in seconds. */
  holdSeconds?: number;
}

/**
 * The jobs of one grid: the operator (and `operator-zero` with `scaleToZero`), the oracle and its variants (always),
 * then every baseline family in BASELINE_FAMILIES order, settings ascending. `refine` (fine grid only) lists the
 * ranges to fill with the 5% ladder. `only` keeps the bounds and the jobs whose label or family is listed; a listed
 * label that is not on the grid (`hpa@0.15`, `rule@240/0.4`) is added as it is.
 */
export function buildJobs(only?: readonly string[], grid: GridName = 'coarse', refine: readonly SettingRange[] = [], scaleToZero = false): PolicyJob[] {
  const G = BASELINE_GRIDS;
  const jobs: PolicyJob[] = [
    { label: 'operator', kind: 'operator' },
    ...(scaleToZero ? [{ label: 'operator-zero', kind: 'operator-zero' } as const] : []),
    { label: 'oracle', kind: 'oracle' },
    { label: 'oracle-zero-startup', kind: 'oracle-zero-startup' },
    { label: 'oracle-zero-min', kind: 'oracle-zero-min' },
  ];
  const boundJobs = jobs.length;
  const toJob = (kind: BaselineFamily, setting?: number, holdSeconds?: number): PolicyJob => {
    if (kind === 'static') return { label: 'static@peak', kind };
    const x = Number(formatSetting(setting ?? 0));
    if (kind === 'rule') return { label: `rule@${formatSetting(holdSeconds ?? 0)}/${formatSetting(x)}`, kind, setting: x, holdSeconds: holdSeconds ?? 0 };
    return { label: `${kind}@${formatSetting(x)}`, kind, setting: x };
  };
  const sweepOf = (family: BaselineFamily): { lo: number; hi: number; extra: readonly number[] } =>
    family === 'keda' ? G.kedaThresholds : family === 'kubeai' ? G.kubeAiTargets : family === 'dynamo' ? G.dynamoUtilization : G.fractions;
  const smokeOf = (family: BaselineFamily): readonly number[] =>
    family === 'keda' ? G.smoke.kedaThresholds : family === 'kubeai' ? G.smoke.kubeAiTargets : family === 'dynamo' ? G.smoke.dynamoUtilization : G.smoke.fractions;
  for (const family of BASELINE_FAMILIES) {
    if (family === 'static') {
      jobs.push(toJob(family));
      continue;
    }
    if (family === 'rule') {
      const pairs: (readonly [number, number])[] = grid === 'smoke' ? [...G.smoke.rule] : G.ruleHoldSeconds.flatMap((H) => G.ruleHeadroom.map((h) => [H, h] as const));
      for (const [H, h] of pairs) jobs.push(toJob(family, h, H));
      continue;
    }
    const sweep = sweepOf(family);
    const settings: number[] = grid === 'smoke' ? [...smokeOf(family)] : [...buildCoarseLadder(sweep.lo, sweep.hi), ...sweep.extra];
    if (grid === 'fine') {
      const ladder = buildFineLadder(sweep.lo, sweep.hi, family === 'kubeai');
      for (const r of refine) if (r.family === family) settings.push(...ladder.filter((x) => x >= r.lo - 1e-9 && x <= r.hi + 1e-9));
      if (family === 'kubeai') for (let t = G.kubeAiNeighbourhood.lo; t <= G.kubeAiNeighbourhood.hi; t++) settings.push(t);
    }
    const unique = [...new Set(settings.map((x) => Number(formatSetting(x))))].sort((a, b) => a - b);
    for (const x of unique) jobs.push(toJob(family, x));
  }
  if (!only || only.length === 0) return jobs;
  const selected = jobs.filter((j, i) => i < boundJobs || only.some((o) => j.label === o || j.kind === o));
  for (const o of only) {
    if ((BASELINE_FAMILIES as readonly string[]).includes(o) || jobs.slice(0, boundJobs).some((j) => j.label === o)) continue;
    const family = parseFamily(o);
    const value = o.slice(o.indexOf('@') + 1);
    let job: PolicyJob | undefined;
    if (family === 'static' && value === 'peak') job = toJob(family);
    else if (family === 'rule') {
      const [H, h] = value.split('/').map(Number);
      if (H !== undefined && h !== undefined && H > 0 && h >= 0) job = toJob(family, h, H);
    } else if (family === 'kubeai') {
      // KubeAI's targetRequests is an integer number of requests per pod.
      if (Number.isInteger(Number(value)) && Number(value) >= 1) job = toJob(family, Number(value));
    } else if (family !== undefined && family !== 'static' && Number(value) > 0) job = toJob(family, Number(value));
    if (!job) throw new Error(`unknown policy ${o}: use a family (${BASELINE_FAMILIES.join(', ')}) or a label such as hpa@0.125, kubeai@118, keda@3.5, rule@300/0.2, static@peak`);
    const label = job.label;
    if (!selected.some((j) => j.label === label)) selected.push(job);
  }
  return selected;
}

export interface Scenario {
  options: ScenarioOptions;
  trace: Trace;
  /** The simulated replicas (scaled by the capacity multiplier). */
  profile: ReplicaProfile;
  bounds: Bounds;
  /** The same bounds with minReplicas 0: `oracle-zero-min`'s schedule and cost (G_L with minReplicas 0). */
  zeroMinBounds: Bounds;
  simulation: SimulationConfig;
}

/** Synthetic traces run at a base rate that needs about 4 replicas (conv x40 needs about 9 on average). */
export const SYNTHETIC_BASE_RATE = 100;

export function buildScenario(options: ScenarioOptions): Scenario {
  let trace: Trace;
  const derived = parseDerivedTraceName(options.trace);
  if (options.trace.startsWith('synthetic:')) {
    const kind = options.trace.slice('synthetic:'.length);
    if (!isTraceKind(kind)) throw new Error(`unknown synthetic trace ${options.trace}: use one of ${TRACE_KINDS.map((k) => `synthetic:${k}`).join(', ')}`);
    const defaults = isGeneratorKind(kind) ? GENERATOR_DEFAULTS[kind] : { baseRate: SYNTHETIC_BASE_RATE, durationSeconds: 3600 };
    trace = buildTraceOfKind(kind, { baseRate: options.baseRate ?? defaults.baseRate, durationSeconds: options.durationSeconds ?? defaults.durationSeconds, seed: options.seed });
  } else {
    if (derived && options.traceText === undefined) throw new Error(`${options.trace}: a derived trace needs its source CSV's text (traceText)`);
    trace = parseAzureTrace(options.traceText ?? '', options.trace);
    if (derived) trace = { ...DERIVATIONS[derived.derivation](trace), name: options.trace };
    if (options.durationSeconds !== undefined) trace = windowTrace(trace, 0, options.durationSeconds);
  }
  trace = buildAmplifiedTrace(trace, options.amplify, buildRandom(options.seed * 31 + 7));
  const profile = buildScaledProfile(LFM2_24B_H100, options.capacityMultiplier);
  // The oracle plans for the requests the engine accepts: refused ones (prompt + output > max_model_len) are no work.
  const admissible = keepAdmissible(trace, DEFAULT_SIMULATION.maxModelLen);
  const lead = options.startupSeconds + DEFAULT_SIMULATION.schedulingSeconds;
  const bounds = computeBounds(admissible, profile, options.startupSeconds, lead);
  const zeroMinBounds = computeBounds(admissible, profile, options.startupSeconds, lead, { ...ORACLE_PARAMETERS, minReplicas: 0 });
  const simulation: SimulationConfig = {
    ...DEFAULT_SIMULATION,
    profile,
    startupSeconds: options.startupSeconds,
    initialReplicas: bounds.warmReplicas,
    horizonSeconds: bounds.horizonSeconds,
    routing: options.routing,
    seed: options.seed,
  };
  return { options, trace, profile, bounds, zeroMinBounds, simulation };
}

/**
 * The simulation a job runs in: oracle-zero-startup with replicas that start at once; static@peak provisioned at its
 * count from t = 0; with scale to zero, operator-zero and oracle-zero-min behind the activator and starting with the
 * zero-minimum oracle's warm replicas (none when the trace starts idle); every other job in the scenario's own.
 */
export function buildJobSimulation(job: PolicyJob, scenario: Scenario): SimulationConfig {
  const zero = scenario.options.scaleToZero;
  switch (job.kind) {
    case 'oracle-zero-startup': return { ...scenario.simulation, startupSeconds: 0, schedulingSeconds: 0 };
    case 'static': return { ...scenario.simulation, initialReplicas: Math.min(scenario.simulation.gpuQuota, computePeakReplicas(scenario.bounds)) };
    case 'operator-zero':
    case 'oracle-zero-min':
      if (!zero) return scenario.simulation;
      return {
        ...scenario.simulation,
        initialReplicas: scenario.zeroMinBounds.warmReplicas,
        activator: { ...DEFAULT_ACTIVATOR, maxHeldRequests: zero.maxHeldRequests, maxHoldSeconds: zero.maxHoldSeconds },
      };
    default: return scenario.simulation;
  }
}

/** The operator's spec with scale to zero: minReplicas 0 and spec.autoscaling.scaleToZero, the rest as `operator`. */
export function buildZeroOperatorSpec(zero: ScaleToZeroOptions, maxReplicas = 64): AutoscalingSpec {
  return buildOperatorSpec(LFM2_24B_H100, maxReplicas, OPERATOR_TARGET_UTILIZATION, { minReplicas: 0, scaleToZero: { ...zero } });
}

export function buildPolicy(job: PolicyJob, scenario: Scenario): ActivatorAwarePolicy {
  const M = LFM2_24B_H100.maxRunning;
  const bounds: BaselineBounds = { minReplicas: 1, maxReplicas: scenario.simulation.gpuQuota };
  const setting = job.setting ?? 0;
  switch (job.kind) {
    case 'operator': return buildOperatorPolicy(buildOperatorSpec(LFM2_24B_H100, scenario.simulation.gpuQuota), undefined, job.label, LFM2_24B_H100.maxRunning);
    case 'oracle': return buildOraclePolicy(scenario.bounds, scenario.simulation.schedulingSeconds + scenario.options.startupSeconds);
    case 'oracle-zero-startup': return buildZeroStartupOraclePolicy(scenario.bounds, job.label);
    case 'operator-zero': {
      const zero = scenario.options.scaleToZero;
      if (!zero) throw new Error('operator-zero runs only with scale to zero (ScenarioOptions.scaleToZero)');
      return buildZeroOperatorPolicy(buildZeroOperatorSpec(zero, scenario.simulation.gpuQuota), job.label, LFM2_24B_H100.maxRunning);
    }
    case 'oracle-zero-min': return buildOraclePolicy(scenario.zeroMinBounds, scenario.simulation.schedulingSeconds + scenario.options.startupSeconds, job.label, 0);
    case 'static': return buildStaticPolicy(Math.min(bounds.maxReplicas, computePeakReplicas(scenario.bounds)), job.label);
    case 'dynamo': {
      // The planner's pre-deployment profile is the nominal one (as the operator's targets), not the simulated replicas.
      const p = LFM2_24B_H100;
      return buildDynamoPolicy(setting, { prefillSecondsPerToken: p.prefillSecondsPerToken, decodeSecondsPerToken: p.decodeSecondsPerSequence + p.stepSeconds / p.maxRunning }, bounds, job.label);
    }
    case 'hpa': return buildHpaPolicy(setting * M, bounds, job.label);
    case 'keda': return buildKedaPolicy(setting, bounds, job.label);
    case 'kubeai': return buildKubeAiPolicy(setting, bounds, job.label);
    case 'kpa': return buildKpaPolicy(setting * M, bounds, job.label);
    case 'kpa300': return buildKpaPolicy(setting * M, bounds, job.label, { scaleDownDelaySeconds: 300 });
    case 'aibrix': return buildKpaPolicy(setting * M, bounds, job.label, AIBRIX_KPA);
    case 'rule': {
      // P and G: the operator's targets at utilization 1 (one replica's prefill-only and full-batch decode throughput).
      const anchors = buildOperatorSpec(LFM2_24B_H100, scenario.simulation.gpuQuota, 1);
      return buildRulePolicy(job.holdSeconds ?? 0, setting, { promptTokensPerSecond: anchors.promptTokensPerSecondPerReplica ?? 1, generationTokensPerSecond: anchors.generationTokensPerSecondPerReplica ?? 1 }, bounds, job.label);
    }
  }
}

export { ORACLE_PARAMETERS };
