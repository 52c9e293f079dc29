// Pure parts of the dev control plane (test/devcluster): fake nodes, pod ranges, KWOK stages, audit parsing, kubeconfig.
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { parseAuditEvent } from '../devcluster/audit.js';
import { buildApiserverArgs, buildControllerManagerArgs, renderAuditPolicy } from '../devcluster/components.js';
import { renderKubeconfig } from '../devcluster/kubeconfig.js';
import { POD_ANNOTATIONS, renderKwokConfig } from '../devcluster/kwok-stages.js';
import {
  buildCpuPoolNodeSpec, computeFreeNodeIndex, computePodCidr, DEFAULT_NODE_POOL, renderCpuNode, renderGpuNode,
} from '../devcluster/nodes.js';
import { isLoopbackAddress, parseDrainUrl } from '../devcluster/stand-ins.js';

describe('fake nodes', () => {
  it('default pool: two 8 x H100 and two 1 x L4 GPU nodes, cpu-0 and the CPU pool', () => {
    const summary = DEFAULT_NODE_POOL.gpu.map((g) => [g.product, g.count, g.memoryMiB, `${g.computeMajor}.${g.computeMinor}`, g.family]);
    expect(summary).toEqual([
      ['NVIDIA-H100-80GB-HBM3', 8, 81559, '9.0', 'hopper'],
      ['NVIDIA-H100-80GB-HBM3', 8, 81559, '9.0', 'hopper'],
      ['NVIDIA-L4', 1, 23034, '8.9', 'ada-lovelace'],
      ['NVIDIA-L4', 1, 23034, '8.9', 'ada-lovelace'],
    ]);
    expect(DEFAULT_NODE_POOL.cpu.map((c) => c.name)).toEqual(['cpu-0', 'cpu-32g-0', 'cpu-32g-1', 'cpu-64g-0']);
  });

  it('cpu-0 is unchanged: untainted, unlabelled, 16 cores and 64Gi allocatable as capacity, pod range 127.15', () => {
    const node = renderCpuNode(DEFAULT_NODE_POOL.cpu[0]!, computePodCidr(DEFAULT_NODE_POOL.gpu.length + 1));
    expect(node.spec).toEqual({ podCIDR: '127.15.0.0/16', podCIDRs: ['127.15.0.0/16'] });
    expect(node.metadata?.labels?.['node.lfm-operator.io/pool']).toBeUndefined();
    expect(node.status?.capacity).toEqual({ cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '1Ti' });
    expect(node.status?.allocatable).toEqual(node.status?.capacity);
  });

  it.each([
    // allocatable memory = capacity - 1 GiB (kube- and system-reserved) - 100 MiB (eviction-hard); cpu - 100m.
    { name: 'cpu-32g-0', cpu: '16', memory: '32Gi', allocatableCpu: '15900m', allocatableMemory: '31644Mi' },
    { name: 'cpu-32g-1', cpu: '16', memory: '32Gi', allocatableCpu: '15900m', allocatableMemory: '31644Mi' },
    { name: 'cpu-64g-0', cpu: '32', memory: '64Gi', allocatableCpu: '31900m', allocatableMemory: '64412Mi' },
  ])('CPU pool node $name: $cpu cores, $memory, $allocatableMemory allocatable, pool label and taint, no GPU', ({ name, cpu, memory, allocatableCpu, allocatableMemory }) => {
    const spec = DEFAULT_NODE_POOL.cpu.find((c) => c.name === name)!;
    const node = renderCpuNode(spec, computePodCidr(7));
    expect(node.metadata?.labels).toMatchObject({ 'node.lfm-operator.io/pool': 'cpu', 'kubernetes.io/hostname': name });
    expect(node.metadata?.labels?.['nvidia.com/gpu.present']).toBeUndefined();
    expect(node.status?.capacity).toEqual({ cpu, memory, pods: '110', 'ephemeral-storage': '1Ti' });
    expect(node.status?.allocatable).toEqual({ cpu: allocatableCpu, memory: allocatableMemory, pods: '110', 'ephemeral-storage': '1Ti' });
    expect(node.spec?.taints).toEqual([{ key: 'node.lfm-operator.io/pool', value: 'cpu', effect: 'NoSchedule' }]);
  });

  it('a 30 GiB replica fits a 32 GiB pool node\'s allocatable memory and two do not', () => {
    const mib = (q: string) => Number(q.replace(/Mi$/, ''));
    const allocatable = mib(buildCpuPoolNodeSpec('n', 16, 32).allocatable!.memory!);
    expect(allocatable).toBeGreaterThan(30 * 1024);
    expect(allocatable).toBeLessThan(32 * 1024);
    expect(allocatable).toBeLessThan(2 * 30 * 1024);
  });

  it('the default pool\'s pod ranges: GPU nodes first, then cpu-0, then the CPU pool (existing nodes keep theirs)', () => {
    const names = [...DEFAULT_NODE_POOL.gpu.map((g) => g.name), ...DEFAULT_NODE_POOL.cpu.map((c) => c.name)];
    expect(names.map((n, i) => `${n} ${computePodCidr(i + 1)}`)).toEqual([
      'gpu-h100-0 127.11.0.0/16', 'gpu-h100-1 127.12.0.0/16', 'gpu-l4-0 127.13.0.0/16', 'gpu-l4-1 127.14.0.0/16',
      'cpu-0 127.15.0.0/16', 'cpu-32g-0 127.16.0.0/16', 'cpu-32g-1 127.17.0.0/16', 'cpu-64g-0 127.18.0.0/16',
    ]);
  });

  it('a GPU node carries GFD labels, GPU capacity, the GPU taint and a loopback pod range', () => {
    const node = renderGpuNode(DEFAULT_NODE_POOL.gpu[2]!, computePodCidr(3));
    expect(node.metadata?.labels).toMatchObject({
      'nvidia.com/gpu.product': 'NVIDIA-L4', 'nvidia.com/gpu.memory': '23034', 'nvidia.com/gpu.count': '1',
      'nvidia.com/gpu.compute.major': '8', 'nvidia.com/gpu.compute.minor': '9', 'nvidia.com/gpu.family': 'ada-lovelace',
    });
    expect(node.metadata?.annotations?.['kwok.x-k8s.io/node']).toBe('fake');
    expect(node.status?.capacity?.['nvidia.com/gpu']).toBe('1');
    expect(node.status?.allocatable?.['nvidia.com/gpu']).toBe('1');
    expect(node.spec?.taints).toEqual([{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }]);
    expect(node.spec?.podCIDR).toBe('127.13.0.0/16');
  });

  it('a CPU node has no taint and no GPU', () => {
    const node = renderCpuNode({ name: 'cpu-9' }, computePodCidr(9));
    expect(node.spec?.taints).toBeUndefined();
    expect(node.status?.capacity?.['nvidia.com/gpu']).toBeUndefined();
  });

  it.each([
    { name: 'first', index: 1, cidr: '127.11.0.0/16' },
    { name: 'last', index: 245, cidr: '127.255.0.0/16' },
  ])('pod range of node $name', ({ index, cidr }) => {
    expect(computePodCidr(index)).toBe(cidr);
  });

  it.each([0, 246, 1.5])('refuses node index %s (127.0.0.0/16 is the control plane\'s)', (index) => {
    expect(() => computePodCidr(index)).toThrow();
  });

  it('the next node takes the first unused pod range', () => {
    const nodes = [1, 2, 4].map((i) => renderCpuNode({ name: `n${i}` }, computePodCidr(i)));
    expect(computeFreeNodeIndex(nodes)).toBe(3);
  });
});

describe('KWOK stages', () => {
  const stages = parseAllDocuments(renderKwokConfig()).map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> });

  it('are valid YAML Stages with unique names', () => {
    expect(stages.every((s) => s.kind === 'Stage')).toBe(true);
    expect(stages.map((s) => s.metadata.name)).toEqual([
      'node-initialize', 'node-heartbeat-with-lease', 'pod-ready', 'devcluster-pod-loading',
      'devcluster-pod-ready-after-delay', 'pod-complete', 'pod-delete',
    ]);
  });

  it('make pods with a ready delay Ready at startTime + delay, an absolute time', () => {
    const stage = stages.find((s) => s.metadata.name === 'devcluster-pod-ready-after-delay')!;
    expect(JSON.stringify(stage.spec['delay'])).toContain(`.status.startTime | fromdateiso8601) + (.metadata.annotations[\\"${POD_ANNOTATIONS.readyDelaySeconds}\\"] | tonumber)`);
  });
});

describe('components', () => {
  it('the API server writes no endpoints and audits to a file', () => {
    const args = buildApiserverArgs({
      port: 6443, etcdUrl: 'http://127.0.0.1:2379', certDir: '/p', caCert: '/p/ca.crt', serverCert: '/p/s.crt', serverKey: '/p/s.key',
      serviceAccountPublicKey: '/p/sa.pub', serviceAccountPrivateKey: '/p/sa.key', auditPolicyFile: '/a/p.yaml', auditLogFile: '/a/a.log',
    });
    expect(args).toContain('--endpoint-reconciler-type=none');
    expect(args).toContain('--bind-address=127.0.0.1');
    expect(args).toContain('--audit-log-path=/a/a.log');
  });

  it('the controller manager runs without the endpoint controllers', () => {
    const args = buildControllerManagerArgs({ kubeconfig: 'k', caCert: 'c', serviceAccountPrivateKey: 's' });
    expect(args).toContain('--controllers=*,-endpoints-controller,-endpointslice-controller,-endpointslice-mirroring-controller');
  });

  it('the audit policy records writes only', () => {
    const policy = parse(renderAuditPolicy()) as { rules: { level: string; verbs?: string[] }[] };
    expect(policy.rules.at(-1)).toEqual({ level: 'None' });
    expect(policy.rules.find((r) => r.level === 'Metadata')?.verbs).toEqual(['create', 'update', 'patch', 'delete', 'deletecollection']);
  });
});

describe('audit events', () => {
  const line = JSON.stringify({
    kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', stage: 'ResponseComplete', verb: 'patch',
    requestURI: '/apis/apps/v1/namespaces/ns/deployments/d?fieldManager=lfm-operator&force=true',
    user: { username: 'system:serviceaccount:ns:op', groups: ['system:serviceaccounts'] },
    objectRef: { resource: 'deployments', namespace: 'ns', name: 'd', apiGroup: 'apps', apiVersion: 'v1' },
    responseStatus: { code: 200 }, requestReceivedTimestamp: '2026-01-01T00:00:00.000000Z',
  });

  it('parses who wrote what, with the field manager', () => {
    expect(parseAuditEvent(line)).toEqual({
      user: 'system:serviceaccount:ns:op', groups: ['system:serviceaccounts'], verb: 'patch', apiGroup: 'apps', apiVersion: 'v1',
      resource: 'deployments', namespace: 'ns', name: 'd', fieldManager: 'lfm-operator', code: 200,
      requestURI: '/apis/apps/v1/namespaces/ns/deployments/d?fieldManager=lfm-operator&force=true', time: '2026-01-01T00:00:00.000000Z',
    });
  });

  it.each([
    { name: 'a cut-off line', text: line.slice(0, 40) },
    { name: 'another stage', text: line.replace('ResponseComplete', 'RequestReceived') },
  ])('skips $name', ({ text }) => {
    expect(parseAuditEvent(text)).toBeUndefined();
  });
});

describe('loopback only', () => {
  it.each([
    { host: '127.11.0.3', loopback: true },
    { host: '127.0.0.1', loopback: true },
    { host: '10.0.0.1', loopback: false },
    { host: 'localhost', loopback: false },
    { host: '::1', loopback: false },
  ])('$host loopback: $loopback', ({ host, loopback }) => {
    expect(isLoopbackAddress(host)).toBe(loopback);
  });

  it('refuses drain URLs to other addresses', () => {
    expect(() => parseDrainUrl('http://10.244.0.5:8000/drain')).toThrow(/127\.0\.0\.0\/8/);
    expect(parseDrainUrl('http://127.11.0.5:8000/drain').port).toBe('8000');
  });
});

describe('kubeconfig', () => {
  it('embeds the CA and a token', () => {
    const kc = parse(renderKubeconfig({ server: 'https://127.0.0.1:1', caPem: 'CA', user: 'u', credentials: { token: 't' }, namespace: 'n' })) as {
      clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[]; contexts: { context: Record<string, string> }[];
    };
    expect(kc.clusters[0]?.cluster).toEqual({ server: 'https://127.0.0.1:1', 'certificate-authority-data': Buffer.from('CA').toString('base64') });
    expect(kc.users[0]?.user).toEqual({ token: 't' });
    expect(kc.contexts[0]?.context).toEqual({ cluster: 'lfm-devcluster', user: 'u', namespace: 'n' });
  });
});
