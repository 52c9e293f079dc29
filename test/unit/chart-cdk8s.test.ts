// The cdk8s side of the install: the LfmDeployment construct (lfm-operator/cdk8s) synthesizes what the user wrote,
// refuses at synthesis what the API server would refuse, and plans offline; the example app synthesizes.
import { App, Chart, Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthExample } from '../../cdk8s/example.js';
import { LfmDeployment, type LfmDeploymentSpecInput } from '../../src/cdk8s/index.js';

const spec = (patch: Partial<LfmDeploymentSpecInput> = {}): LfmDeploymentSpecInput => ({
  model: { source: 'hf://LiquidAI/LFM2-8B-A1B' }, quantization: 'FP8', gpu: { type: 'l4-24gb' }, serving: { maxModelLen: 32768 }, ...patch,
});

describe('the LfmDeployment construct', () => {
  it('synthesizes exactly the spec it was given: no defaults, nothing the operator owns', () => {
    const chart = Testing.chart();
    new LfmDeployment(chart, 'small', { metadata: { name: 'small', namespace: 'inference' }, spec: spec({ replicas: 2 }) });
    expect(Testing.synth(chart)).toEqual([{
      apiVersion: 'serving.lfm-operator.io/v1alpha1', kind: 'LfmDeployment',
      metadata: { name: 'small', namespace: 'inference' },
      spec: { model: { source: 'hf://LiquidAI/LFM2-8B-A1B' }, quantization: 'FP8', gpu: { type: 'l4-24gb' }, serving: { maxModelLen: 32768 }, replicas: 2 },
    }]);
  });

  it('fails synthesis with the API server\'s CEL message when replicas is set while autoscaling', () => {
    const app = new App();
    new LfmDeployment(new Chart(app, 'c'), 'bad', { metadata: { name: 'bad' }, spec: spec({ replicas: 2, autoscaling: { enabled: true } }) });
    expect(() => app.synthYaml()).toThrow(/spec\.replicas must be omitted while spec\.autoscaling\.enabled is true/);
  });

  it('fails synthesis on schema errors with the field path', () => {
    const app = new App();
    const chart = new Chart(app, 'c');
    // A value the TypeScript type already refuses, as a JavaScript caller could pass it.
    new LfmDeployment(chart, 'bad', { metadata: { name: 'bad' }, spec: { ...spec(), quantization: 'INT3' as 'FP8' } });
    new LfmDeployment(chart, 'Bad_Name', { metadata: { name: 'Bad_Name' }, spec: spec() });
    expect(() => app.synthYaml()).toThrow(/quantization: must be one of None, FP8/);
    expect(() => app.synthYaml()).toThrow(/DNS-1035/);
  });

  it('generates a valid name from the construct path when none is given', () => {
    const chart = Testing.chart();
    const d = new LfmDeployment(chart, 'lfm2', { spec: spec() });
    expect(d.name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    expect(d.parse().ok).toBe(true);
  });

  it('plans offline like lfm-operator plan', () => {
    const chart = Testing.chart();
    const fits = new LfmDeployment(chart, 'fits', { metadata: { name: 'fits' }, spec: spec() }).plan();
    expect(fits).toMatchObject({ fits: true, gpusPerReplica: 1, gpuType: 'l4-24gb' });
    const tooBig = new LfmDeployment(chart, 'too-big', {
      metadata: { name: 'too-big' }, spec: spec({ model: { source: 'hf://LiquidAI/LFM2-24B-A2B' }, quantization: 'None', parallelism: { tensor: 1 } }),
    }).plan();
    expect(tooBig.fits).toBe(false);
    expect(tooBig.reasons.length).toBeGreaterThan(0);
  });
});

describe('the example cdk8s app', () => {
  it('synthesizes two valid LfmDeployments in the namespace it is given, the autoscaled one without replicas', () => {
    const docs = parseAllDocuments(synthExample('inference')).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> });
    expect(docs.map((d) => [d.kind, d.metadata.namespace, d.metadata.name])).toEqual([
      ['LfmDeployment', 'inference', 'lfm2-24b'], ['LfmDeployment', 'inference', 'lfm2-8b-l4'],
    ]);
    expect(docs[0]!.spec['replicas']).toBeUndefined();
    expect(docs[0]!.spec['autoscaling']).toMatchObject({ enabled: true });
  });
});
