import { describe, expect, it } from 'vitest';
import { lookupGpu } from '../../src/catalog/gpus.js';
import { CATALOG_MODELS, lookupModel } from '../../src/catalog/models.js';
import { computeFit } from '../../src/sizing/fit.js';
import { computePlan } from '../../src/sizing/plan.js';
import { lfmDeployment } from '../support/builders.js';

describe('catalog arithmetic against the catalog README figures', () => {
  it.each([
    ['LiquidAI/LFM2-24B-A2B', 20480, 245760],
    ['LiquidAI/LFM2-8B-A1B', 12288, 147456],
    ['Qwen/Qwen3-30B-A3B', 98304, 0],
    ['openai/gpt-oss-20b', 24576, 0],
  ])('%s: %i KV bytes per token (bf16), %i bytes of conv state per sequence', (id, kv, state) => {
    const model = lookupModel(id)!;
    const fit = computeFit({
      architecture: model.architecture, engine: 'SGLang', gpu: lookupGpu('h100-sxm-80gb')!, servedFormat: model.architecture.weightFormat,
      kvBytes: 2, tensor: 1, pipeline: 1, data: 1, expert: false, maxModelLen: 8192, gpuMemoryUtilization: 0.9,
    });
    expect(fit.kvBytesPerToken).toBe(kv);
    expect(fit.stateBytesPerSequence).toBe(state);
  });

  it('computes gpt-oss-20b MXFP4 weights within 3% of the real checkpoint size', () => {
    const m = lookupModel('openai/gpt-oss-20b')!;
    const fit = computeFit({
      architecture: m.architecture, engine: 'VLLM', gpu: lookupGpu('h100-sxm-80gb')!, servedFormat: 'MXFP4',
      kvBytes: 2, tensor: 1, pipeline: 1, data: 1, expert: false, maxModelLen: 8192, gpuMemoryUtilization: 0.9,
    });
    expect(fit.weightsGiBPerGpu * 1024 ** 3).toBeGreaterThan(m.weightFileBytes * 0.97);
    expect(fit.weightsGiBPerGpu * 1024 ** 3).toBeLessThan(m.weightFileBytes * 1.03);
  });

  it('vendors at least the four models and the GPUs the issue names', () => {
    expect([...CATALOG_MODELS.keys()]).toEqual(expect.arrayContaining(['liquidai/lfm2-24b-a2b', 'liquidai/lfm2-8b-a1b', 'qwen/qwen3-30b-a3b-instruct-2507', 'openai/gpt-oss-20b']));
    for (const id of ['h200-sxm-141gb', 'h100-sxm-80gb', 'a100-sxm4-80gb', 'a100-sxm4-40gb', 'l40s-48gb', 'l4-24gb', 'a10g-24gb']) {
      expect(lookupGpu(id), id).toBeDefined();
    }
    expect(lookupGpu('h100-sxm-80gb')!.productLabel).toBe('NVIDIA-H100-80GB-HBM3');
    expect(lookupGpu('l4-24gb')!.usableGiB).toBeCloseTo(23034 / 1024 - 0.5, 2);
  });
});

describe('computePlan', () => {
  it('LFM2-24B-A2B FP8 on one H100 (vLLM) matches DESIGN.md §2 within rounding', () => {
    const plan = computePlan(lfmDeployment().quantization('FP8').tensor(1).build().spec);
    expect(plan.fits).toBe(true);
    expect(plan.gpusPerReplica).toBe(1);
    expect(plan.kvBytesPerToken).toBe(20480);
    expect(plan.weightsGiBPerGpu).toBeGreaterThan(22);
    expect(plan.weightsGiBPerGpu).toBeLessThan(24);
    expect(plan.kvCacheGiBPerGpu).toBeGreaterThan(40);
    expect(plan.kvCacheGiBPerGpu).toBeLessThan(43);
    expect(plan.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(60);
    expect(plan.maxSequencesAtMaxLen).toBeLessThanOrEqual(70);
  });

  it('an FP8 KV cache halves the bytes per token and roughly doubles the sequences', () => {
    const auto = computePlan(lfmDeployment().quantization('FP8').build().spec);
    const fp8 = computePlan(lfmDeployment().quantization('FP8').kvCacheDtype('FP8').build().spec);
    expect(fp8.kvBytesPerToken).toBe(auto.kvBytesPerToken! / 2);
    expect(fp8.maxSequencesAtMaxLen).toBeGreaterThan(auto.maxSequencesAtMaxLen! * 1.8);
  });

  it('refuses BF16 LFM2-24B-A2B on one L4 with the arithmetic in the reason', () => {
    const plan = computePlan(lfmDeployment().gpu('l4-24gb').tensor(1).build().spec);
    expect(plan.fits).toBe(false);
    expect(plan.invalid).toBe(false);
    expect(plan.reasons).toHaveLength(1);
    expect(plan.reasons[0]!.field).toBe('spec.gpu.type');
    expect(plan.reasons[0]!.message).toMatch(/19\.79 GiB to use .*BF16 weights take 44\.\d+ GiB/);
  });

  it.each([
    ['BF16 on H100 fits at tensor 1', 'h100-sxm-80gb', 'None', 1],
    ['BF16 on L40S needs tensor 2', 'l40s-48gb', 'None', 2],
    ['BF16 on L4 needs tensor 4', 'l4-24gb', 'None', 4],
    ['FP8 on L4 needs tensor 2', 'l4-24gb', 'FP8', 2],
  ] as const)('picks the smallest tensor size when unset: %s', (_name, gpu, q, tensor) => {
    const plan = computePlan(lfmDeployment().gpu(gpu).quantization(q).build().spec);
    expect(plan.fits).toBe(true);
    expect(plan.tensor).toBe(tensor);
    expect(plan.gpusPerReplica).toBe(tensor);
    expect(plan.warnings.join('\n')).toContain(`the planner chose ${tensor}`);
  });

  it.each([
    ['tensor 3 does not divide 32 heads', (b: ReturnType<typeof lfmDeployment>) => b.tensor(3), 'spec.parallelism.tensor', /does not divide the 32 attention heads/],
    ['AWQ against a BF16 checkpoint', (b: ReturnType<typeof lfmDeployment>) => b.quantization('AWQ'), 'spec.quantization', /must match the checkpoint, which is BF16/],
    ['FP8 on a T4 (compute capability 7.5)', (b: ReturnType<typeof lfmDeployment>) => b.gpu('t4-16gb').quantization('FP8').tensor(8), 'spec.quantization', /FP8 needs compute capability 8\.9/],
    ['FP8 on an A100 with SGLang', (b: ReturnType<typeof lfmDeployment>) => b.gpu('a100-sxm4-80gb').engine('SGLang').quantization('FP8'), 'spec.quantization', /FP8 needs compute capability 8\.9 or newer with SGLang/],
    ['maxModelLen beyond the positions', (b: ReturnType<typeof lfmDeployment>) => b.maxModelLen(200000), 'spec.serving.maxModelLen', /exceeds the model's 128000 positions/],
    ['expert parallelism on a dense model', (b: ReturnType<typeof lfmDeployment>) => b.model('hf://LiquidAI/LFM2-2.6B').expert(), 'spec.parallelism.expert', /no routed experts/],
    ['a model outside the catalog without an architecture', (b: ReturnType<typeof lfmDeployment>) => b.model('hf://acme/secret-model'), 'spec.model.source', /not in the catalog: describe it in spec.model.architecture/],
  ])('refuses %s', (_name, edit, field, message) => {
    const plan = computePlan(edit(lfmDeployment()).build().spec);
    expect(plan.fits).toBe(false);
    expect(plan.invalid).toBe(true);
    expect(plan.reasons.map((r) => r.field)).toContain(field);
    expect(plan.reasons.map((r) => r.message).join('\n')).toMatch(message);
  });

  it('warns, but serves, FP8 on an A100 with vLLM (weight-only Marlin)', () => {
    const plan = computePlan(lfmDeployment().gpu('a100-sxm4-80gb').quantization('FP8').build().spec);
    expect(plan.fits).toBe(true);
    expect(plan.warnings.join('\n')).toMatch(/weight-only/);
  });

  it('warns when 64 experts do not spread evenly over 6 GPUs', () => {
    const plan = computePlan(lfmDeployment().tensor(2).data(3).expert().build().spec);
    expect(plan.warnings.join('\n')).toMatch(/64 experts do not spread evenly over 6 GPUs/);
  });

  it('spreads experts over tensor x data GPUs with expert parallelism', () => {
    const dense = computePlan(lfmDeployment().tensor(1).data(4).build().spec);
    const ep = computePlan(lfmDeployment().tensor(1).data(4).expert().build().spec);
    expect(ep.gpusPerReplica).toBe(4);
    expect(ep.weightsGiBPerGpu!).toBeLessThan(dense.weightsGiBPerGpu! / 3);
  });

  it('plans a model outside the catalog from spec.model.architecture', () => {
    const plan = computePlan(lfmDeployment().model('hf://acme/tiny-moe').architecture({
      layers: 16, attentionLayers: 16, attentionHeads: 16, kvHeads: 4, headDim: 64, hiddenSize: 1024,
      experts: 8, expertsPerToken: 2, parameters: 1_000_000_000, expertParameters: 800_000_000, contextLength: 8192,
    }).maxModelLen(8192).build().spec);
    expect(plan.fits).toBe(true);
    expect(plan.kvBytesPerToken).toBe(2 * 16 * 4 * 64 * 2);
    expect(plan.weightsGiBPerGpu).toBeCloseTo(2e9 / 1024 ** 3, 2);
  });

  it('replicates KV heads beyond tensor 8 for Qwen3 (4 KV heads): no more KV per GPU past tensor 4', () => {
    const at4 = computePlan(lfmDeployment().model('hf://Qwen/Qwen3-30B-A3B').tensor(4).maxModelLen(32768).build().spec);
    const at8 = computePlan(lfmDeployment().model('hf://Qwen/Qwen3-30B-A3B').tensor(8).maxModelLen(32768).build().spec);
    expect(at4.kvBytesPerTokenPerGpu).toBe(at8.kvBytesPerTokenPerGpu);
  });
});
