import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseModelSource } from '../../src/api/model-source.js';
import { parseLfmDeployment } from '../../src/api/parse.js';
import { computePlan } from '../../src/sizing/plan.js';
import { buildPlanReport } from '../../src/render/plan-report.js';
import { lfmDeployment } from '../support/builders.js';
import { loadInvalidFixtures } from '../support/fixtures.js';

describe('parseLfmDeployment refuses every shared invalid fixture, naming the field', () => {
  it.each(loadInvalidFixtures().map((f) => [f.file, f] as const))('%s', (_file, fixture) => {
    const result = parseLfmDeployment(fixture.body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.problems.map((p) => `${p.field}: ${p.message}`).join('\n');
    expect(result.problems.map((p) => p.field)).toContain(fixture.field);
    expect(text).toContain(fixture.plan);
  });
});

describe('parseLfmDeployment', () => {
  it('applies the schema defaults and leaves replicas and tensor unset', () => {
    const result = parseLfmDeployment(lfmDeployment().input());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.spec.replicas).toBeUndefined();
    expect(result.value.spec.parallelism.tensor).toBeUndefined();
    expect(result.value.spec.autoscaling.enabled).toBe(false);
    expect(result.value.spec.engine.name).toBe('VLLM');
    expect(result.value.spec.rollout).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  it('accepts an autoscaled resource without replicas', () => {
    const result = parseLfmDeployment(lfmDeployment().autoscaling({ enabled: true, minReplicas: 1, maxReplicas: 3 }).input());
    expect(result.ok).toBe(true);
  });

  it('refuses something that is not an object', () => {
    expect(parseLfmDeployment('hello').ok).toBe(false);
    expect(parseLfmDeployment(null).ok).toBe(false);
    expect(parseLfmDeployment([1]).ok).toBe(false);
  });
});

describe('parseModelSource', () => {
  it.each([
    ['hf://LiquidAI/LFM2-24B-A2B', { model: 'LiquidAI/LFM2-24B-A2B' }],
    ['hf://LiquidAI/LFM2-24B-A2B@refs/pr/1', { model: 'LiquidAI/LFM2-24B-A2B', revision: 'refs/pr/1' }],
    ['pvc://models/lfm2-24b/', { model: '/models/lfm2-24b', claimName: 'models', mountPath: '/models' }],
    ['pvc://models', { model: '/models', claimName: 'models', mountPath: '/models' }],
  ])('%s', (source, location) => {
    expect(parseModelSource(source)).toEqual(location);
  });
});

describe('fuzz: the parser and planner never throw', () => {
  const scalar = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('node'), { maxKeys: 4 })),
  })).node;

  it('on arbitrary JSON', () => {
    fc.assert(fc.property(value, (v) => {
      const r = parseLfmDeployment(v);
      expect(typeof r.ok).toBe('boolean');
    }), { numRuns: 500 });
  });

  it('on mutated valid resources (every field replaced by arbitrary values)', () => {
    const paths: string[][] = [
      ['spec', 'replicas'], ['spec', 'quantization'], ['spec', 'kvCacheDtype'], ['spec', 'parallelism', 'tensor'],
      ['spec', 'parallelism', 'data'], ['spec', 'parallelism', 'pipeline'], ['spec', 'parallelism', 'expert'],
      ['spec', 'gpu', 'type'], ['spec', 'serving', 'maxModelLen'], ['spec', 'serving', 'gpuMemoryUtilization'],
      ['spec', 'engine', 'extraArgs'], ['spec', 'engine', 'name'], ['spec', 'model', 'source'], ['metadata', 'name'],
      ['spec', 'autoscaling', 'minReplicas'], ['spec', 'autoscaling', 'enabled'],
    ];
    fc.assert(fc.property(fc.constantFrom(...paths), value, (path, v) => {
      const doc = lfmDeployment().input() as Record<string, unknown>;
      let node = doc;
      for (const key of path.slice(0, -1)) {
        node[key] = { ...((node[key] as Record<string, unknown>) ?? {}) };
        node = node[key] as Record<string, unknown>;
      }
      node[path[path.length - 1]!] = v;
      const r = parseLfmDeployment(doc);
      if (r.ok) buildPlanReport(r.value);
    }), { numRuns: 500 });
  });

  it('on valid resources with arbitrary planner inputs', () => {
    const gpus = ['h200-sxm-141gb', 'h100-sxm-80gb', 'a100-sxm4-40gb', 'l40s-48gb', 'l4-24gb', 'a10g-24gb', 't4-16gb'] as const;
    const models = ['hf://LiquidAI/LFM2-24B-A2B', 'hf://LiquidAI/LFM2-8B-A1B', 'hf://Qwen/Qwen3-30B-A3B', 'hf://openai/gpt-oss-20b', 'hf://Qwen/Qwen3-235B-A22B'];
    fc.assert(fc.property(
      fc.constantFrom(...gpus), fc.constantFrom(...models), fc.constantFrom('None', 'FP8', 'AWQ', 'MXFP4') ,
      fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 16 }),
      fc.boolean(), fc.integer({ min: 128, max: 300000 }), fc.constantFrom('VLLM', 'SGLang'),
      (gpu, model, q, tensor, pipeline, data, expert, len, engine) => {
        let b = lfmDeployment().gpu(gpu).model(model).quantization(q as 'None').pipeline(pipeline).data(data).expert(expert).maxModelLen(len).engine(engine as 'VLLM');
        if (tensor) b = b.tensor(tensor);
        const plan = computePlan(b.build().spec);
        expect(plan.fits === false || (plan.maxSequencesAtMaxLen ?? 0) >= 1).toBe(true);
        expect(Number.isFinite(plan.gpusPerReplica)).toBe(true);
      },
    ), { numRuns: 500 });
  });
});
