// The real API server judges llama.cpp resources as `lfm-operator plan` does: it refuses a LlamaCpp resource with a
// GPU-only quantization, VLLM with a GGUF type, LlamaCpp with the default None, and VLLM without spec.gpu, each with
// the message the offline evaluator of the CRD's CEL rules gives (parseLfmDeployment); and it accepts the examples'
// shapes. Server-side dry-run creates: nothing is stored, so one namespace serves every case.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseLfmDeployment } from '../../src/api/parse.js';
import { type KubeObject, RESOURCES } from '../../src/kube/client.js';
import { lfmDeployment, llamaCppCpuDeployment } from '../support/builders.js';
import { applyCrds, captureApiError, kubeClient, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';

type Builder = ReturnType<typeof lfmDeployment>;
const ggufOnGpu = () => lfmDeployment('llama-gpu').engine('LlamaCpp').model('hf://LiquidAI/LFM2-24B-A2B-GGUF').quantization('Q4_0');

/** Refused: the builder and the field the refusal names; the message is the offline one, checked to start so. */
const REFUSED: [string, () => Builder, string, string][] = [
  ['LlamaCpp with a GPU-only quantization (FP8)', () => llamaCppCpuDeployment().quantization('FP8'), 'spec.quantization', 'spec.quantization is not supported by LlamaCpp: use one of Q2_K'],
  ['VLLM with Q4_0', () => lfmDeployment().quantization('Q4_0'), 'spec.quantization', 'spec.quantization is not supported by VLLM: use one of None'],
  ['LlamaCpp with None (the default)', () => llamaCppCpuDeployment().quantization('None'), 'spec.quantization', 'spec.quantization is not supported by LlamaCpp: None (the default) names no file'],
  ['VLLM without spec.gpu', () => lfmDeployment().noGpu(), 'spec.gpu', 'spec.gpu is required for VLLM and SGLang'],
  ['LlamaCpp without spec.gpu or spec.cpu', () => ggufOnGpu().noGpu(), 'spec.cpu', 'spec.cpu is required for LlamaCpp without spec.gpu'],
  ['SGLang with spec.cpu', () => lfmDeployment().engine('SGLang').cpu({ memoryGiB: 32, cores: 8 }), 'spec.cpu', 'spec.cpu is only used with LlamaCpp'],
  ['spec.model.file with VLLM', () => lfmDeployment().file('model-Q4_0.gguf'), 'spec.model.file', 'spec.model.file names a GGUF file'],
  ['spec.model.file with a claim', () => llamaCppCpuDeployment().model('pvc://models/m-Q4_0.gguf').file('m-Q4_0.gguf'), 'spec.model.file', 'spec.model.file chooses a file of an hf:// repository'],
  ['LlamaCpp from a claim path that is no .gguf file', () => llamaCppCpuDeployment().model('pvc://models/lfm2'), 'spec.model.source', 'spec.model.source: LlamaCpp loads one GGUF file'],
  ['LlamaCpp with a revision and no file', () => llamaCppCpuDeployment().model('hf://LiquidAI/LFM2-24B-A2B-GGUF@main'), 'spec.model.file', 'spec.model.file is required for LlamaCpp with an hf:// @REVISION'],
  ['LlamaCpp with tensor parallelism', () => ggufOnGpu().tensor(2), 'spec.parallelism', 'spec.parallelism does not apply to LlamaCpp'],
];

const ACCEPTED: [string, () => Builder][] = [
  ['LlamaCpp Q4_0 on CPU', () => llamaCppCpuDeployment()],
  ['LlamaCpp Q4_0 on a T4 with host memory for the experts', () => ggufOnGpu().gpu('t4-16gb').cpu({ memoryGiB: 24, cores: 8 })],
  ['LlamaCpp with a revision and its file', () => llamaCppCpuDeployment().model('hf://LiquidAI/LFM2-24B-A2B-GGUF@main').file('LFM2-24B-A2B-Q4_0.gguf')],
  ['LlamaCpp from a GGUF file on a claim', () => llamaCppCpuDeployment().model('pvc://models/lfm2/LFM2-24B-A2B-Q4_0.gguf')],
];

/** What the API server answers a dry-run create: undefined = accepted. */
function dryRunCreate(namespace: string, b: Builder): Promise<{ status: number; message: string } | undefined> {
  const doc = b.namespace(namespace).input();
  return captureApiError(kubeClient().create(RESOURCES.lfmDeployment, doc as unknown as KubeObject, {
    dryRun: 'All', fieldManager: TEST_FIELD_MANAGER, fieldValidation: 'Strict',
  }));
}

describe('the API server judges llama.cpp resources as `lfm-operator plan` does', () => {
  const ns = useNamespace('llama-api');
  beforeAll(async () => { await applyCrds(); });

  it('refuses each invalid resource with the offline message, naming the field', async () => {
    const answers: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const [name, build, field, start] of REFUSED) {
      const offline = parseLfmDeployment(build().input());
      expect(offline.ok, name).toBe(false);
      if (offline.ok) continue;
      expect(offline.problems, name).toEqual([{ field, message: expect.stringMatching(new RegExp(`^${start.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)) }]);
      const message = offline.problems[0]!.message;
      expected[name] = `${field}: ${message}`;
      const refusal = await dryRunCreate(ns.name, build());
      expect(refusal?.status, `${name}: ${refusal?.message}`).toBe(422);
      // The API server words a CEL refusal as `...: <field>: <Invalid value: "object"|Required value|Forbidden>: <message>`.
      const said = refusal?.message ?? 'accepted';
      answers[name] = said.includes(`${field}: `) && said.includes(message) ? expected[name] : said;
    }
    expect(answers).toEqual(expected);
  });

  it('accepts llama.cpp on CPU, on a GPU, from a revision\'s file and from a claim', async () => {
    for (const [name, build] of ACCEPTED) {
      const offline = parseLfmDeployment(build().input());
      expect(offline.ok ? [] : offline.problems, name).toEqual([]);
      expect(await dryRunCreate(ns.name, build()), name).toBeUndefined();
    }
  });
});
