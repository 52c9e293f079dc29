// Pure. Model architectures from the vendored catalog (data/models.json, provenance in data/PROVENANCE.md), reduced to
// what sizing needs. Models outside the catalog are described in spec.model.architecture instead.
import type { ModelArchitecture, WeightFormat } from './architecture.js';
import { GGUF_CATALOG, type GgufCatalogEntry } from './gguf.js';
import modelData from './data/models.json' with { type: 'json' };

export interface CatalogModel {
  id: string;
  architecture: ModelArchitecture;
  /** Checkpoint size on disk, in bytes (the download size). */
  weightFileBytes: number;
  /** Longest position the config accepts (vLLM refuses a longer --max-model-len). */
  maxPositionEmbeddings: number;
  /** Values inferred rather than read from the model's config.json. */
  unverified: string[];
  source: string;
  /** Leading layers with a dense FFN instead of experts (num_dense_layers; LFM2-MoE: the first 2). */
  denseLayers?: number;
  /** Vocabulary size (the logits row llama.cpp's compute buffers are sized by). */
  vocabSize?: number;
  /** The first-party GGUF files for llama.cpp, where the catalog has them (src/catalog/gguf.ts). */
  gguf?: GgufCatalogEntry;
}

interface Field<T> { value: T; source: string; unverified?: boolean }
type RawModel = { id: string } & Record<string, Field<unknown> | string | undefined>;

function field<T>(raw: RawModel, key: string): T | undefined {
  const f = raw[key];
  return f !== undefined && typeof f === 'object' ? (f.value as T) : undefined;
}

function required<T>(raw: RawModel, key: string): T {
  const v = field<T>(raw, key);
  if (v === undefined || v === null) throw new Error(`catalog model ${raw.id}: field ${key} is missing`);
  return v;
}

/** Counts layer kinds from layer_types (a list, or the catalog's prose for uniform/alternating stacks). */
function buildLayerCounts(raw: RawModel, layers: number): { attention: number; sliding: number; conv: number } {
  const types = field<unknown>(raw, 'layer_types');
  if (Array.isArray(types)) {
    return {
      attention: types.filter((t) => t === 'full_attention').length,
      sliding: types.filter((t) => t === 'sliding_attention').length,
      conv: types.filter((t) => t === 'conv').length,
    };
  }
  const attention = field<number>(raw, 'num_attention_layers');
  if (attention !== undefined) {
    return { attention, sliding: field<number>(raw, 'num_sliding_window_layers') ?? 0, conv: field<number>(raw, 'num_conv_layers') ?? 0 };
  }
  if (typeof types === 'string' && types.startsWith('alternating')) {
    // gpt-oss: even layers sliding, odd layers full attention.
    return { attention: Math.floor(layers / 2), sliding: Math.ceil(layers / 2), conv: 0 };
  }
  return { attention: layers, sliding: 0, conv: 0 };
}

function buildWeightFormat(raw: RawModel): WeightFormat {
  const q = field<{ quant_method?: string } | null>(raw, 'quantization_config');
  switch (q?.quant_method) {
    case undefined: return 'BF16';
    case 'mxfp4': return 'MXFP4';
    case 'fp8': return 'FP8';
    case 'awq': return 'AWQ';
    case 'gptq': return 'GPTQ';
    default: throw new Error(`catalog model ${raw.id}: unknown quant_method ${q?.quant_method}`);
  }
}

/** The llama.cpp-related additions: dense layer count, vocabulary and GGUF entry, where the catalog has them. */
function buildLlamaCppFields(raw: RawModel): Pick<CatalogModel, 'denseLayers' | 'vocabSize' | 'gguf'> {
  const out: Pick<CatalogModel, 'denseLayers' | 'vocabSize' | 'gguf'> = {};
  const dense = field<number>(raw, 'num_dense_layers');
  if (typeof dense === 'number') out.denseLayers = dense;
  const vocab = field<number>(raw, 'vocab_size');
  if (typeof vocab === 'number') out.vocabSize = vocab;
  const gguf = GGUF_CATALOG.get(raw.id.toLowerCase());
  if (gguf !== undefined) out.gguf = gguf;
  return out;
}

function buildModel(raw: RawModel): CatalogModel {
  const layers = required<number>(raw, 'num_hidden_layers');
  const counts = buildLayerCounts(raw, layers);
  const hiddenSize = required<number>(raw, 'hidden_size');
  const attentionHeads = required<number>(raw, 'num_attention_heads');
  const experts = field<number>(raw, 'num_experts') ?? 0;
  const moeIntermediate = field<number>(raw, 'moe_intermediate_size') ?? 0;
  const denseLayers = field<number>(raw, 'num_dense_layers') ?? 0;
  // Routed experts: gate, up and down projections of moe_intermediate_size in every MoE layer.
  const expertParameters = experts > 0 ? (layers - denseLayers) * experts * 3 * hiddenSize * moeIntermediate : 0;
  const maxPositionEmbeddings = required<number>(raw, 'max_position_embeddings');
  const unverified = Object.entries(raw)
    .filter(([, v]) => typeof v === 'object' && v !== null && (v as Field<unknown>).unverified === true)
    .map(([k]) => k);
  return {
    id: raw.id,
    architecture: {
      layers,
      attentionLayers: counts.attention,
      slidingWindowLayers: counts.sliding,
      slidingWindow: counts.sliding > 0 ? (field<number>(raw, 'sliding_window') ?? 0) : 0,
      convLayers: counts.conv,
      convCacheLength: field<number>(raw, 'conv_L_cache') ?? 3,
      attentionHeads,
      kvHeads: required<number>(raw, 'num_key_value_heads'),
      headDim: field<number>(raw, 'head_dim') ?? hiddenSize / attentionHeads,
      hiddenSize,
      experts,
      expertsPerToken: field<number>(raw, 'num_experts_per_tok') ?? 0,
      parameters: required<number>(raw, 'total_params'),
      expertParameters,
      contextLength: field<number>(raw, 'context_length') ?? maxPositionEmbeddings,
      weightFormat: buildWeightFormat(raw),
    },
    weightFileBytes: required<number>(raw, 'weight_file_bytes'),
    maxPositionEmbeddings,
    unverified,
    source: (raw['num_hidden_layers'] as Field<number>).source,
    ...buildLlamaCppFields(raw),
  };
}

export const CATALOG_MODELS: ReadonlyMap<string, CatalogModel> = new Map(
  (modelData.models as unknown as RawModel[]).map((m) => [m.id.toLowerCase(), buildModel(m)]),
);

/** Catalog ids that name one model: the Qwen3 "-Instruct-2507" entry also answers to its base name. */
const ALIASES: Record<string, string> = { 'qwen/qwen3-30b-a3b': 'qwen/qwen3-30b-a3b-instruct-2507' };

export function lookupModel(id: string): CatalogModel | undefined {
  const key = id.toLowerCase();
  return CATALOG_MODELS.get(key) ?? CATALOG_MODELS.get(ALIASES[key] ?? '');
}
