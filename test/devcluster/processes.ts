// I/O. Child processes of the dev control plane: free loopback ports, spawning with logs in files, readiness
// polling over loopback HTTP(S), and stopping. Children die with their parent (setpriv --pdeathsig) when possible.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export interface Component {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/** A port on 127.0.0.1 that was free a moment ago. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

let pdeathsig: boolean | undefined;

// setpriv (util-linux) makes the kernel SIGKILL the child when this process dies, even by SIGKILL, so a killed
// test run leaves no orphaned API server behind.
function hasSetprivPdeathsig(): boolean {
  if (pdeathsig === undefined) {
    try {
      pdeathsig = execFileSync('setpriv', ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('--pdeathsig');
    } catch {
      pdeathsig = false;
    }
  }
  return pdeathsig;
}

export function spawnComponent(name: string, binary: string, args: string[], logFile: string): Component {
  const fd = openSync(logFile, 'a');
  const [command, argv] = hasSetprivPdeathsig()
    ? ['setpriv', ['--pdeathsig', 'KILL', '--', binary, ...args]]
    : [binary, args];
  const child = spawn(command, argv, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${binary}`);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return { name, pid: child.pid, logFile, child, exited };
}

/** The last lines of a component's log, for error messages. */
export function readLogTail(logFile: string, lines = 20): string {
  if (!existsSync(logFile)) return '';
  return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

export interface HttpProbe { url: string; ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string }

/** GET the URL; true on a 2xx answer. Loopback only: the caller builds the URL from 127.0.0.1. */
export function probeHttp(probe: HttpProbe, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const url = new URL(probe.url);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const r = request(url, { method: 'GET', ca: probe.ca, cert: probe.cert, key: probe.key }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300);
    });
    r.setTimeout(timeoutMs, () => r.destroy());
    r.on('error', () => resolve(false));
    r.end();
  });
}

/** Polls until the probe answers 2xx; fails early, with its log, if the component exits. */
export async function waitForHealthy(component: Component, probe: HttpProbe, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void component.exited.then((code) => { exitCode = code; });
  for (;;) {
    if (exitCode !== undefined) {
      throw new Error(`${component.name} exited (code ${exitCode}) while starting; ${component.logFile}:\n${readLogTail(component.logFile)}`);
    }
    if (await probeHttp(probe)) return;
    if (Date.now() > deadline) {
      throw new Error(`${component.name} not healthy at ${probe.url} after ${timeoutMs} ms; ${component.logFile}:\n${readLogTail(component.logFile)}`);
    }
    await delay(100);
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
export async function stopComponent(component: Component, graceMs = 3000): Promise<void> {
  if (component.child.exitCode !== null || component.child.signalCode !== null) return;
  component.child.kill('SIGTERM');
  const timer = setTimeout(() => component.child.kill('SIGKILL'), graceMs);
  await component.exited;
  clearTimeout(timer);
}

/** True when a process with this pid exists. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
