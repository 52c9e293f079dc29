// Pure. Memory-fit arithmetic for one replica (DESIGN.md §5); performs no I/O.
//
// With TP = tensor, PP = pipeline, DP = data (ranks inside the pod), EP = expert parallelism on or off:
//   gpusPerReplica      = TP x PP x DP
//   weightBytes         = expertParams x bits(q)/8 + (params - expertParams) x 2        (16-bit non-expert parts;
//                         a 16-bit checkpoint served as None is params x 2)
//   weightsPerGpu       = nonExpertBytes / (TP x PP) + expertBytes / (TP x PP x (EP ? DP : 1))
//   usableGiB           = cuda_visible_GiB (catalog) or nvidia.com/gpu.memory / 1024 - 0.5
//   budgetGiB           = usableGiB x gpuMemoryUtilization
//   overheadGiB         = 5 GiB + 2% of usableGiB   (activations at default batch tokens, NCCL, CUDA graphs; the
//                         catalog measures 5-8 GiB on an H100 and this gives 6.6)
//   kvBudgetPerGpu      = budgetGiB - weightsPerGpu - overheadGiB
//   kvBytesPerToken     = 2 x attentionLayers x kvHeads x headDim x kvBytes              (whole replica; KV lives
//                         only in attention layers, convolution layers hold none per token)
//   kvPerTokenPerGpu    = 2 x attentionLayers/PP x ceil(kvHeads/TP) x headDim x kvBytes (KV heads replicate once
//                         TP exceeds them)
//   statePerSeqPerGpu   = convLayers/PP x (convCacheLength-1) x hiddenSize/TP x 2       (an engine with a pool of
//                         its own: SGLang)
//                         an engine that pads each conv layer's state page to an attention page of B tokens
//                         (the engine's sizing.convStatePageTokens; vLLM: its block, 16):
//                         convLayers/PP x max(state, B x 2 x ceil(kvHeads/TP) x headDim x kvBytes)
//                         plus, for sliding-window layers, (window + 16) tokens of KV per sequence
//   maxSequencesAtMaxLen= floor(kvBudgetPerGpu / (maxModelLen x kvPerTokenPerGpu + statePerSeqPerGpu))
//   fits                = maxSequencesAtMaxLen >= 1
// SGLang's --mem-fraction-static covers weights and KV only (activations sit outside it), so it is derived:
//   memFractionStatic   = gpuMemoryUtilization - overheadGiB / usableGiB
import { WEIGHT_FORMATS, type EngineName, type ModelArchitecture, type Quantization, type WeightFormat } from '../api/v1alpha1.js';
import type { GpuType } from '../catalog/gpus.js';
import { ENGINES } from '../engines/index.js';

export const GiB = 1024 ** 3;
export const OVERHEAD_CONSTANT_GIB = 5;
export const OVERHEAD_FRACTION = 0.02;
/** Tokens of KV a sliding-window layer holds per sequence beyond its window (one KV block). */
export const SLIDING_WINDOW_MARGIN_TOKENS = 16;

/** Bits per weight of each stored format; scales included (catalog README, "Bytes per parameter"). */
export const BITS_PER_WEIGHT: Record<WeightFormat, number> = {
  BF16: 16, FP16: 16, FP8: 8, W8A8Int8: 8, AWQ: 4.25, GPTQ: 4.25, MXFP4: 4.25, NVFP4: 4.5,
};

export interface FitInput {
  architecture: ModelArchitecture;
  engine: EngineName;
  gpu: GpuType;
  /** The format the weights are held in (the checkpoint's, or FP8 when quantized online). */
  servedFormat: WeightFormat;
  kvBytes: 1 | 2;
  tensor: number;
  pipeline: number;
  data: number;
  expert: boolean;
  maxModelLen: number;
  gpuMemoryUtilization: number;
}

export interface Fit {
  gpusPerReplica: number;
  weightsGiBPerGpu: number;
  overheadGiBPerGpu: number;
  budgetGiBPerGpu: number;
  kvCacheGiBPerGpu: number;
  kvBytesPerToken: number;
  kvBytesPerTokenPerGpu: number;
  stateBytesPerSequence: number;
  stateBytesPerSequencePerGpu: number;
  maxSequencesAtMaxLen: number;
  /** Tokens the KV budget holds across the replica (ignoring per-sequence state). */
  kvTokenCapacity: number;
  memFractionStatic: number;
  fits: boolean;
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Bytes of weights of the whole replica, split into the expert part and the rest. */
export function computeWeightBytes(arch: ModelArchitecture, format: WeightFormat): { expert: number; nonExpert: number } {
  const bits = BITS_PER_WEIGHT[format];
  const nonExpertParams = arch.parameters - arch.expertParameters;
  // A quantized checkpoint keeps embeddings, norms, router gates (and for MXFP4 attention) in 16 bits; dense models
  // (no expert parameters) quantize their linear layers, approximated here as the whole model.
  if (arch.expertParameters === 0) return { expert: 0, nonExpert: (arch.parameters * bits) / 8 };
  return { expert: (arch.expertParameters * bits) / 8, nonExpert: nonExpertParams * 2 };
}

export function computeOverheadGiB(gpu: GpuType): number {
  return OVERHEAD_CONSTANT_GIB + OVERHEAD_FRACTION * gpu.usableGiB;
}

export function computeFit(input: FitInput): Fit {
  const { architecture: a, gpu, tensor: tp, pipeline: pp, data: dp } = input;
  const gpusPerReplica = tp * pp * dp;
  const weights = computeWeightBytes(a, input.servedFormat);
  const expertShards = tp * pp * (input.expert ? dp : 1);
  const weightsPerGpu = weights.nonExpert / (tp * pp) + weights.expert / expertShards;

  const budgetGiB = gpu.usableGiB * input.gpuMemoryUtilization;
  const overheadGiB = computeOverheadGiB(gpu);
  const kvBudgetGiB = budgetGiB - weightsPerGpu / GiB - overheadGiB;

  const kvHeadsPerGpu = Math.ceil(a.kvHeads / tp);
  const kvBytesPerToken = 2 * a.attentionLayers * a.kvHeads * a.headDim * input.kvBytes;
  const kvBytesPerTokenPerGpu = (2 * a.attentionLayers * kvHeadsPerGpu * a.headDim * input.kvBytes) / pp;

  const convStatePerLayer = Math.max(0, a.convCacheLength - 1) * a.hiddenSize * 2;
  const stateBytesPerSequence = a.convLayers * convStatePerLayer;
  const pageTokens = ENGINES[input.engine].sizing.convStatePageTokens;
  const attentionPagePerGpu = pageTokens * 2 * kvHeadsPerGpu * a.headDim * input.kvBytes;
  const convStatePerGpu = pageTokens > 0
    ? (a.convLayers * Math.max(convStatePerLayer / tp, attentionPagePerGpu)) / pp
    : (a.convLayers * convStatePerLayer) / tp / pp;
  const slidingPerSeqPerGpu = (a.slidingWindowLayers * 2 * kvHeadsPerGpu * a.headDim * input.kvBytes
    * Math.min(input.maxModelLen, a.slidingWindow + SLIDING_WINDOW_MARGIN_TOKENS)) / pp;
  const stateBytesPerSequencePerGpu = convStatePerGpu + slidingPerSeqPerGpu;

  const kvBudgetBytes = Math.max(0, kvBudgetGiB) * GiB;
  const perSequence = input.maxModelLen * kvBytesPerTokenPerGpu + stateBytesPerSequencePerGpu;
  const maxSequencesAtMaxLen = kvBudgetGiB > 0 && perSequence > 0 ? Math.floor(kvBudgetBytes / perSequence) : 0;
  const kvTokenCapacity = kvBytesPerTokenPerGpu > 0 ? Math.floor(kvBudgetBytes / kvBytesPerTokenPerGpu) * dp : 0;

  return {
    gpusPerReplica,
    weightsGiBPerGpu: round2(weightsPerGpu / GiB),
    overheadGiBPerGpu: round2(overheadGiB),
    budgetGiBPerGpu: round2(budgetGiB),
    kvCacheGiBPerGpu: round2(kvBudgetGiB),
    kvBytesPerToken,
    kvBytesPerTokenPerGpu,
    stateBytesPerSequence,
    stateBytesPerSequencePerGpu: Math.round(stateBytesPerSequencePerGpu),
    maxSequencesAtMaxLen: maxSequencesAtMaxLen * dp,
    kvTokenCapacity,
    memFractionStatic: round2(input.gpuMemoryUtilization - overheadGiB / gpu.usableGiB),
    fits: maxSequencesAtMaxLen >= 1,
  };
}

/**
 * The format weights are held in when a checkpoint of `checkpoint` format is served as `quantization`. A GGUF type
 * is no checkpoint format (the CRD refuses it for a checkpoint engine): the checkpoint's own then.
 */
export function computeServedFormat(checkpoint: WeightFormat, quantization: Quantization): WeightFormat {
  if (quantization === 'None') return checkpoint;
  return (WEIGHT_FORMATS as readonly string[]).includes(quantization) ? (quantization as WeightFormat) : checkpoint;
}
