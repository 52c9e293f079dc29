// Runs the real scale-to-zero activator (the built CLI, `lfm-operator activator`) as a child process against the dev
// control plane, as a ServiceAccount bound to config/rbac/activator-role.yaml, listening on the loopback IP of a KWOK
// pod that stands for its pod (activator labels, containerPort http), so that the operator's EndpointSlice can point
// at it. Also: a plain HTTP client for requests through it that never hangs (every request has a deadline).
import { spawn, type ChildProcess } from 'node:child_process';
import http, { type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { KubeObject, ResourceType } from '../../src/kube/client.js';
import { coreApi, devCluster, eventually, kubeClient, TEST_FIELD_MANAGER } from './cluster.js';

const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;
const ROLE_FILE = new URL('../../config/rbac/activator-role.yaml', import.meta.url).pathname;
const rbac = (plural: string, namespaced: boolean): ResourceType => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind: '', namespaced });

/** The labels the operator finds activator pods by (render/endpoints.ts ACTIVATOR_LABELS), and their port. */
export const ACTIVATOR_POD_LABELS = { 'app.kubernetes.io/name': 'lfm-operator', 'app.kubernetes.io/component': 'activator' };
export const ACTIVATOR_PORT = 8080;

export interface ActivatorIdentity {
  kubeconfig: string;
  /** The audit log's user name: system:serviceaccount:NAMESPACE:NAME. */
  user: string;
}

/** Binds the activator's ClusterRole (config/rbac/activator-role.yaml, as written) to ServiceAccount namespace/name. */
export async function createActivatorIdentity(namespace: string, name = 'lfm-activator'): Promise<ActivatorIdentity> {
  const client = kubeClient();
  let role: string | undefined;
  for (const doc of parseAllDocuments(readFileSync(ROLE_FILE, 'utf8')).map((d) => d.toJS() as KubeObject)) {
    if (doc.kind !== 'ClusterRole') continue;
    await client.apply(rbac('clusterroles', false), doc, TEST_FIELD_MANAGER);
    role = doc.metadata!.name!;
  }
  if (!role) throw new Error(`${ROLE_FILE} has no ClusterRole`);
  const kubeconfig = await devCluster().mintToken(namespace, name);
  await client.apply(rbac('clusterrolebindings', false), {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${role}-${namespace}-${name}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ kind: 'ServiceAccount', name, namespace }],
  }, TEST_FIELD_MANAGER);
  return { kubeconfig, user: `system:serviceaccount:${namespace}:${name}` };
}

export interface ActivatorPod {
  name: string;
  ip: string;
}

/**
 * A KWOK pod standing for one activator replica: the activator labels and a containerPort named http. It lands on the
 * untainted cpu-0 node, Running and Ready at once, with a loopback pod IP the activator process then listens on.
 */
export async function createActivatorPod(namespace: string, name: string): Promise<ActivatorPod> {
  const core = coreApi();
  const body: V1Pod = {
    metadata: { name, labels: { ...ACTIVATOR_POD_LABELS } },
    spec: { containers: [{ name: 'activator', image: 'lfm-operator:test', args: ['activator', '--listen', `:${ACTIVATOR_PORT}`], ports: [{ name: 'http', containerPort: ACTIVATOR_PORT, protocol: 'TCP' }] }] },
  };
  await core.createNamespacedPod({ namespace, body });
  return eventually(async () => {
    const pod = await core.readNamespacedPod({ name, namespace });
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (!ready || !pod.status?.podIP) throw new Error(`activator pod ${namespace}/${name} not Ready with an IP yet`);
    return { name, ip: pod.status.podIP };
  });
}

export interface ActivatorProcess {
  readonly child: ChildProcess;
  readonly pod: string;
  /** Where it listens, HOST:PORT. */
  readonly address: string;
  readonly logs: string[];
  waitForLog(msg: string, timeoutMs?: number): Promise<void>;
  /** Resolves once GET /readyz answers 200 (its caches synced). */
  waitReady(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, no cleanup (a crash). */
  kill(): Promise<void>;
}

const running = new Set<ActivatorProcess>();

/** Spawns `lfm-operator activator --kubeconfig K --listen ADDRESS` with POD_NAME=pod. */
export function startActivator(options: { kubeconfig: string; pod: string; listen: string; extraArgs?: string[] }): ActivatorProcess {
  const child = spawn(process.execPath, [CLI, 'activator', '--kubeconfig', options.kubeconfig, '--listen', options.listen, '--log-level', 'debug', ...(options.extraArgs ?? [])], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, POD_NAME: options.pod, POD_NAMESPACE: '' },
  });
  const logs: string[] = [];
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    logs.push(...lines);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const proc: ActivatorProcess = {
    child, pod: options.pod, address: options.listen, logs,
    async waitForLog(msg, timeoutMs = 30_000) {
      await eventually(() => {
        if (child.exitCode !== null) throw new Error(`activator ${options.pod} exited ${child.exitCode}; last lines:\n${logs.slice(-10).join('\n')}`);
        if (!logs.some((l) => l.includes(`"msg":"${msg}"`))) throw new Error(`activator ${options.pod} has not logged "${msg}"; last lines:\n${logs.slice(-5).join('\n')}`);
      }, { timeoutMs, intervalMs: 100 });
    },
    async waitReady(timeoutMs = 30_000) {
      await proc.waitForLog('activator listening', timeoutMs);
      await eventually(async () => {
        const r = await sendRequest(options.listen, { path: '/readyz', method: 'GET', timeoutMs: 2000 });
        if (r.status !== 200) throw new Error(`activator ${options.pod} /readyz: ${r.status ?? r.error} ${r.body}`);
      }, { timeoutMs, intervalMs: 100 });
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

/** Kills every activator a test started (afterEach). */
export async function stopAllActivators(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill()));
}

export interface RequestOutcome {
  /** The HTTP status, or undefined when the exchange failed (error says how). */
  status?: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The socket error's code (ECONNRESET, ...) or message, or 'timeout' past the deadline. */
  error?: string;
  sentAt: number;
  /** Milliseconds from sending to the outcome. */
  ms: number;
}

/**
 * One request on a fresh connection to address (HOST:PORT, loopback), with an optional Host header; resolves (never
 * rejects) with its outcome, at the latest after timeoutMs (default 60 s) with error 'timeout'.
 */
export function sendRequest(address: string, options: { host?: string; path?: string; method?: string; body?: string; timeoutMs?: number } = {}): Promise<RequestOutcome> {
  const i = address.lastIndexOf(':');
  const hostname = address.slice(0, i);
  const port = Number(address.slice(i + 1));
  if (!hostname.startsWith('127.')) throw new Error(`sendRequest: ${address} is not a loopback address`);
  const method = options.method ?? 'POST';
  const body = options.body ?? (method === 'POST' ? JSON.stringify({ model: 'm', prompt: 'hello', max_tokens: 5 }) : undefined);
  const sentAt = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Omit<RequestOutcome, 'sentAt' | 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...o, sentAt, ms: Date.now() - sentAt });
    };
    const req = http.request({
      hostname, port, method, path: options.path ?? '/v1/completions', agent: false,
      headers: {
        ...(options.host ? { host: options.host } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err: NodeJS.ErrnoException) => done({ headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), error: err.code ?? err.message }));
      res.on('close', () => {
        if (!res.complete) done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), error: 'aborted' });
      });
    });
    const timer = setTimeout(() => {
      done({ headers: {}, body: '', error: 'timeout' });
      req.destroy();
    }, options.timeoutMs ?? 60_000);
    req.on('error', (err: NodeJS.ErrnoException) => done({ headers: {}, body: '', error: err.code ?? err.message }));
    req.end(body);
  });
}
