// Pure. The plan of one LfmDeployment as `lfm-operator plan` prints it and status.plan records it: the fit, the
// refusals (each naming a field), the warnings and the engine command line. Performs no I/O.
import type { LfmDeployment, PlanStatus } from '../api/v1alpha1.js';
import { parseModelSource } from '../api/model-source.js';
import { checkExtraArgs, ENGINES } from '../engines/index.js';
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
  image: string;
  command: string[];
  args: string[];
  plan: Plan;
}

export function buildPlanReport(lfmd: LfmDeployment, options: RenderOptions = {}): PlanReport {
  const spec = lfmd.spec;
  const plan = computePlan(spec);
  const engine = ENGINES[spec.engine.name];
  const image = computeImage(lfmd, options);
  const reasons = [...plan.reasons];
  const warnings = [...plan.warnings];

  const strict = image === engine.defaultImage;
  const extra = checkExtraArgs(engine, spec.engine.extraArgs ?? [], strict);
  reasons.push(...extra.errors);
  warnings.push(...extra.warnings);
  if (image === engine.defaultImage && !engine.imageVerified) {
    warnings.push(`spec.engine.image: the default ${engine.name} image ${image} is unverified (no release with LFM2-MoE support was confirmed here); pin a tested image`);
  }
  const invalid = plan.invalid || extra.errors.length > 0;
  const container = engine.buildContainer(spec, plan, parseModelSource(spec.model.source), spec.model.servedName ?? lfmd.metadata.name);
  // The vLLM image's entrypoint is `vllm serve`; the report shows the full command a reader would run.
  const command = container.command ?? ['vllm', 'serve'];
  return {
    name: lfmd.metadata.name,
    ...(lfmd.metadata.namespace ? { namespace: lfmd.metadata.namespace } : {}),
    fits: plan.fits && !invalid,
    invalid,
    reasons,
    warnings,
    ...(plan.model ? { model: plan.model.id } : {}),
    gpuType: spec.gpu.type,
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
  };
}
