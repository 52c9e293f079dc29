// Pure. The LfmDeployment API (serving.lfm-operator.io/v1alpha1) as zod schemas: the single source of truth for the
// TypeScript types, runtime parsing and the CRD's OpenAPI schema (descriptions, defaults, CEL rules).
import { z } from 'zod';
import type { ModelArchitecture as CatalogArchitecture } from '../catalog/architecture.js';
import { WEIGHT_FORMATS } from '../catalog/architecture.js';
import { GGUF_QUANTS } from '../catalog/gguf.js';
import { GPU_TYPE_IDS } from '../catalog/gpus.js';
import { buildOwnedFlagRule } from './owned-flags.js';

export const GROUP = 'serving.lfm-operator.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'LfmDeployment';
export const PLURAL = 'lfmdeployments';
export const SHORT_NAME = 'lfmd';

/** A CEL rule attached to a schema node; it lands in the CRD as x-kubernetes-validations. */
export interface CelRule {
  rule: string;
  /** The refusal; with messageExpression, only when that fails to evaluate (as the API server does). */
  message: string;
  /** A CEL expression for a refusal that names what failed (a string; evaluated only when the rule fails). */
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

const cel = (...rules: CelRule[]) => ({ 'x-kubernetes-validations': rules });

export const ENGINE_NAMES = ['VLLM', 'SGLang', 'LlamaCpp'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** Engines whose replicas may run without a GPU (spec.gpu unset, spec.cpu set); src/engines' sizing data agrees (a test). */
export const CPU_ENGINES: readonly EngineName[] = ['LlamaCpp'];

/**
 * Weight formats served. None = the checkpoint as published; only FP8 may differ from the checkpoint (online). The
 * GGUF types (src/catalog/gguf.ts) choose a file of a GGUF repository and are llama.cpp's only.
 */
export const QUANTIZATIONS = ['None', 'FP8', 'AWQ', 'GPTQ', 'MXFP4', 'NVFP4', 'W8A8Int8', ...GGUF_QUANTS] as const;
export type Quantization = (typeof QUANTIZATIONS)[number];

// The catalog owns what a model is (the layer below the API): checkpoint formats and the architecture's shape.
export { WEIGHT_FORMATS, type WeightFormat } from '../catalog/architecture.js';
export { GGUF_QUANTS, type GgufQuant } from '../catalog/gguf.js';

/**
 * Quantizations each engine serves: the one list behind the CRD's quantization rule and the planner. vLLM's and
 * SGLang's are what their --quantization accepts (read from ../shared/engines/*.json, checked by a test); vLLM has
 * no plain int8 W8A8 method (it loads such checkpoints through compressed-tensors), so W8A8Int8 is SGLang's.
 * llama.cpp serves GGUF files only, and a GGUF repository holds one file per type, so LlamaCpp must name one.
 */
export const ENGINE_QUANTIZATIONS: Record<EngineName, readonly Quantization[]> = {
  VLLM: ['None', 'FP8', 'AWQ', 'GPTQ', 'MXFP4', 'NVFP4'],
  SGLang: ['None', 'FP8', 'AWQ', 'GPTQ', 'MXFP4', 'NVFP4', 'W8A8Int8'],
  LlamaCpp: GGUF_QUANTS,
};

export const KV_CACHE_DTYPES = ['Auto', 'FP8'] as const;
export type KvCacheDtype = (typeof KV_CACHE_DTYPES)[number];
export const MODEL_CACHE_TYPES = ['None', 'PersistentVolumeClaim'] as const;

// DNS-1035 label: children (Service above all) carry the resource's name.
export const DNS1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
const MODEL_SOURCE = '^(hf://[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9._/-]+)?|pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(/[^/\\s]+)*/?)$';
// A path inside a repository, ending in .gguf; no segment starts with "." (so no "..").
const GGUF_FILE = '^([A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*\\.gguf$';
const QUANTITY = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';

const quantity = (name: string, meaning: string) =>
  z.string().regex(new RegExp(QUANTITY)).max(64).describe(`${name}: ${meaning}`);

export const ModelArchitecture = z
  .strictObject({
    layers: z.number().int().min(1).max(1024).describe('layers: total decoder layers (attention + convolution/state-space). Required.'),
    attentionLayers: z.number().int().min(0).max(1024).describe('attentionLayers: layers with full attention, which hold a KV cache per token. Required.'),
    slidingWindowLayers: z.number().int().min(0).max(1024).default(0).describe('slidingWindowLayers: attention layers with a sliding window (count not included in attentionLayers). Default 0.'),
    slidingWindow: z.number().int().min(0).max(1048576).default(0).describe('slidingWindow: tokens a sliding-window layer keeps. Default 0.'),
    convLayers: z.number().int().min(0).max(1024).default(0).describe('convLayers: short-convolution (LFM2) layers; each holds a fixed state per running sequence. Default 0.'),
    convCacheLength: z.number().int().min(0).max(64).default(3).describe('convCacheLength: the convolution kernel length (conv_L_cache); the state holds convCacheLength-1 columns. Default 3.'),
    attentionHeads: z.number().int().min(1).max(1024).describe('attentionHeads: query heads per attention layer. Required.'),
    kvHeads: z.number().int().min(1).max(1024).describe('kvHeads: key/value heads per attention layer (grouped-query attention). Required.'),
    headDim: z.number().int().min(1).max(4096).describe('headDim: dimension of one attention head. Required.'),
    hiddenSize: z.number().int().min(1).max(1048576).describe('hiddenSize: model (residual stream) width. Required.'),
    experts: z.number().int().min(0).max(4096).default(0).describe('experts: routed experts per MoE layer; 0 for a dense model. Default 0.'),
    expertsPerToken: z.number().int().min(0).max(4096).default(0).describe('expertsPerToken: experts each token is routed to (top-k). Default 0.'),
    parameters: z.number().int().min(1).describe('parameters: total parameter count (all experts). Required.'),
    expertParameters: z.number().int().min(0).default(0).describe('expertParameters: parameters inside routed experts (quantized by MoE recipes; the rest usually stays 16-bit). Default 0.'),
    contextLength: z.number().int().min(1).max(16777216).describe('contextLength: longest context the model supports, in tokens. Required.'),
    weightFormat: z.enum(WEIGHT_FORMATS).default('BF16').describe('weightFormat: the format the checkpoint is published in (BF16, FP16, FP8, AWQ, GPTQ, MXFP4, NVFP4, W8A8Int8). Default BF16.'),
  })
  .describe('architecture: the model architecture, only for models outside the catalog (the operator sizes the deployment from it). Default: looked up in the catalog from the source.')
  .meta(cel(
    { rule: 'self.attentionLayers + self.slidingWindowLayers + self.convLayers <= self.layers', message: 'spec.model.architecture: attentionLayers + slidingWindowLayers + convLayers must not exceed layers' },
    { rule: 'self.expertParameters <= self.parameters', message: 'spec.model.architecture.expertParameters must not exceed parameters' },
    { rule: 'self.expertsPerToken <= self.experts', message: 'spec.model.architecture.expertsPerToken must not exceed experts' },
  ));

export const ModelSpec = z
  .strictObject({
    source: z.string().min(1).max(512).regex(new RegExp(MODEL_SOURCE))
      .describe('source: where the weights come from: hf://ORG/NAME[@REVISION] (Hugging Face Hub) or pvc://CLAIM/PATH (a PersistentVolumeClaim in the namespace holding the checkpoint). With LlamaCpp: a GGUF repository (hf://LiquidAI/LFM2-24B-A2B-GGUF, the file chosen by spec.quantization or named by spec.model.file) or one GGUF file on a claim (pvc://CLAIM/PATH.gguf, the first shard of a split file). Required.'),
    catalogName: z.string().max(256).optional()
      .describe('catalogName: the catalog model this checkpoint is (for example LiquidAI/LFM2-24B-A2B), for pvc:// sources and renamed copies. Default: the hf:// repository id (for a GGUF repository, the catalog model that names it, e.g. LiquidAI/LFM2-24B-A2B-GGUF is LiquidAI/LFM2-24B-A2B).'),
    file: z.string().min(1).max(256).regex(new RegExp(GGUF_FILE)).optional()
      .describe('file: the GGUF file of the hf:// repository to serve, as a path in the repository (for example LFM2-24B-A2B-Q4_K_M.gguf; the first shard of a split file); only with LlamaCpp. Use it when the repository holds several files of one type, or with an @REVISION (llama-server chooses a file by type on the default branch only). spec.quantization must still name the file\'s type: the plan sizes memory from it. Default: llama-server picks the file of type spec.quantization (-hf REPO:TYPE).'),
    servedName: z.string().min(1).max(253).regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/).optional()
      .describe('servedName: the model name clients send in OpenAI requests (and the engines put in metric labels). Default: metadata.name.'),
    architecture: ModelArchitecture.optional(),
    credentials: z.strictObject({
      secretName: z.string().min(1).max(253).describe('secretName: the Secret in the same namespace holding the Hugging Face token. Required.'),
      key: z.string().min(1).max(253).default('HF_TOKEN').describe('key: the key in the Secret. Default HF_TOKEN.'),
    }).optional().describe('credentials: a Hugging Face token for gated models, passed to the engine as HF_TOKEN by Secret reference (never copied). Default: none.'),
    cache: z.strictObject({
      type: z.enum(MODEL_CACHE_TYPES).default('None').describe('type: None downloads the weights into an emptyDir on every pod start; PersistentVolumeClaim mounts claimName read-only (ReadWriteMany or ReadOnlyMany, filled once) as the Hugging Face cache, and the engine runs offline from it (LlamaCpp reads its GGUF files from the llama.cpp/ folder of the claim, LLAMA_CACHE). Default None.'),
      claimName: z.string().min(1).max(253).optional().describe('claimName: the PersistentVolumeClaim holding the Hugging Face cache (HF_HOME). Required when type is PersistentVolumeClaim.'),
    }).meta(cel(
      { rule: "self.type != 'PersistentVolumeClaim' || has(self.claimName)", message: 'spec.model.cache.claimName is required when spec.model.cache.type is PersistentVolumeClaim', fieldPath: '.claimName', reason: 'FieldValueRequired' },
      { rule: "self.type == 'PersistentVolumeClaim' || !has(self.claimName)", message: 'spec.model.cache.claimName is only used with spec.model.cache.type PersistentVolumeClaim; remove it or set the type', fieldPath: '.claimName', reason: 'FieldValueForbidden' },
    )).optional().describe('cache: where the weights are cached between pod starts. Default: type None.'),
  })
  .describe('model: which model to serve. Required.')
  .meta(cel(
    { rule: "!has(self.file) || self.source.startsWith('hf://')", message: 'spec.model.file chooses a file of an hf:// repository; for a claim, write the file in spec.model.source (pvc://CLAIM/PATH.gguf) and remove spec.model.file', fieldPath: '.file', reason: 'FieldValueForbidden' },
  ));

export const EngineSpec = z
  .strictObject({
    name: z.enum(ENGINE_NAMES).default('VLLM').describe('name: the inference engine: VLLM or SGLang (safetensors checkpoints on NVIDIA GPUs), or LlamaCpp (llama-server serving a GGUF file on CPU nodes or on one GPU; spec.quantization must name a GGUF type). Default VLLM.'),
    image: z.string().min(1).max(512).optional().describe("image: the engine's container image. Default: the operator's configured image for the engine (vllm/vllm-openai:v0.11.2, the pinned SGLang image, or a build-pinned ghcr.io/ggml-org/llama.cpp server image: the CPU build without spec.gpu, the CUDA build with it). With another image, unknown extraArgs are warnings rather than errors."),
    extraArgs: z.array(z.string().min(1).max(256)).max(64).optional().describe('extraArgs: additional engine flags, appended after the ones the operator renders. Each must be a flag the engine knows, and not one the operator owns (model, port, parallel sizes, quantization...: set those through their fields). Default: none.'),
    env: z.array(z.strictObject({
      name: z.string().min(1).max(256).regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/).describe('name: the environment variable name.'),
      value: z.string().max(4096).describe('value: the value (not for secrets: use spec.model.credentials).'),
    })).max(64).optional().describe('env: extra environment variables for the engine container. Default: none.'),
  })
  .describe('engine: the inference engine and its image. Default: VLLM with the default image.')
  // One rule per engine, from the owned-flag table the planner also uses (owned-flags.ts): same spellings, same words.
  .meta(cel(...ENGINE_NAMES.map((engine): CelRule => buildOwnedFlagRule(engine))));

export const ParallelismSpec = z
  .strictObject({
    tensor: z.number().int().min(1).max(64).optional().describe('tensor: tensor-parallel size, GPUs sharing each layer. Default: unset, the planner picks the smallest size that fits (1, 2, 4 or 8).'),
    pipeline: z.number().int().min(1).max(16).default(1).describe('pipeline: pipeline-parallel stages. Default 1.'),
    data: z.number().int().min(1).max(16).default(1).describe('data: data-parallel engine ranks inside one pod (vLLM --data-parallel-size); with expert set, experts are spread over tensor x data GPUs. Default 1.'),
    expert: z.boolean().default(false).describe('expert: use expert parallelism for the MoE layers (experts spread over the GPUs instead of each expert being split). Default false.'),
  })
  .describe('parallelism: how one replica spreads over its GPUs; GPUs per replica = tensor x pipeline x data. Default: planner-chosen tensor, everything else 1.');

export const GpuSpec = z
  .strictObject({
    type: z.enum(GPU_TYPE_IDS).describe('type: the GPU type, a catalog id (for example h100-sxm-80gb); selects nodes by the nvidia.com/gpu.product label NVIDIA GPU feature discovery sets. Required.'),
  })
  .describe('gpu: the GPU type the replicas run on. Required for VLLM and SGLang. With LlamaCpp: one GPU per replica, every layer on it and the experts of the first layers in host RAM when it is too small; unset, the replicas run on CPU nodes within spec.cpu. Default: unset.');

export const CpuSpec = z
  .strictObject({
    memoryGiB: z.number().min(1).max(65536).describe("memoryGiB: the memory one replica may use, in GiB: the GGUF weights, the KV cache of every slot, compute buffers and llama-server's prompt cache (--cache-ram, set from what is left, possibly 0) must fit in it, or the plan refuses the deployment with the numbers. The pod requests and is limited to what the plan needs (memoryGiBPerReplica in status.plan), at most this; choose it within a node's allocatable memory. Required."),
    cores: z.number().int().min(1).max(1024).describe("cores: CPU cores of one replica: the pod's cpu request and limit, and llama-server --threads. Decode speed grows with cores up to the node's memory bandwidth. Required."),
  })
  .describe("cpu: what one replica may use on a CPU node; only with LlamaCpp, and required for it without spec.gpu (the replicas then run on nodes without GPUs). With spec.gpu, the host memory and cores for what stays on the CPU (experts kept in RAM). Default: unset; with a GPU, the pod requests the host memory the plan computes.");

const Toleration = z.strictObject({
  key: z.string().max(316).optional().describe('key: the taint key to tolerate; empty with operator Exists tolerates every taint. Default: empty.'),
  operator: z.enum(['Exists', 'Equal']).optional().describe('operator: Exists (any value) or Equal (the value below). Default Equal.'),
  value: z.string().max(63).optional().describe('value: the taint value, with operator Equal. Default: empty.'),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional().describe('effect: the taint effect to tolerate. Default: all effects.'),
  tolerationSeconds: z.number().int().optional().describe('tolerationSeconds: with effect NoExecute, how long the pod stays after the taint appears, in seconds. Default: forever.'),
}).describe('A Kubernetes toleration.');

export const PlacementSpec = z
  .strictObject({
    nodeSelector: z.record(z.string().max(316), z.string().max(63)).optional().describe('nodeSelector: extra node labels the pods require, added to the GPU product selector (on CPU nodes, the only selector: for example a node pool label). Default: none.'),
    tolerations: z.array(Toleration).max(32).optional().describe('tolerations: extra tolerations; with spec.gpu, nvidia.com/gpu:NoSchedule is always tolerated. Default: none.'),
    affinity: z.looseObject({}).meta({ 'x-kubernetes-preserve-unknown-fields': true }).optional().describe('affinity: a Kubernetes affinity, merged with the GPU type node affinity (node affinity terms are ANDed with it); without spec.gpu, used as given. Default: none.'),
    priorityClassName: z.string().max(253).optional().describe('priorityClassName: the pods\' PriorityClass. Default: none.'),
  })
  .describe('placement: extra scheduling constraints for the engine pods. Default: only the GPU type.');

export const ServingSpec = z
  .strictObject({
    maxModelLen: z.number().int().min(128).max(16777216).optional().describe("maxModelLen: longest sequence (prompt + output) in tokens; the planner checks at least one fits. With LlamaCpp, each slot's context: llama-server's -c is maxModelLen x slots. Default: the model's trained context length."),
    gpuMemoryUtilization: z.number().min(0.1).max(0.99).default(0.9).describe('gpuMemoryUtilization: fraction of each GPU\'s memory the engine may use for weights, activations and KV cache (vLLM --gpu-memory-utilization; SGLang\'s --mem-fraction-static is derived from it; LlamaCpp: the share of the GPU the planner places layers and experts in). Default 0.9.'),
    maxConcurrentSequences: z.number().int().min(1).max(65536).optional().describe("maxConcurrentSequences: most sequences an engine runs at once (vLLM --max-num-seqs, SGLang --max-running-requests, LlamaCpp --parallel: the slots, each holding maxModelLen tokens of KV cache). Default: the engine's default; with LlamaCpp, as many maxModelLen slots as fit the memory left."),
    startupTimeoutSeconds: z.number().int().min(60).max(86400).default(1800).describe('startupTimeoutSeconds: how long a pod may take to download and load the model before its startup probe fails, in seconds. Default 1800.'),
    drainSeconds: z.number().int().min(0).max(3600).default(120).describe('drainSeconds: how long a terminating pod keeps serving in-flight generations before it is killed, in seconds (the pod\'s grace period adds a margin). Default 120.'),
  })
  .describe('serving: engine limits and timings. Default: all defaults.');

export const ScaleToZeroSpec = z
  .strictObject({
    idleSeconds: z.number().int().min(1).max(604800).default(900).describe('idleSeconds: with no request for this long (no request running, waiting, held by the activator or finishing on any replica), the replica count goes to zero, from any count. This alone governs the step to zero: scaleDownDelaySeconds and stabilizationWindowSeconds govern the steps down to one. Keep it well above a cold start (status.autoscaling.coldStart.p90Seconds). Default 900.'),
    maxHeldRequests: z.number().int().min(1).max(100000).default(100).describe('maxHeldRequests: most requests one activator replica holds for this deployment while a replica starts; one more is refused with 429 and Retry-After set to the measured cold start. Default 100.'),
    maxHoldSeconds: z.number().int().min(1).max(86400).default(600).describe('maxHoldSeconds: a request the activator still holds this long after it arrived (no replica became Ready) is answered 503 with Retry-After. Set it above the cold start and at most the clients\' own timeout. Default 600.'),
  })
  .describe('scaleToZero: with minReplicas 0, go to zero replicas after idleSeconds without requests; while at zero the Service sends requests to the activator (lfm-operator activator), which holds them, asks for a replica and forwards them once one is Ready. Required with minReplicas 0; forbidden otherwise.');

export const SCALE_TO_ZERO_REQUIRED_MESSAGE = 'spec.autoscaling.minReplicas 0 requires spec.autoscaling.scaleToZero (idleSeconds, maxHeldRequests, maxHoldSeconds; {} takes the defaults): add it, or set minReplicas to 1 or more';
export const SCALE_TO_ZERO_ROUTING_MESSAGE = 'spec.autoscaling.minReplicas 0 cannot be combined with spec.routing.inferencePool.enabled yet: requests through a Gateway reach the endpoint picker, not the activator, and the pinned picker (v0.10.0) has no noEndpointRequestTTL to hold them while a replica starts; set minReplicas to 1 or more, or turn routing off';

export const AutoscalingSpec = z
  .strictObject({
    enabled: z.boolean().default(false).describe('enabled: let the operator scale replicas on queue depth and token throughput; spec.replicas must then be omitted. Default false.'),
    minReplicas: z.number().int().min(0).max(1000).default(1).describe('minReplicas: fewest replicas. 0 scales to zero after scaleToZero.idleSeconds without requests (scaleToZero is then required; the first request after that waits for a cold start at the activator). Default 1.'),
    maxReplicas: z.number().int().min(1).max(1000).default(4).describe('maxReplicas: most replicas. Default 4.'),
    queueDepthPerReplica: z.number().min(0.1).max(100000).default(4).describe('queueDepthPerReplica: target waiting requests per replica; more waiting requests than this per replica scale up. Default 4.'),
    tokensPerSecondPerReplica: z.number().min(1).max(100000000).optional().describe('tokensPerSecondPerReplica: target prompt + generated tokens per second per replica. Default: unset, throughput is not a target.'),
    promptTokensPerSecondPerReplica: z.number().min(1).max(100000000).optional().describe('promptTokensPerSecondPerReplica: target prompt (prefill) tokens per second of one replica that does nothing else, for example 0.8 x its measured prefill-only throughput; set with generationTokensPerSecondPerReplica, replicas needed = prompt tokens/s / this + generated tokens/s / generationTokensPerSecondPerReplica, which holds for any mix of prompt and output lengths (a plain tokensPerSecondPerReplica is right for one mix only). Default: unset.'),
    generationTokensPerSecondPerReplica: z.number().min(1).max(100000000).optional().describe('generationTokensPerSecondPerReplica: target generated tokens per second of one replica that only decodes, at full batch, for example 0.8 x its measured decode throughput; set with promptTokensPerSecondPerReplica. Default: unset.'),
    scaleDownDelaySeconds: z.number().int().min(0).max(86400).optional().describe('scaleDownDelaySeconds: how long load must stay low before a replica is removed, in seconds. Default: the break-even rule, as long as a new replica takes to become ready (learned from the pods), at least 60.'),
    stabilizationWindowSeconds: z.number().int().min(0).max(3600).default(60).describe('stabilizationWindowSeconds: scale down only to the highest recommendation within this window or the scale-down delay, whichever is longer, in seconds. Default 60, so that the break-even scale-down delay decides (the HPA\'s 300 would keep idle GPUs longer than a replica takes to start).'),
    pendingTimeoutSeconds: z.number().int().min(0).max(86400).default(900).describe('pendingTimeoutSeconds: how long replicas Pending for lack of GPUs stay requested (so a cluster autoscaler or Karpenter can add nodes) before the request is withdrawn, in seconds. Default 900.'),
    scrapeIntervalSeconds: z.number().int().min(1).max(300).default(15).describe('scrapeIntervalSeconds: how often the engines\' /metrics are scraped, in seconds. Default 15.'),
    scaleToZero: ScaleToZeroSpec.optional(),
  })
  .describe('autoscaling: replica autoscaling on the engines\' queue depth and token throughput. Default: disabled.')
  .meta(cel(
    { rule: 'self.minReplicas <= self.maxReplicas', message: 'spec.autoscaling.minReplicas must be less than or equal to spec.autoscaling.maxReplicas', fieldPath: '.minReplicas' },
    { rule: 'self.minReplicas != 0 || has(self.scaleToZero)', message: SCALE_TO_ZERO_REQUIRED_MESSAGE, fieldPath: '.minReplicas', reason: 'FieldValueRequired' },
    { rule: '!has(self.scaleToZero) || self.minReplicas == 0', message: 'spec.autoscaling.scaleToZero applies only with spec.autoscaling.minReplicas 0: set minReplicas to 0, or remove scaleToZero', fieldPath: '.scaleToZero', reason: 'FieldValueForbidden' },
    { rule: 'has(self.promptTokensPerSecondPerReplica) == has(self.generationTokensPerSecondPerReplica)', message: 'spec.autoscaling.promptTokensPerSecondPerReplica and spec.autoscaling.generationTokensPerSecondPerReplica go together: set both, or neither', fieldPath: '.promptTokensPerSecondPerReplica', reason: 'FieldValueRequired' },
  ));

export const RolloutSpec = z
  .strictObject({
    maxSurge: z.number().int().min(0).max(100).default(0).describe('maxSurge: extra pods during a rollout. Default 0, because a surge pod on a full GPU pool waits forever.'),
    maxUnavailable: z.number().int().min(0).max(100).default(1).describe('maxUnavailable: pods that may be down during a rollout. Default 1.'),
    progressDeadlineSeconds: z.number().int().min(60).max(86400).optional().describe('progressDeadlineSeconds: how long a rollout may make no progress before it is reported Stalled, in seconds. Default: serving.startupTimeoutSeconds plus 600.'),
  })
  .describe('rollout: how pods are replaced after a spec change. Default: one pod at a time, no surge.')
  .meta(cel({ rule: 'self.maxSurge > 0 || self.maxUnavailable > 0', message: 'spec.rollout: maxSurge and maxUnavailable must not both be 0; set maxUnavailable to 1', fieldPath: '.maxUnavailable' }));

export const ResourcesSpec = z
  .strictObject({
    cpu: quantity('cpu', 'CPU request per pod. Default: 4 per GPU, at least 8; spec.cpu.cores (request and limit) when set.').optional(),
    memory: quantity('memory', 'host memory request per pod (loading weights goes through host RAM). Default: the weights per replica plus 16Gi, plus /dev/shm; with LlamaCpp, the memoryGiBPerReplica of the plan (request and limit).').optional(),
    ephemeralStorage: quantity('ephemeralStorage', 'ephemeral storage request and limit per pod (downloaded weights with cache type None, the engine\'s caches and /tmp). Default: the checkpoint size plus 10Gi, or 10Gi with a PersistentVolumeClaim cache.').optional(),
    shm: quantity('shm', 'size of the memory-backed /dev/shm. Default 2Gi for one GPU, 16Gi with more.').optional(),
  })
  .describe('resources: overrides for the pod requests the planner derives. Default: derived from the plan.');

export const PodMetadataSpec = z
  .strictObject({
    labels: z.record(z.string().max(316), z.string().max(63)).optional().describe('labels: extra labels on the engine pods (the operator\'s own labels win on a clash). Default: none.'),
    annotations: z.record(z.string().max(316), z.string().max(4096)).optional().describe('annotations: extra annotations on the engine pods, for example for a service mesh or log shipping. Default: none.'),
  })
  .describe('podMetadata: extra labels and annotations for the engine pods. Default: none.');

/** The engine pods' identity when spec.security leaves it unset: above 10000, so that it is no user of the node. */
export const ENGINE_SECURITY_DEFAULTS = { runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 } as const;
const ID = z.number().int().min(1).max(2147483647);

export const SecuritySpec = z
  .strictObject({
    runAsUser: ID.optional().describe(`runAsUser: the UID the engine runs as. The engines' images run as any UID: everything they write is on the pod's volumes (HOME, the caches and /tmp), which the pod owns. Default ${ENGINE_SECURITY_DEFAULTS.runAsUser}.`),
    runAsGroup: ID.optional().describe(`runAsGroup: the GID the engine runs as. Default ${ENGINE_SECURITY_DEFAULTS.runAsGroup}.`),
    fsGroup: ID.optional().describe(`fsGroup: the group the pod's writable volumes belong to (claims mounted read-only keep their owners; their files must be readable by the engine's UID or this group). Default ${ENGINE_SECURITY_DEFAULTS.fsGroup}.`),
    readOnlyRootFilesystem: z.boolean().optional().describe("readOnlyRootFilesystem: false lets the engine write anywhere in its image's file system, for an image that writes outside HOME, the caches and /tmp. It gives up that a compromised engine cannot change the code it runs nor leave tools behind in the container (until the pod is replaced). Default true."),
    runAsRoot: z.boolean().optional().describe('runAsRoot: true runs the engine as UID 0 and GID 0 (runAsNonRoot false), for an image that cannot run as another user. It gives up the non-root identity: the engine owns every file of its image, and a process that escapes the container is root on the node unless the node maps user namespaces. Privilege escalation stays off, every capability stays dropped and seccomp stays RuntimeDefault; a namespace that enforces Pod Security "restricted" refuses such pods. Default false.'),
  })
  .describe(`security: the engine pods' security posture. By default the engine runs as UID and GID ${ENGINE_SECURITY_DEFAULTS.runAsUser} (non-root), on a read-only root file system with writable emptyDir volumes for HOME, its caches and /tmp, without privilege escalation, with every Linux capability dropped, seccomp RuntimeDefault and no service account token. Relax it only for an image that needs it. Default: that posture.`)
  .meta(cel(
    { rule: '!(has(self.runAsRoot) && self.runAsRoot) || (!has(self.runAsUser) && !has(self.runAsGroup))', message: 'spec.security.runAsRoot runs the engine as UID 0 and GID 0: remove spec.security.runAsUser and spec.security.runAsGroup, or set runAsRoot to false', fieldPath: '.runAsRoot', reason: 'FieldValueForbidden' },
  ));

// Routing (issue 12): an InferencePool selecting the engine pods and an endpoint picker (EPP) per deployment, for a
// Gateway API inference gateway. ../shared/reference/routing/ describes the pinned llm-d-router release.
/** The endpoint picker image: llm-d-router v0.10.0, the release the rendered configuration and flags are checked against. */
export const EPP_DEFAULT_IMAGE = 'ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0';
/**
 * Scheduling profiles of the endpoint picker. Default = the llm-d-router chart's default-plugins.yaml (queue 2,
 * KV-cache utilization 2, prefix cache 3); LoadOnly = the same without the prefix-cache scorer; Auto = Default when the
 * engine caches prefixes for this model, else LoadOnly.
 */
export const EPP_PROFILES = ['Auto', 'Default', 'LoadOnly'] as const;
export type EppProfile = (typeof EPP_PROFILES)[number];
export const EPP_FAILURE_MODES = ['FailOpen', 'FailClose'] as const;
/** metadata.name with routing on: NAME-epp (the endpoint picker's objects) must stay a 63-character DNS label. */
export const ROUTING_MAX_NAME_LENGTH = 59;
const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

export const EndpointPickerSpec = z
  .strictObject({
    image: z.string().min(1).max(512).default(EPP_DEFAULT_IMAGE).describe(`image: the endpoint picker image. Its configuration is decoded strictly, so an image of another llm-d-router release may refuse the configuration the operator renders (checked against v0.10.0) and not start. Default ${EPP_DEFAULT_IMAGE}.`),
    replicas: z.number().int().min(1).max(5).default(1).describe('replicas: endpoint picker pods. Above 1 they run with leader election: only the leader is Ready and routes, the others keep their state warm and take over within a lease period (each costs the same CPU and memory as the leader). Use 2 where a restart of the picker must not interrupt routing for long. Default 1.'),
    profile: z.enum(EPP_PROFILES).default('Auto').describe("profile: how the picker scores the engine pods. The Default profile (the llm-d chart's): least queue (weight 2), least KV-cache use (2, with engines that export it) and most cached prefix (3), which sends requests sharing a prompt prefix to the pod that holds it; it helps only when the engine caches prefixes and costs some balance when one prefix is hot. LoadOnly: queue and KV-cache use only, for engines or models without prefix caching and traffic without shared prefixes. Auto: Default when the engine caches prefixes for this model (vLLM: not for hybrid models such as LFM2 unless extraArgs has --enable-prefix-caching; SGLang: unless --disable-radix-cache; LlamaCpp: unless --no-cache-prompt), else LoadOnly. Default Auto."),
    failureMode: z.enum(EPP_FAILURE_MODES).default('FailOpen').describe('failureMode: what the gateway does when the picker does not answer. FailOpen: it routes to a pool pod by its own load balancing, so serving goes on through a picker restart (with one replica the picker is down while it is replaced) at the cost of smart routing, priorities and flow control meanwhile. FailClose: it refuses the request; use it where the picker must admit every request (priorities or queueing must hold). Default FailOpen (the InferencePool API defaults to FailClose).'),
  })
  .describe('endpointPicker: the endpoint picker (llm-d-router EPP) the pool names: a Deployment, Service, ServiceAccount, Role, RoleBinding and ConfigMap named NAME-epp. Default: one replica of the pinned image with the Auto profile, failing open.');

export const InferencePoolSpec = z
  .strictObject({
    enabled: z.boolean().default(false).describe('enabled: render an InferencePool named as the resource, selecting its engine pods, and its endpoint picker, so a Gateway API inference gateway routes each request to the pod with the shortest queue and the longest cached prefix instead of a random one. Needs the InferencePool CRD (inference.networking.k8s.io/v1) and a gateway that supports it; costs one small pod (1 CPU, 2Gi requested) per replica of the picker. Turning it on or off restarts the engine pods once (they gain or lose the llm-d.ai/engine-type label the picker reads). Default false.'),
    endpointPicker: EndpointPickerSpec.default({ image: EPP_DEFAULT_IMAGE, replicas: 1, profile: 'Auto', failureMode: 'FailOpen' }),
  })
  .describe('inferencePool: the Gateway API Inference Extension pool of the engine pods and its endpoint picker. Default: disabled.');

export const InferenceObjectiveSpec = z
  .strictObject({
    name: z.string().min(1).max(63).regex(new RegExp(DNS1123_LABEL)).describe('name: the InferenceObjective\'s name, which clients send in the x-gateway-inference-objective header to have their requests served with its priority; one object of that name per namespace. Required.'),
    priority: z.number().int().min(-2147483648).max(2147483647).default(0).describe('priority: how important the requests are against others in the pool: when requests queue in the endpoint picker (its flow control), higher priorities are served first; negative values are allowed, and requests without an objective count as 0. Default 0.'),
  })
  .describe('An InferenceObjective (llm-d.ai/v1alpha2) of the pool.');

const ParentReference = z
  .strictObject({
    group: z.string().max(253).regex(new RegExp(`^$|${DNS1123_SUBDOMAIN}`)).optional().describe('group: the parent\'s API group. Default gateway.networking.k8s.io.'),
    kind: z.string().min(1).max(63).regex(/^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/).optional().describe('kind: the parent\'s kind. Default Gateway.'),
    namespace: z.string().min(1).max(63).regex(new RegExp(DNS1123_LABEL)).optional().describe('namespace: the parent\'s namespace; a Gateway elsewhere must allow routes from this namespace (listeners[].allowedRoutes). Default: the resource\'s namespace.'),
    name: z.string().min(1).max(253).describe('name: the parent\'s name, for example the inference Gateway. Required.'),
    sectionName: z.string().min(1).max(253).regex(new RegExp(DNS1123_SUBDOMAIN)).optional().describe('sectionName: a listener of the Gateway to attach to. Default: every listener that allows the route.'),
    port: z.number().int().min(1).max(65535).optional().describe('port: attach only to the Gateway listeners on this port. Default: any port.'),
  })
  .describe('A Gateway API ParentReference.');

export const HttpRouteSpec = z
  .strictObject({
    parentRefs: z.array(ParentReference).min(1).max(8).describe('parentRefs: the Gateways (or listeners) the HTTPRoute attaches to. Required.'),
  })
  .describe('httpRoute: render an HTTPRoute named as the resource that sends every path (prefix /) of the parents to the InferencePool, with no request timeout (generations stream for minutes). Needs the HTTPRoute CRD (gateway.networking.k8s.io/v1); without it, write your own route to the pool. Default: no route.');

export const RoutingSpec = z
  .strictObject({
    inferencePool: InferencePoolSpec.default({ enabled: false, endpointPicker: { image: EPP_DEFAULT_IMAGE, replicas: 1, profile: 'Auto', failureMode: 'FailOpen' } }),
    objectives: z.array(InferenceObjectiveSpec).min(1).max(16)
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
      .meta(cel({ rule: 'self.all(o, self.exists_one(p, p.name == o.name))', message: 'spec.routing.objectives: each name is one InferenceObjective: remove or rename the duplicate', reason: 'FieldValueDuplicate' }))
      .optional()
      .describe('objectives: InferenceObjectives of the pool, one per entry, so that clients can give their requests a priority (header x-gateway-inference-objective: NAME). Needs the InferenceObjective CRD (llm-d.ai/v1alpha2); costs nothing when unused. Default: none (every request has priority 0).'),
    httpRoute: HttpRouteSpec.optional(),
  })
  .describe('routing: how requests reach the engine pods besides the ClusterIP Service: through an inference gateway, an InferencePool and its endpoint picker. Default: the Service only.')
  .meta(cel(
    { rule: '!has(self.objectives) || self.inferencePool.enabled', message: 'spec.routing.objectives are InferenceObjectives of the InferencePool: set spec.routing.inferencePool.enabled to true, or remove spec.routing.objectives', fieldPath: '.objectives', reason: 'FieldValueForbidden' },
    { rule: '!has(self.httpRoute) || self.inferencePool.enabled', message: 'spec.routing.httpRoute routes to the InferencePool: set spec.routing.inferencePool.enabled to true, or remove spec.routing.httpRoute', fieldPath: '.httpRoute', reason: 'FieldValueForbidden' },
  ));

/** The refusal of a name too long for NAME-epp, in the CRD's root rule and the parser's check alike. */
export const ROUTING_NAME_MESSAGE = `metadata.name must be at most ${ROUTING_MAX_NAME_LENGTH} characters with spec.routing.inferencePool.enabled, because the endpoint picker's objects are named NAME-epp (at most 63 characters): rename the resource, or turn routing off`;

/**
 * Rules for the root of the CRD schema (they read metadata.name, which only the root may), for src/api/crd.ts to add
 * beside its own root rule; LfmDeployment's superRefine below states the same for parsers without the CRD.
 */
export const ROOT_CEL_RULES: readonly CelRule[] = [
  { rule: `!has(self.spec.routing) || !self.spec.routing.inferencePool.enabled || size(self.metadata.name) <= ${ROUTING_MAX_NAME_LENGTH}`, message: ROUTING_NAME_MESSAGE },
];

const celList = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(', ')}]`;
const QUANTIZATION_REFUSAL = (engine: EngineName) => `spec.quantization is not supported by ${engine}: `;

/**
 * The rule refusing quantizations an engine does not serve, from ENGINE_QUANTIZATIONS (the one list). The refusal
 * names the engines that do serve the value; None, the schema default, has no other meaning for an engine that needs
 * a named type (LlamaCpp), so it is told to name one.
 */
function buildQuantizationRule(engine: EngineName): CelRule {
  const allowed = ENGINE_QUANTIZATIONS[engine];
  const prefix = `${QUANTIZATION_REFUSAL(engine)}use one of ${allowed.join(', ')}, or set spec.engine.name to `;
  const others = QUANTIZATIONS.filter((q) => !allowed.includes(q)).map((q) => {
    const servedBy = ENGINE_NAMES.filter((e) => e !== engine && ENGINE_QUANTIZATIONS[e].includes(q));
    return `'${q}': '${servedBy.join(' or ')}'`;
  });
  const generic = `'${prefix}' + {${others.join(', ')}}[self.quantization]`;
  const none = `${QUANTIZATION_REFUSAL(engine)}None (the default) names no file; ${engine} serves one file of a GGUF repository: set spec.quantization to its type, one of ${allowed.join(', ')} (for example Q4_K_M)`;
  return {
    rule: `self.engine.name != '${engine}' || self.quantization in ${celList(allowed)}`,
    message: `${prefix}an engine that serves it`,
    messageExpression: allowed.includes('None') ? generic : `self.quantization == 'None' ? '${none}' : ${generic}`,
    fieldPath: '.quantization',
  };
}

/**
 * Where replicas run: spec.gpu for the GPU-only engines; spec.cpu (or spec.gpu) for engines that run on CPU nodes;
 * and the LlamaCpp-only fields (spec.cpu, spec.model.file, a pvc:// GGUF file, no multi-GPU parallelism).
 */
function buildPlatformRules(): CelRule[] {
  const cpuEngines = celList(CPU_ENGINES);
  const gpuOnly = ENGINE_NAMES.filter((e) => !CPU_ENGINES.includes(e)).join(' and ');
  const cpuNames = CPU_ENGINES.join(' or ');
  return [
    { rule: `has(self.gpu) || self.engine.name in ${cpuEngines}`, message: `spec.gpu is required for ${gpuOnly}: set spec.gpu.type to a catalog GPU type (for example l4-24gb), or set spec.engine.name to ${cpuNames} with spec.cpu to run on CPU nodes`, fieldPath: '.gpu', reason: 'FieldValueRequired' },
    { rule: `!(self.engine.name in ${cpuEngines}) || has(self.gpu) || has(self.cpu)`, message: `spec.cpu is required for ${cpuNames} without spec.gpu: set spec.cpu.memoryGiB (the memory one replica may use) and spec.cpu.cores, or set spec.gpu.type to run on a GPU`, fieldPath: '.cpu', reason: 'FieldValueRequired' },
    { rule: `!has(self.cpu) || self.engine.name in ${cpuEngines}`, message: `spec.cpu is only used with ${cpuNames} (${gpuOnly} run on GPUs, their pods sized by spec.gpu and spec.resources): remove spec.cpu, or set spec.engine.name to ${cpuNames}`, fieldPath: '.cpu', reason: 'FieldValueForbidden' },
    { rule: "!has(self.model.file) || self.engine.name == 'LlamaCpp'", message: 'spec.model.file names a GGUF file, which only LlamaCpp serves: remove spec.model.file, or set spec.engine.name to LlamaCpp', fieldPath: '.model.file', reason: 'FieldValueForbidden' },
    { rule: "self.engine.name != 'LlamaCpp' || !self.model.source.startsWith('pvc://') || self.model.source.endsWith('.gguf')", message: 'spec.model.source: LlamaCpp loads one GGUF file from a claim: write pvc://CLAIM/PATH.gguf (the first shard of a split file)', fieldPath: '.model.source' },
    { rule: "self.engine.name != 'LlamaCpp' || !self.model.source.matches('^hf://[^@]+@') || has(self.model.file)", message: 'spec.model.file is required for LlamaCpp with an hf:// @REVISION: llama-server chooses a file by type on the default branch only, so name the file of that revision (for example LFM2-24B-A2B-Q4_0.gguf)', fieldPath: '.model.file', reason: 'FieldValueRequired' },
    { rule: "self.engine.name != 'LlamaCpp' || ((!has(self.parallelism.tensor) || self.parallelism.tensor == 1) && self.parallelism.pipeline == 1 && self.parallelism.data == 1 && !self.parallelism.expert)", message: 'spec.parallelism does not apply to LlamaCpp: a replica is one llama-server on one GPU or on CPU; remove spec.parallelism and scale with replicas', fieldPath: '.parallelism' },
  ];
}

export const LfmDeploymentSpec = z
  .strictObject({
    model: ModelSpec,
    engine: EngineSpec.default({ name: 'VLLM' }),
    quantization: z.enum(QUANTIZATIONS).default('None').describe(`quantization: the weight format served. VLLM and SGLang: None = the checkpoint as published; FP8 quantizes a 16-bit checkpoint online; AWQ, GPTQ, MXFP4, NVFP4 and W8A8Int8 must match the checkpoint. LlamaCpp serves only the GGUF types (${GGUF_QUANTS.join(', ')}), and must name one: it chooses the file of a GGUF repository and sizes its memory. Fewer bits cost quality and save memory: Q4_K_M and Q4_0 are about 4.5 bits per weight (LFM2-24B-A2B Q4_0: 12.5 GiB), Q8_0 8.5 (about 23.6 GiB), F16 and BF16 16. Default None.`),
    kvCacheDtype: z.enum(KV_CACHE_DTYPES).default('Auto').describe('kvCacheDtype: the KV cache element type: Auto (the model\'s dtype, 2 bytes) or FP8 (1 byte, twice the sequences). LlamaCpp: Auto is f16 and FP8 is q8_0 (--cache-type-k/v; 8.5 bits, about half of f16). Default Auto.'),
    parallelism: ParallelismSpec.default({ pipeline: 1, data: 1, expert: false }),
    gpu: GpuSpec.optional(),
    cpu: CpuSpec.optional(),
    placement: PlacementSpec.optional(),
    serving: ServingSpec.default({ gpuMemoryUtilization: 0.9, startupTimeoutSeconds: 1800, drainSeconds: 120 }),
    resources: ResourcesSpec.optional(),
    podMetadata: PodMetadataSpec.optional(),
    security: SecuritySpec.optional(),
    rollout: RolloutSpec.default({ maxSurge: 0, maxUnavailable: 1 }),
    replicas: z.number().int().min(0).max(1000).optional().describe('replicas: desired replicas while autoscaling is off (kubectl scale, HPA and KEDA write it through the scale subresource). Must be omitted while autoscaling.enabled is true. Default: unset, which means 1.'),
    autoscaling: AutoscalingSpec.default({ enabled: false, minReplicas: 1, maxReplicas: 4, queueDepthPerReplica: 4, stabilizationWindowSeconds: 60, pendingTimeoutSeconds: 900, scrapeIntervalSeconds: 15 }),
    routing: RoutingSpec.optional(),
  })
  .describe('spec: the desired deployment, written by the user (and spec.replicas by /scale when autoscaling is off).')
  .meta(cel(
    { rule: '!has(self.replicas) || !self.autoscaling.enabled', message: 'spec.replicas must be omitted while spec.autoscaling.enabled is true: remove spec.replicas, or set spec.autoscaling.enabled to false', fieldPath: '.replicas', reason: 'FieldValueForbidden' },
    { rule: '!has(self.autoscaling.scaleToZero) || self.autoscaling.enabled', message: 'spec.autoscaling.scaleToZero needs the autoscaler: set spec.autoscaling.enabled to true, or remove scaleToZero', fieldPath: '.autoscaling.scaleToZero', reason: 'FieldValueForbidden' },
    { rule: '!has(self.routing) || !self.routing.inferencePool.enabled || self.autoscaling.minReplicas != 0', message: SCALE_TO_ZERO_ROUTING_MESSAGE, fieldPath: '.autoscaling.minReplicas', reason: 'FieldValueForbidden' },
    // Only engines that lack a quantization get a rule (a rule that cannot fail costs CEL budget for nothing).
    ...ENGINE_NAMES.filter((engine) => ENGINE_QUANTIZATIONS[engine].length < QUANTIZATIONS.length).map(buildQuantizationRule),
    ...buildPlatformRules(),
  ));

const Condition = z.strictObject({
  type: z.string().max(316).describe('type: the condition type (Ready, Reconciling, Stalled, Scheduled, and RoutingReady with spec.routing.inferencePool.enabled).'),
  status: z.enum(['True', 'False', 'Unknown']).describe('status: True, False or Unknown.'),
  observedGeneration: z.number().int().min(0).optional().describe('observedGeneration: the generation the condition was computed from.'),
  lastTransitionTime: z.string().describe('lastTransitionTime: when the status last changed (RFC 3339).'),
  reason: z.string().max(1024).describe('reason: a CamelCase machine-readable reason.'),
  message: z.string().max(32768).describe('message: a human-readable explanation.'),
});
export type Condition = z.infer<typeof Condition>;

export const PlanReason = z.strictObject({
  field: z.string().describe('field: the spec field the reason is about.'),
  message: z.string().describe('message: what is wrong and the fix.'),
});

export const PlanStatus = z.strictObject({
  fits: z.boolean().describe('fits: whether one replica fits its GPUs (LlamaCpp on CPU: spec.cpu.memoryGiB) with room for at least one sequence of maxModelLen.'),
  reasons: z.array(PlanReason).optional().describe('reasons: why it does not fit or is refused, each naming a field.'),
  warnings: z.array(z.string()).optional().describe('warnings: things that work but deserve attention.'),
  gpusPerReplica: z.number().int().describe('gpusPerReplica: GPUs each replica requests (tensor x pipeline x data; 0 on CPU nodes).'),
  tensor: z.number().int().optional().describe('tensor: the tensor-parallel size used (the planner\'s choice when spec.parallelism.tensor is unset).'),
  weightsGiBPerGpu: z.number().describe('weightsGiBPerGpu: model weights held by each GPU, in GiB.'),
  kvCacheGiBPerGpu: z.number().describe('kvCacheGiBPerGpu: memory left on each GPU for the KV cache and sequence state, in GiB.'),
  kvBytesPerToken: z.number().int().describe('kvBytesPerToken: KV cache bytes one token takes across the replica.'),
  stateBytesPerSequence: z.number().int().optional().describe('stateBytesPerSequence: fixed per-sequence state (convolution layers) across the replica, in bytes.'),
  maxSequencesAtMaxLen: z.number().int().describe('maxSequencesAtMaxLen: sequences of maxModelLen tokens that fit at once in one replica.'),
  maxModelLen: z.number().int().optional().describe('maxModelLen: the context length planned for, in tokens.'),
  memoryGiBPerReplica: z.number().optional().describe('memoryGiBPerReplica: LlamaCpp: host memory one replica requests and is limited to, in GiB (on CPU: weights, KV cache, buffers and prompt cache, at most spec.cpu.memoryGiB; on a GPU: what stays on the host).'),
  slots: z.number().int().optional().describe('slots: LlamaCpp: the slots of one replica (--parallel), each holding maxModelLen tokens.'),
  contextTokens: z.number().int().optional().describe('contextTokens: LlamaCpp: the context of all slots together (-c = maxModelLen x slots), in tokens.'),
  cacheRamMiB: z.number().int().optional().describe('cacheRamMiB: LlamaCpp: the host prompt cache (--cache-ram) set from the memory left, in MiB.'),
  gpuLayers: z.number().int().optional().describe('gpuLayers: LlamaCpp: layers placed on the GPU (--n-gpu-layers; 0 on CPU).'),
  cpuMoeLayers: z.number().int().optional().describe('cpuMoeLayers: LlamaCpp on a GPU: layers whose experts stay in host RAM (--n-cpu-moe; 0 = every expert on the GPU).'),
  expertsOnHostGiB: z.number().optional().describe('expertsOnHostGiB: LlamaCpp on a GPU: expert weights kept in host RAM, in GiB.'),
});

export const AutoscalingStatus = z.strictObject({
  desiredReplicas: z.number().int().optional().describe('desiredReplicas: the replica count the autoscaler last decided.'),
  queueDepth: z.number().optional().describe('queueDepth: waiting requests summed over ready replicas at the last decision.'),
  runningRequests: z.number().optional().describe('runningRequests: running requests summed over ready replicas at the last decision.'),
  tokensPerSecond: z.number().optional().describe('tokensPerSecond: prompt + generated tokens per second over ready replicas at the last decision.'),
  lastScaleTime: z.string().optional().describe('lastScaleTime: when the replica count last changed (RFC 3339).'),
  reason: z.string().optional().describe('reason: why the autoscaler decided what it did.'),
  learnedStartupSeconds: z.number().optional().describe('learnedStartupSeconds: how long a new replica has taken to become ready, learned from the pods.'),
  lowLoadSince: z.string().optional().describe('lowLoadSince: since when load has been low enough to remove a replica (RFC 3339).'),
  recommendations: z.array(z.strictObject({ time: z.string(), replicas: z.number().int() })).max(128).optional().describe('recommendations: recent recommendations kept for the stabilization window.'),
  pendingSince: z.string().optional().describe('pendingSince: since when replicas have waited Pending for GPUs (RFC 3339).'),
  workPerRequestSeconds: z.number().optional().describe('workPerRequestSeconds: replica-seconds one request takes at the throughput targets (load / finished requests per second), learned while queues were short; turns a growing queue into replicas when replicas saturate.'),
  capacityPerReplica: z.number().optional().describe('capacityPerReplica: the load one replica carries at full utilization, in units of the throughput targets, as learned from the engines (1.25 = what targets set at 0.8 of a replica assume); present only while it differs from that, when the autoscaler aims at 0.8 x it instead.'),
  capacityFit: z.strictObject({
    xx: z.number(), xu: z.number(), uu: z.number(), x: z.number(), u: z.number(), samples: z.number(),
  }).optional().describe('capacityFit: the decayed sums of the capacity fit (src/autoscaler/capacity.ts), kept so that a new leader continues it.'),
  saturatedSince: z.string().optional().describe('saturatedSince: since when more than queueDepthPerReplica requests per Ready replica have been waiting (RFC 3339).'),
  reboundHoldSeconds: z.number().optional().describe('reboundHoldSeconds: a scale-down hold longer than the break-even delay, learned when demand came back soon after a scale-down; it fades with a time constant of an hour.'),
  idleSince: z.string().optional().describe('idleSince: with scaleToZero, since when no request has run, waited or been held (RFC 3339); the count goes to zero idleSeconds after it.'),
  coldStart: z.strictObject({
    lastSeconds: z.number().optional().describe('lastSeconds: the last cold start: from the first request held at zero replicas (as the autoscaler saw it, within a second) to the first Ready replica, in seconds.'),
    p90Seconds: z.number().optional().describe('p90Seconds: the 90th percentile (nearest rank) of recentSeconds; the activator\'s Retry-After.'),
    recentSeconds: z.array(z.number()).max(20).optional().describe('recentSeconds: the last cold starts measured, oldest first (at most 20).'),
    startedAt: z.string().optional().describe('startedAt: while a cold start is under way, when it began (RFC 3339).'),
    held: z.number().int().describe('held: requests the activators hold now, waiting for a Ready replica.'),
    refused: z.number().int().describe('refused: requests the activators running now refused with 429 (more than maxHeldRequests held), counted since each started; lfm_activator_requests_total{outcome="refused"} keeps the lasting total.'),
    expired: z.number().int().describe('expired: requests the activators running now answered 503 after maxHoldSeconds, counted since each started.'),
  }).optional().describe('coldStart: with scaleToZero, what cold starts cost: measured durations, requests held now, and requests refused or expired.'),
  lastScaleDown: z.strictObject({
    time: z.string(), from: z.number().int(), to: z.number().int(), holdSeconds: z.number(),
  }).optional().describe('lastScaleDown: the last scale-down (RFC 3339 time, counts before and after, the hold it waited), to learn reboundHoldSeconds.'),
}).describe('autoscaling: what the autoscaler observed and decided; written by lfm-autoscaler.');

export const ActivatorEntry = z.strictObject({
  name: z.string().max(253).describe('name: the activator pod.'),
  held: z.number().int().min(0).describe('held: requests this activator holds now for the deployment.'),
  refused: z.number().int().min(0).describe('refused: requests it refused with 429 since it started.'),
  expired: z.number().int().min(0).describe('expired: requests it answered 503 after maxHoldSeconds since it started.'),
  heartbeat: z.number().int().min(0).describe('heartbeat: bumped every few seconds while it holds requests; an entry holding requests that stops changing is ignored (the reader times it on its own clock).'),
});
export type ActivatorEntry = z.infer<typeof ActivatorEntry>;

export const ActivationStatus = z.strictObject({
  activators: z.array(ActivatorEntry).max(64).meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }).optional()
    .describe('activators: one entry per activator replica that held requests for this deployment, each applied by that activator (field manager lfm-activator/POD); the operator removes entries of activator pods that are gone.'),
}).describe('activation: written by the activators (lfm-operator activator) of a scale-to-zero deployment: the requests they hold, which ask the autoscaler for a replica.');

export const LfmDeploymentStatus = z.strictObject({
  observedGeneration: z.number().int().optional().describe('observedGeneration: the generation of the spec the operator last acted on.'),
  conditions: z.array(Condition).max(16).meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }).optional().describe('conditions: Ready, Reconciling, Stalled and Scheduled with kstatus semantics; with spec.routing.inferencePool.enabled also RoutingReady, which mirrors the InferencePool\'s status.parents as gateways write them (True once a gateway accepted the pool; False with reason CRDMissing, NoParent or the gateway\'s reason otherwise). Ready never depends on RoutingReady.'),
  replicas: z.number().int().optional().describe('replicas: pods of the deployment (the scale subresource reads it).'),
  readyReplicas: z.number().int().optional().describe('readyReplicas: pods ready to serve.'),
  updatedReplicas: z.number().int().optional().describe('updatedReplicas: pods of the current revision.'),
  selector: z.string().optional().describe('selector: the label selector of the pods (for the scale subresource and HPA).'),
  endpoint: z.string().optional().describe('endpoint: the OpenAI-compatible base URL inside the cluster.'),
  plan: PlanStatus.optional().describe('plan: the fit arithmetic of one replica.'),
  autoscaling: AutoscalingStatus.optional(),
  activation: ActivationStatus.optional(),
}).describe('status: what the operator observed; written by the operator (autoscaling by lfm-autoscaler).');

export const LfmDeployment = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(KIND),
  metadata: z.looseObject({
    name: z.string().max(63).regex(new RegExp(DNS1035_LABEL), 'metadata.name must be a DNS-1035 label: lowercase letters, digits and "-", starting with a letter, at most 63 characters'),
    namespace: z.string().optional(),
  }),
  spec: LfmDeploymentSpec,
  status: LfmDeploymentStatus.optional(),
}).superRefine((doc, ctx) => {
  // ROOT_CEL_RULES' name rule, for parsers that run without the CRD (the zod check above restates the DNS-1035 rule too).
  if (doc.spec.routing?.inferencePool.enabled && doc.metadata.name.length > ROUTING_MAX_NAME_LENGTH) {
    ctx.addIssue({ code: 'custom', path: ['metadata', 'name'], message: ROUTING_NAME_MESSAGE });
  }
});

export type LfmDeployment = z.output<typeof LfmDeployment>;
export type LfmDeploymentInput = z.input<typeof LfmDeployment>;
export type LfmDeploymentSpec = z.output<typeof LfmDeploymentSpec>;
export type LfmDeploymentStatus = z.output<typeof LfmDeploymentStatus>;
/** spec.model.architecture as parsed: exactly the catalog's ModelArchitecture (the assertion below keeps them one). */
export type ModelArchitecture = z.output<typeof ModelArchitecture>;
type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const architectureIsTheCatalogs: SameType<ModelArchitecture, CatalogArchitecture> = true;
void architectureIsTheCatalogs;
export type PlanStatus = z.output<typeof PlanStatus>;
export type AutoscalingSpec = z.output<typeof AutoscalingSpec>;
export type AutoscalingStatus = z.output<typeof AutoscalingStatus>;
