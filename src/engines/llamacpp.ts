// Pure. llama.cpp (llama-server) serving one GGUF file on CPU nodes or on one GPU: its arguments, probes and metric
// names (flag table in data/llamacpp.json). Performs no I/O.
// The official server images' entrypoint is llama-server, so only args are rendered. Every setting whose default
// differs between builds is explicit: --host (127.0.0.1 by default), --port (8080, 9931 on 2026 master after
// ggml-org/llama.cpp#26508), -c (4096 in 2025, "from the model" in 2026), --parallel (1, then auto), --n-gpu-layers,
// --flash-attn with a value (a bare -fa swallows the next token on new builds) and --metrics (off by default).
import { MODEL_CACHE_PATH, type ModelLocation } from '../api/model-source.js';
import { OWNED_FLAGS } from '../api/owned-flags.js';
import type { LfmDeploymentSpec } from '../api/v1alpha1.js';
import table from './data/llamacpp.json' with { type: 'json' };
import { readMetricNames, type ContainerInput, type Engine, type EngineTable, type GgufContainerInput } from './engine.js';

/**
 * A 2026 build (ollama/ollama#18199 bumps to it on 2026-09-02): after b6709, the first with the lfm2moe architecture
 * (ggml-org/llama.cpp#16464), and with the flag forms of data/llamacpp.json (2026 master). The build-pinned tag names
 * follow the README's tag scheme but were not confirmed against ghcr.io, so the plan warns.
 */
export const LLAMACPP_BUILD = 'b10760';
export const LLAMACPP_DEFAULT_IMAGE = `ghcr.io/ggml-org/llama.cpp:server-${LLAMACPP_BUILD}`;
export const LLAMACPP_DEFAULT_GPU_IMAGE = `ghcr.io/ggml-org/llama.cpp:server-cuda-${LLAMACPP_BUILD}`;
/** llama-server's download cache (-hf, -mu), inside the model cache so that a PersistentVolumeClaim cache keeps it. */
export const LLAMA_CACHE = `${MODEL_CACHE_PATH}/llama.cpp`;
/** --cache-type-k/v for spec.kvCacheDtype: f16 is llama.cpp's default; q8_0 (8.5 bits) stands for FP8. */
const KV_CACHE_TYPES = { Auto: 'f16', FP8: 'q8_0' } as const;

/** The model arguments: a file on the claim, a file of the repository by type or by name, or a revision's file by URL. */
function buildModelArgs(spec: LfmDeploymentSpec, location: ModelLocation): string[] {
  if (location.claimName !== undefined) return ['--model', location.model];
  const file = spec.model.file;
  // -hf chooses a file by type on the default branch only; a revision's file is downloaded by its URL instead.
  if (location.revision && file) return ['--model-url', `https://huggingface.co/${location.model}/resolve/${location.revision}/${file}`];
  return file ? ['--hf-repo', location.model, '--hf-file', file] : ['--hf-repo', `${location.model}:${spec.quantization}`];
}

/** The plan's slots, context and placement; unplanned (a spec that does not fit), one slot of maxModelLen. */
function computeSizes(spec: LfmDeploymentSpec, plan: ContainerInput): GgufContainerInput {
  if (plan.gguf) return plan.gguf;
  const slots = spec.serving.maxConcurrentSequences ?? 1;
  return { slots, contextTokens: plan.maxModelLen * slots, cacheRamMiB: 0, gpuLayers: 0, cpuMoeLayers: 0, ...(spec.cpu ? { threads: spec.cpu.cores } : {}) };
}

export const llamacpp: Engine = {
  name: 'LlamaCpp',
  defaultImage: LLAMACPP_DEFAULT_IMAGE,
  defaultGpuImage: LLAMACPP_DEFAULT_GPU_IMAGE,
  imageVerified: false,
  unverifiedImageReason: `the build-pinned tags server-${LLAMACPP_BUILD} and server-cuda-${LLAMACPP_BUILD} were not confirmed against ghcr.io`,
  entrypoint: table.containerImage.entrypoint,
  port: table.defaultPort,
  table: table as unknown as EngineTable,
  // No KV-cache usage gauge in llama.cpp's current builds (llamacpp:kv_cache_usage_ratio was removed).
  metrics: readMetricNames(table.metrics),
  ownedFlags: OWNED_FLAGS.LlamaCpp,
  kvCacheTypes: KV_CACHE_TYPES,
  sizing: { planner: 'gguf', runsOnCpu: true, convStatePageTokens: 0, fp4NativeOnly: [] },
  // /health answers 503 while the model loads (the socket is already open), then 200: startup and readiness alike.
  startupProbePath: table.healthPath,
  readinessProbePath: table.readinessPath,
  livenessProbePath: table.healthPath,
  readinessProbeTiming: { periodSeconds: 5, timeoutSeconds: 5 },
  // One process, no NCCL: no shared-memory volume (data/llamacpp.json kubernetes.devShm).
  sharedMemory: false,
  // The server image has no Python; it has a shell and curl (its own HEALTHCHECK uses curl).
  drainRuntime: 'sh',
  // llama-server writes only its downloads (LLAMA_CACHE, inside the model cache, set by buildContainer) and, in the
  // CUDA build, the driver's JIT cache (~/.nv/ComputeCache, in HOME). It never locks memory unless extraArgs ask for
  // it (--mlock, --load-mode mlock), so no capability is added.
  runtimeEnv: [],
  buildContainer(spec, plan, location, servedName) {
    const sizes = computeSizes(spec, plan);
    const cacheType = KV_CACHE_TYPES[spec.kvCacheDtype];
    const args = ['--host', '0.0.0.0', '--port', String(table.defaultPort), ...buildModelArgs(spec, location), '--alias', servedName];
    args.push('--ctx-size', String(sizes.contextTokens), '--parallel', String(sizes.slots));
    args.push('--n-gpu-layers', String(sizes.gpuLayers));
    if (sizes.cpuMoeLayers > 0) args.push('--n-cpu-moe', String(sizes.cpuMoeLayers));
    if (sizes.threads !== undefined) args.push('--threads', String(sizes.threads));
    // A quantized V cache needs flash attention; otherwise llama.cpp enables it where the backend supports it.
    args.push('--flash-attn', cacheType === 'f16' ? 'auto' : 'on', '--cache-type-k', cacheType, '--cache-type-v', cacheType);
    // The prompt cache lives in host RAM (8192 MiB by default): the planner sets it from the memory left.
    args.push('--cache-ram', String(sizes.cacheRamMiB), '--metrics');
    // A PersistentVolumeClaim cache is read-only and filled beforehand: serve from it without asking the Hub.
    if (spec.model.cache?.type === 'PersistentVolumeClaim' && location.claimName === undefined) args.push('--offline');
    args.push(...(spec.engine.extraArgs ?? []));
    return { args, env: [{ name: 'LLAMA_CACHE', value: LLAMA_CACHE }] };
  },
};
