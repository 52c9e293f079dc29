// I/O. The registry of engine stand-ins by pod IP: a test serving HTTP on a fake pod's loopback IP registers the URL
// to POST to when that pod is deleted. A directory of files, so that the test process, the process running the kubelet
// emulation (vitest's global setup or the `make cluster-up` daemon) and any other tool share it.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface StandIn { podIP: string; drainUrl: string }

/** True for 127.0.0.0/8: the only addresses the harness ever dials. */
export function isLoopbackAddress(host: string): boolean {
  return isIP(host) === 4 && host.split('.')[0] === '127';
}

/** The drain URL when it is an http(s) URL to a loopback IPv4 address; otherwise an error saying why not. */
export function parseDrainUrl(url: string): URL {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`drain URL ${url}: not http(s)`);
  if (!isLoopbackAddress(parsed.hostname)) throw new Error(`drain URL ${url}: only 127.0.0.0/8 addresses may be dialled`);
  return parsed;
}

const registryDir = (stateDir: string) => join(stateDir, 'stand-ins');
const entryPath = (stateDir: string, podIP: string) => join(registryDir(stateDir), `${podIP}.json`);

/**
 * Registers a stand-in for the pod that has podIP now; returns the function that unregisters it. The kubelet
 * emulation drops the registration once that pod is gone, since KWOK gives a freed IP to the next pod.
 */
export function registerStandIn(stateDir: string, standIn: StandIn): () => void {
  if (!isLoopbackAddress(standIn.podIP)) throw new Error(`pod IP ${standIn.podIP} is not a loopback address`);
  parseDrainUrl(standIn.drainUrl);
  mkdirSync(registryDir(stateDir), { recursive: true });
  const path = entryPath(stateDir, standIn.podIP);
  const entry = JSON.stringify({ ...standIn, registration: randomUUID() });
  writeFileSync(path, entry);
  return () => {
    // Only this registration: a later pod with the same IP may have registered its own meanwhile.
    try {
      if (readFileSync(path, 'utf8') === entry) rmSync(path, { force: true });
    } catch { /* gone */ }
  };
}

export function unregisterStandIn(stateDir: string, podIP: string): void {
  if (isLoopbackAddress(podIP)) rmSync(entryPath(stateDir, podIP), { force: true });
}

export function lookupStandIn(stateDir: string, podIP: string): StandIn | undefined {
  if (!isLoopbackAddress(podIP)) return undefined;
  try {
    return JSON.parse(readFileSync(entryPath(stateDir, podIP), 'utf8')) as StandIn;
  } catch {
    return undefined;
  }
}
