// Helpers of the install tests (install-*.test.ts): kubectl and helm from the pinned tools against the run's control
// plane, the operator process started from the command line, and the shared CRD restored after a test changed it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { devCluster, eventually, kubeClient } from '../support/cluster.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHART_DIR = join(ROOT, 'charts/lfm-operator');
export const CRD_NAME = 'lfmdeployments.serving.lfm-operator.io';
const CRD_FILE = join(ROOT, 'crds/serving.lfm-operator.io_lfmdeployments.yaml');

export interface Run { code: number; stdout: string; stderr: string }

/**
 * The scale-to-zero activator's permissions, exactly (config/rbac/activator-role.yaml): LfmDeployments read, its own
 * entry of their status (server-side apply: get and patch), engine pods read. No Secrets, no Events, nothing else.
 */
export const ACTIVATOR_RULES = [
  { apiGroups: ['serving.lfm-operator.io'], resources: ['lfmdeployments'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['serving.lfm-operator.io'], resources: ['lfmdeployments/status'], verbs: ['get', 'patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
];
/** The operator's rule for the EndpointSlices of scale-to-zero Services (config/rbac/role.yaml). */
export const ENDPOINTSLICE_RULE = { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] };
/** The labels the operator finds the activator pods by, in its own namespace. */
export const ACTIVATOR_POD_LABELS = { 'app.kubernetes.io/name': 'lfm-operator', 'app.kubernetes.io/component': 'activator' };

/** Requests the activator may make, and some it must not (`kubectl auth can-i` arguments, namespace appended). */
export const ACTIVATOR_GRANTED = [
  ['get', 'lfmdeployments.serving.lfm-operator.io'], ['list', 'lfmdeployments.serving.lfm-operator.io'], ['watch', 'lfmdeployments.serving.lfm-operator.io'],
  ['get', 'lfmdeployments.serving.lfm-operator.io', '--subresource=status'], ['patch', 'lfmdeployments.serving.lfm-operator.io', '--subresource=status'],
  ['get', 'pods'], ['list', 'pods'], ['watch', 'pods'],
];
export const ACTIVATOR_DENIED = [
  ['update', 'lfmdeployments.serving.lfm-operator.io', '--subresource=status'], ['patch', 'lfmdeployments.serving.lfm-operator.io'],
  ['create', 'lfmdeployments.serving.lfm-operator.io'], ['delete', 'lfmdeployments.serving.lfm-operator.io'],
  ['create', 'pods'], ['delete', 'pods'], ['get', 'secrets'], ['list', 'secrets'], ['create', 'events'], ['get', 'services'],
  ['list', 'endpointslices.discovery.k8s.io'], ['create', 'endpointslices.discovery.k8s.io'], ['get', 'configmaps'], ['create', 'leases.coordination.k8s.io'],
];

/** Runs a command to completion (never through a shell). */
export function run(command: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Run {
  const res = spawnSync(command, args, { input: options.input, env: options.env ?? process.env, cwd: options.cwd ?? ROOT, encoding: 'utf8', timeout: 120_000 });
  if (res.error) throw res.error;
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

/** Like run(), but throws with the command's stderr when it fails. */
export function runOk(command: string, args: string[], options: Parameters<typeof run>[2] = {}): string {
  const res = run(command, args, options);
  if (res.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${res.code}:\n${res.stderr}${res.stdout}`);
  return res.stdout;
}

export const tool = (name: 'kubectl' | 'helm') => join(devCluster().binDir, name);

/** `kubectl auth can-i ARGS` as the identity of a kubeconfig: "yes" or "no". */
export function canIAs(kubeconfig: string, args: string[]): string {
  return kubectl(['auth', 'can-i', ...args], { kubeconfig }).stdout.trim();
}

/** kubectl as the admin, or as the identity of another kubeconfig. */
export function kubectl(args: string[], options: { input?: string; kubeconfig?: string } = {}): Run {
  return run(tool('kubectl'), [`--kubeconfig=${options.kubeconfig ?? devCluster().kubeconfigPath}`, ...args], { input: options.input });
}

/** helm as the admin; its cache, config and data live in a temporary directory (not $HOME), removed afterwards. */
export function helm(args: string[], options: { input?: string } = {}): Run {
  const home = mkdtempSync(join(tmpdir(), 'lfm-helm-'));
  try {
    return run(tool('helm'), [...args, `--kubeconfig=${devCluster().kubeconfigPath}`], {
      input: options.input,
      env: { ...process.env, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') },
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * Puts the CRD back exactly as crds/ has it (PUT replaces labels, annotations and schema), after a test let Helm adopt
 * it or changed it. The other test files expect that CRD.
 */
export async function restoreCrd(): Promise<void> {
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`;
  const crd = parse(readFileSync(CRD_FILE, 'utf8')) as { metadata: Record<string, unknown> };
  await eventually(async () => {
    const live = await kubeClient().send('GET', path);
    if (live.status === 404) {
      const created = await kubeClient().send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: crd });
      if (created.status >= 300) throw new Error(`restoring the CRD: HTTP ${created.status}: ${created.text}`);
      return;
    }
    const resourceVersion = (live.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const put = await kubeClient().send('PUT', path, { body: { ...crd, metadata: { ...crd.metadata, resourceVersion } } });
    if (put.status >= 300) throw new Error(`restoring the CRD: HTTP ${put.status}: ${put.text}`);
  });
}

/**
 * Lets a Helm release adopt the CRD when it already exists (another test or `kubectl apply` installed it): the
 * ownership metadata Helm checks. The same commands are in the chart README for users moving to Helm.
 */
export function adoptCrdForHelm(release: string, namespace: string): void {
  if (kubectl(['get', 'crd', CRD_NAME]).code !== 0) return;
  for (const args of [
    ['label', 'crd', CRD_NAME, 'app.kubernetes.io/managed-by=Helm', '--overwrite'],
    ['annotate', 'crd', CRD_NAME, `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${namespace}`, '--overwrite'],
  ]) {
    const res = kubectl(args);
    if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${res.stderr}`);
  }
}

export interface OperatorProcess {
  readonly pid: number;
  /** http://127.0.0.1:PORT of /healthz and /readyz. */
  readonly healthUrl: string;
  /** Everything the process logged so far (pino JSON lines on stderr). */
  logs(): string;
  stop(): Promise<void>;
}

export interface StartOperatorOptions {
  kubeconfig: string;
  /** Namespaces to watch (--namespaces). */
  namespaces: string[];
  /** Namespace of the leader-election Lease (the chart's Role is there). */
  leaseNamespace: string;
  /**
   * Namespace of the activator pods (--activator-namespace), whose pods the operator watches. Default leaseNamespace:
   * the operator's own, as the chart and dist/install.yaml set it (LFM_OPERATOR_ACTIVATOR_NAMESPACE), where its Role
   * grants reading them. (Left to the operator's default, "default" off-cluster, a namespaced grant would refuse it.)
   */
  activatorNamespace?: string;
  /** The command to run instead of `node dist/src/cli/main.js` (an image tree, a user switch). */
  command?: { file: string; args: string[] };
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts `lfm-operator run` as its own process, on loopback ports picked by the OS, and resolves once /readyz answers
 * 200 (its caches synced). Rejects with the process's log when it exits first.
 */
export async function startOperator(o: StartOperatorOptions): Promise<OperatorProcess> {
  const command = o.command ?? { file: process.execPath, args: [join(ROOT, 'dist/src/cli/main.js')] };
  const child: ChildProcess = spawn(command.file, [
    ...command.args, 'run', `--kubeconfig=${o.kubeconfig}`, '--leader-elect=true', `--leader-election-namespace=${o.leaseNamespace}`,
    `--activator-namespace=${o.activatorNamespace ?? o.leaseNamespace}`,
    `--namespaces=${o.namespaces.join(',')}`, '--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0',
    '--log-level=debug',
  ], { env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  let exited: number | null | undefined;
  child.stdout!.on('data', (c: Buffer) => { log += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { log += c.toString(); });
  const done = new Promise<void>((resolve) => child.on('exit', (code) => { exited = code; resolve(); }));
  const stop = async () => {
    if (exited === undefined) child.kill('SIGTERM');
    await done;
  };
  try {
    const healthUrl = await eventually(() => {
      if (exited !== undefined) throw new Error(`the operator exited with ${exited}:\n${log}`);
      const line = log.split('\n').find((l) => l.includes('serving probes and metrics'));
      const health = line ? (JSON.parse(line) as { health: string }).health : undefined;
      if (!health) throw new Error(`no "serving probes and metrics" log line yet:\n${log}`);
      return `http://${health}`;
    }, { timeoutMs: 30_000 });
    await eventually(async () => {
      if (exited !== undefined) throw new Error(`the operator exited with ${exited}:\n${log}`);
      const res = await fetch(`${healthUrl}/readyz`);
      if (res.status !== 200) throw new Error(`/readyz answered ${res.status}`);
    }, { timeoutMs: 30_000 });
    return { pid: child.pid!, healthUrl, logs: () => log, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface ActivatorProcess {
  /** http://HOST:PORT of the proxy, /healthz, /readyz and /metrics. */
  readonly url: string;
  /** Everything the process logged so far (pino JSON lines). */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts `lfm-operator activator` as its own process on a loopback port picked by the OS, with the environment the
 * chart gives it (POD_NAME, POD_NAMESPACE, LFM_OPERATOR_NAMESPACES with watchNamespaces), and resolves once /readyz
 * answers 200 (its caches synced: its RBAC let it list and watch). Rejects with the process's log when it exits first.
 */
export async function startActivator(o: { kubeconfig: string; pod: string; namespace: string; watchNamespaces: string[] }): Promise<ActivatorProcess> {
  const env = { ...process.env, POD_NAME: o.pod, POD_NAMESPACE: o.namespace, LFM_OPERATOR_NAMESPACES: o.watchNamespaces.join(',') };
  const child = spawn(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'activator', '--listen=127.0.0.1:0', `--kubeconfig=${o.kubeconfig}`, '--log-level=debug'], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let exited: number | null | undefined;
  child.stdout.on('data', (c: Buffer) => { log += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { log += c.toString(); });
  const done = new Promise<void>((resolve) => child.on('exit', (code) => { exited = code; resolve(); }));
  const stop = async () => {
    if (exited === undefined) child.kill('SIGTERM');
    await done;
  };
  try {
    const url = await eventually(() => {
      if (exited !== undefined) throw new Error(`the activator exited with ${exited}:\n${log}`);
      const line = log.split('\n').find((l) => l.includes('activator listening'));
      const address = line ? (JSON.parse(line) as { address?: string }).address : undefined;
      if (!address) throw new Error(`no "activator listening" log line yet:\n${log}`);
      return `http://${address}`;
    }, { timeoutMs: 30_000 });
    await eventually(async () => {
      if (exited !== undefined) throw new Error(`the activator exited with ${exited}:\n${log}`);
      const res = await fetch(`${url}/readyz`);
      if (res.status !== 200) throw new Error(`/readyz answered ${res.status}: ${await res.text()}\n${log}`);
    }, { timeoutMs: 30_000 });
    return { url, logs: () => log, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

