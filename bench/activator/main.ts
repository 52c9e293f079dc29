// npm run bench:activator: what the scale-to-zero activator costs in memory while it holds requests. Starts the
// activator in a child process (held-server.ts) with one target that never gets a replica, records its RSS idle,
// opens N concurrent POST /v1/chat/completions with a ~1 KiB JSON body (default 1000), waits until its /metrics
// shows all N held, and records its RSS and peak RSS (VmHWM). The target: N = 1000 held requests within 100 MiB.
// Usage: node dist/bench/activator/main.js [--requests N] [--json]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '1000' }, json: { type: 'boolean', default: false } } });
const N = Number(args.requests);
if (!Number.isInteger(N) || N < 1) throw new Error(`--requests wants a positive integer, got ${args.requests}`);
const TARGET_MIB = 100;
const HOST = 'bench.default.svc.cluster.local:8000';
const log = (m: string) => process.stderr.write(`${m}\n`);

/** A field of /proc/PID/status in MiB (VmRSS: resident now; VmHWM: the peak). */
function procMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A chat completion request of about 1 KiB. */
function chatBody(i: number): string {
  const filler = 'Summarise the trade-offs of holding requests in an activator while a replica starts. '.repeat(11);
  return JSON.stringify({ model: 'LiquidAI/LFM2-24B-A2B', stream: true, max_tokens: 256, messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: `#${i} ${filler}` }] });
}

function scrape(address: string): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port: Number(port), path: '/metrics', headers: { host: '127.0.0.1' }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function heldOf(metrics: string): number {
  const m = /^lfm_activator_held_requests\{namespace="default",name="bench"\} (\d+)$/m.exec(metrics);
  return m ? Number(m[1]) : 0;
}

// Node flags as the image's ENTRYPOINT sets them (Dockerfile): the activator runs from the same image.
const child = spawn(process.execPath, ['--max-semi-space-size=2', fileURLToPath(new URL('./held-server.js', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
const pid = child.pid!;
let exited = false;
child.once('exit', () => { exited = true; });
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

try {
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the activator exited (${code}) before listening`)));
  });
  const { address } = JSON.parse(first) as { address: string };
  const [host, port] = address.split(':');
  // Let start-up garbage settle, and exercise the metrics path once, before the idle sample.
  await scrape(address);
  await sleep(1000);
  const idleRssMiB = procMiB(pid, 'VmRSS');
  log(`activator pid ${pid} on ${address}: idle RSS ${idleRssMiB.toFixed(1)} MiB; opening ${N} held requests`);

  let failed = 0;
  const started = Date.now();
  for (let i = 0; i < N; i++) {
    const body = chatBody(i);
    const req = http.request({
      host, port: Number(port), method: 'POST', path: '/v1/chat/completions', agent,
      headers: { host: HOST, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer bench' },
    });
    req.on('response', (res) => { failed++; res.resume(); log(`unexpected answer ${res.statusCode} while holding`); });
    req.on('error', () => { if (!exited) failed++; });
    req.end(body);
  }
  let held = 0;
  while (held < N) {
    if (failed > 0) throw new Error(`${failed} requests were answered or failed instead of being held`);
    if (Date.now() - started > 120_000) throw new Error(`only ${held} of ${N} requests held after 120 s`);
    await sleep(100);
    held = heldOf(await scrape(address));
  }
  const holdSeconds = (Date.now() - started) / 1000;
  await sleep(500);
  const heldRssMiB = procMiB(pid, 'VmRSS');
  const peakRssMiB = procMiB(pid, 'VmHWM');
  const perRequestKiB = ((heldRssMiB - idleRssMiB) * 1024) / N;
  const result = {
    requests: N,
    idleRssMiB: Number(idleRssMiB.toFixed(1)),
    heldRssMiB: Number(heldRssMiB.toFixed(1)),
    peakRssMiB: Number(peakRssMiB.toFixed(1)),
    perRequestKiB: Number(perRequestKiB.toFixed(1)),
    targetMiB: TARGET_MIB,
    withinTarget: peakRssMiB <= TARGET_MIB,
  };
  const rows: [string, string][] = [
    ['requests held', `${N} (all held after ${holdSeconds.toFixed(1)} s)`],
    ['RSS idle', `${result.idleRssMiB} MiB`],
    ['RSS holding', `${result.heldRssMiB} MiB`],
    ['peak RSS (VmHWM)', `${result.peakRssMiB} MiB`],
    ['per held request', `${result.perRequestKiB} KiB`],
    ['target', `peak <= ${TARGET_MIB} MiB: ${result.withinTarget ? 'met' : 'MISSED'}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  if (args.json) console.log(JSON.stringify(result));
} finally {
  exited = true;
  child.kill('SIGKILL');
  agent.destroy();
}
