// Pure. The engine flags the operator owns, per engine: the one source for both judges of spec.engine.extraArgs, the
// CRD's CEL rule (API server and offline plan) and the planner's check (src/engines/engine.ts checkExtraArgs).
// The spellings (aliases, --no- forms) are the vendored flag tables' (src/engines/data/*.json); a unit test pins them
// to those tables, since this layer must not import the engines (the engines import the API).

/** A flag the operator renders, and the spec field to use instead. */
export interface OwnedFlag {
  /** What to set instead, as the refusal names it. */
  use: string;
  /** The engine's other spellings of the flag (argparse aliases in the flag table). */
  aliases?: readonly string[];
  /** A boolean flag that also has a --no- form (argparse BooleanOptionalAction). */
  negatable?: boolean;
}

const MODEL_SOURCE = 'spec.model.source';
const REVISION = 'spec.model.source (hf://ORG/NAME@REVISION)';
const HOST = 'nothing (the operator listens on all interfaces)';
const PORT = 'nothing (the operator owns the port)';
const METRICS = 'nothing (always on: the autoscaler reads /metrics)';
const GGUF_PLACEMENT = 'spec.gpu.type and spec.serving.gpuMemoryUtilization';

/** Keyed by spec.engine.name; every key is the flag's canonical name in the engine's flag table. */
export const OWNED_FLAGS = {
  VLLM: {
    '--model': { use: MODEL_SOURCE },
    '--served-model-name': { use: 'spec.model.servedName' },
    '--revision': { use: REVISION },
    '--host': { use: HOST },
    '--port': { use: PORT },
    '--tensor-parallel-size': { use: 'spec.parallelism.tensor', aliases: ['-tp'] },
    '--pipeline-parallel-size': { use: 'spec.parallelism.pipeline', aliases: ['-pp'] },
    '--data-parallel-size': { use: 'spec.parallelism.data', aliases: ['-dp'] },
    '--enable-expert-parallel': { use: 'spec.parallelism.expert', negatable: true },
    '--quantization': { use: 'spec.quantization', aliases: ['-q'] },
    '--kv-cache-dtype': { use: 'spec.kvCacheDtype' },
    '--max-model-len': { use: 'spec.serving.maxModelLen' },
    '--gpu-memory-utilization': { use: 'spec.serving.gpuMemoryUtilization' },
    '--max-num-seqs': { use: 'spec.serving.maxConcurrentSequences' },
    '--download-dir': { use: 'spec.model.cache' },
  },
  SGLang: {
    '--model-path': { use: MODEL_SOURCE, aliases: ['--model'] },
    '--served-model-name': { use: 'spec.model.servedName' },
    '--revision': { use: REVISION },
    '--host': { use: HOST },
    '--port': { use: PORT },
    '--enable-metrics': { use: METRICS },
    '--tp-size': { use: 'spec.parallelism.tensor', aliases: ['--tensor-parallel-size'] },
    '--pp-size': { use: 'spec.parallelism.pipeline', aliases: ['--pipeline-parallel-size'] },
    '--dp-size': { use: 'spec.parallelism.data', aliases: ['--data-parallel-size'] },
    '--ep-size': { use: 'spec.parallelism.expert', aliases: ['--expert-parallel-size', '--ep'] },
    '--enable-ep-moe': { use: 'spec.parallelism.expert' },
    '--quantization': { use: 'spec.quantization' },
    '--kv-cache-dtype': { use: 'spec.kvCacheDtype' },
    '--context-length': { use: 'spec.serving.maxModelLen' },
    '--mem-fraction-static': { use: 'spec.serving.gpuMemoryUtilization' },
    '--max-running-requests': { use: 'spec.serving.maxConcurrentSequences' },
    '--download-dir': { use: 'spec.model.cache' },
  },
  LlamaCpp: {
    '--model': { use: MODEL_SOURCE, aliases: ['-m'] },
    '--model-url': { use: MODEL_SOURCE, aliases: ['-mu'] },
    '--hf-repo': { use: MODEL_SOURCE, aliases: ['-hf', '-hfr'] },
    '--hf-file': { use: 'spec.model.file', aliases: ['-hff'] },
    '--hf-token': { use: 'spec.model.credentials (the token never goes on the command line)', aliases: ['-hft'] },
    '--offline': { use: 'spec.model.cache (a PersistentVolumeClaim cache runs offline)' },
    '--alias': { use: 'spec.model.servedName', aliases: ['-a'] },
    '--host': { use: HOST },
    '--port': { use: PORT },
    '--metrics': { use: METRICS },
    '--ctx-size': { use: 'spec.serving.maxModelLen (-c is maxModelLen x slots)', aliases: ['-c'] },
    '--parallel': { use: 'spec.serving.maxConcurrentSequences', aliases: ['-np'] },
    '--gpu-layers': { use: `${GGUF_PLACEMENT} (the planner places the layers)`, aliases: ['-ngl', '--n-gpu-layers'] },
    '--n-cpu-moe': { use: `${GGUF_PLACEMENT} (the planner keeps experts in host RAM when the GPU is too small)`, aliases: ['-ncmoe'] },
    '--cpu-moe': { use: `${GGUF_PLACEMENT} (the planner keeps experts in host RAM when the GPU is too small)`, aliases: ['-cmoe'] },
    '--threads': { use: 'spec.cpu.cores', aliases: ['-t'] },
    '--cache-ram': { use: 'spec.cpu.memoryGiB (the planner sizes the prompt cache from the memory left)', aliases: ['-cram'] },
    '--cache-type-k': { use: 'spec.kvCacheDtype', aliases: ['-ctk'] },
    '--cache-type-v': { use: 'spec.kvCacheDtype', aliases: ['-ctv'] },
    '--flash-attn': { use: 'nothing (the operator sets it: on with a quantized KV cache, else auto)', aliases: ['-fa'] },
  },
} as const satisfies Record<string, Record<string, OwnedFlag>>;

export type OwnedFlagEngine = keyof typeof OWNED_FLAGS;

/** The refusal of an owned flag, word for word the same from the API server, `plan` and the operator. */
export function buildOwnedFlagMessage(name: string, use: string): string {
  return `spec.engine.extraArgs must not set flags the operator owns: ${name} is set by the operator; use ${use} instead`;
}

/**
 * The key an extraArgs element is judged by: the flag name before any "=value", with "_" read as "-". vLLM's
 * FlexibleArgumentParser accepts --max_num_seqs for --max-num-seqs; the other engines (SGLang, llama.cpp) do not, but
 * refusing an underscore spelling of an owned flag there costs nothing (the engine would reject it too). llama.cpp's
 * short spellings (-c, -np, -ngl) are keys like any other.
 */
export function computeFlagKey(arg: string): string {
  return (arg.split('=')[0] ?? '').replaceAll('_', '-');
}

const spellingsByEngine = new Map<OwnedFlagEngine, ReadonlyMap<string, string>>();

/** Every spelling (as computeFlagKey normalizes it) that sets an owned flag, mapped to that flag. */
export function buildOwnedSpellings(engine: OwnedFlagEngine): ReadonlyMap<string, string> {
  const cached = spellingsByEngine.get(engine);
  if (cached) return cached;
  const spellings = new Map<string, string>();
  for (const [flag, owned] of Object.entries(OWNED_FLAGS[engine]) as [string, OwnedFlag][]) {
    spellings.set(flag, flag);
    for (const alias of owned.aliases ?? []) spellings.set(alias, flag);
    if (owned.negatable) spellings.set(`--no-${flag.slice(2)}`, flag);
  }
  spellingsByEngine.set(engine, spellings);
  return spellings;
}

/** The owned flag an extraArgs element sets, if any: its name as written, the canonical flag and the refusal. */
export function findOwnedFlag(engine: OwnedFlagEngine, arg: string): { name: string; flag: string; message: string } | undefined {
  const flag = buildOwnedSpellings(engine).get(computeFlagKey(arg));
  if (!flag) return undefined;
  const name = arg.split('=')[0] ?? arg;
  const owned: OwnedFlag = (OWNED_FLAGS[engine] as Record<string, OwnedFlag>)[flag]!;
  return { name, flag, message: buildOwnedFlagMessage(name, owned.use) };
}

const celString = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/**
 * The CEL rule on spec.engine refusing the owned flags of one engine, in every spelling. It repeats computeFlagKey
 * and buildOwnedFlagMessage in CEL (split and replace come from the Kubernetes CEL strings library), with the
 * spellings as one map literal, so a lookup costs the same however many there are.
 */
export function buildOwnedFlagRule(engine: OwnedFlagEngine): { rule: string; message: string; messageExpression: string; fieldPath: string } {
  const owned = OWNED_FLAGS[engine] as Record<string, OwnedFlag>;
  const spellings = [...buildOwnedSpellings(engine)].sort(([a], [b]) => a.localeCompare(b));
  const uses = `{${spellings.map(([spelling, flag]) => `${celString(spelling)}: ${celString(owned[flag]!.use)}`).join(', ')}}`;
  const key = (v: string) => `${v}.split('=')[0].replace('_', '-')`;
  // The message's fixed text around the flag's name and its field, cut out of buildOwnedFlagMessage itself.
  const [before = '', between = '', after = ''] = buildOwnedFlagMessage('\u0000', '\u0000').split('\u0000');
  return {
    rule: `self.name != ${celString(engine)} || !has(self.extraArgs) || self.extraArgs.all(a, !(${key('a')} in ${uses}))`,
    message: `${before}${Object.keys(owned).join(', ')} (and their aliases): use the spec fields instead`,
    messageExpression: `${celString(before)} + self.extraArgs.map(a, a.split('=')[0]).filter(n, n.replace('_', '-') in ${uses})`
      + `.map(n, n + ${celString(between)} + ${uses}[n.replace('_', '-')] + ${celString(after)})[0]`,
    fieldPath: '.extraArgs',
  };
}
