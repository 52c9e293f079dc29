// Integration-test helpers on the run's dev control plane (test/support/global-setup.ts): the cluster handle and
// clients, one namespace per test, eventually() to poll observed state (never sleep-then-assert), CRD installation.
import { ApiextensionsV1Api, CoreV1Api, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, inject } from 'vitest';
import { parse } from 'yaml';
import { attachControlPlane, type DevCluster } from '../devcluster/control-plane.js';
import { ApiError, KubeClient, type KubeObject, type ResourceType } from '../../src/kube/client.js';

export const TEST_FIELD_MANAGER = 'integration-test';
export const CRD_DIR = new URL('../../crds/', import.meta.url).pathname;
export const CRD_RESOURCE: ResourceType = {
  group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false,
};

let cluster: DevCluster | undefined;

/** The run's dev control plane. */
export function devCluster(): DevCluster {
  cluster ??= attachControlPlane(inject('devclusterStateDir'));
  return cluster;
}

/** Admin client configuration. */
export function kubeConfig(): KubeConfig {
  return devCluster().kubeConfig;
}

export function coreApi(): CoreV1Api {
  return kubeConfig().makeApiClient(CoreV1Api);
}

let client: KubeClient | undefined;

/** The project's REST client (src/kube) as the admin, user agent integration-test. */
export function kubeClient(): KubeClient {
  client ??= new KubeClient(kubeConfig(), TEST_FIELD_MANAGER);
  return client;
}

/** The error a request was refused with (or undefined when it succeeded): status and Status message. */
export async function captureApiError(request: Promise<unknown>): Promise<{ status: number; message: string } | undefined> {
  try {
    await request;
    return undefined;
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const message = (err.body as { message?: unknown } | undefined)?.message;
    return { status: err.status, message: typeof message === 'string' ? message : err.message };
  }
}

export interface EventuallyOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default 200 ms. */
  intervalMs?: number;
}

/**
 * Calls fn until it returns without throwing (assertions inside fn throw), and returns its value. After timeoutMs,
 * throws fn's last error. For observed cluster state, which converges: never a fixed sleep before an assertion.
 */
export async function eventually<T>(fn: () => T | Promise<T>, options: EventuallyOptions = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 200 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) {
        if (err instanceof Error) err.message = `eventually: still failing after ${timeoutMs} ms: ${err.message}`;
        throw err;
      }
    }
    await delay(intervalMs);
  }
}

export interface TestNamespace {
  /** The current test's namespace; only valid inside a test or its hooks. */
  readonly name: string;
}

/**
 * One fresh namespace per test (`<prefix>-<random>`), ready for pods (its default ServiceAccount exists). After the
 * test the namespace is deleted and its pods are waited for, so GPUs on the fake nodes are free for the next test.
 */
export function useNamespace(prefix = 'test'): TestNamespace {
  let current: string | undefined;
  beforeEach(async () => {
    const name = `${prefix}-${randomBytes(3).toString('hex')}`;
    const core = coreApi();
    await core.createNamespace({ body: { metadata: { name, labels: { 'devcluster.lfm-operator.io/test': 'true' } } } });
    await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: name }));
    current = name;
  });
  afterEach(async () => {
    const name = current;
    current = undefined;
    if (!name) return;
    const core = coreApi();
    await core.deleteNamespace({ name });
    // The namespace controller deletes pods only after a discovery pass and then re-checks on a slow schedule; deleting
    // them here (no new ones can appear in a terminating namespace) frees their GPUs in well under a second.
    await core.deleteCollectionNamespacedPod({ namespace: name });
    await eventually(async () => {
      const pods = await core.listNamespacedPod({ namespace: name });
      if (pods.items.length) throw new Error(`${pods.items.length} pods left in namespace ${name}`);
    }, { timeoutMs: 60_000 });
  });
  return {
    get name(): string {
      if (!current) throw new Error('useNamespace(): the namespace exists only inside a test');
      return current;
    },
  };
}

/** The CRDs of crds/, as written. */
export function loadCrds(): KubeObject[] {
  return readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).sort()
    .map((f) => parse(readFileSync(join(CRD_DIR, f), 'utf8')) as KubeObject);
}

export function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
}

/** Server-side applies every CRD of crds/ and waits until each is Established. Idempotent. */
export async function applyCrds(): Promise<V1CustomResourceDefinition[]> {
  const ext = kubeConfig().makeApiClient(ApiextensionsV1Api);
  const crds = loadCrds();
  for (const crd of crds) await kubeClient().apply(CRD_RESOURCE, crd, TEST_FIELD_MANAGER);
  return Promise.all(crds.map((crd) => eventually(async () => {
    const live = await ext.readCustomResourceDefinition({ name: crd.metadata!.name! });
    if (!isEstablished(live)) throw new Error(`CRD ${crd.metadata!.name} not Established`);
    return live;
  })));
}
