// Pure. The Engine interface every engine file implements, and the checks of engine flags against the vendored flag
// tables (data/*.json, read from the engines' source). Performs no I/O.
import type { ModelLocation } from '../api/model-source.js';
import { buildOwnedFlagMessage, findOwnedFlag, type OwnedFlag } from '../api/owned-flags.js';
import type { EngineName, KvCacheDtype, LfmDeploymentSpec, WeightFormat } from '../api/v1alpha1.js';

export interface FlagSpec {
  takesValue: boolean;
  choices: string[] | null;
  type?: string;
  aliases?: string[];
  deprecated?: boolean;
  negatable?: boolean;
  /** Spellings that turn a boolean flag off besides --no-NAME (llama.cpp's -nocb, -nkvo...). */
  negativeForms?: string[];
  nargs?: string;
}

export interface EngineTable {
  flags: Record<string, FlagSpec>;
  metrics: Record<string, unknown>;
  defaultPort: number;
}

/** Metric names an engine exports, as the autoscaler reads them. */
export interface EngineMetricNames {
  queueDepth: string;
  running: string;
  promptTokensTotal: string;
  generationTokensTotal: string;
  /** Absent for an engine without a KV-cache usage gauge (llama.cpp). */
  kvCacheUsage?: string;
}

/** The metric names the autoscaler reads, from an engine table's `metrics` (a null KV-usage gauge is left out). */
export function readMetricNames(metrics: Omit<EngineMetricNames, 'kvCacheUsage'> & { kvCacheUsage?: string | null }): EngineMetricNames {
  const { queueDepth, running, promptTokensTotal, generationTokensTotal, kvCacheUsage } = metrics;
  return { queueDepth, running, promptTokensTotal, generationTokensTotal, ...(kvCacheUsage ? { kvCacheUsage } : {}) };
}

/** How often a probe asks and how long it waits for an answer, in seconds. */
export interface ProbeTiming { periodSeconds: number; timeoutSeconds: number }

export interface ComputeCapability { major: number; minor: number }

/**
 * What the planner needs to know of an engine, as data (the engines come before sizing in the layer order, so an
 * engine describes itself and src/sizing does the arithmetic).
 */
export interface EngineSizing {
  /**
   * How a replica is sized: 'checkpoint' = a safetensors checkpoint over tensor x pipeline x data GPUs
   * (src/sizing/fit.ts); 'gguf' = one GGUF file on CPU or on one GPU, experts possibly in host RAM (src/sizing/gguf.ts).
   */
  planner: 'checkpoint' | 'gguf';
  /** Whether a replica runs without a GPU (spec.gpu unset, sized by spec.cpu). */
  runsOnCpu: boolean;
  /**
   * Tokens of the KV page each convolution layer's state is padded to: vLLM keeps hybrid models' conv state in
   * attention-sized pages of its block size (16); 0 = a pool of its own, no padding (SGLang).
   */
  convStatePageTokens: number;
  /** FP8 weights below compute capability 8.9: the weight-only kernel and the oldest GPU it runs on; absent = refused. */
  fp8WeightOnly?: { kernel: string; minimum: ComputeCapability };
  /** FP4 weight formats with no software kernel below 10.0 on this engine (native FP4 tensor cores only). */
  fp4NativeOnly: readonly WeightFormat[];
}

/**
 * What an engine reads from the plan (src/sizing/plan.ts's Plan has these fields, so a Plan can be passed as is): the
 * sizes the planner settled on, SGLang's derived memory fraction and the checkpoint's own weight format.
 */
export interface ContainerInput {
  maxModelLen: number;
  tensor: number;
  pipeline: number;
  data: number;
  /** SGLang's --mem-fraction-static, derived by the planner; absent = spec.serving.gpuMemoryUtilization. */
  memFractionStatic?: number;
  /** The model's checkpoint format, when the planner resolved the model (online FP8 only from a non-FP8 one). */
  model?: { architecture: { weightFormat: WeightFormat } };
  /** A GGUF engine's sizes, as src/sizing/gguf.ts plans them (GgufPlan has these fields). */
  gguf?: GgufContainerInput;
}

/** What a GGUF engine (llama.cpp) reads from the plan: slots, context, prompt cache, threads and layer placement. */
export interface GgufContainerInput {
  /** --parallel */
  slots: number;
  /** -c: the context of all slots together (maxModelLen x slots). */
  contextTokens: number;
  /** --cache-ram, in MiB (0 = no prompt cache in host RAM). */
  cacheRamMiB: number;
  /** --threads; absent = the engine's default. */
  threads?: number;
  /** --n-gpu-layers: 0 on CPU. */
  gpuLayers: number;
  /** --n-cpu-moe: experts of the first N layers stay in host RAM (0 = none). */
  cpuMoeLayers: number;
}

/**
 * The engine container's writable cache volume (an emptyDir; the root file system is read-only): HOME, XDG_CACHE_HOME
 * and every engine cache below live in it, and the model cache (api/model-source.ts MODEL_CACHE_PATH) is mounted inside.
 */
export const ENGINE_CACHE_PATH = '/cache';

/**
 * What the engines built on PyTorch (vLLM, SGLang) write besides HOME and XDG_CACHE_HOME, pointed into the cache
 * volume: Inductor's compiled kernels (/tmp/torchinductor_$USER by default), Triton's (~/.triton/cache) and
 * FlashInfer's JIT builds (FLASHINFER_WORKSPACE_BASE/.cache/flashinfer, flashinfer/jit/env.py). USER, because torch
 * names its cache directory after getpass.getuser(), which raises for a UID without an /etc/passwd entry, as the
 * pod's UID usually is in an engine image (pytorch/pytorch#140765; TORCHINDUCTOR_CACHE_DIR alone does not avoid every
 * call: vllm-project/vllm#46734).
 */
export const PYTORCH_RUNTIME_ENV: readonly EngineEnvVar[] = [
  { name: 'FLASHINFER_WORKSPACE_BASE', value: `${ENGINE_CACHE_PATH}/flashinfer` },
  { name: 'TORCHINDUCTOR_CACHE_DIR', value: `${ENGINE_CACHE_PATH}/torchinductor` },
  { name: 'TRITON_CACHE_DIR', value: `${ENGINE_CACHE_PATH}/triton` },
  { name: 'USER', value: 'engine' },
];

export interface EngineEnvVar { name: string; value: string }

export interface EngineContainer {
  command?: string[];
  args: string[];
  env: EngineEnvVar[];
}

/**
 * One inference engine: everything the planner, the renderer and the autoscaler need that differs between engines.
 * Adding an engine is a module implementing this and a line in index.ts (plus its API enum value and owned flags).
 */
export interface Engine {
  name: EngineName;
  /** The image the default flag table describes (the CPU build for an engine with two). */
  defaultImage: string;
  /** The default image for replicas with spec.gpu, when it differs from defaultImage (llama.cpp's CUDA build). */
  defaultGpuImage?: string;
  /** Whether the default image tags were confirmed; unknown extraArgs are errors only with a default image. */
  imageVerified: boolean;
  /** Why the default image is unverified, as the plan's warning says it. */
  unverifiedImageReason?: string;
  /** The image's entrypoint when buildContainer renders args only (shown by `lfm-operator plan`). */
  entrypoint: string[];
  port: number;
  table: EngineTable;
  metrics: EngineMetricNames;
  /** Flags the operator renders, with the spec field that sets them (src/api/owned-flags.ts, shared with the CRD). */
  ownedFlags: Readonly<Record<string, OwnedFlag>>;
  /** The engine's value of --kv-cache-dtype / --cache-type-k/v for each spec.kvCacheDtype. */
  kvCacheTypes: Readonly<Record<KvCacheDtype, string>>;
  sizing: EngineSizing;
  startupProbePath: string;
  readinessProbePath: string;
  livenessProbePath: string;
  /** Readiness probe period and timeout (a readiness check that generates a token needs longer). */
  readinessProbeTiming: ProbeTiming;
  /** Whether multiple processes share tensors through /dev/shm (NCCL, multiprocessing), so the pod mounts a memory-backed one. */
  sharedMemory: boolean;
  /** What runs the preStop drain script: the engine image's Python, or a POSIX shell with curl. */
  drainRuntime: 'python3' | 'sh';
  /**
   * The environment the engine needs on a read-only root file system, as a UID its image does not know: its own
   * caches pointed into ENGINE_CACHE_PATH (the renderer sets HOME, XDG_CACHE_HOME and the Hugging Face cache for
   * every engine, and mounts /tmp).
   */
  runtimeEnv: readonly EngineEnvVar[];
  buildContainer(spec: LfmDeploymentSpec, plan: ContainerInput, location: ModelLocation, servedName: string): EngineContainer;
}

export interface ArgProblem { field: string; message: string }

/** Looks a flag up by name or alias; vLLM accepts --foo_bar for --foo-bar and --no-foo for negatable flags. */
export function findFlag(table: EngineTable, raw: string): { name: string; spec: FlagSpec } | undefined {
  const candidates = [raw, raw.replaceAll('_', '-')];
  for (const c of candidates) {
    const direct = table.flags[c];
    if (direct) return { name: c, spec: direct };
    for (const [name, spec] of Object.entries(table.flags)) {
      if (spec.aliases?.includes(c)) return { name, spec };
    }
    if (c.startsWith('--no-')) {
      const positive = table.flags[`--${c.slice(5)}`];
      if (positive?.negatable) return { name: `--${c.slice(5)}`, spec: positive };
    }
  }
  for (const [name, spec] of Object.entries(table.flags)) {
    if (spec.negativeForms?.includes(raw)) return { name, spec };
  }
  return undefined;
}

/**
 * Whether the element after a flag is its value. As argparse reads a command line, an element that looks like a flag
 * never is (so an owned flag cannot hide as the value of another; the CEL rule judges every element alike); a
 * negative number or a lone "-" is a value (https://docs.python.org/3/library/argparse.html#arguments-containing).
 */
function isValue(next: string | undefined): next is string {
  return next !== undefined && (!next.startsWith('-') || next === '-' || /^-\d+$|^-\d*\.\d+$/.test(next) || next.includes(' '));
}

/**
 * Checks extraArgs against the engine's flag table: unknown flags (errors with the default image, warnings with a
 * user-chosen one), flags the operator owns (always errors, naming the field to use, in the words of the CRD's CEL
 * rule: both come from src/api/owned-flags.ts), deprecated flags (warnings) and values outside a flag's choices.
 */
export function checkExtraArgs(engine: Engine, args: readonly string[], strict: boolean): { errors: ArgProblem[]; warnings: string[] } {
  const out = { errors: [] as ArgProblem[], warnings: [] as string[] };
  for (let i = 0; i < args.length; i++) i = checkArg(engine, args, i, strict, out);
  return out;
}

/** The refusal of an element that sets a flag the operator owns, if it does. */
function computeOwnedRefusal(engine: Engine, token: string, found: { name: string } | undefined): string | undefined {
  const owned = findOwnedFlag(engine.name, token);
  if (owned) return owned.message;
  // A spelling the flag table knows but owned-flags.ts lacks (after `make vendor`) is refused too; a unit test then
  // fails until owned-flags.ts, and so the CRD, lists it.
  const byTable = found && engine.ownedFlags[found.name];
  return byTable ? buildOwnedFlagMessage(token.split('=')[0] ?? token, byTable.use) : undefined;
}

/** Checks the flag at args[i] and its value; returns the index of the last element it read. */
function checkArg(engine: Engine, args: readonly string[], i: number, strict: boolean, out: { errors: ArgProblem[]; warnings: string[] }): number {
  const token = args[i] ?? '';
  const field = `spec.engine.extraArgs[${i}]`;
  if (!token.startsWith('-')) {
    out.errors.push({ field, message: `"${token}" is not a flag and follows no flag that takes a value: write flags as --name or --name=value` });
    return i;
  }
  const eq = token.indexOf('=');
  const name = eq >= 0 ? token.slice(0, eq) : token;
  const found = findFlag(engine.table, name);
  const takesValue = found !== undefined && found.spec.takesValue && !name.startsWith('--no-');
  const last = takesValue && eq < 0 && isValue(args[i + 1]) ? i + 1 : i;
  const refusal = computeOwnedRefusal(engine, token, found);
  if (refusal) {
    out.errors.push({ field, message: refusal });
    return last;
  }
  if (!found) {
    const msg = `${name} is not a ${engine.name} flag in the version the operator knows`;
    if (strict) out.errors.push({ field, message: `${msg}: remove it, or check its spelling` });
    else out.warnings.push(`${field}: ${msg} (allowed because spec.engine.image is not the default image)`);
    return i;
  }
  if (found.spec.deprecated) out.warnings.push(`${field}: ${name} is deprecated in ${engine.name}`);
  if (!takesValue) return i;
  const value = eq >= 0 ? token.slice(eq + 1) : args[last];
  if (last === i && eq < 0) {
    out.errors.push({ field, message: `${name} needs a value: write ${name}=VALUE or put the value in the next element` });
  } else if (found.spec.choices && !found.spec.choices.map(String).includes(value ?? '')) {
    out.errors.push({ field, message: `${value} is not a choice of ${name}: use one of ${found.spec.choices.join(', ')}` });
  }
  return last;
}

/** Formats a number for a command line without float noise (0.8160000001 -> 0.816). */
export function formatNumber(x: number): string {
  return String(Math.round(x * 1000) / 1000);
}
