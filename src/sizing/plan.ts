// Pure. Plans one replica of an LfmDeployment: resolves the model and GPU, runs the hard checks of DESIGN.md §5
// (heads against tensor size, experts against expert parallelism, quantization against the checkpoint, the GPU and
// the engine), picks the tensor size when unset, and computes the fit (fit.ts). An engine whose sizing is 'gguf'
// (llama.cpp) is planned by gguf.ts instead: one GGUF file on CPU or one GPU. Performs no I/O.
import { parseModelSource } from '../api/model-source.js';
import { ENGINE_NAMES, ENGINE_QUANTIZATIONS, type EngineName, type LfmDeploymentSpec, type ModelArchitecture, type WeightFormat } from '../api/v1alpha1.js';
import { computeGgufWeightBytes, isGgufQuant, lookupGguf, lookupModelByGgufRepository, type GgufQuant } from '../catalog/gguf.js';
import { computeCapabilityAtLeast, lookupGpu, type GpuType } from '../catalog/gpus.js';
import { lookupModel, type CatalogModel } from '../catalog/models.js';
import { ENGINES, type Engine } from '../engines/index.js';
import { computeFit, computeServedFormat, round2, type Fit } from './fit.js';
import { computeGgufPlan, GGUF_CACHE_BYTES, type GgufCacheType, type GgufPlan, type GgufPlanInput } from './gguf.js';

export interface PlanReason { field: string; message: string }

export interface Plan extends Partial<Fit> {
  fits: boolean;
  /** Refusals: the spec cannot run as written (invalid combination, or does not fit). */
  reasons: PlanReason[];
  warnings: string[];
  /** True when reasons hold a refusal other than "does not fit" (exit status 2, condition reason Invalid). */
  invalid: boolean;
  gpusPerReplica: number;
  tensor: number;
  pipeline: number;
  data: number;
  maxModelLen: number;
  model?: { id: string; architecture: ModelArchitecture; fromCatalog: boolean; weightFileBytes?: number };
  gpu?: GpuType;
  servedFormat?: WeightFormat;
  /** A GGUF engine's plan: slots, context, prompt cache, layer placement and where the memory sits. */
  gguf?: GgufPlan;
  /** A GGUF engine: host memory one replica requests and is limited to, in GiB (gguf.memoryGiBPerReplica). */
  memoryGiBPerReplica?: number;
}

const TENSOR_CANDIDATES = [1, 2, 4, 8];

function resolveModel(spec: LfmDeploymentSpec): Plan['model'] | PlanReason {
  const location = parseModelSource(spec.model.source);
  return resolveCatalogModel(spec, spec.model.catalogName ?? (location.claimName === undefined ? location.model : undefined));
}

/** The model by catalog id, or from spec.model.architecture (which wins), or the refusal naming what to set. */
function resolveCatalogModel(spec: LfmDeploymentSpec, catalogId: string | undefined): NonNullable<Plan['model']> | PlanReason {
  const entry: CatalogModel | undefined = catalogId ? lookupModel(catalogId) : undefined;
  if (spec.model.architecture) {
    return { id: catalogId ?? spec.model.source, architecture: spec.model.architecture, fromCatalog: false, ...(entry ? { weightFileBytes: entry.weightFileBytes } : {}) };
  }
  if (!entry) {
    return {
      field: spec.model.catalogName ? 'spec.model.catalogName' : 'spec.model.source',
      message: `model ${catalogId ?? spec.model.source} is not in the catalog: describe it in spec.model.architecture, or set spec.model.catalogName to a catalog model`,
    };
  }
  return { id: entry.id, architecture: entry.architecture, fromCatalog: true, weightFileBytes: entry.weightFileBytes };
}

/** Heads and experts against the parallel sizes: refusals and warnings. */
export function checkParallelism(a: ModelArchitecture, tp: number, pp: number, dp: number, expert: boolean): { reasons: PlanReason[]; warnings: string[] } {
  const reasons: PlanReason[] = [];
  const warnings: string[] = [];
  if (a.attentionHeads % tp !== 0) {
    reasons.push({ field: 'spec.parallelism.tensor', message: `tensor ${tp} does not divide the ${a.attentionHeads} attention heads: use a divisor of ${a.attentionHeads}` });
  }
  if (a.kvHeads % tp !== 0 && tp % a.kvHeads !== 0) {
    reasons.push({ field: 'spec.parallelism.tensor', message: `tensor ${tp} neither divides the ${a.kvHeads} KV heads nor is a multiple of them, so they cannot be split or evenly replicated` });
  }
  if (pp > a.layers) {
    reasons.push({ field: 'spec.parallelism.pipeline', message: `pipeline ${pp} exceeds the model's ${a.layers} layers` });
  }
  if (expert) {
    const ep = tp * dp;
    if (a.experts === 0) {
      reasons.push({ field: 'spec.parallelism.expert', message: 'the model has no routed experts: set spec.parallelism.expert to false' });
    } else if (ep === 1) {
      warnings.push('spec.parallelism.expert has no effect with tensor x data = 1 GPU');
    } else if (a.experts % ep !== 0) {
      warnings.push(`spec.parallelism.expert: ${a.experts} experts do not spread evenly over ${ep} GPUs; some GPUs hold more experts and set the pace`);
    }
  }
  return { reasons, warnings };
}

/** The quantization against the checkpoint: only FP8 may differ from it, and only from a 16-bit one (online). */
function checkCheckpointFormat(q: LfmDeploymentSpec['quantization'], checkpoint: WeightFormat): PlanReason | undefined {
  const sixteenBit = checkpoint === 'BF16' || checkpoint === 'FP16';
  if (q === 'None' || q === checkpoint || (q === 'FP8' && sixteenBit)) return undefined;
  return {
    field: 'spec.quantization',
    message: q === 'FP8'
      ? `FP8 is quantized online from a 16-bit checkpoint, but this checkpoint is ${checkpoint}: set spec.quantization to None`
      : `${q} must match the checkpoint, which is ${checkpoint}: set spec.quantization to None (serve it as published)${sixteenBit ? ' or FP8 (online)' : ''}, or point spec.model.source at a ${q} checkpoint`,
  };
}

/**
 * FP8 weights against the GPU: compute needs 8.9; an engine with a weight-only kernel (its sizing.fp8WeightOnly:
 * vLLM's FP8 Marlin) falls back to it from that kernel's minimum. A refusal names the engines that have one.
 */
function checkFp8Weights(gpu: GpuType, engine: Engine, g: string, out: { reasons: PlanReason[]; warnings: string[] }): void {
  if (computeCapabilityAtLeast(gpu, 8, 9)) return;
  const weightOnly = engine.sizing.fp8WeightOnly;
  if (weightOnly && computeCapabilityAtLeast(gpu, weightOnly.minimum.major, weightOnly.minimum.minor)) {
    out.warnings.push(`FP8 on ${g} runs weight-only (${weightOnly.kernel}, 16-bit compute): memory is saved but there is no FP8 speed-up; FP8 compute needs 8.9 or newer`);
    return;
  }
  const needs = weightOnly ? ` (${weightOnly.minimum.major}.${weightOnly.minimum.minor} for weight-only)` : ` with ${engine.name}`;
  const others = ENGINE_NAMES
    .filter((e) => e !== engine.name && ENGINES[e].sizing.fp8WeightOnly !== undefined && ENGINE_QUANTIZATIONS[e].includes('FP8'))
    .map((e) => `, ${e} (weight-only FP8)`).join('');
  out.reasons.push({ field: 'spec.quantization', message: `FP8 needs compute capability 8.9 or newer${needs}, and ${g} has less: use a newer spec.gpu.type${others} or spec.quantization None` });
}

/** FP4 weights against the GPU: native from 10.0, software kernels from 8.0 (except the engine's sizing.fp4NativeOnly). */
function checkFp4Weights(served: 'MXFP4' | 'NVFP4', gpu: GpuType, engine: Engine, g: string, out: { reasons: PlanReason[]; warnings: string[] }): void {
  if (computeCapabilityAtLeast(gpu, 10, 0)) return;
  const nativeOnly = engine.sizing.fp4NativeOnly.includes(served);
  if (!computeCapabilityAtLeast(gpu, 8, 0) || nativeOnly) {
    out.reasons.push({ field: 'spec.quantization', message: `${served} weights need compute capability ${nativeOnly ? '10.0' : '8.0'} or newer with ${engine.name}, and ${g} has less: choose another spec.gpu.type` });
  } else {
    out.warnings.push(`${served} on ${g} runs through software (Marlin/Triton) kernels; native FP4 tensor cores need compute capability 10.0`);
  }
}

/** Quantization against the checkpoint, the GPU's compute capability and the engine. */
export function checkQuantization(spec: LfmDeploymentSpec, checkpoint: WeightFormat, gpu: GpuType, engine: EngineName): { reasons: PlanReason[]; warnings: string[] } {
  const out = { reasons: [] as PlanReason[], warnings: [] as string[] };
  const mismatch = checkCheckpointFormat(spec.quantization, checkpoint);
  if (mismatch) out.reasons.push(mismatch);
  const served = computeServedFormat(checkpoint, spec.quantization);
  const g = `${gpu.id} (compute capability ${gpu.computeCapability.major}.${gpu.computeCapability.minor})`;
  if (served === 'FP8') checkFp8Weights(gpu, ENGINES[engine], g, out);
  if (served === 'MXFP4' || served === 'NVFP4') checkFp4Weights(served, gpu, ENGINES[engine], g, out);
  if ((served === 'AWQ' || served === 'GPTQ') && !computeCapabilityAtLeast(gpu, 8, 0)) {
    out.warnings.push(`${served} on ${g} cannot use the Marlin kernels (8.0 or newer); expect lower throughput`);
  }
  if (spec.kvCacheDtype === 'FP8' && !computeCapabilityAtLeast(gpu, 8, 9)) {
    out.warnings.push(`an FP8 KV cache on ${g} is stored in FP8 but attention computes in 16 bits; it saves memory, not time`);
  }
  return out;
}

type Findings = { reasons: PlanReason[]; warnings: string[] };

/** maxModelLen against the model's positions (a refusal) and, unless told not to, its trained context (a warning). */
function checkMaxModelLen(model: NonNullable<Plan['model']>, maxModelLen: number, out: Findings, warnPastContext = true): void {
  const a = model.architecture;
  const maxPositions = lookupModel(model.id)?.maxPositionEmbeddings ?? a.contextLength;
  if (maxModelLen > maxPositions) {
    out.reasons.push({ field: 'spec.serving.maxModelLen', message: `${maxModelLen} exceeds the model's ${maxPositions} positions: set spec.serving.maxModelLen to at most ${maxPositions}` });
  } else if (warnPastContext && maxModelLen > a.contextLength) {
    out.warnings.push(`spec.serving.maxModelLen ${maxModelLen} is longer than the ${a.contextLength} tokens the model was trained for; quality may drop past it`);
  }
}

/** Warnings about where the model comes from: catalog shapes that are estimates, and a download on every start. */
function checkModelSource(spec: LfmDeploymentSpec, model: NonNullable<Plan['model']>, warnings: string[]): void {
  const unverified = model.fromCatalog ? (lookupModel(model.id)?.unverified ?? []) : [];
  if (unverified.some((k) => ['num_key_value_heads', 'head_dim', 'num_attention_heads'].includes(k))) {
    warnings.push(`${model.id}: the catalog infers its attention shape (${unverified.filter((k) => k.includes('head')).join(', ')}) rather than reading config.json; the KV figures are estimates`);
  }
  if ((spec.model.cache?.type ?? 'None') === 'None') {
    const gb = model.weightFileBytes ? ` (${Math.round(model.weightFileBytes / 1e9)} GB)` : '';
    warnings.push(`spec.model.cache.type is None: every new replica downloads the weights${gb} before it can serve; use a PersistentVolumeClaim cache to start faster`);
  }
}

/** The refusal of a replica that does not fit its GPUs, with the arithmetic and the ways out. */
function explainDoesNotFit(fit: Fit, spec: LfmDeploymentSpec, gpu: GpuType, servedFormat: WeightFormat, maxModelLen: number): PlanReason {
  const need = fit.weightsGiBPerGpu + fit.overheadGiBPerGpu;
  const oneSeqGiB = (maxModelLen * fit.kvBytesPerTokenPerGpu + fit.stateBytesPerSequencePerGpu) / 1024 ** 3;
  const budget = `each of ${fit.gpusPerReplica} x ${gpu.id} has ${fit.budgetGiBPerGpu} GiB to use (${gpu.usableGiB} GiB x ${spec.serving.gpuMemoryUtilization})`;
  const taken = `${servedFormat} weights take ${fit.weightsGiBPerGpu} GiB and engine overhead ${fit.overheadGiBPerGpu} GiB (${need.toFixed(2)} GiB)`;
  const shortfall = fit.kvCacheGiBPerGpu < 0
    ? `${(-fit.kvCacheGiBPerGpu).toFixed(2)} GiB more than it has before any KV cache, and one ${maxModelLen}-token sequence needs ${oneSeqGiB.toFixed(2)} GiB more`
    : `leaving ${fit.kvCacheGiBPerGpu} GiB where one ${maxModelLen}-token sequence needs ${oneSeqGiB.toFixed(2)} GiB of KV cache`;
  return {
    field: 'spec.gpu.type',
    message: `does not fit: ${budget}, but ${taken}: ${shortfall}. Use a larger spec.gpu.type, a larger spec.parallelism.tensor, `
      + 'a smaller spec.quantization (FP8 halves 16-bit weights), or a smaller spec.serving.maxModelLen',
  };
}

/** spec.parallelism.tensor; when unset, the smallest valid candidate that fits (else the largest valid one). */
function chooseTensor(spec: LfmDeploymentSpec, a: ModelArchitecture, fitFor: (tensor: number) => Fit, warnings: string[]): number {
  if (spec.parallelism.tensor !== undefined) return spec.parallelism.tensor;
  const { pipeline, data, expert } = spec.parallelism;
  const valid = TENSOR_CANDIDATES.filter((t) => checkParallelism(a, t, pipeline, data, expert).reasons.length === 0);
  const tensor = valid.find((t) => fitFor(t).fits) ?? valid[valid.length - 1] ?? 1;
  warnings.push(`spec.parallelism.tensor is unset: the planner chose ${tensor}${fitFor(tensor).fits ? ', the smallest tensor-parallel size that fits' : ', the largest it tries (1, 2, 4, 8), and it still does not fit'}`);
  return tensor;
}

export function computePlan(spec: LfmDeploymentSpec): Plan {
  const engine = ENGINES[spec.engine.name];
  if (engine.sizing.planner === 'gguf') return computeGgufReplicaPlan(spec, engine);
  const pipeline = spec.parallelism.pipeline;
  const data = spec.parallelism.data;
  const empty = (reasons: PlanReason[]): Plan => ({
    fits: false, invalid: true, reasons, warnings: [], gpusPerReplica: (spec.parallelism.tensor ?? 1) * pipeline * data,
    tensor: spec.parallelism.tensor ?? 1, pipeline, data, maxModelLen: spec.serving.maxModelLen ?? 0,
  });

  const model = resolveModel(spec);
  if (!model || 'field' in model) return empty(model ? [model] : []);
  // The CRD refuses a GPU engine without spec.gpu (CEL); this only narrows the type for a spec that skipped parsing.
  if (!spec.gpu) return empty([{ field: 'spec.gpu', message: `spec.gpu is required for ${engine.name}: set spec.gpu.type` }]);
  const gpu = lookupGpu(spec.gpu.type);
  if (!gpu) return empty([{ field: 'spec.gpu.type', message: `${spec.gpu.type} is not a catalog GPU type` }]);
  const a = model.architecture;
  const reasons: PlanReason[] = [];
  const warnings: string[] = [];

  const maxModelLen = spec.serving.maxModelLen ?? a.contextLength;
  checkMaxModelLen(model, maxModelLen, { reasons, warnings });
  const quant = checkQuantization(spec, a.weightFormat, gpu, spec.engine.name);
  reasons.push(...quant.reasons);
  warnings.push(...quant.warnings);
  checkModelSource(spec, model, warnings);

  const servedFormat = computeServedFormat(a.weightFormat, spec.quantization);
  const kvBytes: 1 | 2 = spec.kvCacheDtype === 'FP8' ? 1 : 2;
  const fitFor = (tensor: number) => computeFit({
    architecture: a, engine: spec.engine.name, gpu, servedFormat, kvBytes, tensor, pipeline, data,
    expert: spec.parallelism.expert, maxModelLen, gpuMemoryUtilization: spec.serving.gpuMemoryUtilization,
  });

  const tensor = chooseTensor(spec, a, fitFor, warnings);
  const par = checkParallelism(a, tensor, pipeline, data, spec.parallelism.expert);
  reasons.push(...par.reasons);
  warnings.push(...par.warnings);
  const invalid = reasons.length > 0;

  const fit = fitFor(tensor);
  if (!fit.fits && !invalid) reasons.push(explainDoesNotFit(fit, spec, gpu, servedFormat, maxModelLen));
  return {
    ...fit,
    fits: fit.fits && !invalid,
    invalid,
    reasons,
    warnings,
    tensor,
    pipeline,
    data,
    maxModelLen,
    model,
    gpu,
    servedFormat,
  };
}

// ------------------------------------------------------------------------------------------------ GGUF engines
//
// A GGUF engine (llama.cpp) serves one file of a GGUF repository on CPU or on one GPU. The model is the catalog model
// whose GGUF repository spec.model.source names (hf://LiquidAI/LFM2-24B-A2B-GGUF is LiquidAI/LFM2-24B-A2B), the
// weights are the file of spec.quantization (the catalog's measured size, else parameters x bits per weight / 8), and
// gguf.ts places them and sizes the slots. The checkpoint-format rule does not apply: the quantization chooses the file.

/** The GGUF engine's KV cache type for spec.kvCacheDtype, from the engine's own table (llama.cpp: Auto f16, FP8 q8_0). */
function computeGgufCacheType(engine: Engine, dtype: LfmDeploymentSpec['kvCacheDtype']): GgufCacheType {
  const type = engine.kvCacheTypes[dtype];
  return type in GGUF_CACHE_BYTES ? (type as GgufCacheType) : 'f16';
}

/** The model a GGUF source serves: by spec.model.catalogName, by the GGUF repository, or spec.model.architecture. */
function resolveGgufModel(spec: LfmDeploymentSpec): NonNullable<Plan['model']> | PlanReason {
  const location = parseModelSource(spec.model.source);
  const repository = location.claimName === undefined ? location.model : undefined;
  if (spec.model.catalogName || !repository) return resolveCatalogModel(spec, spec.model.catalogName);
  const byRepository = lookupModelByGgufRepository(repository);
  const safetensors = byRepository === undefined ? lookupGguf(repository) : undefined;
  if (safetensors && !spec.model.architecture) {
    return {
      field: 'spec.model.source',
      message: `${repository} holds the safetensors checkpoint, which ${spec.engine.name} does not load: set spec.model.source to the GGUF repository hf://${safetensors.repository}`,
    };
  }
  return resolveCatalogModel(spec, byRepository ?? repository);
}

/** The GGUF weights: the file's bytes, and a warning when estimated rather than measured. */
function computeGgufWeights(model: NonNullable<Plan['model']>, quant: GgufQuant, warnings: string[]): number {
  const weights = computeGgufWeightBytes(model.architecture.parameters, quant, lookupGguf(model.id));
  if (!weights.measured) {
    warnings.push(`the ${quant} file of ${model.id} is estimated at ${(weights.bytes / 1024 ** 3).toFixed(2)} GiB from its bits per weight (no measured size in the catalog); the real file may differ by a few percent`);
  }
  return weights.bytes;
}

/** A file named apart from its type: the memory is sized for spec.quantization, whatever the file holds. */
function checkGgufSource(spec: LfmDeploymentSpec, quant: GgufQuant, warnings: string[]): void {
  const file = spec.model.file;
  if (file && !file.toUpperCase().includes(quant.toUpperCase())) {
    warnings.push(`spec.model.file ${file} does not name ${quant}: the plan sizes memory for ${quant} weights, so set spec.quantization to the file's type`);
  }
}

/** The refusal of a GGUF engine's spec the CRD would have refused (planning a spec that skipped parsing). */
function checkGgufSpec(spec: LfmDeploymentSpec, gpu: GpuType | undefined): PlanReason | undefined {
  if (!isGgufQuant(spec.quantization)) {
    return { field: 'spec.quantization', message: `${spec.engine.name} serves GGUF files: set spec.quantization to a GGUF type (for example Q4_K_M)` };
  }
  if (spec.gpu && !gpu) return { field: 'spec.gpu.type', message: `${spec.gpu.type} is not a catalog GPU type` };
  if (!spec.gpu && !spec.cpu) return { field: 'spec.cpu', message: `spec.cpu is required for ${spec.engine.name} without spec.gpu: set spec.cpu.memoryGiB and spec.cpu.cores` };
  return undefined;
}

/** Bytes of KV cache one token takes over the attention layers at the GGUF cache type (K and V). */
function computeGgufKvBytesPerToken(a: ModelArchitecture, cacheType: GgufCacheType): number {
  return Math.round(2 * a.attentionLayers * a.kvHeads * a.headDim * GGUF_CACHE_BYTES[cacheType]);
}

/** Convolution state one sequence holds: llama.cpp keeps it in f32 (4 bytes) whatever the KV cache type (gguf.ts). */
function computeGgufStateBytesPerSequence(a: ModelArchitecture): number {
  return a.convLayers * Math.max(0, a.convCacheLength - 1) * a.hiddenSize * 4;
}

/** What gguf.ts plans from: the resolved model and file, the slots, spec.cpu and the GPU. */
function buildGgufPlanInput(spec: LfmDeploymentSpec, r: {
  model: NonNullable<Plan['model']>; quant: GgufQuant; weightBytes: number; maxModelLen: number; cacheType: GgufCacheType; gpu: GpuType | undefined;
}): GgufPlanInput {
  const catalog = lookupModel(r.model.id);
  return {
    architecture: r.model.architecture, quant: r.quant, weightBytes: r.weightBytes, maxModelLen: r.maxModelLen, cacheType: r.cacheType,
    ...(spec.serving.maxConcurrentSequences ? { slots: spec.serving.maxConcurrentSequences } : {}),
    ...(spec.cpu ? { memoryGiB: spec.cpu.memoryGiB, cores: spec.cpu.cores } : {}),
    ...(r.gpu ? { gpu: { type: r.gpu, gpuMemoryUtilization: spec.serving.gpuMemoryUtilization } } : {}),
    ...(catalog?.denseLayers !== undefined ? { denseLayers: catalog.denseLayers } : {}),
    ...(catalog?.vocabSize !== undefined ? { vocabSize: catalog.vocabSize } : {}),
  };
}

/** One replica of a GGUF engine (llama.cpp): on CPU within spec.cpu, or on one GPU with experts possibly on the host. */
function computeGgufReplicaPlan(spec: LfmDeploymentSpec, engine: Engine): Plan {
  const gpu = spec.gpu ? lookupGpu(spec.gpu.type) : undefined;
  const base = { tensor: 1, pipeline: 1, data: 1, gpusPerReplica: spec.gpu ? 1 : 0, maxModelLen: spec.serving.maxModelLen ?? 0 };
  const refusal = checkGgufSpec(spec, gpu);
  const model = refusal ?? resolveGgufModel(spec);
  if ('field' in model || !isGgufQuant(spec.quantization)) {
    return { ...base, fits: false, invalid: true, reasons: 'field' in model ? [model] : [], warnings: [] };
  }
  const a = model.architecture;
  const quant = spec.quantization;
  const reasons: PlanReason[] = [];
  const warnings: string[] = [];
  const maxModelLen = spec.serving.maxModelLen ?? a.contextLength;
  checkMaxModelLen(model, maxModelLen, { reasons, warnings }, false);
  checkGgufSource(spec, quant, warnings);
  const weightBytes = computeGgufWeights(model, quant, warnings);
  const resolved = { ...model, weightFileBytes: weightBytes };
  checkModelSource(spec, resolved, warnings);
  const invalid = reasons.length > 0;

  const cacheType = computeGgufCacheType(engine, spec.kvCacheDtype);
  const gguf = computeGgufPlan(buildGgufPlanInput(spec, { model: resolved, quant, weightBytes, maxModelLen, cacheType, gpu }));
  if (!invalid) reasons.push(...gguf.reasons);
  warnings.push(...gguf.warnings);
  const b = gguf.breakdown;
  return {
    ...base,
    fits: gguf.fits && !invalid,
    invalid,
    reasons,
    warnings,
    maxModelLen,
    weightsGiBPerGpu: gpu ? round2(b.weightsGiB - (b.expertsOnHostGiB ?? 0)) : 0,
    kvCacheGiBPerGpu: gpu ? round2(b.kvCacheGiB + b.convStateGiB) : 0,
    kvBytesPerToken: computeGgufKvBytesPerToken(a, cacheType),
    stateBytesPerSequence: computeGgufStateBytesPerSequence(a),
    maxSequencesAtMaxLen: gguf.maxSequencesAtMaxLen,
    memoryGiBPerReplica: gguf.memoryGiBPerReplica,
    model: resolved,
    ...(gpu ? { gpu } : {}),
    gguf,
  };
}
