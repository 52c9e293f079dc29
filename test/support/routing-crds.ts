// The upstream CRDs of the request path, for the integration tests: InferencePool and InferenceObjective from
// ../shared/thirdparty/crds/ (read in place, never copied into the repository) and the Gateway API standard channel
// from the sigs.k8s.io/gateway-api Go module, fetched once into Go's module cache (offline and instant afterwards).
// CRDs are cluster-scoped: a test file that installs them removes them again (uninstallCrds).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isNotFound, type KubeObject } from '../../src/kube/client.js';
import { CRD_RESOURCE, eventually, kubeClient, TEST_FIELD_MANAGER } from './cluster.js';

/** The Gateway API release whose standard-channel CRDs the tests install (one the Go module proxy serves). */
export const GATEWAY_API_VERSION = 'v1.6.3';
const GATEWAY_API_MODULE = 'sigs.k8s.io/gateway-api';
const THIRDPARTY_CRD_DIR = new URL('../../../shared/thirdparty/crds/', import.meta.url).pathname;
const INFERENCE_CRD_FILES = ['inference.networking.k8s.io_inferencepools.yaml', 'llm-d.ai_inferenceobjectives.yaml'];

function readCrdFile(path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => d.toJS() as KubeObject).filter((d) => d?.kind === 'CustomResourceDefinition');
}

/** InferencePool (inference.networking.k8s.io/v1) and InferenceObjective (llm-d.ai/v1alpha2), as upstream ships them. */
export function loadInferenceCrds(): KubeObject[] {
  if (!existsSync(THIRDPARTY_CRD_DIR)) throw new Error(`the upstream inference CRDs are read from ${THIRDPARTY_CRD_DIR} (../shared beside the repository), which does not exist`);
  return INFERENCE_CRD_FILES.flatMap((f) => readCrdFile(join(THIRDPARTY_CRD_DIR, f)));
}

/**
 * The Gateway API standard-channel CRDs of GATEWAY_API_VERSION (config/crd/standard/, its admission policy left
 * out), from the Go module cache: `go mod download` fetches the module the first time only.
 */
export function loadGatewayApiCrds(): KubeObject[] {
  const started = Date.now();
  const out = execFileSync('go', ['mod', 'download', '-json', `${GATEWAY_API_MODULE}@${GATEWAY_API_VERSION}`], {
    // Outside any module, with this machine's Go: the download needs no go.mod and no toolchain switch.
    cwd: tmpdir(), encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { Dir: dir, Error: error } = JSON.parse(out) as { Dir?: string; Error?: string };
  if (!dir || error) throw new Error(`go mod download ${GATEWAY_API_MODULE}@${GATEWAY_API_VERSION}: ${error ?? 'no Dir'}`);
  const elapsed = Date.now() - started;
  if (elapsed > 2000) console.log(`gateway-api CRDs: downloaded ${GATEWAY_API_MODULE}@${GATEWAY_API_VERSION} into the Go module cache in ${elapsed} ms`);
  const standard = join(dir, 'config', 'crd', 'standard');
  return readdirSync(standard).filter((f) => f.endsWith('.yaml')).sort().flatMap((f) => readCrdFile(join(standard, f)));
}

const isEstablished = (crd: KubeObject) => ((crd['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [])
  .some((c) => c.type === 'Established' && c.status === 'True');

/** Server-side applies the CRDs and waits until each is Established. Idempotent. */
export async function installCrds(crds: readonly KubeObject[]): Promise<void> {
  for (const crd of crds) await kubeClient().apply(CRD_RESOURCE, crd, TEST_FIELD_MANAGER, { force: true });
  await eventually(async () => {
    for (const crd of crds) {
      const live = await kubeClient().get<KubeObject>(CRD_RESOURCE, undefined, crd.metadata!.name!);
      if (!isEstablished(live)) throw new Error(`CRD ${crd.metadata!.name} not Established`);
    }
  }, { timeoutMs: 60_000 });
}

/** Deletes the CRDs (their objects with them) and waits until they are gone. Idempotent. */
export async function uninstallCrds(crds: readonly KubeObject[]): Promise<void> {
  for (const crd of crds) {
    await kubeClient().delete(CRD_RESOURCE, undefined, crd.metadata!.name!).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }
  await eventually(async () => {
    for (const crd of crds) {
      const gone = await kubeClient().get(CRD_RESOURCE, undefined, crd.metadata!.name!).then(() => false, (err: unknown) => isNotFound(err));
      if (!gone) throw new Error(`CRD ${crd.metadata!.name} still exists`);
    }
  }, { timeoutMs: 60_000 });
}
