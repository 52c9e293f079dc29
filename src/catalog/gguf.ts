// Pure. GGUF (llama.cpp) data from the vendored catalog (data/models.json, provenance in data/PROVENANCE.md): the bits
// per weight of each GGUF quantization type, and each model's first-party GGUF repository, llama.cpp architecture
// name, measured file sizes and CPU decode speed.
import modelData from './data/models.json' with { type: 'json' };

/** GGUF quantization types llama.cpp serves (keys of the catalog's gguf_bits_per_weight), as spec.quantization values. */
export const GGUF_QUANTS = [
  'Q2_K', 'Q3_K_S', 'IQ4_XS', 'Q4_0', 'Q4_1', 'Q4_K_S', 'Q4_K_M', 'Q5_0', 'Q5_1', 'Q5_K_M', 'Q6_K', 'Q8_0', 'F16', 'BF16',
] as const;
export type GgufQuant = (typeof GGUF_QUANTS)[number];

/** Whole-file bits per weight of each GGUF quantization type (block layouts; K/IQ mixes measured averages). */
export const GGUF_BITS_PER_WEIGHT: Record<GgufQuant, number> = Object.fromEntries(
  GGUF_QUANTS.map((q) => [q, (modelData.gguf_bits_per_weight.value as Record<string, number>)[q] ?? Number.NaN]),
) as Record<GgufQuant, number>;

export interface GgufCatalogEntry {
  /** Hugging Face repository holding the GGUF files, e.g. LiquidAI/LFM2-24B-A2B-GGUF. */
  repository: string;
  /** llama.cpp's architecture name (general.architecture), e.g. lfm2moe. */
  architecture: string;
  /** Files with a measured size. */
  files: { quant: GgufQuant; sizeGiB: number; params: number }[];
  /** Single-sequence decode speed measured on CPU (llama-bench), where known. */
  cpuDecodeTokensPerSecond?: number;
}

interface Field<T> { value: T; source: string; unverified?: boolean }
interface RawGguf {
  repository: Field<string>;
  architecture: Field<string>;
  files: Field<{ quant: string; sizeGiB: number; params: number }[]>;
  cpu_decode_tokens_per_second?: Field<number>;
}
interface RawModel { id: string; gguf?: RawGguf }

export function isGgufQuant(value: string): value is GgufQuant {
  return (GGUF_QUANTS as readonly string[]).includes(value);
}

function buildEntry(raw: RawGguf): GgufCatalogEntry {
  const files = raw.files.value.map((f) => {
    if (!isGgufQuant(f.quant)) throw new Error(`catalog gguf ${raw.repository.value}: unknown quant ${f.quant}`);
    return { quant: f.quant, sizeGiB: f.sizeGiB, params: f.params };
  });
  const entry: GgufCatalogEntry = { repository: raw.repository.value, architecture: raw.architecture.value, files };
  if (raw.cpu_decode_tokens_per_second !== undefined) {
    entry.cpuDecodeTokensPerSecond = raw.cpu_decode_tokens_per_second.value;
  }
  return entry;
}

/** GGUF entries by lower-cased catalog model id. */
export const GGUF_CATALOG: ReadonlyMap<string, GgufCatalogEntry> = new Map(
  (modelData.models as unknown as RawModel[])
    .filter((m): m is RawModel & { gguf: RawGguf } => m.gguf !== undefined)
    .map((m) => [m.id.toLowerCase(), buildEntry(m.gguf)]),
);

/** Catalog model id (as the catalog spells it) by lower-cased GGUF repository. */
const MODEL_BY_REPOSITORY: ReadonlyMap<string, string> = new Map(
  (modelData.models as unknown as RawModel[])
    .filter((m): m is RawModel & { gguf: RawGguf } => m.gguf !== undefined)
    .map((m) => [m.gguf.repository.value.toLowerCase(), m.id]),
);

/** The catalog model id whose gguf.repository is this repository (case-insensitive). */
export function lookupModelByGgufRepository(repository: string): string | undefined {
  return MODEL_BY_REPOSITORY.get(repository.toLowerCase());
}

/** A model's GGUF entry, by its model id (LiquidAI/LFM2-24B-A2B) or its GGUF repository (LiquidAI/LFM2-24B-A2B-GGUF). */
export function lookupGguf(modelId: string): GgufCatalogEntry | undefined {
  const key = modelId.toLowerCase();
  const byModel = GGUF_CATALOG.get(key);
  if (byModel !== undefined) return byModel;
  const model = MODEL_BY_REPOSITORY.get(key);
  return model === undefined ? undefined : GGUF_CATALOG.get(model.toLowerCase());
}

const GIB = 1024 ** 3;

/** The GGUF file's bytes: the catalog's measured size for this quant when there is one, else parameters x bits / 8.
 * The estimate counts the parameters llama.cpp itself reports for the model's GGUF files when the catalog has them
 * (llama-bench's "params" column: 23.84e9 for LFM2-24B-A2B, against 24e9 on the model card), else `parameters`.
 * Bits per weight are whole-file averages (K-quant mixes included), so the estimate is within a few percent. */
export function computeGgufWeightBytes(
  parameters: number, quant: GgufQuant, entry?: GgufCatalogEntry,
): { bytes: number; measured: boolean } {
  const file = entry?.files.find((f) => f.quant === quant);
  if (file !== undefined) return { bytes: file.sizeGiB * GIB, measured: true };
  const counted = entry?.files.find((f) => f.params > 0)?.params ?? parameters;
  return { bytes: (counted * GGUF_BITS_PER_WEIGHT[quant]) / 8, measured: false };
}
