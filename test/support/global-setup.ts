// vitest global setup of the integration project: one real control plane per run (test/devcluster), stopped at the
// end. With LFM_DEVCLUSTER_STATE_DIR set (e.g. to `make cluster-up`'s .tmp/devcluster) the run reuses that one.
import type { TestProject } from 'vitest/node';
import { attachControlPlane, startControlPlane } from '../devcluster/control-plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The dev control plane's state directory: attachControlPlane(dir) in a test worker. */
    devclusterStateDir: string;
    /** Its admin kubeconfig. */
    kubeconfig: string;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const reuse = process.env['LFM_DEVCLUSTER_STATE_DIR'];
  if (reuse) {
    const cluster = attachControlPlane(reuse);
    project.provide('devclusterStateDir', cluster.stateDir);
    project.provide('kubeconfig', cluster.kubeconfigPath);
    return undefined;
  }
  const cluster = await startControlPlane();
  console.log(`dev control plane: API ready in ${cluster.timings.apiReadyMs} ms, nodes ready in ${cluster.timings.readyMs} ms (${cluster.stateDir})`);
  project.provide('devclusterStateDir', cluster.stateDir);
  project.provide('kubeconfig', cluster.kubeconfigPath);
  return () => cluster.stop();
}
