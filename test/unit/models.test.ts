// lfm-operator/models: the LfmDeployment model for kosko and other kubernetes-models users. It builds the manifest
// the user wrote (no defaults), validate() refuses what the API server would refuse, naming the field and the fix,
// and the package export resolves as a user's import would.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { LfmDeployment, LfmDeploymentValidationError, type ILfmDeployment } from '../../src/models/index.js';

type Spec = ILfmDeployment['spec'];
const spec = (patch: Partial<Spec> = {}): Spec => ({
  model: { source: 'hf://LiquidAI/LFM2-8B-A1B' }, quantization: 'FP8', gpu: { type: 'l4-24gb' }, serving: { maxModelLen: 32768 }, ...patch,
});

const validationError = (d: LfmDeployment): LfmDeploymentValidationError => {
  try {
    d.validate();
  } catch (e) {
    expect(e).toBeInstanceOf(LfmDeploymentValidationError);
    return e as LfmDeploymentValidationError;
  }
  throw new Error('validate() did not throw');
};

describe('the LfmDeployment model', () => {
  it('sets apiVersion and kind, and validate() passes on a valid resource', () => {
    const d = new LfmDeployment({ metadata: { name: 'small', namespace: 'inference' }, spec: spec({ replicas: 2 }) });
    expect(d.apiVersion).toBe('serving.lfm-operator.io/v1alpha1');
    expect(d.kind).toBe('LfmDeployment');
    expect(LfmDeployment.apiVersion).toBe(d.apiVersion);
    expect(LfmDeployment.kind).toBe(d.kind);
    expect(() => d.validate()).not.toThrow();
  });

  it('toJSON() is the manifest exactly as written: no defaults, undefined values left out', () => {
    const d = new LfmDeployment({
      metadata: { name: 'small', namespace: 'inference', labels: { team: 'search' } },
      spec: spec({ replicas: undefined, autoscaling: { enabled: true, maxReplicas: 3 } }),
    });
    const manifest = {
      apiVersion: 'serving.lfm-operator.io/v1alpha1', kind: 'LfmDeployment',
      metadata: { name: 'small', namespace: 'inference', labels: { team: 'search' } },
      spec: { model: { source: 'hf://LiquidAI/LFM2-8B-A1B' }, quantization: 'FP8', gpu: { type: 'l4-24gb' }, serving: { maxModelLen: 32768 }, autoscaling: { enabled: true, maxReplicas: 3 } },
    };
    expect(d.toJSON()).toEqual(manifest);
    expect(Object.keys(d.toJSON())).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(JSON.parse(JSON.stringify(d))).toEqual(manifest);
  });

  it('parse() applies the defaults the API server would', () => {
    const result = new LfmDeployment({ metadata: { name: 'small' }, spec: spec() }).parse();
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.spec.engine.name).toBe('VLLM');
    expect(result.value.spec.rollout).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  it('validate() refuses a wrong enum value, naming the field and the allowed values', () => {
    // A value the TypeScript type already refuses, as a JavaScript caller could pass it.
    const err = validationError(new LfmDeployment({ metadata: { name: 'bad' }, spec: spec({ quantization: 'INT3' as 'FP8' }) }));
    expect(err.problems).toEqual([{ field: 'spec.quantization', message: 'must be one of None, FP8, AWQ, GPTQ, MXFP4, NVFP4, W8A8Int8, Q2_K, Q3_K_S, IQ4_XS, Q4_0, Q4_1, Q4_K_S, Q4_K_M, Q5_0, Q5_1, Q5_K_M, Q6_K, Q8_0, F16, BF16' }]);
    expect(err.resourceName).toBe('bad');
    expect(err.name).toBe('LfmDeploymentValidationError');
    expect(err.message).toBe('LfmDeployment bad: spec.quantization: must be one of None, FP8, AWQ, GPTQ, MXFP4, NVFP4, W8A8Int8, Q2_K, Q3_K_S, IQ4_XS, Q4_0, Q4_1, Q4_K_S, Q4_K_M, Q5_0, Q5_1, Q5_K_M, Q6_K, Q8_0, F16, BF16');
  });

  it('validate() refuses what only the CRD\'s CEL rules catch, with the API server\'s message', () => {
    const err = validationError(new LfmDeployment({ metadata: { name: 'bad' }, spec: spec({ replicas: 2, autoscaling: { enabled: true } }) }));
    expect(err.problems.map((p) => p.field)).toEqual(['spec.replicas']);
    expect(err.message).toMatch(/^LfmDeployment bad: spec\.replicas: spec\.replicas must be omitted while spec\.autoscaling\.enabled is true: remove spec\.replicas/);

    const sglangOnly = validationError(new LfmDeployment({ metadata: { name: 'int8' }, spec: spec({ quantization: 'W8A8Int8' }) }));
    expect(sglangOnly.problems.map((p) => p.field)).toEqual(['spec.quantization']);
    expect(sglangOnly.message).toContain('set spec.engine.name to SGLang');
  });

  it('validate() refuses unknown fields and a name the children cannot carry', () => {
    const typo = validationError(new LfmDeployment({ metadata: { name: 'typo' }, spec: { ...spec(), replica: 2 } as Spec }));
    expect(typo.problems.map((p) => p.field)).toEqual(['spec.replica']);
    expect(typo.message).toContain('remove it or check the spelling');
    const name = validationError(new LfmDeployment({ metadata: { name: 'Bad_Name' }, spec: spec() }));
    expect(name.problems.map((p) => p.field)).toEqual(['metadata.name']);
    expect(name.message).toContain('DNS-1035');
  });

  it('is() tells LfmDeployments (models or plain manifests) from other objects', () => {
    const d = new LfmDeployment({ metadata: { name: 'small' }, spec: spec() });
    expect(LfmDeployment.is(d)).toBe(true);
    expect(LfmDeployment.is(d.toJSON())).toBe(true);
    expect(LfmDeployment.is({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'small' } })).toBe(false);
    expect(LfmDeployment.is({ apiVersion: 'serving.lfm-operator.io/v1beta1', kind: 'LfmDeployment' })).toBe(false);
    expect(LfmDeployment.is(null)).toBe(false);
    expect(LfmDeployment.is('LfmDeployment')).toBe(false);
  });
});

describe('the lfm-operator/models package export (make test-unit builds dist first)', () => {
  it('resolves through package.json "exports" in vitest, to the same model', async () => {
    const mod = await import('lfm-operator/models');
    const d = new mod.LfmDeployment({ metadata: { name: 'small' }, spec: spec() });
    expect(mod.LfmDeployment.is(d)).toBe(true);
    expect(() => d.validate()).not.toThrow();
    expect(() => new mod.LfmDeployment({ metadata: { name: 'bad' }, spec: spec({ replicas: 1, autoscaling: { enabled: true } }) }).validate())
      .toThrow(/spec\.replicas must be omitted while spec\.autoscaling\.enabled is true/);
  });

  it('resolves in plain Node as a user\'s ESM import', () => {
    const script = `
      import { LfmDeployment } from 'lfm-operator/models';
      const d = new LfmDeployment({ metadata: { name: 'x' }, spec: { model: { source: 'hf://LiquidAI/LFM2-8B-A1B' }, gpu: { type: 'l4-24gb' }, quantization: 'INT3' } });
      try { d.validate(); console.log('valid'); } catch (e) { console.log(e.name + ': ' + e.message); }
      console.log(JSON.stringify(d));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([
      'LfmDeploymentValidationError: LfmDeployment x: spec.quantization: must be one of None, FP8, AWQ, GPTQ, MXFP4, NVFP4, W8A8Int8, Q2_K, Q3_K_S, IQ4_XS, Q4_0, Q4_1, Q4_K_S, Q4_K_M, Q5_0, Q5_1, Q5_K_M, Q6_K, Q8_0, F16, BF16',
      '{"apiVersion":"serving.lfm-operator.io/v1alpha1","kind":"LfmDeployment","metadata":{"name":"x"},"spec":{"model":{"source":"hf://LiquidAI/LFM2-8B-A1B"},"gpu":{"type":"l4-24gb"},"quantization":"INT3"}}',
      '',
    ]);
  });
});
