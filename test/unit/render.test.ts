import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { V1PodSpec } from '@kubernetes/client-node';
import { parseLfmDeployment } from '../../src/api/parse.js';
import { LfmDeployment, type LfmDeploymentInput } from '../../src/api/v1alpha1.js';
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
    const storage = container.resources!.requests!['ephemeral-storage'];
    expect(container.resources).toEqual({
      requests: { cpu: '8', memory, 'ephemeral-storage': storage },
      limits: { cpu: '8', memory, 'ephemeral-storage': storage },
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

describe('the engine pods\' security posture (spec.security)', () => {
  const podOf = (lfmd: LfmDeployment) => renderChildren(lfmd, buildPlanReport(lfmd).plan).deployment.spec!.template.spec!;
  const withSecurity = (b: ReturnType<typeof lfmDeployment>, security: NonNullable<LfmDeploymentInput['spec']['security']>) => {
    const input = b.input();
    input.spec.security = security;
    return LfmDeployment.parse(input);
  };
  const ENGINE_PODS = [
    ['vLLM', () => lfmDeployment()],
    ['SGLang', () => lfmDeployment().engine('SGLang')],
    ['llama.cpp on CPU', () => llamaCppCpuDeployment()],
    ['llama.cpp on a GPU', () => llamaCppCpuDeployment().gpu('l4-24gb')],
  ] as const;

  it.each(ENGINE_PODS)('%s: non-root UID/GID 65532, read-only root, no escalation, no capability, RuntimeDefault, no token', (_n, b) => {
    const pod = podOf(b().build());
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.hostNetwork ?? pod.hostPID ?? pod.hostIPC).toBeUndefined();
  });

  it.each(ENGINE_PODS)('%s: an ephemeral-storage limit equal to its request; a CPU limit only with spec.cpu', (_n, b) => {
    const lfmd = b().build();
    const { requests, limits } = podOf(lfmd).containers[0]!.resources!;
    expect(limits!['ephemeral-storage']).toBe(requests!['ephemeral-storage']);
    expect(limits!['cpu']).toBe(lfmd.spec.cpu ? String(lfmd.spec.cpu.cores) : undefined);
  });

  it('takes the UID, GID and fsGroup from spec.security', () => {
    const pod = podOf(withSecurity(lfmDeployment(), { runAsUser: 20000, runAsGroup: 20001, fsGroup: 20002 }));
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 20000, runAsGroup: 20001, fsGroup: 20002 });
  });

  it('relaxes only what is asked: a writable root file system, or root, keeping the rest', () => {
    const writable = podOf(withSecurity(lfmDeployment(), { readOnlyRootFilesystem: false }));
    expect(writable.containers[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: false });
    expect(writable.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
    const root = podOf(withSecurity(lfmDeployment(), { runAsRoot: true }));
    expect(root.securityContext).toEqual({ runAsNonRoot: false, runAsUser: 0, runAsGroup: 0, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(root.containers[0]!.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true });
  });

  it('refuses runAsRoot with a UID or GID (the CRD rule, judged offline)', () => {
    const input = lfmDeployment().input();
    input.spec.security = { runAsRoot: true, runAsUser: 20000 };
    const result = parseLfmDeployment(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toEqual([{ field: 'spec.security.runAsRoot', message: 'spec.security.runAsRoot runs the engine as UID 0 and GID 0: remove spec.security.runAsUser and spec.security.runAsGroup, or set runAsRoot to false' }]);
    input.spec.security = { runAsRoot: false, runAsUser: 20000 };
    expect(parseLfmDeployment(input).ok).toBe(true);
  });

  /** The mount a path lies in (the deepest one), and whether that mount is a writable emptyDir. */
  const mountOf = (pod: V1PodSpec, path: string) => {
    const mounts = pod.containers[0]!.volumeMounts!.filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));
    const mount = mounts.sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    const volume = pod.volumes!.find((v) => v.name === mount?.name);
    return { mount, writable: mount !== undefined && mount.readOnly !== true && volume?.emptyDir !== undefined };
  };
  // With a PersistentVolumeClaim cache, the Hugging Face cache (and llama.cpp's downloads in it) is the claim, read-only
  // and served offline; every other path stays writable.
  const READ_ONLY_WITH_CLAIM_CACHE = new Set(['HF_HOME', 'LLAMA_CACHE']);

  it.each(ENGINE_PODS.flatMap(([n, b]) => [
    [`${n}, downloading`, b] as const,
    [`${n}, with a claim cache`, () => b().cache('hf-cache')] as const,
  ]))('%s: every path in the environment lies in a writable emptyDir, as do HOME\'s and /tmp', (name, b) => {
    const pod = podOf(b().build());
    const paths = pod.containers[0]!.env!.filter((e) => e.value?.startsWith('/'));
    expect(paths.map((e) => e.name)).toEqual(expect.arrayContaining(['HOME', 'XDG_CACHE_HOME', 'HF_HOME']));
    for (const e of paths) {
      const readOnly = name.endsWith('claim cache') && READ_ONLY_WITH_CLAIM_CACHE.has(e.name);
      expect(mountOf(pod, e.value!), `${e.name}=${e.value}`).toMatchObject(readOnly ? { mount: { readOnly: true }, writable: false } : { writable: true });
    }
    expect(mountOf(pod, '/tmp').writable).toBe(true);
  });

  it.each([
    ['vLLM', () => lfmDeployment(), ['TORCHINDUCTOR_CACHE_DIR', 'TRITON_CACHE_DIR', 'FLASHINFER_WORKSPACE_BASE', 'VLLM_CACHE_ROOT', 'VLLM_CONFIG_ROOT', 'USER']],
    ['SGLang', () => lfmDeployment().engine('SGLang'), ['TORCHINDUCTOR_CACHE_DIR', 'TRITON_CACHE_DIR', 'FLASHINFER_WORKSPACE_BASE', 'SGLANG_CACHE_DIR', 'SGLANG_DG_CACHE_DIR', 'USER']],
    ['llama.cpp', () => llamaCppCpuDeployment(), ['LLAMA_CACHE']],
  ] as const)('%s: points its own caches into the cache volume', (_n, b, names) => {
    const env = podOf(b().build()).containers[0]!.env!.map((e) => e.name);
    expect(env).toEqual(expect.arrayContaining([...names]));
    expect(new Set(env).size, 'no variable twice').toBe(env.length);
  });
});
