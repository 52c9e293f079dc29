// Runs the real operator (the built CLI, `lfm-operator run`) as a child process against the dev control plane, as a
// ServiceAccount bound to the RBAC of config/rbac/role.yaml, so RBAC, leader election and the audit log are real.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { RESOURCES, type KubeObject, type ResourceType } from '../../src/kube/client.js';
import { devCluster, eventually, kubeClient, TEST_FIELD_MANAGER } from './cluster.js';

const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;
const RBAC = new URL('../../config/rbac/role.yaml', import.meta.url).pathname;

const rbac = (plural: string, namespaced: boolean): ResourceType => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind: '', namespaced });

/** Binds the operator's ClusterRole and leader-election Role to ServiceAccount namespace/name; returns its kubeconfig. */
export async function createOperatorIdentity(namespace: string, name = 'lfm-operator'): Promise<{ kubeconfig: string; user: string }> {
  const client = kubeClient();
  const docs = parseAllDocuments(readFileSync(RBAC, 'utf8')).map((d) => d.toJS() as KubeObject);
  for (const doc of docs) {
    if (doc.kind === 'ClusterRole') await client.apply(rbac('clusterroles', false), doc, TEST_FIELD_MANAGER);
    else await client.apply(rbac('roles', true), { ...doc, metadata: { ...doc.metadata, namespace } }, TEST_FIELD_MANAGER);
  }
  const kubeconfig = await devCluster().mintToken(namespace, name);
  const subjects = [{ kind: 'ServiceAccount', name, namespace }];
  await client.apply(rbac('clusterrolebindings', false), {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `lfm-operator-${namespace}-${name}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'lfm-operator' }, subjects,
  }, TEST_FIELD_MANAGER);
  await client.apply(rbac('rolebindings', true), {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `lfm-operator-leader-election-${name}`, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'lfm-operator-leader-election' }, subjects,
  }, TEST_FIELD_MANAGER);
  return { kubeconfig, user: `system:serviceaccount:${namespace}:${name}` };
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly identity: string;
  readonly logs: string[];
  /** Resolves when the log shows `msg`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<void>;
  /** lfm_operator_reconcile_total summed over results, from the operator's /metrics. */
  reconcileCount(): Promise<number>;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, no cleanup (a crash). */
  kill(): Promise<void>;
}

const running = new Set<OperatorProcess>();

export function startOperator(options: { kubeconfig: string; namespace: string; identity?: string; extraArgs?: string[] }): OperatorProcess {
  const identity = options.identity ?? `op-${Math.random().toString(36).slice(2, 8)}`;
  const child = spawn(process.execPath, [CLI, 'run',
    '--kubeconfig', options.kubeconfig,
    '--namespaces', options.namespace,
    '--leader-election-namespace', options.namespace,
    '--identity', identity,
    '--metrics-bind-address', '127.0.0.1:0',
    '--health-probe-bind-address', '127.0.0.1:0',
    '--log-level', 'debug',
    ...(options.extraArgs ?? []),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const logs: string[] = [];
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const proc: OperatorProcess = {
    child, identity, logs,
    async waitForLog(msg, timeoutMs = 30_000) {
      await eventually(() => {
        if (!logs.some((l) => l.includes(`"msg":"${msg}"`))) throw new Error(`operator ${identity} has not logged "${msg}"; last lines:\n${logs.slice(-5).join('\n')}`);
      }, { timeoutMs, intervalMs: 100 });
    },
    async reconcileCount() {
      const line = logs.find((l) => l.includes('"msg":"serving probes and metrics"'));
      const address = line ? (JSON.parse(line) as { metrics: string }).metrics : undefined;
      if (!address) return 0;
      const text = await (await fetch(`http://${address}/metrics`)).text();
      return text.split('\n').filter((l) => l.startsWith('lfm_operator_reconcile_total{')).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    },
    async stop() {
      running.delete(proc);
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      running.delete(proc);
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  running.add(proc);
  return proc;
}

/** Kills every operator a test started (afterEach), so a failed test leaves none behind. */
export async function stopAllOperators(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill()));
}

/** Audit events of writes by `user` to the operator's objects since `since` (an index into readAudit()). */
export function countWrites(user: string, since: number, namespace: string): number {
  const kinds = new Set<string>([RESOURCES.lfmDeployment.plural, RESOURCES.deployment.plural, RESOURCES.service.plural, RESOURCES.podDisruptionBudget.plural, RESOURCES.pod.plural]);
  return devCluster().readAudit().slice(since).filter((e) => e.user === user && e.namespace === namespace && kinds.has(e.resource)).length;
}
