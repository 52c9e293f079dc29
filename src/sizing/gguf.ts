// Pure. Memory-fit arithmetic for one llama.cpp (llama-server) replica serving a GGUF file, on CPU or one GPU
// (DESIGN.md §5 for the GPU engines; this is its llama.cpp counterpart); performs no I/O. GiB = 1024^3 bytes.
//
// Per slot (one sequence of maxModelLen tokens; llama-server's --parallel slots each own maxModelLen KV cells):
//   cells              = maxModelLen rounded up to 256 (llama.cpp pads the KV cache to 256 cells)
//   kvBytesPerToken    = 2 (K and V) x attentionLayers x kvHeads x headDim x bytes(cacheType)
//                        bytes: f16 2, q8_0 34/32, q4_0 18/32 (ggml block layouts: 32 values in 34 / 18 bytes).
//                        Only attention layers hold KV: llama.cpp's hybrid memory (llama_memory_hybrid, used for
//                        lfm2/lfm2moe) gives the convolution layers a recurrent-state cache instead.
//                        Sliding-window layers (gpt-oss) hold min(maxModelLen, window + ubatch) cells.
//   convStatePerSlot   = convLayers x (convCacheLength - 1) x hiddenSize x 4 bytes
//                        Source: ggml-org/llama.cpp src/llama-hparams.cpp n_embd_r() ("for LFM2 models: n_embd x
//                        (n_shortconv_l_cache - 1)"), and src/llama-model.cpp create_memory(), which builds the hybrid
//                        memory with recurrent_type GGML_TYPE_F32 (4 bytes, whatever --cache-type-k/v say) and one
//                        state row per sequence (recurrent_kv_size = max(1, n_seq_max)). 480 KiB per slot for LFM2-24B.
//   outputPerSlot      = vocab x 4 bytes (llama_context's output buffer keeps one f32 logits row per sequence; host)
// Fixed per replica (ESTIMATES, calibrated on llama.cpp's startup log "CPU compute buffer size"):
//   computeBuffers     = ubatch x (vocab + 2 x hiddenSize) x 4          (logits of the worst-case ubatch + activations)
//                      + ubatch x cells x 6                             (KQ mask, f32 and its f16 copy for flash attention)
//                        ubatch = 512 (llama.cpp's default --ubatch-size). The worst-case graph llama.cpp reserves
//                        outputs logits for every token of the ubatch (n_outputs = n_ubatch). Calibration:
//                        Llama-3-8B (vocab 128256, hidden 4096) logs 258.50 MiB, the formula gives 266.5 (+3%);
//                        Qwen3-1.7B (vocab 151936, hidden 2048) logs 300.75 MiB, the formula gives 304.75 (+1%)
//                        (public llama.cpp logs, ggml-org/llama.cpp issues and downstream apps, 2025-2026).
//                        Assumes flash attention (--flash-attn on or auto, which enables it on CPU and CUDA): without
//                        it the KQ matrix (cells x ubatch x heads x 4 bytes) is allocated too, 2 GiB at 32k cells.
//   runtime            = 0.5 GiB (process, tokenizer, HTTP server, thread stacks, allocator slack; estimate)
// CPU replica (memoryGiB, cores):
//   fixed              = weightBytes + computeBuffers + runtime
//   perSlot            = cells x kvBytesPerToken + convStatePerSlot + outputPerSlot
//   maxSequencesAtMaxLen = floor((memoryGiB - fixed) / perSlot)          (before the prompt cache)
//   slots (--parallel) = spec.serving.maxConcurrentSequences, else max(1, maxSequencesAtMaxLen)
//   fits               = maxSequencesAtMaxLen >= 1 and slots <= maxSequencesAtMaxLen
//   cacheRamMiB        = min(8192, floor(memoryGiB - fixed - slots x perSlot))   (--cache-ram, upstream default 8192;
//                        the server's prompt cache lives in host RAM; 0 disables it)
//   contextTokens (-c) = maxModelLen x slots (llama-server's -c is the context of all slots together)
//   --threads          = cores; --gpu-layers 0; --n-cpu-moe 0
//   memoryGiBPerReplica= fixed + slots x perSlot + cacheRam (rounded up to 0.01 GiB; <= memoryGiB)
// One GPU (type, gpuMemoryUtilization; memoryGiB optional = host memory for experts kept on the CPU + prompt cache):
//   budget             = usableGiB x gpuMemoryUtilization - 0.5 GiB CUDA context (context, cuBLAS handles and the
//                        kernels loaded; ESTIMATE; llama.cpp's own --fit leaves 1 GiB per device, which the 10% outside
//                        gpuMemoryUtilization plus this covers)
//   expertBytes        = weightBytes x expertParameters / parameters    (experts quantized like the rest; estimate)
//   moeLayers          = layers - denseLayers (LFM2-MoE: the first 2 layers are dense)
//   expertsPerLayer    = expertBytes / moeLayers
//   gpuNeed(k)         = (weightBytes - k x expertsPerLayer) + slots x (cells x kvBytesPerToken + convStatePerSlot)
//                      + computeBuffers + (k > 0 ? expertsPerLayer : 0)
//                        k = MoE layers whose experts stay in host RAM. With k > 0 llama.cpp copies a host-resident
//                        expert tensor to the GPU for large batches (op offload), so the GPU compute buffer grows by
//                        up to one layer's experts (estimate).
//   k                  = the smallest k in 0..moeLayers with gpuNeed(k) <= budget; refused when none
//   --n-cpu-moe        = k = 0 ? 0 : denseLayers + k  (llama.cpp's --n-cpu-moe N keeps the experts of layers 0..N-1 on
//                        the CPU; the leading dense layers have none, so N counts them too)
//   --gpu-layers       = layers + 1: every repeating layer plus the output layer (llama.cpp counts the output layer
//                        as one more; "offloaded 41/41 layers" for a 40-layer model). KV and conv state follow their
//                        layers onto the GPU (--kv-offload, the default).
//   host               = k x expertsPerLayer + token embeddings (llama.cpp keeps the input embedding on the CPU)
//                      + ubatch x (2 x hidden + 3 x expertsPerToken x moeIntermediate) x 4 (host compute buffer)
//                      + slots x outputPerSlot + runtime + 0.5 GiB CUDA host runtime (estimate) + cacheRam
//   cacheRamMiB        = min(8192, memoryGiB - the rest of host), or 8192 when memoryGiB is unset
//   slots unset        = maxSequencesAtMaxLen at the smallest k that leaves room for one slot
import type { ModelArchitecture } from '../catalog/architecture.js';
import { GGUF_BITS_PER_WEIGHT, GGUF_QUANTS, type GgufQuant } from '../catalog/gguf.js';
import type { GpuType } from '../catalog/gpus.js';

export type GgufCacheType = 'f16' | 'q8_0' | 'q4_0';

export interface GgufPlanInput {
  architecture: ModelArchitecture;
  quant: GgufQuant;
  /** From computeGgufWeightBytes. */
  weightBytes: number;
  /** Tokens of one sequence (one slot). */
  maxModelLen: number;
  /** spec.serving.maxConcurrentSequences = --parallel; unset: as many maxModelLen slots as fit what is left. */
  slots?: number;
  /** --cache-type-k and --cache-type-v. */
  cacheType: GgufCacheType;
  /** CPU replica: spec.cpu.memoryGiB and spec.cpu.cores (both required when gpu is unset). On a GPU: host memory
   * available for experts kept on the CPU and the prompt cache (unset: no host limit given; the plan computes the
   * host memory the pod must request). */
  memoryGiB?: number;
  cores?: number;
  /** One GPU. */
  gpu?: { type: GpuType; gpuMemoryUtilization: number };
  /** Leading dense (expert-less) layers: CatalogModel.denseLayers. Unset: every layer has experts. */
  denseLayers?: number;
  /** Vocabulary size: CatalogModel.vocabSize. Unset: 152064 (a large vocabulary, so the estimate errs high). */
  vocabSize?: number;
}

export interface GgufPlan {
  fits: boolean;
  /** Refusals with the numbers, naming the field to change. */
  reasons: { field: string; message: string }[];
  warnings: string[];
  /** --parallel */
  slots: number;
  /** -c = maxModelLen x slots (llama-server's -c is the context of all slots together). */
  contextTokens: number;
  /** How many maxModelLen slots fit in the memory left (>= slots when it fits). */
  maxSequencesAtMaxLen: number;
  /** --cache-ram, set explicitly from the memory left after everything else (upstream default 8192 MiB; may be 0). */
  cacheRamMiB: number;
  /** --threads = cores on CPU. */
  threads?: number;
  /** --gpu-layers: 0 on CPU; architecture.layers + 1 on a GPU (every repeating layer plus the output layer). */
  gpuLayers: number;
  /** --n-cpu-moe: 0 = every expert on the GPU; N = experts of the first N layers stay in host RAM. */
  cpuMoeLayers: number;
  /** Host memory the pod requests and is limited to (CPU: <= memoryGiB; GPU: what stays on the host). */
  memoryGiBPerReplica: number;
  /** computeBuffersGiB includes the runtime overheads (process, and on a GPU the CUDA context and host runtime). */
  breakdown: {
    weightsGiB: number; kvCacheGiB: number; convStateGiB: number; computeBuffersGiB: number; cacheRamGiB: number;
    gpuGiB?: number; hostGiB: number; expertsOnHostGiB?: number;
  };
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** llama.cpp's default --ubatch-size: the worst-case batch its compute buffers are reserved for. */
export const GGUF_UBATCH = 512;
/** llama.cpp pads the KV cache to a multiple of 256 cells. */
export const GGUF_KV_PAD = 256;
/** Upstream default of --cache-ram, in MiB; the plan never sets more. */
export const GGUF_CACHE_RAM_MAX_MIB = 8192;
/** Process overhead of llama-server besides its buffers (estimate). */
export const GGUF_RUNTIME_GIB = 0.5;
/** Device memory the CUDA context, cuBLAS and loaded kernels take outside llama.cpp's buffers (estimate). */
export const GGUF_CUDA_CONTEXT_GIB = 0.5;
/** Host memory the CUDA runtime libraries add to the process (estimate). */
export const GGUF_CUDA_HOST_GIB = 0.5;
/** Vocabulary assumed when the model's is unknown (Qwen's 152064: large, so the estimate errs high). */
export const GGUF_DEFAULT_VOCAB = 152064;
/** Bytes per cached K or V value by --cache-type-k/v (ggml block layouts). */
export const GGUF_CACHE_BYTES: Record<GgufCacheType, number> = { f16: 2, q8_0: 34 / 32, q4_0: 18 / 32 };
/** llama.cpp keeps recurrent and convolution state in f32 whatever the KV cache type. */
const STATE_BYTES = 4;
const F32 = 4;

const round2 = (x: number): number => Math.round(x * 100) / 100;
const ceil2 = (x: number): number => Math.ceil(x * 100 - 1e-9) / 100;
const gib = (bytes: number): number => round2(bytes / GiB);
const fmt = (bytes: number): string => (bytes / GiB).toFixed(2);

/** Per-slot and fixed byte counts shared by the CPU and GPU plans. */
interface Terms {
  cells: number;
  kvPerSlot: number;
  statePerSlot: number;
  outputPerSlot: number;
  computeBuffers: number;
  vocab: number;
}

function computeTerms(input: GgufPlanInput): Terms {
  const a = input.architecture;
  const kvBytes = GGUF_CACHE_BYTES[input.cacheType];
  const cells = Math.ceil(input.maxModelLen / GGUF_KV_PAD) * GGUF_KV_PAD;
  const fullKv = cells * 2 * a.attentionLayers * a.kvHeads * a.headDim * kvBytes;
  const swaCells = Math.min(cells, a.slidingWindow + GGUF_UBATCH);
  const swaKv = a.slidingWindowLayers > 0 ? swaCells * 2 * a.slidingWindowLayers * a.kvHeads * a.headDim * kvBytes : 0;
  const vocab = input.vocabSize ?? GGUF_DEFAULT_VOCAB;
  return {
    cells,
    kvPerSlot: fullKv + swaKv,
    statePerSlot: a.convLayers * Math.max(0, a.convCacheLength - 1) * a.hiddenSize * STATE_BYTES,
    outputPerSlot: vocab * F32,
    computeBuffers: GGUF_UBATCH * (vocab + 2 * a.hiddenSize) * F32 + GGUF_UBATCH * cells * 6,
    vocab,
  };
}

/** Memory (GiB) one CPU replica needs for the weights, buffers and one slot: the least spec.cpu.memoryGiB that fits. */
export function computeGgufMinimumMemoryGiB(input: GgufPlanInput): number {
  const t = computeTerms(input);
  return ceil2((input.weightBytes + t.computeBuffers + GGUF_RUNTIME_GIB * GiB
    + t.kvPerSlot + t.statePerSlot + t.outputPerSlot) / GiB);
}

/** The largest quantization with fewer bits whose (scaled) weights leave `roomBytes` enough; undefined when none. */
function smallerQuantThatFits(input: GgufPlanInput, roomBytes: number): GgufQuant | undefined {
  const bits = GGUF_BITS_PER_WEIGHT[input.quant];
  const candidates = GGUF_QUANTS
    .filter((q) => GGUF_BITS_PER_WEIGHT[q] < bits && (input.weightBytes * GGUF_BITS_PER_WEIGHT[q]) / bits <= roomBytes)
    .sort((x, y) => GGUF_BITS_PER_WEIGHT[y] - GGUF_BITS_PER_WEIGHT[x]);
  return candidates[0];
}

function quantAdvice(input: GgufPlanInput, roomBytes: number): string {
  const q = smallerQuantThatFits(input, roomBytes);
  return q !== undefined
    ? `use a smaller spec.quantization such as ${q}`
    : 'lower spec.serving.maxModelLen (no smaller spec.quantization fits)';
}

function commonWarnings(input: GgufPlanInput, cacheRamMiB: number, fits: boolean): string[] {
  const warnings: string[] = [];
  const a = input.architecture;
  if (input.maxModelLen > a.contextLength) {
    warnings.push(`spec.serving.maxModelLen ${input.maxModelLen} exceeds the model's context length ${a.contextLength}`);
  }
  if (input.cacheType !== 'f16') {
    warnings.push(`a ${input.cacheType} KV cache needs flash attention for V: render --flash-attn on`);
  }
  if (fits && cacheRamMiB === 0) {
    warnings.push('no memory is left for the prompt cache: --cache-ram 0 disables it, so repeated prompt prefixes are recomputed');
  }
  return warnings;
}

function emptyPlan(input: GgufPlanInput, reasons: GgufPlan['reasons']): GgufPlan {
  const slots = input.slots ?? 1;
  return {
    fits: false, reasons, warnings: [], slots, contextTokens: input.maxModelLen * slots, maxSequencesAtMaxLen: 0,
    cacheRamMiB: 0, gpuLayers: 0, cpuMoeLayers: 0, memoryGiBPerReplica: 0,
    breakdown: { weightsGiB: gib(input.weightBytes), kvCacheGiB: 0, convStateGiB: 0, computeBuffersGiB: 0, cacheRamGiB: 0, hostGiB: 0 },
  };
}

// ---------------------------------------------------------------------------------------------------------- CPU

function cpuReasons(input: GgufPlanInput, t: Terms, maxSeq: number, memoryBytes: number): GgufPlan['reasons'] {
  const perSlot = t.kvPerSlot + t.statePerSlot + t.outputPerSlot;
  const buffers = t.computeBuffers + GGUF_RUNTIME_GIB * GiB;
  const memory = input.memoryGiB ?? 0;
  if (maxSeq < 1) {
    const sum = input.weightBytes + buffers + perSlot;
    return [{
      field: 'spec.cpu.memoryGiB',
      message: `${input.quant} weights ${fmt(input.weightBytes)} GiB + compute buffers ${fmt(buffers)} GiB + one `
        + `${input.maxModelLen}-token slot ${fmt(perSlot)} GiB = ${fmt(sum)} GiB exceed spec.cpu.memoryGiB ${memory}: `
        + `raise it to at least ${Math.ceil(sum / GiB)}, or ${quantAdvice(input, memoryBytes - buffers - perSlot)}`,
    }];
  }
  const slots = input.slots ?? 1;
  if (slots <= maxSeq) return [];
  const sum = input.weightBytes + buffers + slots * perSlot;
  return [{
    field: 'spec.serving.maxConcurrentSequences',
    message: `${slots} slots of ${input.maxModelLen} tokens need ${input.quant} weights ${fmt(input.weightBytes)} GiB `
      + `+ compute buffers ${fmt(buffers)} GiB + ${slots} x ${fmt(perSlot)} GiB = ${fmt(sum)} GiB, more than `
      + `spec.cpu.memoryGiB ${memory}: lower spec.serving.maxConcurrentSequences to at most ${maxSeq}, or raise `
      + `spec.cpu.memoryGiB to at least ${Math.ceil(sum / GiB)}`,
  }];
}

function computeCpuPlan(input: GgufPlanInput): GgufPlan {
  const t = computeTerms(input);
  const memoryBytes = (input.memoryGiB ?? 0) * GiB;
  const runtime = GGUF_RUNTIME_GIB * GiB;
  const fixed = input.weightBytes + t.computeBuffers + runtime;
  const perSlot = t.kvPerSlot + t.statePerSlot + t.outputPerSlot;
  const maxSeq = Math.max(0, Math.floor((memoryBytes - fixed) / perSlot));
  const slots = input.slots ?? Math.max(1, maxSeq);
  const reasons = cpuReasons(input, t, maxSeq, memoryBytes);
  const fits = reasons.length === 0;
  const used = fixed + slots * perSlot;
  const cacheRamMiB = fits ? Math.min(GGUF_CACHE_RAM_MAX_MIB, Math.max(0, Math.floor((memoryBytes - used) / MiB))) : 0;
  const host = used + cacheRamMiB * MiB;
  const plan: GgufPlan = {
    fits, reasons, warnings: commonWarnings(input, cacheRamMiB, fits),
    slots, contextTokens: input.maxModelLen * slots, maxSequencesAtMaxLen: maxSeq, cacheRamMiB,
    gpuLayers: 0, cpuMoeLayers: 0,
    memoryGiBPerReplica: fits ? Math.min(input.memoryGiB ?? 0, ceil2(host / GiB)) : ceil2(host / GiB),
    breakdown: {
      weightsGiB: gib(input.weightBytes), kvCacheGiB: gib(slots * t.kvPerSlot), convStateGiB: gib(slots * t.statePerSlot),
      computeBuffersGiB: gib(t.computeBuffers + runtime + slots * t.outputPerSlot), cacheRamGiB: gib(cacheRamMiB * MiB),
      hostGiB: gib(host),
    },
  };
  if (input.cores !== undefined) plan.threads = input.cores;
  return plan;
}

// ---------------------------------------------------------------------------------------------------------- GPU

interface GpuLayout {
  budget: number;
  moeLayers: number;
  denseLayers: number;
  expertsPerLayer: number;
  /** Bytes on the GPU apart from the slots, with k MoE layers' experts on the host. */
  gpuFixed: (k: number) => number;
  gpuPerSlot: number;
}

function gpuLayout(input: GgufPlanInput, t: Terms, gpu: NonNullable<GgufPlanInput['gpu']>): GpuLayout {
  const a = input.architecture;
  const denseLayers = input.denseLayers ?? 0;
  const hasExperts = a.experts > 0 && a.expertParameters > 0 && a.parameters > 0;
  const moeLayers = hasExperts ? Math.max(0, a.layers - denseLayers) : 0;
  const expertBytes = hasExperts ? (input.weightBytes * a.expertParameters) / a.parameters : 0;
  const expertsPerLayer = moeLayers > 0 ? expertBytes / moeLayers : 0;
  return {
    budget: (gpu.type.usableGiB * gpu.gpuMemoryUtilization - GGUF_CUDA_CONTEXT_GIB) * GiB,
    moeLayers,
    denseLayers,
    expertsPerLayer,
    gpuFixed: (k) => input.weightBytes - k * expertsPerLayer + t.computeBuffers + (k > 0 ? expertsPerLayer : 0),
    // At least one byte, so that a model with neither attention nor state still divides.
    gpuPerSlot: Math.max(1, t.kvPerSlot + t.statePerSlot),
  };
}

/** The fewest MoE layers to keep on the host so that `slots` slots (or, unset, one) fit; undefined when none does. */
function chooseHostLayers(layout: GpuLayout, slots: number): number | undefined {
  for (let k = 0; k <= layout.moeLayers; k++) {
    if (layout.gpuFixed(k) + slots * layout.gpuPerSlot <= layout.budget) return k;
  }
  return undefined;
}

function gpuRefusal(input: GgufPlanInput, layout: GpuLayout, gpu: NonNullable<GgufPlanInput['gpu']>): GgufPlan['reasons'] {
  const all = layout.moeLayers;
  const slots = input.slots ?? 1;
  const oneSlotK = chooseHostLayers(layout, 1);
  const need = layout.gpuFixed(all) + slots * layout.gpuPerSlot;
  const where = all > 0 ? ` with every expert in host RAM (--n-cpu-moe ${layout.denseLayers + all})` : '';
  const budget = `${fmt(layout.budget)} GiB (${gpu.type.id} usable ${gpu.type.usableGiB} GiB x gpuMemoryUtilization `
    + `${gpu.gpuMemoryUtilization} - ${GGUF_CUDA_CONTEXT_GIB} GiB CUDA context)`;
  if (input.slots !== undefined && oneSlotK !== undefined) {
    const k = all;
    const maxSeq = Math.max(0, Math.floor((layout.budget - layout.gpuFixed(k)) / layout.gpuPerSlot));
    return [{
      field: 'spec.serving.maxConcurrentSequences',
      message: `${slots} slots of ${input.maxModelLen} tokens need ${fmt(need)} GiB on the GPU${where} (KV and state `
        + `${slots} x ${fmt(layout.gpuPerSlot)} GiB), more than the budget ${budget}: lower `
        + `spec.serving.maxConcurrentSequences to at most ${maxSeq}, or choose a larger spec.gpu.type`,
    }];
  }
  return [{
    field: 'spec.gpu.type',
    message: `${input.quant}: non-expert weights, buffers and ${slots} slot(s) of ${input.maxModelLen} tokens need `
      + `${fmt(need)} GiB on the GPU${where}, more than the budget ${budget}: choose a larger spec.gpu.type, `
      + `lower spec.serving.maxModelLen, or use a smaller spec.quantization`,
  }];
}

interface HostSide { fixed: number; compute: number }

function hostSide(input: GgufPlanInput, t: Terms, layout: GpuLayout, k: number, slots: number): HostSide {
  const a = input.architecture;
  const moeIntermediate = a.experts > 0 && a.hiddenSize > 0 && layout.moeLayers > 0
    ? a.expertParameters / (layout.moeLayers * a.experts * 3 * a.hiddenSize) : 0;
  const compute = GGUF_UBATCH * (2 * a.hiddenSize + (k > 0 ? 3 * a.expertsPerToken * moeIntermediate : 0)) * F32;
  const bytesPerParam = a.parameters > 0 ? input.weightBytes / a.parameters : 0;
  const embeddings = t.vocab * a.hiddenSize * bytesPerParam;
  const runtime = (GGUF_RUNTIME_GIB + GGUF_CUDA_HOST_GIB) * GiB;
  return { fixed: k * layout.expertsPerLayer + embeddings + compute + slots * t.outputPerSlot + runtime, compute };
}

function hostReasons(input: GgufPlanInput, host: HostSide, expertsOnHost: number): GgufPlan['reasons'] {
  if (input.memoryGiB === undefined || host.fixed <= input.memoryGiB * GiB) return [];
  return [{
    field: 'spec.cpu.memoryGiB',
    message: `experts kept in host RAM ${fmt(expertsOnHost)} GiB + embeddings, buffers and runtime `
      + `${fmt(host.fixed - expertsOnHost)} GiB = ${fmt(host.fixed)} GiB exceed spec.cpu.memoryGiB ${input.memoryGiB}: `
      + `raise it to at least ${Math.ceil(host.fixed / GiB)}, or choose a larger spec.gpu.type`,
  }];
}

function computeGpuPlan(input: GgufPlanInput, gpu: NonNullable<GgufPlanInput['gpu']>): GgufPlan {
  const t = computeTerms(input);
  const layout = gpuLayout(input, t, gpu);
  const k = chooseHostLayers(layout, input.slots ?? 1);
  if (k === undefined) {
    const plan = emptyPlan(input, gpuRefusal(input, layout, gpu));
    plan.gpuLayers = input.architecture.layers + 1;
    plan.warnings = commonWarnings(input, 0, false);
    return plan;
  }
  const maxSeq = Math.max(0, Math.floor((layout.budget - layout.gpuFixed(k)) / layout.gpuPerSlot));
  const slots = input.slots ?? Math.max(1, maxSeq);
  const expertsOnHost = k * layout.expertsPerLayer;
  const host = hostSide(input, t, layout, k, slots);
  const reasons = hostReasons(input, host, expertsOnHost);
  const fits = reasons.length === 0;
  const hostRoomMiB = input.memoryGiB === undefined ? GGUF_CACHE_RAM_MAX_MIB : Math.floor((input.memoryGiB * GiB - host.fixed) / MiB);
  const cacheRamMiB = fits ? Math.min(GGUF_CACHE_RAM_MAX_MIB, Math.max(0, hostRoomMiB)) : 0;
  const gpuBytes = layout.gpuFixed(k) + slots * layout.gpuPerSlot + GGUF_CUDA_CONTEXT_GIB * GiB;
  const hostBytes = host.fixed + cacheRamMiB * MiB;
  const gpuCompute = t.computeBuffers + (k > 0 ? layout.expertsPerLayer : 0);
  const overheads = (GGUF_CUDA_CONTEXT_GIB + GGUF_RUNTIME_GIB + GGUF_CUDA_HOST_GIB) * GiB;
  const plan: GgufPlan = {
    fits, reasons, warnings: gpuWarnings(input, layout, k, cacheRamMiB, fits),
    slots, contextTokens: input.maxModelLen * slots, maxSequencesAtMaxLen: maxSeq, cacheRamMiB,
    gpuLayers: input.architecture.layers + 1,
    cpuMoeLayers: k > 0 ? layout.denseLayers + k : 0,
    memoryGiBPerReplica: fits ? Math.min(input.memoryGiB ?? Infinity, ceil2(hostBytes / GiB)) : ceil2(hostBytes / GiB),
    breakdown: {
      weightsGiB: gib(input.weightBytes), kvCacheGiB: gib(slots * t.kvPerSlot), convStateGiB: gib(slots * t.statePerSlot),
      computeBuffersGiB: gib(gpuCompute + host.compute + slots * t.outputPerSlot + overheads),
      cacheRamGiB: gib(cacheRamMiB * MiB), gpuGiB: gib(gpuBytes), hostGiB: gib(hostBytes), expertsOnHostGiB: gib(expertsOnHost),
    },
  };
  if (input.cores !== undefined) plan.threads = input.cores;
  return plan;
}

function gpuWarnings(input: GgufPlanInput, layout: GpuLayout, k: number, cacheRamMiB: number, fits: boolean): string[] {
  const warnings = commonWarnings(input, cacheRamMiB, fits);
  if (k > 0) {
    warnings.push(`the experts of ${k} of ${layout.moeLayers} MoE layers stay in host RAM (--n-cpu-moe `
      + `${layout.denseLayers + k}): decoding runs those experts on the CPU`
      + (input.cores === undefined ? ', so set spec.cpu.cores for --threads' : ` with ${input.cores} threads (spec.cpu.cores)`));
  }
  return warnings;
}

// ---------------------------------------------------------------------------------------------------------- entry

/** The llama-server memory plan for one replica: a CPU replica when `gpu` is unset, else one GPU. */
export function computeGgufPlan(input: GgufPlanInput): GgufPlan {
  if (input.gpu !== undefined) return computeGpuPlan(input, input.gpu);
  const missing: GgufPlan['reasons'] = [];
  if (input.memoryGiB === undefined) missing.push({ field: 'spec.cpu.memoryGiB', message: 'spec.cpu.memoryGiB is required for a CPU replica (no spec.gpu)' });
  if (input.cores === undefined) missing.push({ field: 'spec.cpu.cores', message: 'spec.cpu.cores is required for a CPU replica (no spec.gpu): it sets --threads' });
  if (missing.length > 0) return emptyPlan(input, missing);
  return computeCpuPlan(input);
}
