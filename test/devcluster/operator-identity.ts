// I/O. Gives the operator a least-privilege identity on the dev control plane: the RBAC of config/rbac/role.yaml
// bound to a ServiceAccount, and a kubeconfig with a TokenRequest token for it. Used by the integration tests and
// bench/reconcile so that RBAC and the audit log's attribution are real.
import { existsSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { KubeClient, KubeObject, ResourceType } from '../../src/kube/client.js';
import type { DevCluster } from './control-plane.js';

// From test/devcluster (tests run the TypeScript) or dist/test/devcluster (the built bench).
const RBAC_FILE = ['../../config/rbac/role.yaml', '../../../config/rbac/role.yaml']
  .map((rel) => new URL(rel, import.meta.url).pathname)
  .find((path) => existsSync(path)) ?? 'config/rbac/role.yaml';
const rbac = (plural: string, namespaced: boolean): ResourceType => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind: '', namespaced });

export interface OperatorIdentity {
  kubeconfig: string;
  /** The audit log's user name: system:serviceaccount:NAMESPACE:NAME. */
  user: string;
}

/** Binds the operator's ClusterRole, and its leader-election Role in `namespace`, to ServiceAccount namespace/name. */
export async function createOperatorIdentity(cluster: DevCluster, client: KubeClient, namespace: string, name = 'lfm-operator', fieldManager = 'devcluster'): Promise<OperatorIdentity> {
  for (const doc of parseAllDocuments(readFileSync(RBAC_FILE, 'utf8')).map((d) => d.toJS() as KubeObject)) {
    if (doc.kind === 'ClusterRole') await client.apply(rbac('clusterroles', false), doc, fieldManager);
    else await client.apply(rbac('roles', true), { ...doc, metadata: { ...doc.metadata, namespace } }, fieldManager);
  }
  const kubeconfig = await cluster.mintToken(namespace, name);
  const subjects = [{ kind: 'ServiceAccount', name, namespace }];
  await client.apply(rbac('clusterrolebindings', false), {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `lfm-operator-${namespace}-${name}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'lfm-operator' }, subjects,
  }, fieldManager);
  await client.apply(rbac('rolebindings', true), {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `lfm-operator-leader-election-${name}`, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lfm-operator-leader-election' }, subjects,
  }, fieldManager);
  return { kubeconfig, user: `system:serviceaccount:${namespace}:${name}` };
}
