// Pure. SGLang: its command, probes and metric names (flag table in data/sglang.json). Performs no I/O.
// SGLang listens on 127.0.0.1 unless told otherwise and exports no metrics without --enable-metrics; its
// --mem-fraction-static covers weights and KV only, so it is derived from the plan rather than copied.
import { OWNED_FLAGS } from '../api/owned-flags.js';
import table from './data/sglang.json' with { type: 'json' };
import { ENGINE_CACHE_PATH, PYTORCH_RUNTIME_ENV, formatNumber, readMetricNames, type Engine, type EngineTable } from './engine.js';

// A 2026 release with native LFM2-MoE support (PR sgl-project/sglang#17997); not confirmed against a registry here.
export const SGLANG_DEFAULT_IMAGE = 'lmsysorg/sglang:v0.5.9-cu129';
const COMMAND = ['python3', '-m', 'sglang.launch_server'];
// SGLang has no plain "fp8" KV value (unlike vLLM): e4m3 is the accurate one.
const KV_CACHE_TYPES = { Auto: 'auto', FP8: 'fp8_e4m3' } as const;

export const sglang: Engine = {
  name: 'SGLang',
  defaultImage: SGLANG_DEFAULT_IMAGE,
  imageVerified: false,
  unverifiedImageReason: 'no release with LFM2-MoE support was confirmed here',
  entrypoint: COMMAND,
  port: table.defaultPort,
  table: table as unknown as EngineTable,
  metrics: readMetricNames(table.metrics),
  ownedFlags: OWNED_FLAGS.SGLang,
  kvCacheTypes: KV_CACHE_TYPES,
  sizing: {
    planner: 'checkpoint',
    runsOnCpu: false,
    // SGLang keeps the conv state in a pool of its own, unpadded.
    convStatePageTokens: 0,
    // No weight-only FP8 fallback below 8.9, and NVFP4 only on native FP4 tensor cores.
    fp4NativeOnly: ['NVFP4'],
  },
  startupProbePath: table.healthPath,
  // /health_generate runs a one-token generation (skipped while the server is busy): a real readiness signal, given
  // more time than a plain health check.
  readinessProbePath: table.readinessPath,
  livenessProbePath: table.healthPath,
  readinessProbeTiming: { periodSeconds: 10, timeoutSeconds: 10 },
  sharedMemory: true,
  drainRuntime: 'python3',
  // python/sglang/srt/environ.py: SGLANG_CACHE_DIR (~/.cache/sglang) holds its torch.compile and JIT kernel caches;
  // DeepGEMM's JIT kernels go to SGLANG_DG_CACHE_DIR (~/.cache/deep_gemm in v0.5, below SGLANG_CACHE_DIR later).
  runtimeEnv: [
    ...PYTORCH_RUNTIME_ENV,
    { name: 'SGLANG_CACHE_DIR', value: `${ENGINE_CACHE_PATH}/sglang` },
    { name: 'SGLANG_DG_CACHE_DIR', value: `${ENGINE_CACHE_PATH}/sglang/deep_gemm` },
  ],
  buildContainer(spec, plan, location, servedName) {
    const args = ['--model-path', location.model, '--served-model-name', servedName, '--host', '0.0.0.0', '--port', String(table.defaultPort), '--enable-metrics'];
    if (location.revision) args.push('--revision', location.revision);
    args.push('--context-length', String(plan.maxModelLen));
    args.push('--mem-fraction-static', formatNumber(plan.memFractionStatic ?? spec.serving.gpuMemoryUtilization));
    args.push('--tp-size', String(plan.tensor));
    if (plan.pipeline > 1) args.push('--pp-size', String(plan.pipeline));
    if (plan.data > 1) args.push('--dp-size', String(plan.data));
    // --enable-ep-moe is deprecated: expert parallelism is --ep-size equal to the tensor size.
    if (spec.parallelism.expert) args.push('--ep-size', String(plan.tensor));
    if (spec.quantization === 'FP8' && plan.model?.architecture.weightFormat !== 'FP8') args.push('--quantization', 'fp8');
    if (spec.quantization === 'W8A8Int8') args.push('--quantization', 'w8a8_int8');
    if (spec.kvCacheDtype === 'FP8') args.push('--kv-cache-dtype', KV_CACHE_TYPES.FP8);
    if (spec.serving.maxConcurrentSequences) args.push('--max-running-requests', String(spec.serving.maxConcurrentSequences));
    args.push(...(spec.engine.extraArgs ?? []));
    return { command: [...COMMAND], args, env: [] };
  },
};
