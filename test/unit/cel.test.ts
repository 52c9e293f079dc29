// The CRD's CEL rules for llama.cpp and the GPU-less spec, judged offline as `lfm-operator plan` judges them
// (parseLfmDeployment evaluates the CRD's own rules), word for word. test/integration/llamacpp-api.test.ts sends
// the same kinds of resources to the real API server and expects the offline messages there.
import { describe, expect, it } from 'vitest';
import { parseLfmDeployment } from '../../src/api/parse.js';
import { GGUF_QUANTS } from '../../src/api/v1alpha1.js';
import { lfmDeployment, llamaCppCpuDeployment } from '../support/builders.js';

type Builder = ReturnType<typeof lfmDeployment>;
const GGUF = GGUF_QUANTS.join(', ');
const ggufOnGpu = () => lfmDeployment().engine('LlamaCpp').model('hf://LiquidAI/LFM2-24B-A2B-GGUF').quantization('Q4_0');

/** Refused resources: the builder, the field, and the whole message (the API server's words too). */
const REFUSED: [string, () => Builder, string, string][] = [
  ['LlamaCpp with a GPU-only quantization', () => llamaCppCpuDeployment().quantization('FP8'), 'spec.quantization',
    `spec.quantization is not supported by LlamaCpp: use one of ${GGUF}, or set spec.engine.name to VLLM or SGLang`],
  ['LlamaCpp with W8A8Int8', () => llamaCppCpuDeployment().quantization('W8A8Int8'), 'spec.quantization',
    `spec.quantization is not supported by LlamaCpp: use one of ${GGUF}, or set spec.engine.name to SGLang`],
  ['LlamaCpp with None (the default)', () => llamaCppCpuDeployment().quantization('None'), 'spec.quantization',
    `spec.quantization is not supported by LlamaCpp: None (the default) names no file; LlamaCpp serves one file of a GGUF repository: set spec.quantization to its type, one of ${GGUF} (for example Q4_K_M)`],
  ['VLLM with Q4_0', () => lfmDeployment().quantization('Q4_0'), 'spec.quantization',
    'spec.quantization is not supported by VLLM: use one of None, FP8, AWQ, GPTQ, MXFP4, NVFP4, or set spec.engine.name to LlamaCpp'],
  ['SGLang with BF16 (a GGUF type)', () => lfmDeployment().engine('SGLang').quantization('BF16'), 'spec.quantization',
    'spec.quantization is not supported by SGLang: use one of None, FP8, AWQ, GPTQ, MXFP4, NVFP4, W8A8Int8, or set spec.engine.name to LlamaCpp'],
  ['VLLM with W8A8Int8 (unchanged)', () => lfmDeployment().quantization('W8A8Int8'), 'spec.quantization',
    'spec.quantization is not supported by VLLM: use one of None, FP8, AWQ, GPTQ, MXFP4, NVFP4, or set spec.engine.name to SGLang'],
  ['VLLM without spec.gpu', () => lfmDeployment().noGpu(), 'spec.gpu',
    'spec.gpu is required for VLLM and SGLang: set spec.gpu.type to a catalog GPU type (for example l4-24gb), or set spec.engine.name to LlamaCpp with spec.cpu to run on CPU nodes'],
  ['LlamaCpp without spec.gpu or spec.cpu', () => ggufOnGpu().noGpu(), 'spec.cpu',
    'spec.cpu is required for LlamaCpp without spec.gpu: set spec.cpu.memoryGiB (the memory one replica may use) and spec.cpu.cores, or set spec.gpu.type to run on a GPU'],
  ['VLLM with spec.cpu', () => lfmDeployment().cpu({ memoryGiB: 32, cores: 8 }), 'spec.cpu',
    'spec.cpu is only used with LlamaCpp (VLLM and SGLang run on GPUs, their pods sized by spec.gpu and spec.resources): remove spec.cpu, or set spec.engine.name to LlamaCpp'],
  ['spec.model.file with VLLM', () => lfmDeployment().file('model-Q4_0.gguf'), 'spec.model.file',
    'spec.model.file names a GGUF file, which only LlamaCpp serves: remove spec.model.file, or set spec.engine.name to LlamaCpp'],
  ['spec.model.file with a pvc:// source', () => llamaCppCpuDeployment().model('pvc://models/lfm2/LFM2-24B-A2B-Q4_0.gguf').file('LFM2-24B-A2B-Q4_0.gguf'), 'spec.model.file',
    'spec.model.file chooses a file of an hf:// repository; for a claim, write the file in spec.model.source (pvc://CLAIM/PATH.gguf) and remove spec.model.file'],
  ['LlamaCpp from a claim path that is no .gguf file', () => llamaCppCpuDeployment().model('pvc://models/lfm2'), 'spec.model.source',
    'spec.model.source: LlamaCpp loads one GGUF file from a claim: write pvc://CLAIM/PATH.gguf (the first shard of a split file)'],
  ['LlamaCpp with an hf:// revision and no file', () => llamaCppCpuDeployment().model('hf://LiquidAI/LFM2-24B-A2B-GGUF@main'), 'spec.model.file',
    'spec.model.file is required for LlamaCpp with an hf:// @REVISION: llama-server chooses a file by type on the default branch only, so name the file of that revision (for example LFM2-24B-A2B-Q4_0.gguf)'],
  ['LlamaCpp with tensor parallelism', () => ggufOnGpu().tensor(2), 'spec.parallelism',
    'spec.parallelism does not apply to LlamaCpp: a replica is one llama-server on one GPU or on CPU; remove spec.parallelism and scale with replicas'],
];

/** Accepted resources: llama.cpp on CPU and on a GPU, from a repository, a named file, a revision's file, a claim. */
const ACCEPTED: [string, () => Builder][] = [
  ['LlamaCpp Q4_0 on CPU', () => llamaCppCpuDeployment()],
  ['LlamaCpp Q4_0 on a T4 with host memory for experts', () => ggufOnGpu().gpu('t4-16gb').cpu({ memoryGiB: 24, cores: 8 })],
  ['LlamaCpp on a GPU without spec.cpu', () => ggufOnGpu().gpu('l4-24gb')],
  ['LlamaCpp with a named file', () => llamaCppCpuDeployment().file('LFM2-24B-A2B-Q4_K_M.gguf').quantization('Q4_K_M')],
  ['LlamaCpp with a revision and its file', () => llamaCppCpuDeployment().model('hf://LiquidAI/LFM2-24B-A2B-GGUF@main').file('sub/dir/LFM2-24B-A2B-Q4_0.gguf')],
  ['LlamaCpp from a GGUF file on a claim', () => llamaCppCpuDeployment().model('pvc://models/lfm2/LFM2-24B-A2B-Q4_0.gguf')],
  ['VLLM as before', () => lfmDeployment().quantization('FP8')],
];

describe('CEL rules of llama.cpp and the GPU-less spec, offline (what `lfm-operator plan` answers)', () => {
  it.each(REFUSED)('refuses %s', (_name, build, field, message) => {
    const result = parseLfmDeployment(build().input());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([{ field, message }]);
  });

  it.each(ACCEPTED)('accepts %s', (_name, build) => {
    const result = parseLfmDeployment(build().input());
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it.each(['../up.gguf', 'a/../b.gguf', '.hidden.gguf', 'model.safetensors', '/abs.gguf'])('refuses spec.model.file %s by its pattern', (file) => {
    const result = parseLfmDeployment(llamaCppCpuDeployment().file(file).input());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.field)).toEqual(['spec.model.file']);
  });

  it('accepts every GGUF type with LlamaCpp, and none of them with VLLM or SGLang', () => {
    for (const q of GGUF_QUANTS) {
      expect(parseLfmDeployment(llamaCppCpuDeployment().quantization(q).input()).ok, q).toBe(true);
      expect(parseLfmDeployment(lfmDeployment().quantization(q).input()).ok, q).toBe(false);
      expect(parseLfmDeployment(lfmDeployment().engine('SGLang').quantization(q).input()).ok, q).toBe(false);
    }
  });
});
