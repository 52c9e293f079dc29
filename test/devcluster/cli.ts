#!/usr/bin/env node
// I/O. `make cluster-up` / `make cluster-down`: starts the dev control plane detached in the background (a daemon
// process owns the components and the kubelet emulation), stops it and removes its state.
//
//   node dist/test/devcluster/cli.js up     --state-dir DIR [--bin-dir DIR]   prints KUBECONFIG=<path> last
//   node dist/test/devcluster/cli.js down   --state-dir DIR
//   node dist/test/devcluster/cli.js status --state-dir DIR
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { assertStateDir, readStateFile, resolveBinDir, startControlPlane } from './control-plane.js';
import { isProcessAlive, readLogTail } from './processes.js';

const USAGE = 'usage: cli.js up|down|status|serve --state-dir DIR [--bin-dir DIR]';

// The daemon's own log lives next to, not inside, the state dir: stop() removes the state dir.
const daemonLogPath = (stateDir: string) => `${stateDir}.log`;

async function runUp(stateDir: string, binDir: string): Promise<number> {
  const existing = readStateFile(stateDir);
  if (existing?.ready && isProcessAlive(existing.ownerPid)) {
    console.log(`dev control plane already running (pid ${existing.ownerPid}, ${existing.server})`);
    console.log(`KUBECONFIG=${existing.kubeconfig}`);
    return 0;
  }
  mkdirSync(dirname(stateDir), { recursive: true });
  const logPath = daemonLogPath(stateDir);
  rmSync(logPath, { force: true });
  const fd = openSync(logPath, 'a');
  const daemon = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve', '--state-dir', stateDir, '--bin-dir', binDir], {
    detached: true, stdio: ['ignore', fd, fd],
  });
  daemon.unref();
  const t0 = Date.now();
  for (;;) {
    const state = readStateFile(stateDir);
    if (state?.ready && state.ownerPid === daemon.pid) {
      console.log(`dev control plane up in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${state.server}, pid ${daemon.pid}`);
      console.log(`  nodes: 2 x (8 x NVIDIA-H100-80GB-HBM3), 2 x (1 x NVIDIA-L4), 1 x CPU-only, CPU pool 2 x 32 GiB + 1 x 64 GiB; logs in ${join(stateDir, 'logs')}`);
      console.log(`  kubectl: ${join(state.binDir, 'kubectl')}; stop with: make cluster-down`);
      console.log(`KUBECONFIG=${state.kubeconfig}`);
      return 0;
    }
    if (daemon.pid === undefined || !isProcessAlive(daemon.pid) || Date.now() - t0 > 120_000) {
      console.error(`dev control plane failed to start; ${logPath}:\n${readLogTail(logPath, 40)}`);
      if (daemon.pid !== undefined && isProcessAlive(daemon.pid)) process.kill(daemon.pid, 'SIGTERM');
      return 1;
    }
    await delay(200);
  }
}

async function runServe(stateDir: string, binDir: string): Promise<number> {
  const cp = await startControlPlane({ stateDir, binDir, onProgress: (m) => console.log(m) });
  await new Promise<void>((done) => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(signal, () => done());
  });
  await cp.stop();
  return 0;
}

async function runDown(stateDir: string): Promise<number> {
  const state = readStateFile(stateDir);
  if (state && isProcessAlive(state.ownerPid)) {
    process.kill(state.ownerPid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while (isProcessAlive(state.ownerPid) && Date.now() < deadline) await delay(100);
    if (isProcessAlive(state.ownerPid)) process.kill(state.ownerPid, 'SIGKILL');
  }
  // Components die with their owner (setpriv --pdeathsig); this covers machines without setpriv.
  for (const c of state?.components ?? []) {
    if (isProcessAlive(c.pid)) {
      try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  const existed = existsSync(stateDir);
  assertStateDir(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(daemonLogPath(stateDir), { force: true });
  console.log(state || existed ? `dev control plane in ${stateDir} stopped and removed` : `no dev control plane in ${stateDir}`);
  return 0;
}

function runStatus(stateDir: string): number {
  const state = readStateFile(stateDir);
  if (!state || !isProcessAlive(state.ownerPid)) {
    console.log(`no dev control plane running in ${stateDir}`);
    return 1;
  }
  console.log(`running (pid ${state.ownerPid}, ${state.server}, ready: ${state.ready})`);
  console.log(`KUBECONFIG=${state.kubeconfig}`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv, allowPositionals: true,
    options: { 'state-dir': { type: 'string' }, 'bin-dir': { type: 'string' } },
  });
  const command = positionals[0];
  if (!values['state-dir'] || !command) {
    console.error(USAGE);
    return 2;
  }
  const stateDir = resolve(values['state-dir']);
  switch (command) {
    case 'up': return runUp(stateDir, resolveBinDir(values['bin-dir']));
    case 'serve': return runServe(stateDir, resolveBinDir(values['bin-dir']));
    case 'down': return runDown(stateDir);
    case 'status': return runStatus(stateDir);
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
