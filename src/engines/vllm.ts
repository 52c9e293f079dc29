// Pure. vLLM: its container arguments, probes and metric names (flag table in data/vllm.json). Performs no I/O.
// The vllm/vllm-openai image's entrypoint is already `vllm serve`, so only args are rendered: repeating `serve`
// makes argparse fail with "unrecognized arguments: serve".
import { OWNED_FLAGS } from '../api/owned-flags.js';
import table from './data/vllm.json' with { type: 'json' };
import { ENGINE_CACHE_PATH, PYTORCH_RUNTIME_ENV, formatNumber, readMetricNames, type Engine, type EngineTable } from './engine.js';

export const VLLM_DEFAULT_IMAGE = 'vllm/vllm-openai:v0.11.2';
/** vLLM's default KV block size, in tokens: hybrid models' conv state is kept in pages of this many tokens of KV. */
export const VLLM_BLOCK_TOKENS = 16;
const KV_CACHE_TYPES = { Auto: 'auto', FP8: 'fp8' } as const;

export const vllm: Engine = {
  name: 'VLLM',
  defaultImage: VLLM_DEFAULT_IMAGE,
  imageVerified: true,
  entrypoint: ['vllm', 'serve'],
  port: table.defaultPort,
  table: table as unknown as EngineTable,
  metrics: readMetricNames(table.metrics),
  ownedFlags: OWNED_FLAGS.VLLM,
  kvCacheTypes: KV_CACHE_TYPES,
  sizing: {
    planner: 'checkpoint',
    runsOnCpu: false,
    convStatePageTokens: VLLM_BLOCK_TOKENS,
    // Below 8.9 vLLM serves FP8 checkpoints weight-only through its FP8 Marlin kernel (16-bit compute), from 8.0.
    fp8WeightOnly: { kernel: 'FP8 Marlin', minimum: { major: 8, minor: 0 } },
    fp4NativeOnly: [],
  },
  startupProbePath: table.healthPath,
  readinessProbePath: table.readinessPath,
  livenessProbePath: table.healthPath,
  readinessProbeTiming: { periodSeconds: 5, timeoutSeconds: 5 },
  sharedMemory: true,
  drainRuntime: 'python3',
  // vllm/envs.py: VLLM_CACHE_ROOT holds torch.compile's cache (torch_compile_cache/) and downloaded assets;
  // VLLM_CONFIG_ROOT the usage-stats file vLLM writes at start.
  runtimeEnv: [
    ...PYTORCH_RUNTIME_ENV,
    { name: 'VLLM_CACHE_ROOT', value: `${ENGINE_CACHE_PATH}/vllm` },
    { name: 'VLLM_CONFIG_ROOT', value: `${ENGINE_CACHE_PATH}/vllm-config` },
  ],
  buildContainer(spec, plan, location, servedName) {
    const args = [location.model, '--served-model-name', servedName, '--port', String(table.defaultPort)];
    if (location.revision) args.push('--revision', location.revision);
    args.push('--max-model-len', String(plan.maxModelLen));
    args.push('--gpu-memory-utilization', formatNumber(spec.serving.gpuMemoryUtilization));
    args.push('--tensor-parallel-size', String(plan.tensor));
    if (plan.pipeline > 1) args.push('--pipeline-parallel-size', String(plan.pipeline));
    if (plan.data > 1) args.push('--data-parallel-size', String(plan.data));
    if (spec.parallelism.expert) args.push('--enable-expert-parallel');
    // Only online FP8 is named: for a quantized checkpoint vLLM reads the method from its config and picks the fast
    // kernel (awq_marlin, gptq_marlin); forcing `--quantization awq` would select the slow one.
    if (spec.quantization === 'FP8' && plan.model?.architecture.weightFormat !== 'FP8') args.push('--quantization', 'fp8');
    if (spec.kvCacheDtype === 'FP8') args.push('--kv-cache-dtype', KV_CACHE_TYPES.FP8);
    if (spec.serving.maxConcurrentSequences) args.push('--max-num-seqs', String(spec.serving.maxConcurrentSequences));
    args.push(...(spec.engine.extraArgs ?? []));
    return { args, env: [] };
  },
};
