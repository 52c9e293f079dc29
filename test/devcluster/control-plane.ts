// I/O. A real Kubernetes control plane on 127.0.0.1 for the integration tests, `make cluster-up` and the demo: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and KWOK with fake GPU nodes, plus the kubelet emulation.
// Never dials anything but loopback. See README.md for the layout of the state directory and the pod annotations.
import { ApiException, CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type AuditEvent, readAuditLog } from './audit.js';
import {
  buildApiserverArgs, buildControllerManagerArgs, buildEtcdArgs, buildKwokArgs, buildSchedulerArgs, renderAuditPolicy,
} from './components.js';
import { renderKubeconfig } from './kubeconfig.js';
import { type KubeletEmulation, startKubeletEmulation } from './kubelet.js';
import { renderKwokConfig } from './kwok-stages.js';
import {
  computeFreeNodeIndex, computePodCidr, type CpuNodeSpec, DEFAULT_NODE_POOL, type GpuNodeSpec, renderCpuNode, renderGpuNode,
} from './nodes.js';
import { type IdentityName, type Pki, readCertPair, writePki } from './pki.js';
import { type Component, findFreePort, isProcessAlive, spawnComponent, stopComponent, waitForHealthy } from './processes.js';
import { registerStandIn } from './stand-ins.js';

export const REQUIRED_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'] as const;
const STATE_FILE = 'devcluster.json';
const TMP_PREFIX = 'lfm-devcluster-';

export interface StartControlPlaneOptions {
  /** Where PKI, kubeconfigs, logs, etcd data and the audit log go; removed by stop(). Default: a new temp dir. */
  stateDir?: string;
  /** Directory with the binaries of REQUIRED_BINARIES. Default: $LFM_TOOLS_DIR, else `hack/tools.sh --print-dir`. */
  binDir?: string;
  /** 'default' (DEFAULT_NODE_POOL) or 'none'. Default 'default'. */
  nodePool?: 'default' | 'none';
  /** Limit for the whole start. Default 90 s. */
  timeoutMs?: number;
  /** Progress lines ("etcd healthy"...). Default: silent. */
  onProgress?: (message: string) => void;
}

/** A running dev control plane, from the process that started it or from any other (attachControlPlane). */
export interface DevCluster {
  readonly stateDir: string;
  readonly binDir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Admin kubeconfig (group system:masters), certificates embedded. */
  readonly kubeconfigPath: string;
  /** A client configuration from the admin kubeconfig. */
  readonly kubeConfig: KubeConfig;
  /**
   * A kubeconfig for ServiceAccount namespace/serviceAccount (created if missing), with a token from the TokenRequest
   * API: the identity is subject to RBAC like an in-cluster operator. Returns the file's path.
   */
  mintToken(namespace: string, serviceAccount: string, options?: { expirationSeconds?: number }): Promise<string>;
  /** The audit log so far: every write request that completed, oldest first. */
  readAudit(): AuditEvent[];
  /** Adds a fake GPU node and resolves when it is Ready and schedulable. */
  addGpuNode(spec: GpuNodeSpec): Promise<V1Node>;
  /** Adds an untainted fake CPU-only node and resolves when it is Ready and schedulable. */
  addCpuNode(spec: CpuNodeSpec): Promise<V1Node>;
  /** Removes a node as if its machine vanished: the Node and, at once, the pods bound to it. */
  removeNode(name: string): Promise<void>;
  /**
   * Registers an engine stand-in serving on a pod's IP: when that pod is deleted the kubelet emulation POSTs to
   * drainUrl (loopback only) and keeps the pod until the POST answers or the grace period ends. Returns unregister.
   */
  registerStandIn(podIP: string, drainUrl: string): () => void;
}

export interface ControlPlane extends DevCluster {
  /** Milliseconds from the call to a ready API server, and to the whole cluster ready (nodes schedulable). */
  readonly timings: { apiReadyMs: number; readyMs: number };
  /** Stops every process and removes the state directory. Idempotent. */
  stop(): Promise<void>;
}

interface StateFile {
  server: string;
  binDir: string;
  kubeconfig: string;
  auditLog: string;
  caCert: string;
  /** The process that owns the children (they die with it). */
  ownerPid: number;
  components: { name: string; pid: number }[];
  ready: boolean;
  timings?: { apiReadyMs: number; readyMs: number };
}

export function readStateFile(stateDir: string): StateFile | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, STATE_FILE), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
}

function writeStateFile(stateDir: string, state: StateFile): void {
  const tmp = join(stateDir, `.${STATE_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, join(stateDir, STATE_FILE));
}

const STATE_ENTRIES = new Set([STATE_FILE, `.${STATE_FILE}.tmp`, 'admin.kubeconfig', 'kubeconfigs', 'tokens', 'pki', 'etcd', 'audit', 'logs', 'stand-ins', 'kwok.yaml']);

/** Refuses to treat a directory with anything but a control plane's state in it as a state dir (it gets removed). */
export function assertStateDir(stateDir: string): void {
  if (!existsSync(stateDir)) return;
  const foreign = readdirSync(stateDir).filter((e) => !STATE_ENTRIES.has(e));
  if (foreign.length) throw new Error(`${stateDir} holds ${foreign.slice(0, 3).join(', ')}: not a dev control plane state dir, refusing to remove it`);
}

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'hack', 'tools.sh'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no hack/tools.sh above ${from}: pass binDir or set LFM_TOOLS_DIR`);
  }
}

/** The directory of the pinned binaries; throws, saying how to build them, when one is missing. */
export function resolveBinDir(binDir?: string): string {
  const dir = binDir ?? process.env['LFM_TOOLS_DIR']
    ?? execFileSync(join(findRepoRoot(dirname(fileURLToPath(import.meta.url))), 'hack', 'tools.sh'), ['--print-dir'], { encoding: 'utf8' }).trim();
  const missing = REQUIRED_BINARIES.filter((b) => !existsSync(join(dir, b)));
  if (missing.length) throw new Error(`missing ${missing.join(', ')} in ${dir}: run \`make tools\``);
  return dir;
}

// ---- process-exit safety net ------------------------------------------------------------------------------------

interface Running { stateDir: string; components: Component[]; removeStateDir: boolean }
const running = new Set<Running>();
let exitHandlersInstalled = false;

function killSync(r: Running): void {
  for (const c of r.components) {
    try { c.child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  if (r.removeStateDir) rmSync(r.stateDir, { recursive: true, force: true });
  running.delete(r);
}

function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  process.on('exit', () => { for (const r of [...running]) killSync(r); });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      for (const r of [...running]) killSync(r);
      // Nobody else handles the signal: restore the default behaviour (exit) and re-raise it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** Removes temp state dirs of control planes whose owner died without cleaning up (SIGKILL, OOM). */
function reapStaleStateDirs(): void {
  let entries: string[];
  try { entries = readdirSync(tmpdir()).filter((e) => e.startsWith(TMP_PREFIX)); } catch { return; }
  for (const entry of entries) {
    const dir = join(tmpdir(), entry);
    const state = readStateFile(dir);
    if (state ? isProcessAlive(state.ownerPid) : Date.now() - statSync(dir).mtimeMs < 600_000) continue;
    for (const c of state?.components ?? []) {
      try {
        if (readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').includes(dir)) process.kill(c.pid, 'SIGKILL');
      } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the cluster handle -------------------------------------------------------------------------------------------

function isApiError(err: unknown, ...codes: number[]): boolean {
  return err instanceof ApiException && codes.includes(err.code);
}

function isNodeSchedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const notReadyTaint = (node.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/not-ready' || t.key === 'node.kubernetes.io/unreachable');
  return ready && !notReadyTaint && !node.spec?.unschedulable;
}

class DevClusterHandle implements DevCluster {
  readonly kubeConfig: KubeConfig;
  private readonly core: CoreV1Api;

  constructor(readonly stateDir: string, private readonly state: StateFile) {
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromFile(state.kubeconfig);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
  }

  get binDir(): string { return this.state.binDir; }
  get server(): string { return this.state.server; }
  get kubeconfigPath(): string { return this.state.kubeconfig; }

  async mintToken(namespace: string, serviceAccount: string, options: { expirationSeconds?: number } = {}): Promise<string> {
    try {
      await this.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: serviceAccount } } });
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
    }
    const tokenRequest = await this.core.createNamespacedServiceAccountToken({
      name: serviceAccount, namespace,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [], expirationSeconds: options.expirationSeconds ?? 3600 } },
    });
    const token = tokenRequest.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
    const dir = join(this.stateDir, 'tokens');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${namespace}.${serviceAccount}.kubeconfig`);
    writeFileSync(path, renderKubeconfig({
      server: this.server, caPem: readFileSync(this.state.caCert, 'utf8'),
      user: `system:serviceaccount:${namespace}:${serviceAccount}`, credentials: { token }, namespace,
    }), { mode: 0o600 });
    return path;
  }

  readAudit(): AuditEvent[] {
    return readAuditLog(this.state.auditLog);
  }

  private async createNode(render: (podCidr: string) => V1Node): Promise<V1Node> {
    const nodes = (await this.core.listNode()).items;
    const node = render(computePodCidr(computeFreeNodeIndex(nodes)));
    await this.core.createNode({ body: node });
    return this.waitForNodeSchedulable(node.metadata!.name!);
  }

  async waitForNodeSchedulable(name: string, timeoutMs = 30_000): Promise<V1Node> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const node = await this.core.readNode({ name });
      if (isNodeSchedulable(node)) return node;
      if (Date.now() > deadline) throw new Error(`node ${name} not Ready and schedulable after ${timeoutMs} ms`);
      await delay(100);
    }
  }

  addGpuNode(spec: GpuNodeSpec): Promise<V1Node> {
    return this.createNode((cidr) => renderGpuNode(spec, cidr));
  }

  addCpuNode(spec: CpuNodeSpec): Promise<V1Node> {
    return this.createNode((cidr) => renderCpuNode(spec, cidr));
  }

  async removeNode(name: string): Promise<void> {
    try {
      await this.core.deleteNode({ name });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    const pods = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${name}` });
    await Promise.all(pods.items.map(async (p) => {
      try {
        await this.core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: p.metadata!.namespace!, body: { gracePeriodSeconds: 0 } });
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
    }));
  }

  registerStandIn(podIP: string, drainUrl: string): () => void {
    return registerStandIn(this.stateDir, { podIP, drainUrl });
  }
}

/** A handle on a control plane another process started (vitest workers, the CLI, the demo). */
export function attachControlPlane(stateDir: string): DevCluster {
  const state = readStateFile(stateDir);
  if (!state?.ready) throw new Error(`no ready dev control plane in ${stateDir}`);
  return new DevClusterHandle(resolve(stateDir), state);
}

// ---- start --------------------------------------------------------------------------------------------------------

async function writeKubeconfigs(pki: Pki, server: string, dir: string): Promise<Record<IdentityName, string>> {
  const caPem = readFileSync(pki.ca.cert, 'utf8');
  const names = Object.keys(pki.clients) as IdentityName[];
  const paths = await Promise.all(names.map(async (name) => {
    const path = name === 'admin' ? join(dir, 'admin.kubeconfig') : join(dir, 'kubeconfigs', `${name}.kubeconfig`);
    const credentials = await readCertPair(pki.clients[name]);
    writeFileSync(path, renderKubeconfig({ server, caPem, user: name, credentials }), { mode: 0o600 });
    return path;
  }));
  return Object.fromEntries(names.map((n, i) => [n, paths[i]!])) as Record<IdentityName, string>;
}

async function waitFor<T>(what: string, deadline: number, probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

/**
 * Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler, KWOK and the kubelet emulation, creates the
 * node pool, and resolves when nodes are schedulable and the default ServiceAccount exists. On failure everything
 * started is stopped again. Processes also die with this process (exit, signals, and SIGKILL via setpriv).
 */
export async function startControlPlane(options: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const deadline = t0 + (options.timeoutMs ?? 90_000);
  const progress = options.onProgress ?? (() => undefined);
  const binDir = resolveBinDir(options.binDir);
  reapStaleStateDirs();

  let stateDir: string;
  if (options.stateDir) {
    stateDir = resolve(options.stateDir);
    const previous = readStateFile(stateDir);
    if (previous && isProcessAlive(previous.ownerPid)) throw new Error(`a dev control plane is already running in ${stateDir}`);
    assertStateDir(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
    mkdirSync(stateDir, { recursive: true });
  } else {
    stateDir = mkdtempSync(join(tmpdir(), TMP_PREFIX));
  }
  for (const d of ['logs', 'kubeconfigs', 'audit', 'etcd', 'stand-ins']) mkdirSync(join(stateDir, d), { recursive: true, mode: 0o700 });

  installExitHandlers();
  const r: Running = { stateDir, components: [], removeStateDir: true };
  running.add(r);
  let emulation: KubeletEmulation | undefined;
  const log = (name: string) => join(stateDir, 'logs', `${name}.log`);
  const bin = (name: string) => join(binDir, name);

  const stop = async () => {
    if (!running.has(r)) return;
    running.delete(r);
    await emulation?.stop().catch(() => undefined);
    await Promise.all(r.components.map((c) => stopComponent(c)));
    rmSync(stateDir, { recursive: true, force: true });
  };

  try {
    const [pki, etcdClientPort, etcdPeerPort, apiPort] = await Promise.all([
      writePki(join(stateDir, 'pki')), findFreePort(), findFreePort(), findFreePort(),
    ]);
    const server = `https://127.0.0.1:${apiPort}`;
    const state: StateFile = {
      server, binDir, kubeconfig: join(stateDir, 'admin.kubeconfig'), auditLog: join(stateDir, 'audit', 'audit.log'),
      caCert: pki.ca.cert, ownerPid: process.pid, components: [], ready: false,
    };
    const spawn = (name: string, args: string[]) => {
      const c = spawnComponent(name, bin(name), args, log(name));
      r.components.push(c);
      state.components.push({ name, pid: c.pid });
      writeStateFile(stateDir, state);
      return c;
    };

    const etcd = spawn('etcd', buildEtcdArgs({ dataDir: join(stateDir, 'etcd'), clientPort: etcdClientPort, peerPort: etcdPeerPort }));
    const auditPolicyFile = join(stateDir, 'audit', 'policy.yaml');
    writeFileSync(auditPolicyFile, renderAuditPolicy());
    writeFileSync(join(stateDir, 'kwok.yaml'), renderKwokConfig());
    const kubeconfigs = await writeKubeconfigs(pki, server, stateDir);
    await waitForHealthy(etcd, { url: `http://127.0.0.1:${etcdClientPort}/health` }, deadline - Date.now());
    progress(`etcd healthy (${Date.now() - t0} ms)`);

    const apiserver = spawn('kube-apiserver', buildApiserverArgs({
      port: apiPort, etcdUrl: `http://127.0.0.1:${etcdClientPort}`, certDir: pki.dir, caCert: pki.ca.cert,
      serverCert: pki.server.cert, serverKey: pki.server.key,
      serviceAccountPublicKey: pki.serviceAccount.publicKey, serviceAccountPrivateKey: pki.serviceAccount.privateKey,
      auditPolicyFile, auditLogFile: state.auditLog,
    }));
    const admin = pki.clients.admin;
    await waitForHealthy(apiserver, {
      url: `${server}/readyz`, ca: readFileSync(pki.ca.cert), cert: readFileSync(admin.cert), key: readFileSync(admin.key),
    }, deadline - Date.now());
    const apiReadyMs = Date.now() - t0;
    progress(`kube-apiserver ready (${apiReadyMs} ms)`);

    spawn('kube-controller-manager', buildControllerManagerArgs({
      kubeconfig: kubeconfigs.controllerManager, caCert: pki.ca.cert, serviceAccountPrivateKey: pki.serviceAccount.privateKey,
    }));
    spawn('kube-scheduler', buildSchedulerArgs({ kubeconfig: kubeconfigs.scheduler }));
    spawn('kwok', buildKwokArgs({ kubeconfig: kubeconfigs.kwok, config: join(stateDir, 'kwok.yaml') }));

    const kubeletConfig = new KubeConfig();
    kubeletConfig.loadFromFile(kubeconfigs.kubelet);
    emulation = await startKubeletEmulation(kubeletConfig, { stateDir, logFile: log('kubelet-emulation') });

    const handle = new DevClusterHandle(stateDir, state);
    if ((options.nodePool ?? 'default') === 'default') {
      const nodes = [
        ...DEFAULT_NODE_POOL.gpu.map((spec, i) => renderGpuNode(spec, computePodCidr(i + 1))),
        ...DEFAULT_NODE_POOL.cpu.map((spec, i) => renderCpuNode(spec, computePodCidr(DEFAULT_NODE_POOL.gpu.length + i + 1))),
      ];
      const core = handle.kubeConfig.makeApiClient(CoreV1Api);
      await Promise.all(nodes.map((body) => core.createNode({ body })));
      await Promise.all(nodes.map((n) => handle.waitForNodeSchedulable(n.metadata!.name!, deadline - Date.now())));
      progress(`${nodes.length} nodes schedulable (${Date.now() - t0} ms)`);
    }
    const core = handle.kubeConfig.makeApiClient(CoreV1Api);
    await waitFor('the default ServiceAccount', deadline, () => core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' }));
    const timings = { apiReadyMs, readyMs: Date.now() - t0 };
    progress(`ready (${timings.readyMs} ms)`);
    state.ready = true;
    state.timings = timings;
    writeStateFile(stateDir, state);

    return Object.assign(handle, { timings, stop });
  } catch (err) {
    await stop();
    throw err;
  }
}
