// Runs the real operator (the built CLI, `lfm-operator run`) as a child process against the dev control plane, as a
// ServiceAccount bound to the RBAC of config/rbac/role.yaml, so RBAC, leader election and the audit log are real.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOperatorIdentity as createDevClusterOperatorIdentity, type OperatorIdentity } from '../devcluster/operator-identity.js';
import { RESOURCES, type KubeObject } from '../../src/kube/client.js';
import { devCluster, eventually, kubeClient, TEST_FIELD_MANAGER } from './cluster.js';

const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

/** Binds the operator's RBAC (config/rbac/role.yaml) to ServiceAccount namespace/name; returns its kubeconfig. */
export function createOperatorIdentity(namespace: string, name = 'lfm-operator'): Promise<OperatorIdentity> {
  return createDevClusterOperatorIdentity(devCluster(), kubeClient(), namespace, name, TEST_FIELD_MANAGER);
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

export function startOperator(options: { kubeconfig: string; namespace: string; activatorNamespace?: string; identity?: string; extraArgs?: string[] }): OperatorProcess {
  const identity = options.identity ?? `op-${Math.random().toString(36).slice(2, 8)}`;
  const child = spawn(process.execPath, [CLI, 'run',
    '--kubeconfig', options.kubeconfig,
    '--namespaces', options.namespace,
    '--leader-election-namespace', options.namespace,
    '--activator-namespace', options.activatorNamespace ?? options.namespace,
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

/** Saves a resource as observed, for the Argo CD and Flux health tests (only with RECORD_STATUSES=1). */
export function recordStatus(caseName: string, obj: KubeObject & { spec?: unknown; status?: unknown }): void {
  if (!process.env['RECORD_STATUSES']) return;
  const dir = new URL('../fixtures/statuses/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  const { managedFields: _m, uid: _u, resourceVersion: _r, creationTimestamp: _c, ...meta } = obj.metadata as Record<string, unknown>;
  writeFileSync(join(dir, `${caseName}.json`), `${JSON.stringify({ apiVersion: obj.apiVersion, kind: obj.kind, metadata: { ...meta, namespace: 'default' }, spec: obj.spec, status: obj.status }, null, 2)}\n`);
}
