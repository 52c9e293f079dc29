// Fluent builders for LfmDeployment fixtures: lfmDeployment().engine('SGLang').tensor(2).build(), and
// llamaCppCpuDeployment() for llama.cpp on CPU nodes.
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
  engine(name: NonNullable<NonNullable<Spec['engine']>['name']>): this { return this.set((s) => { s.engine = { ...s.engine, name }; }); }
  image(image: string): this { return this.set((s) => { s.engine = { ...s.engine, image }; }); }
  extraArgs(...args: string[]): this { return this.set((s) => { s.engine = { ...s.engine, extraArgs: args }; }); }
  quantization(q: NonNullable<Spec['quantization']>): this { return this.set((s) => { s.quantization = q; }); }
  kvCacheDtype(d: 'Auto' | 'FP8'): this { return this.set((s) => { s.kvCacheDtype = d; }); }
  gpu(type: NonNullable<Spec['gpu']>['type']): this { return this.set((s) => { s.gpu = { type }; }); }
  /** No spec.gpu: the replicas run on CPU nodes (LlamaCpp with spec.cpu). */
  noGpu(): this { return this.set((s) => { delete (s as { gpu?: unknown }).gpu; }); }
  /** spec.cpu: the memory (GiB) and cores one replica may use (LlamaCpp). */
  cpu(cpu: { memoryGiB: number; cores: number }): this { return this.set((s) => { (s as { cpu?: unknown }).cpu = { ...cpu }; }); }
  /** spec.model.file: the GGUF file of the repository (LlamaCpp). */
  file(file: string): this { return this.set((s) => { (s.model as { file?: string }).file = file; }); }
  /** spec.placement.tolerations: taints the pods tolerate (added to any set before). */
  tolerations(...tolerations: NonNullable<NonNullable<Spec['placement']>['tolerations']>): this {
    return this.set((s) => { s.placement = { ...s.placement, tolerations: [...(s.placement?.tolerations ?? []), ...tolerations] }; });
  }
  /** spec.placement.nodeSelector: node labels the pods require (merged with any placement set before). */
  nodeSelector(labels: Record<string, string>): this {
    return this.set((s) => { s.placement = { ...s.placement, nodeSelector: { ...s.placement?.nodeSelector, ...labels } }; });
  }
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
  /** spec.routing: the InferencePool, its endpoint picker, objectives and route (undefined removes it). */
  routing(routing: Spec['routing']): this { return this.set((s) => { if (routing) s.routing = routing; else delete s.routing; }); }

  /** The input document, as a user writes it (before defaults). */
  input(): LfmDeploymentInput { return structuredClone(this.doc); }

  /** The parsed object with defaults applied, as the operator sees it. */
  build(): LfmDeployment { return LfmDeploymentSchema.parse(this.doc); }
}

export const lfmDeployment = (name = 'lfm2-24b') => new LfmDeploymentBuilder(name);

/**
 * LFM2-24B-A2B as Q4_0 GGUF for llama.cpp on one CPU node: hf://LiquidAI/LFM2-24B-A2B-GGUF, no spec.gpu, spec.cpu
 * { memoryGiB: 30, cores: 8 } (within a 32 GiB node's allocatable memory; test/devcluster's CPU pool).
 */
export const llamaCppCpuDeployment = (name = 'lfm2-24b-a2b-cpu') => lfmDeployment(name)
  .engine('LlamaCpp').model('hf://LiquidAI/LFM2-24B-A2B-GGUF').quantization('Q4_0').noGpu().cpu({ memoryGiB: 30, cores: 8 });
