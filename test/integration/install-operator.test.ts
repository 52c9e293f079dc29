// The chart's RBAC is what the operator needs, and no more: the operator process runs with a token of the chart's
// ServiceAccount (TokenRequest), reconciles an example into its children, and is refused verbs the chart does not
// grant. With it running, the kubectl experience: `get lfmd` columns, `explain`, and `scale` on and off autoscaling.
// The activator's ServiceAccount gets exactly its ClusterRole's permissions, in the watched namespace only, and the
// activator process syncs with them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { KubeClient } from '../../src/kube/client.js';
import { applyCrds, devCluster, eventually, useNamespace } from '../support/cluster.js';
import { ACTIVATOR_DENIED, ACTIVATOR_GRANTED, canIAs, CHART_DIR, helm, kubectl, ROOT, startActivator, startOperator, type OperatorProcess } from './install-support.js';

type Obj = { metadata: { name: string; generation?: number; ownerReferences?: { kind: string; name: string; controller?: boolean }[] }; spec: Record<string, unknown>; status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[] } };

/** An example of examples/ in a namespace. */
function example(file: string, namespace: string): { name: string; yaml: string } {
  const doc = parse(readFileSync(join(ROOT, 'examples', file), 'utf8')) as Obj & { metadata: { namespace?: string } };
  doc.metadata.namespace = namespace;
  return { name: doc.metadata.name, yaml: stringify(doc) };
}

const getJson = <T>(args: string[]): T => {
  const res = kubectl([...args, '-o', 'json']);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  return JSON.parse(res.stdout) as T;
};

describe('the operator with the chart\'s RBAC', () => {
  const ns = useNamespace('rbac');
  const release = 'lfm-rbac';
  const serviceAccount = `${release}-lfm-operator`;

  it('reconciles an example with a token of the chart\'s ServiceAccount, and is refused what the chart does not grant', async () => {
    await applyCrds();
    // The CRD is already there (installed apart: crds.install=false); the ClusterRole is bound in the watched
    // namespace only (operator.watchNamespaces).
    const install = helm(['install', release, CHART_DIR, `--namespace=${ns.name}`, '--set=crds.install=false', `--set=operator.watchNamespaces={${ns.name}}`, '--wait', '--timeout=90s']);
    expect(install.code, install.stderr).toBe(0);
    let operator: OperatorProcess | undefined;
    try {
      const token = await devCluster().mintToken(ns.name, serviceAccount);
      const user = `system:serviceaccount:${ns.name}:${serviceAccount}`;
      operator = await startOperator({ kubeconfig: token, namespaces: [ns.name], leaseNamespace: ns.name });

      // Reconciles: children with our controller reference, status written, leadership on a Lease in the release namespace.
      const small = example('lfm2-8b-l4-vllm.yaml', ns.name);
      expect(kubectl(['apply', '--server-side', '--field-manager=install-test', '-f', '-'], { input: small.yaml }).code).toBe(0);
      await eventually(() => {
        for (const kind of ['deployment', 'service']) {
          const child = getJson<Obj>(['get', kind, small.name, '-n', ns.name]);
          expect(child.metadata.ownerReferences, `${kind} ${small.name}`).toContainEqual(expect.objectContaining({ kind: 'LfmDeployment', name: small.name, controller: true }));
        }
      }, { timeoutMs: 60_000 });
      const reconciled = await eventually(() => {
        const lfmd = getJson<Obj>(['get', 'lfmdeployment', small.name, '-n', ns.name]);
        expect(lfmd.status?.observedGeneration).toBe(lfmd.metadata.generation);
        expect(lfmd.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
        return lfmd;
      }, { timeoutMs: 90_000 });
      expect(reconciled.status?.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('False');
      const lease = getJson<{ spec: { holderIdentity: string } }>(['get', 'lease', 'lfm-operator-leader', '-n', ns.name]);
      expect(lease.spec.holderIdentity).toBeTruthy();

      // kubectl get lfmd: the useful columns, filled in.
      const table = kubectl(['get', 'lfmd', '-n', ns.name]).stdout;
      const [header, ...rows] = table.trim().split('\n');
      expect(header!.split(/\s+/)).toEqual(['NAME', 'MODEL', 'ENGINE', 'QUANT', 'GPUS', 'READY', 'REPLICAS', 'STATUS', 'AGE']);
      expect(rows.find((r) => r.startsWith(`${small.name} `))!.split(/\s+/).slice(0, 8)).toEqual([small.name, 'hf://LiquidAI/LFM2-8B-A1B', 'VLLM', 'FP8', '1', '1', '1', 'True']);

      // kubectl scale with autoscaling off: writes spec.replicas through /scale; the operator scales the child (and,
      // from 2 replicas, protects it with a PodDisruptionBudget).
      const scaled = kubectl(['scale', `lfmd/${small.name}`, '--replicas=3', '-n', ns.name]);
      expect(scaled.code, scaled.stderr).toBe(0);
      expect(scaled.stdout).toContain('scaled');
      await eventually(() => {
        expect(getJson<{ spec: { replicas: number } }>(['get', 'deployment', small.name, '-n', ns.name]).spec.replicas).toBe(3);
        expect(getJson<Obj>(['get', 'poddisruptionbudget', small.name, '-n', ns.name]).metadata.ownerReferences).toContainEqual(expect.objectContaining({ kind: 'LfmDeployment', controller: true }));
      }, { timeoutMs: 30_000 });

      // kubectl scale with autoscaling on: refused by the CRD's CEL rule, with its message.
      const auto = example('lfm2-24b-autoscaling.yaml', ns.name);
      expect(kubectl(['apply', '--server-side', '--field-manager=install-test', '-f', '-'], { input: auto.yaml }).code).toBe(0);
      const refused = kubectl(['scale', `lfmd/${auto.name}`, '--replicas=3', '-n', ns.name]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('spec.replicas must be omitted while spec.autoscaling.enabled is true: remove spec.replicas, or set spec.autoscaling.enabled to false');
      expect(getJson<Obj>(['get', 'lfmd', auto.name, '-n', ns.name]).spec['replicas']).toBeUndefined();

      // Everything the operator wrote with the chart's RBAC succeeded: the grant is sufficient. (Before the refusals
      // below, which are requests as the same identity.)
      const writes = devCluster().readAudit().filter((e) => e.user === user);
      expect(writes.filter((e) => e.resource === 'deployments' && e.fieldManager === 'lfm-operator').length).toBeGreaterThan(0);
      expect(writes.filter((e) => e.resource === 'lfmdeployments' && e.subresource === 'status').length).toBeGreaterThan(0);
      expect(writes.filter((e) => (e.code ?? 0) >= 400 && e.code !== 409 && e.code !== 404).map((e) => `${e.verb} ${e.resource} ${e.code}`)).toEqual([]);
      expect(operator.logs()).not.toMatch(/forbidden/i);

      // Verbs the chart does not grant, asked as the operator's own identity.
      const canI = (...args: string[]) => kubectl(['auth', 'can-i', ...args], { kubeconfig: token }).stdout.trim();
      for (const denied of [
        ['get', 'secrets', '-n', ns.name],
        ['create', 'pods', '-n', ns.name],
        ['update', 'lfmdeployments', '-n', ns.name],
        ['patch', 'lfmdeployments', '-n', ns.name],
        ['delete', 'nodes'],
        ['list', 'lfmdeployments', '--all-namespaces'],
        ['create', 'clusterrolebindings'],
      ]) expect(canI(...denied), `can-i ${denied.join(' ')}`).toBe('no');
      for (const granted of [
        ['patch', 'lfmdeployments', '--subresource=status', '-n', ns.name],
        ['create', 'deployments', '-n', ns.name],
        ['patch', 'pods', '-n', ns.name],
        ['update', 'leases', '-n', ns.name],
        ['create', 'endpointslices.discovery.k8s.io', '-n', ns.name],
        ['delete', 'endpointslices.discovery.k8s.io', '-n', ns.name],
        ['list', 'pods', '-n', ns.name],
      ]) expect(canI(...granted), `can-i ${granted.join(' ')}`).toBe('yes');

      // The activator, as its own ServiceAccount: its rules in the watched namespace (a RoleBinding), nothing elsewhere.
      const asActivator = await devCluster().mintToken(ns.name, `${serviceAccount}-activator`);
      for (const args of ACTIVATOR_GRANTED) expect(canIAs(asActivator, [...args, '-n', ns.name]), `activator can-i ${args.join(' ')}`).toBe('yes');
      for (const args of ACTIVATOR_DENIED) expect(canIAs(asActivator, [...args, '-n', ns.name]), `activator can-i ${args.join(' ')}`).toBe('no');
      expect(canIAs(asActivator, ['list', 'lfmdeployments.serving.lfm-operator.io', '--all-namespaces'])).toBe('no');
      expect(canIAs(asActivator, ['list', 'pods', '-n', 'default'])).toBe('no');
      // And the activator process itself, as that ServiceAccount with the chart's environment: its informers list and
      // watch the watched namespace without a refusal (its /readyz waits for them), and /metrics answers on its one port.
      const activator = await startActivator({ kubeconfig: asActivator, pod: 'lfm-rbac-activator-test', namespace: ns.name, watchNamespaces: [ns.name] });
      try {
        expect((await fetch(`${activator.url}/healthz`)).status).toBe(200);
        expect((await fetch(`${activator.url}/metrics`)).status).toBe(200);
        expect(activator.logs()).not.toMatch(/forbidden/i);
      } finally {
        await activator.stop();
      }

      // And a direct request: the API server's refusal names the identity and the verb.
      const asOperator = KubeClient.fromKubeconfig(token);
      const secrets = await asOperator.send('GET', `/api/v1/namespaces/${ns.name}/secrets`);
      expect(secrets.status).toBe(403);
      expect((secrets.body as { message?: string }).message).toContain(`User "${user}" cannot list resource "secrets"`);
      const spec = await asOperator.send('PATCH', `/apis/serving.lfm-operator.io/v1alpha1/namespaces/${ns.name}/lfmdeployments/${small.name}`, {
        body: { spec: { replicas: 1 } }, contentType: 'application/merge-patch+json',
      });
      expect(spec.status).toBe(403);
    } finally {
      await operator?.stop();
      helm(['uninstall', release, `--namespace=${ns.name}`]);
    }
  });

  it('kubectl explain shows the field descriptions from the zod schema', async () => {
    await applyCrds();
    const spec = await eventually(() => {
      const res = kubectl(['explain', 'lfmdeployment.spec']);
      expect(res.code, res.stderr).toBe(0);
      return res.stdout;
    });
    expect(spec).toContain('KIND:       LfmDeployment');
    expect(spec).toContain('spec: the desired deployment, written by the user');
    expect(spec).toMatch(/autoscaling\s+<Object>/);
    const enabled = kubectl(['explain', 'lfmdeployment.spec.autoscaling.enabled']).stdout;
    expect(enabled).toContain('spec.replicas must');
    expect(enabled).toContain('Default false');
  });
});
