// Pure. The plan of one LfmDeployment as `lfm-operator plan` prints it and status.plan records it: the fit, the
// refusals (each naming a field), the warnings and the engine command line. Performs no I/O.
import type { LfmDeployment, PlanStatus } from '../api/v1alpha1.js';
import { parseModelSource } from '../api/model-source.js';
import { checkExtraArgs, ENGINES, type Engine } from '../engines/index.js';
import type { GgufPlan } from '../sizing/gguf.js';
import { computePlan, type Plan, type PlanReason } from '../sizing/plan.js';
import { computeImage, type RenderOptions } from './children.js';

export interface PlanReport {
  name: string;
  namespace?: string;
  fits: boolean;
  /** A refusal other than "does not fit" (exit status 2; condition reason Invalid). */
  invalid: boolean;
  reasons: PlanReason[];
  warnings: string[];
  model?: string;
  gpuType: string;
  engine: string;
  quantization: string;
  gpusPerReplica: number;
  tensor: number;
  weightsGiBPerGpu: number;
  kvCacheGiBPerGpu: number;
  kvBytesPerToken: number;
  stateBytesPerSequence: number;
  maxSequencesAtMaxLen: number;
  maxModelLen: number;
  /** LlamaCpp: host memory of one replica, in GiB (its pod's memory request and limit). */
  memoryGiBPerReplica?: number;
  /** LlamaCpp: slots, context, prompt cache, layer placement and where the memory sits. */
  gguf?: Omit<GgufPlan, 'fits' | 'reasons' | 'warnings'>;
  image: string;
  command: string[];
  args: string[];
  plan: Plan;
}

/** Whether the image is one of the engine's defaults, whose flag table is the vendored one. */
function isDefaultImage(engine: Engine, image: string): boolean {
  return image === engine.defaultImage || image === engine.defaultGpuImage;
}

/** The GGUF figures of the plan as the report shows them (the fit and its reasons are the report's own). */
function buildGgufReport(plan: Plan): Pick<PlanReport, 'memoryGiBPerReplica' | 'gguf'> {
  if (!plan.gguf) return {};
  const { fits: _fits, reasons: _reasons, warnings: _warnings, ...gguf } = plan.gguf;
  return { ...(plan.memoryGiBPerReplica !== undefined ? { memoryGiBPerReplica: plan.memoryGiBPerReplica } : {}), gguf };
}

export function buildPlanReport(lfmd: LfmDeployment, options: RenderOptions = {}): PlanReport {
  const spec = lfmd.spec;
  const plan = computePlan(spec);
  const engine = ENGINES[spec.engine.name];
  const image = computeImage(lfmd, options);
  const reasons = [...plan.reasons];
  const warnings = [...plan.warnings];

  const strict = isDefaultImage(engine, image);
  const extra = checkExtraArgs(engine, spec.engine.extraArgs ?? [], strict);
  reasons.push(...extra.errors);
  warnings.push(...extra.warnings);
  if (strict && !engine.imageVerified) {
    warnings.push(`spec.engine.image: the default ${engine.name} image ${image} is unverified (${engine.unverifiedImageReason ?? 'not confirmed here'}); pin a tested image`);
  }
  const invalid = plan.invalid || extra.errors.length > 0;
  const container = engine.buildContainer(spec, plan, parseModelSource(spec.model.source), spec.model.servedName ?? lfmd.metadata.name);
  // An image whose entrypoint is the server (vllm serve, llama-server) gets args only; the report shows the full
  // command a reader would run.
  const command = container.command ?? engine.entrypoint;
  return {
    name: lfmd.metadata.name,
    ...(lfmd.metadata.namespace ? { namespace: lfmd.metadata.namespace } : {}),
    fits: plan.fits && !invalid,
    invalid,
    reasons,
    warnings,
    ...(plan.model ? { model: plan.model.id } : {}),
    gpuType: spec.gpu?.type ?? 'none',
    engine: spec.engine.name,
    quantization: spec.quantization,
    gpusPerReplica: plan.gpusPerReplica,
    tensor: plan.tensor,
    weightsGiBPerGpu: plan.weightsGiBPerGpu ?? 0,
    kvCacheGiBPerGpu: plan.kvCacheGiBPerGpu ?? 0,
    kvBytesPerToken: plan.kvBytesPerToken ?? 0,
    stateBytesPerSequence: plan.stateBytesPerSequence ?? 0,
    maxSequencesAtMaxLen: plan.maxSequencesAtMaxLen ?? 0,
    maxModelLen: plan.maxModelLen,
    ...buildGgufReport(plan),
    image,
    command,
    args: container.args,
    plan,
  };
}

/** The plan as status.plan records it. */
export function buildPlanStatus(report: PlanReport): PlanStatus {
  return {
    fits: report.fits,
    ...(report.reasons.length > 0 ? { reasons: report.reasons } : {}),
    ...(report.warnings.length > 0 ? { warnings: report.warnings } : {}),
    gpusPerReplica: report.gpusPerReplica,
    tensor: report.tensor,
    weightsGiBPerGpu: report.weightsGiBPerGpu,
    kvCacheGiBPerGpu: report.kvCacheGiBPerGpu,
    kvBytesPerToken: report.kvBytesPerToken,
    stateBytesPerSequence: report.stateBytesPerSequence,
    maxSequencesAtMaxLen: report.maxSequencesAtMaxLen,
    maxModelLen: report.maxModelLen,
    ...buildGgufStatus(report),
  };
}

/** The GGUF figures status.plan records: the memory a replica takes and where its layers and experts sit. */
function buildGgufStatus(report: PlanReport): Partial<PlanStatus> {
  const g = report.gguf;
  if (!g) return {};
  return {
    ...(report.memoryGiBPerReplica !== undefined ? { memoryGiBPerReplica: report.memoryGiBPerReplica } : {}),
    slots: g.slots,
    contextTokens: g.contextTokens,
    cacheRamMiB: g.cacheRamMiB,
    gpuLayers: g.gpuLayers,
    cpuMoeLayers: g.cpuMoeLayers,
    ...(g.breakdown.expertsOnHostGiB !== undefined ? { expertsOnHostGiB: g.breakdown.expertsOnHostGiB } : {}),
  };
}
