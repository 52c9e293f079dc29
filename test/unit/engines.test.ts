import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CPU_ENGINES, ENGINE_NAMES, ENGINE_QUANTIZATIONS, GGUF_QUANTS, LfmDeployment } from '../../src/api/v1alpha1.js';
import { checkExtraArgs, ENGINES, findFlag, type Engine, type EngineTable } from '../../src/engines/index.js';
import { LLAMA_CACHE, LLAMACPP_DEFAULT_GPU_IMAGE, LLAMACPP_DEFAULT_IMAGE } from '../../src/engines/llamacpp.js';
import { buildPlanReport, type PlanReport } from '../../src/render/plan-report.js';
import { lfmDeployment, llamaCppCpuDeployment } from '../support/builders.js';

/** The oracle: ../shared/engines/*.json as vendored; every token of a command line must be accepted by it. */
function assertAcceptedBy(table: EngineTable, args: readonly string[], positionalFirst: boolean): void {
  let i = positionalFirst ? 1 : 0;
  for (; i < args.length; i++) {
    const token = args[i]!;
    expect(token.startsWith('--'), `${token} is a flag`).toBe(true);
    const flag = findFlag(table, token.split('=')[0]!);
    expect(flag, `${token} exists`).toBeDefined();
    expect(flag!.spec.deprecated ?? false, `${token} is not deprecated`).toBe(false);
    if (flag!.spec.takesValue) {
      const value = args[++i];
      expect(value, `${token} has a value`).toBeDefined();
      if (flag!.spec.choices) expect(flag!.spec.choices.map(String), `${token} ${value}`).toContain(value);
      if (flag!.spec.type === 'int') expect(Number.isInteger(Number(value)), `${token} ${value} is an int`).toBe(true);
      if (flag!.spec.type === 'float') expect(Number.isFinite(Number(value)), `${token} ${value} is a float`).toBe(true);
    }
  }
}

const variants = [
  ['FP8 tensor 1', lfmDeployment().quantization('FP8').tensor(1)],
  ['BF16 tensor 2 expert parallel', lfmDeployment().tensor(2).expert()],
  ['FP8 KV, max sequences, pipeline 2, data 2', lfmDeployment().kvCacheDtype('FP8').pipeline(2).data(2).tensor(2)],
  ['revision and extra args', lfmDeployment().model('hf://LiquidAI/LFM2-24B-A2B@main')],
  ['pvc source', lfmDeployment().model('pvc://models/lfm2-24b').tensor(1)],
  ['gpt-oss MXFP4 as published', lfmDeployment().model('hf://openai/gpt-oss-20b').quantization('MXFP4')],
] as const;

/** The engines that serve safetensors checkpoints on GPUs; the GGUF engine (llama.cpp) has its own cases below. */
const CHECKPOINT_ENGINES = ENGINE_NAMES.filter((e) => ENGINES[e].sizing.planner === 'checkpoint');
const EXAMPLES = readdirSync('examples').filter((f) => f.endsWith('.yaml'));
const readExample = (file: string) => LfmDeployment.parse(parse(readFileSync(`examples/${file}`, 'utf8')));
const examplesOf = (planner: Engine['sizing']['planner']) => EXAMPLES.filter((f) => ENGINES[readExample(f).spec.engine.name].sizing.planner === planner);

describe.each(CHECKPOINT_ENGINES)('%s command lines are accepted by the engine flag table', (engineName) => {
  const engine = ENGINES[engineName];
  it.each(variants)('%s', (_name, builder) => {
    const report = buildPlanReport(builder.engine(engineName).build());
    assertAcceptedBy(engine.table, report.args, engineName === 'VLLM');
  });

  it.each(examplesOf('checkpoint'))('examples/%s', (file) => {
    const doc = readExample(file);
    const report = buildPlanReport({ ...doc, spec: { ...doc.spec, engine: { ...doc.spec.engine, name: engineName, extraArgs: [] } } });
    assertAcceptedBy(engine.table, report.args, engineName === 'VLLM');
  });

  it('maps every API quantization the engine takes onto an accepted --quantization choice', () => {
    for (const q of ENGINE_QUANTIZATIONS[engineName]) {
      const b = lfmDeployment().engine(engineName).quantization(q);
      const report = buildPlanReport(b.build());
      const i = report.args.indexOf('--quantization');
      if (i >= 0) expect(engine.table.flags['--quantization']!.choices).toContain(report.args[i + 1]);
    }
  });

  it('owns only flags that exist, so the ownership check is real', () => {
    for (const flag of Object.keys(engine.ownedFlags)) expect(findFlag(engine.table, flag), flag).toBeDefined();
  });
});

/** LFM2-24B-A2B Q4_0 from its GGUF repository with llama.cpp, on the builder's GPU (H100) unless changed. */
const ggufOnGpu = () => lfmDeployment().engine('LlamaCpp').model('hf://LiquidAI/LFM2-24B-A2B-GGUF').quantization('Q4_0');
/** A parsed resource with one spec edit the builder has no method for. */
function edited(b: ReturnType<typeof lfmDeployment>, edit: (spec: LfmDeployment['spec']) => void): LfmDeployment {
  const lfmd = b.build();
  edit(lfmd.spec);
  return lfmd;
}

const llamaVariants: [string, LfmDeployment][] = [
  ['CPU, Q4_0, as many slots as fit', llamaCppCpuDeployment().build()],
  ['CPU, 4 slots of 32768', llamaCppCpuDeployment().maxModelLen(32768).serving({ maxConcurrentSequences: 4 }).build()],
  ['CPU, Q8_0 with an FP8 (q8_0) KV cache', llamaCppCpuDeployment().quantization('Q8_0').kvCacheDtype('FP8').cpu({ memoryGiB: 32, cores: 16 }).build()],
  ['CPU, Q8_0 that does not fit 16 GiB', llamaCppCpuDeployment().quantization('Q8_0').cpu({ memoryGiB: 16, cores: 4 }).build()],
  ['L4, every layer on the GPU', ggufOnGpu().gpu('l4-24gb').serving({ maxConcurrentSequences: 4 }).build()],
  ['T4, experts of the first layers in host RAM', ggufOnGpu().gpu('t4-16gb').serving({ maxConcurrentSequences: 4 }).cpu({ memoryGiB: 24, cores: 8 }).build()],
  ['a named file', llamaCppCpuDeployment().file('LFM2-24B-A2B-Q4_0.gguf').build()],
  ['a revision and its file (by URL)', llamaCppCpuDeployment().model('hf://LiquidAI/LFM2-24B-A2B-GGUF@main').file('LFM2-24B-A2B-Q4_0.gguf').build()],
  ['a GGUF file on a claim', edited(llamaCppCpuDeployment().model('pvc://models/lfm2/LFM2-24B-A2B-Q4_0.gguf'), (s) => { s.model.catalogName = 'LiquidAI/LFM2-24B-A2B'; })],
  ['a PersistentVolumeClaim cache (offline)', llamaCppCpuDeployment().cache('hf-cache').build()],
  ['a token and extra flags', llamaCppCpuDeployment().credentials('hf').extraArgs('--jinja', '--batch-size', '1024', '--no-cont-batching').build()],
  ...GGUF_QUANTS.map((q): [string, LfmDeployment] => [`every GGUF type: ${q}`, llamaCppCpuDeployment().quantization(q).cpu({ memoryGiB: 64, cores: 16 }).build()]),
];

describe('LlamaCpp command lines are accepted by the engine flag table (the oracle)', () => {
  const engine = ENGINES.LlamaCpp;
  it.each(llamaVariants)('%s', (_name, lfmd) => {
    assertAcceptedBy(engine.table, buildPlanReport(lfmd).args, false);
  });

  it.each(examplesOf('gguf'))('examples/%s', (file) => {
    const report = buildPlanReport(readExample(file));
    // The examples named does-not-fit are refused on purpose (make demo shows their arithmetic); the rest fit.
    expect(report.fits, JSON.stringify(report.reasons)).toBe(!file.includes('does-not-fit'));
    if (!report.fits) return;
    assertAcceptedBy(engine.table, report.args, false);
  });

  it('is a registered engine that runs on CPU and serves the GGUF types only, as the API says', () => {
    for (const name of ENGINE_NAMES) expect(ENGINES[name].sizing.runsOnCpu, name).toBe(CPU_ENGINES.includes(name));
    for (const name of ENGINE_NAMES) expect(ENGINES[name].name).toBe(name);
    expect(ENGINE_QUANTIZATIONS.LlamaCpp).toEqual(GGUF_QUANTS);
    expect(engine.sizing.planner).toBe('gguf');
  });
});

describe('LlamaCpp specifics', () => {
  const report = (lfmd: LfmDeployment) => buildPlanReport(lfmd);
  /** The value after a flag (or undefined), and whether the flag is there at all. */
  const valueOf = (r: PlanReport, flag: string) => r.args[r.args.indexOf(flag) + 1];

  it('CPU: every setting whose default moved between builds is explicit, sized from the plan', () => {
    const r = report(llamaCppCpuDeployment().maxModelLen(32768).serving({ maxConcurrentSequences: 4 }).build());
    expect(r.command).toEqual(['llama-server']);
    expect(r.image).toBe(LLAMACPP_DEFAULT_IMAGE);
    const a = r.args.join(' ');
    expect(a).toContain('--host 0.0.0.0 --port 8080');
    expect(a).toContain('--hf-repo LiquidAI/LFM2-24B-A2B-GGUF:Q4_0');
    expect(a).toContain('--alias lfm2-24b-a2b-cpu');
    expect(valueOf(r, '--parallel')).toBe('4');
    expect(valueOf(r, '--ctx-size')).toBe(String(4 * 32768));
    expect(valueOf(r, '--n-gpu-layers')).toBe('0');
    expect(r.args).not.toContain('--n-cpu-moe');
    expect(valueOf(r, '--threads')).toBe('8');
    expect(valueOf(r, '--flash-attn')).toBe('auto');
    expect(valueOf(r, '--cache-type-k')).toBe('f16');
    expect(valueOf(r, '--cache-ram')).toBe(String(r.gguf!.cacheRamMiB));
    expect(r.args).toContain('--metrics');
    expect(r.args).not.toContain('--offline');
  });

  it('an FP8 KV cache is q8_0 for K and V, with flash attention on (a quantized V cache needs it)', () => {
    const r = report(llamaCppCpuDeployment().kvCacheDtype('FP8').build());
    expect([valueOf(r, '--cache-type-k'), valueOf(r, '--cache-type-v'), valueOf(r, '--flash-attn')]).toEqual(['q8_0', 'q8_0', 'on']);
  });

  it('a GPU: the CUDA image, every layer on the GPU, and on a T4 the experts of the first layers in host RAM', () => {
    const l4 = report(ggufOnGpu().gpu('l4-24gb').serving({ maxConcurrentSequences: 4 }).build());
    expect(l4.image).toBe(LLAMACPP_DEFAULT_GPU_IMAGE);
    expect(valueOf(l4, '--n-gpu-layers')).toBe('41');
    expect(l4.args).not.toContain('--n-cpu-moe');
    const t4 = report(ggufOnGpu().gpu('t4-16gb').serving({ maxConcurrentSequences: 4 }).cpu({ memoryGiB: 24, cores: 8 }).build());
    expect(valueOf(t4, '--n-gpu-layers')).toBe('41');
    expect(Number(valueOf(t4, '--n-cpu-moe'))).toBe(t4.gguf!.cpuMoeLayers);
    expect(t4.gguf!.cpuMoeLayers).toBeGreaterThan(0);
    expect(valueOf(t4, '--threads')).toBe('8');
  });

  it.each([
    ['a file of the repository by name', llamaCppCpuDeployment().file('LFM2-24B-A2B-Q4_0.gguf').build(), '--hf-repo LiquidAI/LFM2-24B-A2B-GGUF --hf-file LFM2-24B-A2B-Q4_0.gguf'],
    ['the file of a revision, by URL', llamaCppCpuDeployment().model('hf://LiquidAI/LFM2-24B-A2B-GGUF@abc123').file('LFM2-24B-A2B-Q4_0.gguf').build(), '--model-url https://huggingface.co/LiquidAI/LFM2-24B-A2B-GGUF/resolve/abc123/LFM2-24B-A2B-Q4_0.gguf'],
    ['a file on a claim', edited(llamaCppCpuDeployment().model('pvc://models/gguf/LFM2-24B-A2B-Q4_0.gguf'), (s) => { s.model.catalogName = 'LiquidAI/LFM2-24B-A2B'; }), '--model /models/gguf/LFM2-24B-A2B-Q4_0.gguf'],
    ['a PersistentVolumeClaim cache, read offline', llamaCppCpuDeployment().cache('hf-cache').build(), '--offline'],
  ] as const)('the model: %s', (_name, lfmd, expected) => {
    const r = report(lfmd);
    expect(r.invalid, JSON.stringify(r.reasons)).toBe(false);
    expect(r.args.join(' ')).toContain(expected);
  });

  it('downloads into LLAMA_CACHE inside the model cache; the token stays out of the command line', () => {
    const lfmd = llamaCppCpuDeployment().credentials('hf').build();
    const container = ENGINES.LlamaCpp.buildContainer(lfmd.spec, buildPlanReport(lfmd).plan, { model: 'LiquidAI/LFM2-24B-A2B-GGUF' }, 'x');
    expect(container.env).toEqual([{ name: 'LLAMA_CACHE', value: LLAMA_CACHE }]);
    expect(LLAMA_CACHE.startsWith('/cache/huggingface/')).toBe(true);
    expect(container.args.join(' ')).not.toMatch(/token|HF_TOKEN|--hf-token|-hft/i);
  });

  it('names llama-server\'s metrics (unlabelled, no KV-cache gauge)', () => {
    expect(ENGINES.LlamaCpp.metrics).toEqual({
      queueDepth: 'llamacpp:requests_deferred', running: 'llamacpp:requests_processing',
      promptTokensTotal: 'llamacpp:prompt_tokens_total', generationTokensTotal: 'llamacpp:tokens_predicted_total',
    });
  });

  it('warns that the default image tags are unverified, and makes unknown extra flags errors with it', () => {
    const r = report(llamaCppCpuDeployment().extraArgs('--turbo').build());
    expect(r.warnings.join('\n')).toContain(`the default LlamaCpp image ${LLAMACPP_DEFAULT_IMAGE} is unverified`);
    expect(r.invalid).toBe(true);
    expect(r.reasons.map((x) => x.message).join('\n')).toContain('--turbo is not a LlamaCpp flag');
    expect(report(llamaCppCpuDeployment().image('registry.example/llama.cpp:server').extraArgs('--turbo').build()).invalid).toBe(false);
  });
});

describe('engine specifics', () => {
  const args = (b: ReturnType<typeof lfmDeployment>) => buildPlanReport(b.build());
  it('vLLM: model first, no "serve" (the image entrypoint has it), fp8 KV as "fp8"', () => {
    const r = args(lfmDeployment().quantization('FP8').kvCacheDtype('FP8').tensor(1));
    expect(r.args[0]).toBe('LiquidAI/LFM2-24B-A2B');
    expect(r.args).not.toContain('serve');
    expect(r.command).toEqual(['vllm', 'serve']);
    expect(r.args.join(' ')).toContain('--kv-cache-dtype fp8');
    expect(r.args.join(' ')).toContain('--quantization fp8');
  });
  it('SGLang: host 0.0.0.0, metrics on, fp8_e4m3 KV, derived mem-fraction-static below the utilization', () => {
    const r = args(lfmDeployment().engine('SGLang').kvCacheDtype('FP8').tensor(1));
    const a = r.args.join(' ');
    expect(a).toContain('--host 0.0.0.0');
    expect(a).toContain('--enable-metrics');
    expect(a).toContain('--kv-cache-dtype fp8_e4m3');
    const frac = Number(r.args[r.args.indexOf('--mem-fraction-static') + 1]);
    expect(frac).toBeGreaterThan(0.7);
    expect(frac).toBeLessThan(0.9);
  });
  it('SGLang expert parallelism is --ep-size, never the deprecated --enable-ep-moe', () => {
    const r = args(lfmDeployment().engine('SGLang').tensor(2).expert());
    expect(r.args.join(' ')).toContain('--ep-size 2');
    expect(r.args).not.toContain('--enable-ep-moe');
  });
  it('does not force --quantization for a checkpoint that carries its own (vLLM picks the fast kernel)', () => {
    expect(args(lfmDeployment().model('hf://openai/gpt-oss-20b').quantization('MXFP4')).args).not.toContain('--quantization');
  });
});

describe('checkExtraArgs', () => {
  const vllm: Engine = ENGINES.VLLM;
  it.each([
    ['a known flag', ['--enable-prefix-caching'], 0, 0],
    ['a known flag with a value', ['--max-num-batched-tokens', '8192'], 0, 0],
    ['a choice', ['--block-size=32'], 0, 0],
    ['an owned flag', ['--tensor-parallel-size', '2'], 1, 0],
    ['an owned flag by alias', ['-tp', '2'], 1, 0],
    ['an unknown flag', ['--turbo'], 1, 0],
    ['a deprecated flag', ['--disable-log-requests'], 0, 1],
    ['a value outside the choices', ['--dtype', 'int3'], 1, 0],
    ['a stray value', ['hello'], 1, 0],
  ])('%s', (_name, extra, errors, warnings) => {
    const result = checkExtraArgs(vllm, extra, true);
    expect(result.errors.length, JSON.stringify(result)).toBe(errors);
    expect(result.warnings.length, JSON.stringify(result)).toBe(warnings);
  });

  it('names the field to use instead of an owned flag', () => {
    expect(checkExtraArgs(vllm, ['--max-model-len=4096'], true).errors[0]!.message).toContain('spec.serving.maxModelLen');
  });

  it('makes an unknown flag a warning with a user-chosen image', () => {
    const report = buildPlanReport(lfmDeployment().image('registry.example/vllm:nightly').extraArgs('--turbo').build());
    expect(report.invalid).toBe(false);
    expect(report.warnings.join('\n')).toContain('--turbo is not a VLLM flag');
    const strict = buildPlanReport(lfmDeployment().extraArgs('--turbo').build());
    expect(strict.invalid).toBe(true);
  });
});
