import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { LfmDeployment } from '../../src/api/v1alpha1.js';
import { computeImage, renderChildren, LABEL_DEPLOYMENT } from '../../src/render/children.js';
import { buildPlanReport } from '../../src/render/plan-report.js';
import { lfmDeployment, llamaCppCpuDeployment } from '../support/builders.js';

const render = (b: ReturnType<typeof lfmDeployment>, observedReplicas?: number) => {
  const lfmd = b.build();
  const report = buildPlanReport(lfmd);
  return renderChildren(lfmd, report.plan, observedReplicas === undefined ? {} : { observedReplicas });
};

function renderExample(file: string): string {
  const doc = LfmDeployment.parse(parse(readFileSync(`examples/${file}`, 'utf8')));
  doc.metadata['uid'] = '00000000-0000-0000-0000-000000000001';
  const report = buildPlanReport(doc);
  if (!report.fits) return `# does not fit\n${report.reasons.map((r) => `# ${r.field}: ${r.message}`).join('\n')}\n`;
  const c = renderChildren(doc, report.plan);
  return [c.deployment, c.service, c.podDisruptionBudget].filter(Boolean).map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
}

const UPDATE_GOLDEN = 'make golden (UPDATE_GOLDEN=1 npx vitest run --project unit test/unit/render.test.ts)';

describe('golden YAML of the examples (make golden rewrites them; review the diff)', () => {
  it.each(readdirSync('examples').filter((f) => f.endsWith('.yaml')))('%s', (file) => {
    const golden = `test/unit/golden/${file}`;
    const actual = renderExample(file);
    if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(golden, actual);
    if (!existsSync(golden)) expect.fail(`${golden} is missing: run ${UPDATE_GOLDEN} and review it`);
    expect(actual, `${golden} is stale: run ${UPDATE_GOLDEN} and review the diff`).toBe(readFileSync(golden, 'utf8'));
  });

  it('is deterministic: same input, byte-identical output', () => {
    expect(renderExample('lfm2-24b-h100-vllm.yaml')).toBe(renderExample('lfm2-24b-h100-vllm.yaml'));
  });
});

describe('renderChildren', () => {
  it('names every child after the resource and requests tensor x pipeline x data GPUs', () => {
    const c = render(lfmDeployment('chat').tensor(2).pipeline(2).replicas(2));
    expect(c.deployment.metadata!.name).toBe('chat');
    expect(c.service.metadata!.name).toBe('chat');
    expect(c.podDisruptionBudget!.metadata!.name).toBe('chat');
    const container = c.deployment.spec!.template.spec!.containers[0]!;
    expect(container.resources!.requests!['nvidia.com/gpu']).toBe('4');
    expect(container.resources!.limits!['nvidia.com/gpu']).toBe('4');
  });

  it('selects the GPU product by its GFD label and tolerates the GPU taint', () => {
    const pod = render(lfmDeployment().gpu('l40s-48gb').quantization('FP8')).deployment.spec!.template.spec!;
    const terms = pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    expect(terms[0]!.matchExpressions).toContainEqual({ key: 'nvidia.com/gpu.product', operator: 'In', values: ['NVIDIA-L40S'] });
    expect(pod.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    expect(pod.enableServiceLinks).toBe(false);
  });

  it('ANDs the GPU product into every user node selector term', () => {
    const b = lfmDeployment();
    const lfmd = b.build();
    lfmd.spec.placement = { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
    ] } } } };
    const c = renderChildren(lfmd, buildPlanReport(lfmd).plan);
    const terms = c.deployment.spec!.template.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms;
    expect(terms).toHaveLength(2);
    for (const t of terms) expect(t.matchExpressions![0]!.key).toBe('nvidia.com/gpu.product');
  });

  it('mounts a memory-backed /dev/shm, larger with tensor parallelism', () => {
    const one = render(lfmDeployment().tensor(1)).deployment.spec!.template.spec!.volumes!.find((v) => v.name === 'dshm')!;
    const two = render(lfmDeployment().tensor(2)).deployment.spec!.template.spec!.volumes!.find((v) => v.name === 'dshm')!;
    expect(one.emptyDir).toEqual({ medium: 'Memory', sizeLimit: '2Gi' });
    expect(two.emptyDir).toEqual({ medium: 'Memory', sizeLimit: '16Gi' });
  });

  it('passes the HF token by Secret reference only', () => {
    const env = render(lfmDeployment().credentials('hf')).deployment.spec!.template.spec!.containers[0]!.env!;
    expect(env.find((e) => e.name === 'HF_TOKEN')).toEqual({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'HF_TOKEN' } } });
  });

  it('omits the Deployment replicas when autoscaling owns them, and defaults them to 1 otherwise', () => {
    expect(render(lfmDeployment()).deployment.spec!.replicas).toBe(1);
    expect(render(lfmDeployment().replicas(3)).deployment.spec!.replicas).toBe(3);
    expect(render(lfmDeployment().autoscaling({ enabled: true, maxReplicas: 4 })).deployment.spec!.replicas).toBeUndefined();
  });

  it.each([
    ['1 replica', lfmDeployment().replicas(1), undefined, false],
    ['2 replicas', lfmDeployment().replicas(2), undefined, true],
    ['autoscaled at 1', lfmDeployment().autoscaling({ enabled: true }), 1, false],
    ['autoscaled at 3', lfmDeployment().autoscaling({ enabled: true }), 3, true],
  ] as const)('renders a PodDisruptionBudget only from 2 replicas: %s', (_n, b, observed, expected) => {
    const pdb = render(b, observed).podDisruptionBudget;
    expect(pdb !== undefined).toBe(expected);
    if (pdb) expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { [LABEL_DEPLOYMENT]: 'lfm2-24b' } }, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });

  it('mounts a PersistentVolumeClaim cache read-only and goes offline', () => {
    const pod = render(lfmDeployment().cache('hf-cache')).deployment.spec!.template.spec!;
    expect(pod.volumes).toContainEqual({ name: 'model-cache', persistentVolumeClaim: { claimName: 'hf-cache', readOnly: true } });
    expect(pod.containers[0]!.env).toContainEqual({ name: 'HF_HUB_OFFLINE', value: '1' });
  });

  it('gives startup probes the startup budget and a grace period longer than the drain', () => {
    const pod = render(lfmDeployment()).deployment.spec!.template.spec!;
    const probe = pod.containers[0]!.startupProbe!;
    expect(probe.periodSeconds! * probe.failureThreshold!).toBeGreaterThanOrEqual(1800);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(120);
  });

  it('rolls out one pod at a time with no surge by default', () => {
    expect(render(lfmDeployment()).deployment.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });
});

describe('renderChildren for llama.cpp', () => {
  const podOf = (c: ReturnType<typeof render>) => c.deployment.spec!.template.spec!;

  it('a CPU pod: no GPU resource, toleration, product affinity or /dev/shm; cpu and memory from spec.cpu and the plan', () => {
    const b = llamaCppCpuDeployment().maxModelLen(32768).serving({ maxConcurrentSequences: 4 });
    const plan = buildPlanReport(b.build()).plan;
    const pod = podOf(render(b));
    const container = pod.containers[0]!;
    const memory = `${Math.ceil(plan.memoryGiBPerReplica! * 1024)}Mi`;
    expect(container.resources).toEqual({
      requests: { cpu: '8', memory, 'ephemeral-storage': expect.any(String) },
      limits: { cpu: '8', memory },
    });
    expect(plan.memoryGiBPerReplica).toBeLessThanOrEqual(30);
    expect(JSON.stringify(pod)).not.toContain('nvidia.com/gpu"');
    expect(pod.tolerations).toBeUndefined();
    expect(pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms)
      .toEqual([{ matchExpressions: [{ key: 'nvidia.com/gpu.product', operator: 'DoesNotExist' }] }]);
    expect(pod.volumes!.map((v) => v.name)).not.toContain('dshm');
    expect(container.volumeMounts!.map((m) => m.mountPath)).not.toContain('/dev/shm');
  });

  it('carries the labels of every engine pod, and the selector label', () => {
    const c = render(llamaCppCpuDeployment('cpu'));
    expect(c.deployment.spec!.template.metadata!.labels).toMatchObject({ [LABEL_DEPLOYMENT]: 'cpu', 'serving.lfm-operator.io/engine': 'llamacpp', 'app.kubernetes.io/component': 'engine' });
    expect(c.service.spec!.selector).toEqual({ [LABEL_DEPLOYMENT]: 'cpu' });
    expect(c.service.spec!.ports![0]!.targetPort).toBe('http');
    expect(podOf(c).containers[0]!.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  it('waits on /health (503 while loading) for startup and readiness, and drains with a shell (no Python in the image)', () => {
    const container = podOf(render(llamaCppCpuDeployment())).containers[0]!;
    expect(container.startupProbe!.httpGet!.path).toBe('/health');
    expect(container.readinessProbe!.httpGet!.path).toBe('/health');
    expect(container.startupProbe!.periodSeconds! * container.startupProbe!.failureThreshold!).toBeGreaterThanOrEqual(1800);
    const drain = container.lifecycle!.preStop!.exec!.command!;
    expect(drain.slice(0, 2)).toEqual(['sh', '-c']);
    expect(drain[2]).toContain('llamacpp:requests_processing|llamacpp:requests_deferred');
    expect(drain[2]).toContain('http://127.0.0.1:8080/metrics');
  });

  it('a GPU pod requests one GPU on its product and its host memory from the plan', () => {
    const b = lfmDeployment().engine('LlamaCpp').model('hf://LiquidAI/LFM2-24B-A2B-GGUF').quantization('Q4_0').gpu('t4-16gb')
      .serving({ maxConcurrentSequences: 4 }).cpu({ memoryGiB: 24, cores: 8 });
    const plan = buildPlanReport(b.build()).plan;
    const pod = podOf(render(b));
    const { requests, limits } = pod.containers[0]!.resources!;
    expect(requests!['nvidia.com/gpu']).toBe('1');
    expect(limits!['nvidia.com/gpu']).toBe('1');
    expect(requests!['memory']).toBe(`${Math.ceil(plan.memoryGiBPerReplica! * 1024)}Mi`);
    expect(pod.tolerations).toContainEqual({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    expect(pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!.matchExpressions)
      .toContainEqual({ key: 'nvidia.com/gpu.product', operator: 'In', values: ['Tesla-T4'] });
    expect(pod.containers[0]!.image).toContain('server-cuda-');
  });

  it('passes the HF token by Secret reference only, and downloads into the model cache', () => {
    const container = podOf(render(llamaCppCpuDeployment().credentials('hf'))).containers[0]!;
    expect(container.env).toContainEqual({ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'HF_TOKEN' } } });
    expect(container.env).toContainEqual({ name: 'LLAMA_CACHE', value: '/cache/huggingface/llama.cpp' });
    expect(container.args!.join(' ')).not.toMatch(/token/i);
  });

  it('keeps the llama.cpp cache on a PersistentVolumeClaim cache, read offline', () => {
    const pod = podOf(render(llamaCppCpuDeployment().cache('gguf-cache')));
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: 'model-cache', mountPath: '/cache/huggingface', readOnly: true });
    expect(pod.containers[0]!.args).toContain('--offline');
  });
});

describe('the engine image', () => {
  const images = { images: { LlamaCpp: 'registry.example/llama.cpp:cpu' }, gpuImages: { LlamaCpp: 'registry.example/llama.cpp:cuda' } };
  it("uses the operator's llama.cpp CPU image without spec.gpu and its GPU image with one; spec.engine.image wins", () => {
    const cpu = llamaCppCpuDeployment('cpu').build();
    const gpu = llamaCppCpuDeployment('gpu').gpu('l4-24gb').build();
    expect(computeImage(cpu, images)).toBe('registry.example/llama.cpp:cpu');
    expect(computeImage(gpu, images)).toBe('registry.example/llama.cpp:cuda');
    expect(computeImage(gpu, { images: images.images })).toBe('registry.example/llama.cpp:cpu');
    expect(computeImage(llamaCppCpuDeployment('own').image('mine:1').build(), images)).toBe('mine:1');
    expect(computeImage(gpu)).toMatch(/server-cuda-/);
  });
});
