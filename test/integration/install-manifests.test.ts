// The plain-manifest path and the image: dist/install.yaml (the cdk8s app's output) applied with kubectl, the example
// cdk8s app's LfmDeployments applied next to it, and the operator run from the image's tree (`make image-tree`:
// npm ci --omit=dev + dist/src), read-only and as a non-root user, with the install's ServiceAccount, reconciling them.
// The scale-to-zero activator's objects are checked as installed: its Deployment, its ServiceAccount and exactly the
// permissions its ClusterRole grants through its binding, and the operator's EndpointSlice rule and activator namespace.
import type { V1ClusterRole, V1ClusterRoleBinding, V1Deployment } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthExample } from '../../cdk8s/example.js';
import { devCluster, eventually, useNamespace } from '../support/cluster.js';
import {
  ACTIVATOR_DENIED, ACTIVATOR_GRANTED, ACTIVATOR_POD_LABELS, ACTIVATOR_RULES, canIAs, ENDPOINTSLICE_RULE, kubectl, restoreCrd, ROOT, run,
  startOperator, type OperatorProcess,
} from './install-support.js';

const INSTALL = join(ROOT, 'dist/install.yaml');
const NAMESPACE = 'lfm-operator-system';
/** The image's user (Dockerfile USER, chart podSecurityContext.runAsUser). */
const IMAGE_UID = 65532;

type Obj = { kind: string; metadata: { name: string; namespace?: string; ownerReferences?: { kind: string; name: string }[] }; spec?: Record<string, unknown> };
const getJson = <T>(args: string[]): T => {
  const res = kubectl([...args, '-o', 'json']);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return JSON.parse(res.stdout) as T;
};

describe('dist/install.yaml, the cdk8s example and the image tree', () => {
  const ns = useNamespace('plain');
  let work: string | undefined;

  afterAll(async () => {
    // Everything of dist/install.yaml but the CRD, which the other tests share (restored to crds/ instead).
    for (const args of [
      ['namespace', NAMESPACE], ['clusterrole', 'lfm-operator'], ['clusterrolebinding', 'lfm-operator'],
      ['clusterrole', 'lfm-operator-activator'], ['clusterrolebinding', 'lfm-operator-activator'],
    ]) {
      kubectl(['delete', ...args, '--ignore-not-found', '--wait=false']);
    }
    await restoreCrd();
    if (work) {
      execFileSync('chmod', ['-R', 'u+w', work]);
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('installs with kubectl, and the operator from the image tree reconciles the cdk8s example as a non-root user', async () => {
    // 1. The plain manifests: every object accepted with strict validation; the operator pods run on the CPU node in
    //    a namespace that enforces Pod Security "restricted".
    const applied = kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=install-test', '--validate=strict', '-f', INSTALL]);
    expect(applied.code, applied.stderr).toBe(0);
    const kinds = parseAllDocuments(readFileSync(INSTALL, 'utf8')).map((d) => (d.toJS() as Obj).kind);
    expect(applied.stdout.trim().split('\n')).toHaveLength(kinds.length);
    await eventually(() => {
      const d = getJson<{ status: { readyReplicas?: number }; spec: { replicas: number } }>(['get', 'deployment', 'lfm-operator', '-n', NAMESPACE]);
      expect(d.status.readyReplicas).toBe(d.spec.replicas);
    }, { timeoutMs: 60_000 });
    // The operator's two pods and the activator's two, all on the CPU node (the GPU nodes are tainted).
    await eventually(() => {
      const pods = getJson<{ items: { spec: { nodeName?: string } }[] }>(['get', 'pods', '-n', NAMESPACE, '-l', 'app.kubernetes.io/name=lfm-operator']).items;
      expect(pods.map((p) => p.spec.nodeName)).toEqual(['cpu-0', 'cpu-0', 'cpu-0', 'cpu-0']);
    }, { timeoutMs: 60_000 });

    // 1b. The scale-to-zero activator: its own Deployment (found by the two labels the operator looks for), its own
    //     ServiceAccount, and exactly its ClusterRole's permissions, bound cluster-wide to that ServiceAccount. Its pods'
    //     readiness is not asserted: the control plane's kubelet emulation reports every scheduled pod Ready.
    const activator = getJson<V1Deployment>(['get', 'deployment', 'lfm-operator-activator', '-n', NAMESPACE]);
    expect(activator.spec!.replicas).toBe(2);
    expect(activator.spec!.selector.matchLabels).toMatchObject(ACTIVATOR_POD_LABELS);
    const pod = activator.spec!.template.spec!;
    expect(pod.serviceAccountName).toBe('lfm-operator-activator');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.containers.map((c) => [c.name, c.args, c.ports?.map((p) => [p.name, p.containerPort])])).toEqual([['activator', ['activator', '--listen', ':8080'], [['http', 8080]]]]);
    expect(pod.containers[0]!.env?.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath])).toEqual([['POD_NAME', 'metadata.name'], ['POD_NAMESPACE', 'metadata.namespace']]);
    const byLabels = Object.entries(ACTIVATOR_POD_LABELS).map(([k, v]) => `${k}=${v}`).join(',');
    await eventually(() => {
      expect(getJson<{ items: unknown[] }>(['get', 'pods', '-n', NAMESPACE, '-l', byLabels]).items).toHaveLength(2);
    }, { timeoutMs: 60_000 });
    expect(getJson<Obj>(['get', 'serviceaccount', 'lfm-operator-activator', '-n', NAMESPACE]).metadata.name).toBe('lfm-operator-activator');
    expect(getJson<V1ClusterRole>(['get', 'clusterrole', 'lfm-operator-activator']).rules).toEqual(ACTIVATOR_RULES);
    expect(getJson<V1ClusterRoleBinding>(['get', 'clusterrolebinding', 'lfm-operator-activator'])).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'lfm-operator-activator' },
      subjects: [{ kind: 'ServiceAccount', name: 'lfm-operator-activator', namespace: NAMESPACE }],
    });
    const asActivator = await devCluster().mintToken(NAMESPACE, 'lfm-operator-activator');
    for (const args of ACTIVATOR_GRANTED) expect(canIAs(asActivator, [...args, '--all-namespaces']), `activator can-i ${args.join(' ')}`).toBe('yes');
    for (const args of ACTIVATOR_DENIED) expect(canIAs(asActivator, [...args, '-n', ns.name]), `activator can-i ${args.join(' ')}`).toBe('no');
    // The operator: the EndpointSlices of scale-to-zero Services anywhere, the activator pods in its namespace, and
    // that namespace in LFM_OPERATOR_ACTIVATOR_NAMESPACE.
    expect(getJson<V1ClusterRole>(['get', 'clusterrole', 'lfm-operator']).rules).toContainEqual(ENDPOINTSLICE_RULE);
    const operatorEnv = getJson<V1Deployment>(['get', 'deployment', 'lfm-operator', '-n', NAMESPACE]).spec!.template.spec!.containers[0]!.env;
    expect(operatorEnv).toContainEqual({ name: 'LFM_OPERATOR_ACTIVATOR_NAMESPACE', value: NAMESPACE });
    const asOperator = await devCluster().mintToken(NAMESPACE, 'lfm-operator');
    for (const verb of ENDPOINTSLICE_RULE.verbs) expect(canIAs(asOperator, [verb, 'endpointslices.discovery.k8s.io', '-n', ns.name]), `operator can-i ${verb} endpointslices`).toBe('yes');
    expect(canIAs(asOperator, ['list', 'pods', '-n', NAMESPACE])).toBe('yes');

    // 2. The example cdk8s app's output, applied as a GitOps tool would (server-side, strict).
    const example = synthExample(ns.name);
    const created = kubectl(['apply', '--server-side', '--field-manager=install-test', '--validate=strict', '-f', '-'], { input: example });
    expect(created.code, created.stderr).toBe(0);
    const names = parseAllDocuments(example).map((d) => (d.toJS() as Obj).metadata.name);
    expect(names).toEqual(['lfm2-24b', 'lfm2-8b-l4']);

    // 3. The image's tree, assembled as `make image-tree` does, read-only.
    work = mkdtempSync(join(tmpdir(), 'lfm-image-'));
    chmodSync(work, 0o755);
    const tree = join(work, 'app');
    const built = run(join(ROOT, 'hack/image-tree.sh'), [tree]);
    expect(built.code, built.stderr).toBe(0);
    expect(readdirSync(tree).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    expect(readdirSync(join(tree, 'dist'))).toEqual(['src']);
    expect(readdirSync(join(tree, 'node_modules'))).not.toContain('vitest');
    // The test harness is not the product: no module of test/devcluster, by file name or by content.
    const harness = readdirSync(join(ROOT, 'test/devcluster')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '.js'));
    const shipped = readdirSync(join(tree, 'dist/src'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(shipped.length).toBeGreaterThan(20);
    expect(shipped.filter((f) => f.includes('devcluster') || harness.includes(f.split('/').pop() ?? ''))).toEqual([]);
    expect(shipped.filter((f) => readFileSync(join(tree, 'dist/src', f), 'utf8').includes('startControlPlane'))).toEqual([]);
    // The node binary and the kubeconfig, where the image's user can read them (the image has its own node).
    const node = join(work, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
    const kubeconfig = join(work, 'kubeconfig');
    writeFileSync(kubeconfig, readFileSync(await devCluster().mintToken(NAMESPACE, 'lfm-operator'), 'utf8'), { mode: 0o644 });

    // Non-root: setpriv switches to the image's uid/gid with no supplementary groups before node starts. The tree is
    // owned by root and a-w, so that user cannot write to it (proven below), as with a read-only root filesystem.
    const asImageUser = ['--reuid', String(IMAGE_UID), '--regid', String(IMAGE_UID), '--clear-groups', '--'];
    const touch = run('setpriv', [...asImageUser, node, '-e', `require('node:fs').writeFileSync(${JSON.stringify(join(tree, 'dist/x'))}, '')`]);
    expect(touch.code).not.toBe(0);
    expect(touch.stderr).toMatch(/EACCES|permission denied/i);

    let operator: OperatorProcess | undefined;
    try {
      operator = await startOperator({
        kubeconfig, namespaces: [ns.name], leaseNamespace: NAMESPACE,
        command: { file: 'setpriv', args: [...asImageUser, node, join(tree, 'dist/src/cli/main.js')] },
        env: { PATH: '/usr/bin:/bin', HOME: '/nonexistent', NODE_ENV: 'production' },
      });
      const status = readFileSync(`/proc/${operator.pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^Uid:\\s+${IMAGE_UID}\\s+${IMAGE_UID}\\s+${IMAGE_UID}`, 'm'));
      expect(status).toMatch(new RegExp(`^Groups:\\s*$`, 'm'));

      await eventually(() => {
        for (const name of names) {
          const deployment = getJson<Obj>(['get', 'deployment', name, '-n', ns.name]);
          expect(deployment.metadata.ownerReferences).toContainEqual(expect.objectContaining({ kind: 'LfmDeployment', name }));
          const lfmd = getJson<{ metadata: { generation: number }; status?: { observedGeneration?: number } }>(['get', 'lfmd', name, '-n', ns.name]);
          expect(lfmd.status?.observedGeneration).toBe(lfmd.metadata.generation);
        }
      }, { timeoutMs: 60_000 });
      expect(operator.logs()).not.toMatch(/forbidden|EACCES|EROFS/i);
    } finally {
      await operator?.stop();
    }
  });
});
