// Fluent builders for LfmDeployment fixtures: lfmDeployment().engine('SGLang').tensor(2).build().
import type { LfmDeployment, LfmDeploymentInput } from '../../src/api/v1alpha1.js';
import { LfmDeployment as LfmDeploymentSchema } from '../../src/api/v1alpha1.js';

type Spec = LfmDeploymentInput['spec'];

export class LfmDeploymentBuilder {
  private doc: LfmDeploymentInput;

  constructor(name: string) {
    this.doc = {
      apiVersion: 'serving.lfm-operator.io/v1alpha1',
      kind: 'LfmDeployment',
      metadata: { name, namespace: 'default' },
      spec: { model: { source: 'hf://LiquidAI/LFM2-24B-A2B' }, gpu: { type: 'h100-sxm-80gb' }, serving: { maxModelLen: 32768 } },
    };
  }

  private set(patch: (spec: Spec) => void): this {
    patch(this.doc.spec);
    return this;
  }

  namespace(ns: string): this { this.doc.metadata.namespace = ns; return this; }
  uid(uid: string): this { (this.doc.metadata as Record<string, unknown>)['uid'] = uid; return this; }
  model(source: string): this { return this.set((s) => { s.model.source = source; }); }
  architecture(a: NonNullable<Spec['model']['architecture']>): this { return this.set((s) => { s.model.architecture = a; }); }
  engine(name: 'VLLM' | 'SGLang'): this { return this.set((s) => { s.engine = { ...s.engine, name }; }); }
  image(image: string): this { return this.set((s) => { s.engine = { ...s.engine, image }; }); }
  extraArgs(...args: string[]): this { return this.set((s) => { s.engine = { ...s.engine, extraArgs: args }; }); }
  quantization(q: NonNullable<Spec['quantization']>): this { return this.set((s) => { s.quantization = q; }); }
  kvCacheDtype(d: 'Auto' | 'FP8'): this { return this.set((s) => { s.kvCacheDtype = d; }); }
  gpu(type: Spec['gpu']['type']): this { return this.set((s) => { s.gpu = { type }; }); }
  tensor(tensor: number): this { return this.set((s) => { s.parallelism = { ...s.parallelism, tensor }; }); }
  pipeline(pipeline: number): this { return this.set((s) => { s.parallelism = { ...s.parallelism, pipeline }; }); }
  data(data: number): this { return this.set((s) => { s.parallelism = { ...s.parallelism, data }; }); }
  expert(expert = true): this { return this.set((s) => { s.parallelism = { ...s.parallelism, expert }; }); }
  maxModelLen(n: number | undefined): this { return this.set((s) => { s.serving = { ...s.serving, maxModelLen: n }; }); }
  serving(serving: NonNullable<Spec['serving']>): this { return this.set((s) => { s.serving = { ...s.serving, ...serving }; }); }
  rollout(rollout: NonNullable<Spec['rollout']>): this { return this.set((s) => { s.rollout = { ...s.rollout, ...rollout }; }); }
  replicas(n: number): this { return this.set((s) => { s.replicas = n; }); }
  autoscaling(a: NonNullable<Spec['autoscaling']>): this { return this.set((s) => { s.autoscaling = a; }); }
  cache(claimName: string): this { return this.set((s) => { s.model.cache = { type: 'PersistentVolumeClaim', claimName }; }); }
  podAnnotations(annotations: Record<string, string>): this { return this.set((s) => { s.podMetadata = { ...s.podMetadata, annotations }; }); }
  credentials(secretName: string): this { return this.set((s) => { s.model.credentials = { secretName }; }); }

  /** The input document, as a user writes it (before defaults). */
  input(): LfmDeploymentInput { return structuredClone(this.doc); }

  /** The parsed object with defaults applied, as the operator sees it. */
  build(): LfmDeployment { return LfmDeploymentSchema.parse(this.doc); }
}

export const lfmDeployment = (name = 'lfm2-24b') => new LfmDeploymentBuilder(name);
