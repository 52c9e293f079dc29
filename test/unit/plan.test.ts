// The plan of a LlamaCpp resource (src/sizing/plan.ts over src/sizing/gguf.ts): the model from its GGUF repository,
// the weights of the file the quantization chooses, CPU replicas within spec.cpu, one GPU with the experts of the
// first layers in host RAM when it is too small; and the targets for LFM2-24B-A2B.
import { describe, expect, it } from 'vitest';
import { lookupGpu } from '../../src/catalog/gpus.js';
import { lookupModel } from '../../src/catalog/models.js';
import { buildPlanReport, buildPlanStatus } from '../../src/render/plan-report.js';
import { computeFit } from '../../src/sizing/fit.js';
import { computePlan } from '../../src/sizing/plan.js';
import { lfmDeployment, llamaCppCpuDeployment } from '../support/builders.js';

const cpu = (memoryGiB: number, cores = 8) => llamaCppCpuDeployment().maxModelLen(32768).cpu({ memoryGiB, cores });
const onGpu = (gpu: 'l4-24gb' | 't4-16gb') => lfmDeployment().engine('LlamaCpp').model('hf://LiquidAI/LFM2-24B-A2B-GGUF')
  .quantization('Q4_0').gpu(gpu).maxModelLen(32768).serving({ maxConcurrentSequences: 4 });
const planOf = (b: ReturnType<typeof lfmDeployment>) => computePlan(b.build().spec);

describe('LlamaCpp plans: the targets of LFM2-24B-A2B', () => {
  it('Q4_0 fits a 32 GiB CPU replica with at least 4 slots of 32,768 tokens, within its memory', () => {
    const plan = planOf(cpu(32));
    expect(plan.fits, JSON.stringify(plan.reasons)).toBe(true);
    expect(plan.model?.id).toBe('LiquidAI/LFM2-24B-A2B');
    expect(plan.gpusPerReplica).toBe(0);
    expect(plan.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(4);
    expect(plan.gguf!.slots).toBe(plan.maxSequencesAtMaxLen);
    expect(plan.gguf!.contextTokens).toBe(plan.gguf!.slots * 32768);
    expect(plan.gguf!.breakdown.weightsGiB).toBe(12.54);
    expect(plan.memoryGiBPerReplica).toBeLessThanOrEqual(32);
    expect(plan.gguf!.threads).toBe(8);
  });

  it('Q8_0 (about 23.6 GiB of weights) is refused at 24 GiB with the numbers, and fits at 32 GiB', () => {
    const refused = planOf(cpu(24).quantization('Q8_0'));
    expect(refused.fits).toBe(false);
    expect(refused.invalid).toBe(false);
    expect(refused.reasons).toHaveLength(1);
    expect(refused.reasons[0]!.field).toBe('spec.cpu.memoryGiB');
    expect(refused.reasons[0]!.message).toMatch(/Q8_0 weights 23\.\d\d GiB .* exceed spec\.cpu\.memoryGiB 24/);
    expect(refused.gguf!.breakdown.weightsGiB).toBeGreaterThan(23);
    expect(refused.gguf!.breakdown.weightsGiB).toBeLessThan(24.5);
    expect(planOf(cpu(32).quantization('Q8_0')).fits).toBe(true);
  });

  it('Q4_0 with 4 slots of 32,768 tokens fits one L4 with every layer on the GPU', () => {
    const plan = planOf(onGpu('l4-24gb'));
    expect(plan.fits, JSON.stringify(plan.reasons)).toBe(true);
    expect(plan.gpusPerReplica).toBe(1);
    expect(plan.gguf!.gpuLayers).toBe(plan.model!.architecture.layers + 1);
    expect(plan.gguf!.cpuMoeLayers).toBe(0);
    expect(plan.weightsGiBPerGpu).toBe(12.54);
  });

  it('on a T4 (16 GB) only with the experts of the first layers kept on the CPU, which the plan reports', () => {
    const plan = planOf(onGpu('t4-16gb').cpu({ memoryGiB: 24, cores: 8 }));
    expect(plan.fits, JSON.stringify(plan.reasons)).toBe(true);
    expect(plan.gguf!.cpuMoeLayers).toBeGreaterThan(0);
    expect(plan.gguf!.breakdown.expertsOnHostGiB).toBeGreaterThan(0);
    expect(plan.weightsGiBPerGpu).toBeCloseTo(12.54 - plan.gguf!.breakdown.expertsOnHostGiB!, 2);
    expect(plan.warnings.join('\n')).toMatch(/host RAM/);
    const status = buildPlanStatus(buildPlanReport(onGpu('t4-16gb').cpu({ memoryGiB: 24, cores: 8 }).build()));
    expect(status).toMatchObject({ fits: true, gpusPerReplica: 1, slots: 4, contextTokens: 4 * 32768, cpuMoeLayers: plan.gguf!.cpuMoeLayers });
    expect(status.expertsOnHostGiB).toBe(plan.gguf!.breakdown.expertsOnHostGiB);
    expect(status.memoryGiBPerReplica).toBe(plan.memoryGiBPerReplica);
  });
});

describe('LlamaCpp plans', () => {
  it('takes spec.serving.maxConcurrentSequences as the slots, and -c as maxModelLen x slots', () => {
    const plan = planOf(cpu(30).serving({ maxConcurrentSequences: 3 }));
    expect(plan.gguf).toMatchObject({ slots: 3, contextTokens: 3 * 32768 });
    expect(plan.maxSequencesAtMaxLen).toBeGreaterThanOrEqual(3);
  });

  it('refuses more slots than fit, naming spec.serving.maxConcurrentSequences', () => {
    const plan = planOf(cpu(16).serving({ maxConcurrentSequences: 64 }));
    expect(plan.fits).toBe(false);
    expect(plan.reasons.map((r) => r.field)).toEqual(['spec.serving.maxConcurrentSequences']);
  });

  it('does not apply the checkpoint-format rule: the quantization chooses the file of a BF16 model', () => {
    const plan = planOf(cpu(32));
    expect(plan.invalid).toBe(false);
    expect(plan.reasons).toEqual([]);
    expect(plan.model!.architecture.weightFormat).toBe('BF16');
  });

  it('sizes an FP8 KV cache as q8_0 (34 bytes per 32 values), about half of f16', () => {
    const f16 = planOf(cpu(32));
    const q8 = planOf(cpu(32).kvCacheDtype('FP8'));
    expect(f16.kvBytesPerToken).toBe(20480);
    expect(q8.kvBytesPerToken).toBe(Math.round(20480 * 34 / 64));
    expect(q8.maxSequencesAtMaxLen).toBeGreaterThan(f16.maxSequencesAtMaxLen! * 1.5);
  });

  it('estimates a file the catalog has not measured from its bits per weight, with a warning', () => {
    const plan = planOf(cpu(40).quantization('Q6_K'));
    expect(plan.warnings.join('\n')).toContain('the Q6_K file of LiquidAI/LFM2-24B-A2B is estimated');
  });

  it('refuses the safetensors repository, naming the GGUF one', () => {
    const plan = planOf(cpu(32).model('hf://LiquidAI/LFM2-24B-A2B'));
    expect(plan.invalid).toBe(true);
    expect(plan.reasons).toEqual([{ field: 'spec.model.source', message: expect.stringContaining('hf://LiquidAI/LFM2-24B-A2B-GGUF') }]);
  });

  it('refuses a GGUF repository outside the catalog without an architecture, and plans it with one', () => {
    const unknown = planOf(cpu(16).model('hf://acme/tiny-moe-GGUF'));
    expect(unknown.invalid).toBe(true);
    expect(unknown.reasons[0]!.message).toContain('not in the catalog');
    const described = planOf(cpu(16).model('hf://acme/tiny-moe-GGUF').maxModelLen(8192).architecture({
      layers: 16, attentionLayers: 16, attentionHeads: 16, kvHeads: 4, headDim: 64, hiddenSize: 1024,
      experts: 8, expertsPerToken: 2, parameters: 1_000_000_000, expertParameters: 800_000_000, contextLength: 8192,
    }));
    expect(described.fits, JSON.stringify(described.reasons)).toBe(true);
    expect(described.gguf!.breakdown.weightsGiB).toBeCloseTo((1e9 * 4.5) / 8 / 1024 ** 3, 2);
  });

  it('warns when spec.model.file does not name the quantization the memory is sized for', () => {
    const plan = planOf(cpu(32).file('LFM2-24B-A2B-Q8_0.gguf'));
    expect(plan.warnings.join('\n')).toContain('spec.model.file LFM2-24B-A2B-Q8_0.gguf does not name Q4_0');
  });

  it('refuses maxModelLen beyond the model\'s positions as invalid, before any memory arithmetic', () => {
    const plan = planOf(cpu(32).maxModelLen(200000));
    expect(plan.invalid).toBe(true);
    expect(plan.reasons.map((r) => r.field)).toEqual(['spec.serving.maxModelLen']);
  });

  it('prints memoryGiBPerReplica and the GGUF figures in the plan JSON and status.plan', () => {
    const report = buildPlanReport(cpu(30).serving({ maxConcurrentSequences: 4 }).build());
    expect(report.memoryGiBPerReplica).toBe(report.plan.memoryGiBPerReplica);
    expect(report.gguf).toMatchObject({ slots: 4, gpuLayers: 0, cpuMoeLayers: 0 });
    expect(report.gguf).not.toHaveProperty('reasons');
    const status = buildPlanStatus(report);
    expect(status).toMatchObject({ fits: true, gpusPerReplica: 0, weightsGiBPerGpu: 0, slots: 4, memoryGiBPerReplica: report.memoryGiBPerReplica });
    expect(status.cacheRamMiB).toBe(report.gguf!.cacheRamMiB);
  });

  it('leaves the GPU engines\' plans without GGUF figures', () => {
    const report = buildPlanReport(lfmDeployment().quantization('FP8').tensor(1).build());
    expect(report.gguf).toBeUndefined();
    expect(report.memoryGiBPerReplica).toBeUndefined();
    expect(buildPlanStatus(report)).not.toHaveProperty('memoryGiBPerReplica');
  });
});

describe('the engines\' sizing data drives the shared arithmetic (no engine names in src/sizing)', () => {
  it('pads each conv layer\'s state to the engine\'s KV page: vLLM 16 tokens, SGLang none', () => {
    const a = lookupModel('LiquidAI/LFM2-24B-A2B')!.architecture;
    const fit = (engine: 'VLLM' | 'SGLang') => computeFit({
      architecture: a, engine, gpu: lookupGpu('h100-sxm-80gb')!, servedFormat: 'FP8', kvBytes: 2,
      tensor: 1, pipeline: 1, data: 1, expert: false, maxModelLen: 32768, gpuMemoryUtilization: 0.9,
    });
    const state = (a.convCacheLength - 1) * a.hiddenSize * 2;
    const page = 16 * 2 * a.kvHeads * a.headDim * 2;
    expect(fit('VLLM').stateBytesPerSequencePerGpu).toBe(a.convLayers * Math.max(state, page));
    expect(fit('SGLang').stateBytesPerSequencePerGpu).toBe(a.convLayers * state);
  });

  it.each([
    ['vLLM on a T4 (no weight-only FP8 below 8.0)', lfmDeployment().gpu('t4-16gb').quantization('FP8').tensor(8),
      'FP8 needs compute capability 8.9 or newer (8.0 for weight-only), and t4-16gb (compute capability 7.5) has less: use a newer spec.gpu.type or spec.quantization None'],
    ['SGLang on an A100 (no weight-only FP8; vLLM has one)', lfmDeployment().gpu('a100-sxm4-80gb').engine('SGLang').quantization('FP8'),
      'FP8 needs compute capability 8.9 or newer with SGLang, and a100-sxm4-80gb (compute capability 8.0) has less: use a newer spec.gpu.type, VLLM (weight-only FP8) or spec.quantization None'],
    ['SGLang NVFP4 below 10.0 (native only)', lfmDeployment().model('hf://acme/nvfp4').architecture({
      layers: 16, attentionLayers: 16, attentionHeads: 16, kvHeads: 4, headDim: 64, hiddenSize: 1024, parameters: 1e9, contextLength: 8192, weightFormat: 'NVFP4',
    }).maxModelLen(8192).gpu('h100-sxm-80gb').engine('SGLang'),
      'NVFP4 weights need compute capability 10.0 or newer with SGLang, and h100-sxm-80gb (compute capability 9.0) has less: choose another spec.gpu.type'],
  ])('words the FP8/FP4 refusals from the engines\' kernels: %s', (_name, b, message) => {
    expect(planOf(b).reasons.map((r) => r.message)).toContain(message);
  });
});
