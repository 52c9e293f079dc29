import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ActivatorServer } from '../../src/activator/server.js';
import type { Endpoint, HeldCounts, HeldReporter, Target, TargetSource } from '../../src/activator/types.js';

const HOST = 'llm.team-a.svc.cluster.local:8000';
const log = pino({ level: 'silent' });

/** A TargetSource the test changes by hand; set() notifies listeners as an informer would. */
class StaticTargets implements TargetSource {
  readonly targets = new Map<string, Target>();
  private readonly listeners = new Set<(namespace: string, name: string) => void>();
  isReady = true;
  set(target: Target): void {
    this.targets.set(`${target.namespace}/${target.name}`, target);
    for (const l of this.listeners) l(target.namespace, target.name);
  }
  setEndpoints(endpoints: Endpoint[]): void {
    this.set({ ...this.targets.get('team-a/llm')!, endpoints });
  }
  get(namespace: string, name: string): Target | undefined { return this.targets.get(`${namespace}/${name}`); }
  onChange(listener: (namespace: string, name: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  ready(): boolean { return this.isReady; }
  get listenerCount(): number { return this.listeners.size; }
}

class RecordingReporter implements HeldReporter {
  readonly calls: (HeldCounts & { key: string })[] = [];
  report(namespace: string, name: string, counts: HeldCounts): void { this.calls.push({ key: `${namespace}/${name}`, ...counts }); }
  get last(): (HeldCounts & { key?: string }) | undefined {
    const last = this.calls.at(-1);
    if (!last) return undefined;
    expect(last.key).toBe('team-a/llm');
    const { key: _key, ...counts } = last;
    return counts;
  }
  get maxHeld(): number { return Math.max(0, ...this.calls.map((c) => c.held)); }
}

function target(overrides: Partial<Target> = {}): Target {
  return { namespace: 'team-a', name: 'llm', maxHeldRequests: 100, maxHoldSeconds: 30, retryAfterSeconds: 7, endpoints: [], ...overrides };
}

interface Resp { status: number; headers: IncomingHttpHeaders; body: string; chunks: string[] }

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startActivator(targets: StaticTargets, extra: { reporter?: HeldReporter; now?: () => number; retryIntervalMs?: number } = {}) {
  const server = new ActivatorServer({ targets, log, retryIntervalMs: 50, ...extra });
  const address = await server.listen('127.0.0.1:0');
  cleanups.push(() => server.close(100));
  return { server, port: Number(address.split(':').at(-1)), address };
}

async function startUpstream(handler: (req: IncomingMessage, res: ServerResponse) => void, port = 0) {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return { server, endpoint: { ip: '127.0.0.1', port: (server.address() as net.AddressInfo).port } };
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function send(port: number, opts: { host?: string; method?: string; path?: string; body?: string; headers?: Record<string, string>; onChunk?: (chunk: string) => void } = {}) {
  const headers: Record<string, string> = { host: opts.host ?? HOST, ...opts.headers };
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(opts.body));
  }
  const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), path: opts.path ?? '/v1/chat/completions', headers, agent: false });
  const done = new Promise<Resp>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: string[] = [];
      res.setEncoding('utf8');
      res.on('data', (c: string) => { chunks.push(c); opts.onChunk?.(c); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: chunks.join(''), chunks }));
      res.on('error', reject);
    });
  });
  req.end(opts.body);
  return { req, done };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function echoUpstream() {
  const seen: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(parts).toString('utf8') });
      res.writeHead(201, { 'content-type': 'application/json', 'x-engine': 'stand-in', 'keep-alive': 'timeout=99', connection: 'keep-alive, x-upstream-hop', 'x-upstream-hop': '1' });
      res.end(JSON.stringify({ ok: true }));
    });
  };
  return { seen, handler };
}

async function metricValue(server: ActivatorServer, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await server.metrics.registry.getSingleMetric(name)?.get();
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
  return value?.value;
}

describe('ActivatorServer routing', () => {
  it('answers /healthz, gates /readyz on the source, serves /metrics, and 404s hosts that name no target', async () => {
    const targets = new StaticTargets();
    targets.set(target());
    targets.isReady = false;
    const { port } = await startActivator(targets);
    expect((await send(port, { host: '127.0.0.1', path: '/healthz' }).done)).toMatchObject({ status: 200, body: 'ok' });
    expect((await send(port, { host: '127.0.0.1', path: '/readyz' }).done).status).toBe(503);
    targets.isReady = true;
    expect((await send(port, { host: '127.0.0.1', path: '/readyz' }).done).status).toBe(200);

    const unknown = await send(port, { host: '10.0.0.1:8000' }).done;
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('NAME.NAMESPACE[.svc[.cluster.local]][:PORT]');
    expect(unknown.body).toContain('spec.autoscaling.scaleToZero');
    const missing = await send(port, { host: 'other.team-b.svc:8000' }).done;
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('team-b/other');
    expect(missing.body).toContain('scaleToZero');

    const metrics = await send(port, { host: '127.0.0.1', path: '/metrics' }).done;
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/^lfm_activator_unknown_host_total 2$/m);
    expect(metrics.body).toContain('lfm_activator_process_');
  });
  it('listens on HOST:PORT and rejects an address without a port', async () => {
    const server = new ActivatorServer({ targets: new StaticTargets(), log });
    await expect(server.listen('127.0.0.1')).rejects.toThrow(/HOST:PORT/);
    const address = await server.listen('127.0.0.1:0');
    expect(address).toMatch(/^127\.0\.0\.1:[1-9][0-9]*$/);
    await server.close();
  });
});

describe('ActivatorServer proxy', () => {
  it('forwards at once when a replica is Ready: status, headers and body unchanged, no cold-start header', async () => {
    const { seen, handler } = echoUpstream();
    const up = await startUpstream(handler);
    const targets = new StaticTargets();
    targets.set(target({ endpoints: [up.endpoint] }));
    const reporter = new RecordingReporter();
    const { port, server } = await startActivator(targets, { reporter });

    const res = await send(port, { body: '{"model":"lfm"}', headers: { authorization: 'Bearer secret', 'x-forwarded-for': '203.0.113.9', connection: 'keep-alive, x-hop', 'x-hop': 'drop me' } }).done;
    expect(res.status).toBe(201);
    expect(res.headers['x-engine']).toBe('stand-in');
    // The replica's hop-by-hop headers stay with the replica (Node adds the activator's own keep-alive).
    expect(res.headers['keep-alive']).not.toBe('timeout=99');
    expect(res.headers['x-upstream-hop']).toBeUndefined();
    expect(res.headers['x-lfm-cold-start']).toBeUndefined();
    expect(JSON.parse(res.body)).toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions', body: '{"model":"lfm"}' });
    expect(seen[0]!.headers.host).toBe(HOST);
    expect(seen[0]!.headers.authorization).toBe('Bearer secret');
    expect(seen[0]!.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(seen[0]!.headers['x-hop']).toBeUndefined();
    // Never held: nothing reported, nothing observed.
    expect(reporter.calls).toEqual([]);
    expect(await metricValue(server, 'lfm_activator_requests_total', { outcome: 'forwarded' })).toBe(1);
  });

  it('holds a request while there is no replica, dispatches it on onChange, and streams server-sent events as they come', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let upstreamEnded = false;
    const up = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: one\n\n');
      // Were the activator to buffer the response, the first chunk would come only after this.
      setTimeout(release, 3000);
      void released.then(() => {
        res.write('data: two\n\n');
        res.end('data: [DONE]\n\n');
        upstreamEnded = true;
      });
    });
    const targets = new StaticTargets();
    targets.set(target());
    const reporter = new RecordingReporter();
    let t = 1_000_000;
    const { port, server } = await startActivator(targets, { reporter, now: () => t, retryIntervalMs: 60_000 });

    let firstChunkWhileUpstreamOpen: boolean | undefined;
    const { done } = send(port, {
      onChunk: (c) => {
        if (firstChunkWhileUpstreamOpen === undefined) {
          firstChunkWhileUpstreamOpen = !upstreamEnded && c.startsWith('data: one');
          release();
        }
      },
    });
    await waitFor('the request to be held', () => server.heldCount('team-a', 'llm') === 1);
    expect(server.heldCount()).toBe(1);
    expect(reporter.last).toEqual({ held: 1, refused: 0, expired: 0 });
    expect(await metricValue(server, 'lfm_activator_held_requests', { namespace: 'team-a', name: 'llm' })).toBe(1);
    t += 2345.4;
    targets.setEndpoints([up.endpoint]);
    const res = await done;
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['x-lfm-cold-start']).toBe('2.345');
    expect(firstChunkWhileUpstreamOpen).toBe(true);
    expect(res.chunks.length).toBeGreaterThanOrEqual(2);
    expect(res.body).toBe('data: one\n\ndata: two\n\ndata: [DONE]\n\n');
    expect(server.heldCount()).toBe(0);
    expect(reporter.last).toEqual({ held: 0, refused: 0, expired: 0 });
    const text = await server.metrics.registry.metrics();
    expect(Number(/^lfm_activator_hold_seconds_sum (\S+)$/m.exec(text)?.[1])).toBeCloseTo(2.3454, 3);
    expect(text).toMatch(/^lfm_activator_hold_seconds_count 1$/m);
  });

  it('holds at most maxHeldRequests: of N+1 concurrent requests exactly one gets 429 with Retry-After', async () => {
    const { seen, handler } = echoUpstream();
    const up = await startUpstream(handler);
    const targets = new StaticTargets();
    targets.set(target({ maxHeldRequests: 3, retryAfterSeconds: 42 }));
    const reporter = new RecordingReporter();
    const { port, server } = await startActivator(targets, { reporter });

    const results: Resp[] = [];
    const all = Array.from({ length: 4 }, (_, i) => send(port, { body: JSON.stringify({ i }) }).done.then((r) => { results.push(r); return r; }));
    await waitFor('three held and one answered', () => server.heldCount('team-a', 'llm') === 3 && results.length === 1);
    const refused = results[0]!;
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('42');
    expect(refused.headers['content-type']).toBe('application/json');
    const error = (JSON.parse(refused.body) as { error: { type: string; message: string } }).error;
    expect(error.type).toBe('cold_start_queue_full');
    expect(error.message).toContain('3');
    expect(reporter.last).toEqual({ held: 3, refused: 1, expired: 0 });

    targets.setEndpoints([up.endpoint]);
    const statuses = (await Promise.all(all)).map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect(seen).toHaveLength(3);
    expect(reporter.last).toEqual({ held: 0, refused: 1, expired: 0 });
    expect(await metricValue(server, 'lfm_activator_requests_total', { outcome: 'refused' })).toBe(1);
    expect(await metricValue(server, 'lfm_activator_requests_total', { outcome: 'forwarded' })).toBe(3);
  });

  it('answers 503 with Retry-After when no replica becomes Ready within maxHoldSeconds', async () => {
    const targets = new StaticTargets();
    targets.set(target({ maxHoldSeconds: 1, retryAfterSeconds: 9 }));
    const reporter = new RecordingReporter();
    const { port, server } = await startActivator(targets, { reporter });
    const started = Date.now();
    const res = await send(port, { body: '{}' }).done;
    const elapsed = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('9');
    const error = (JSON.parse(res.body) as { error: { type: string; message: string } }).error;
    expect(error.type).toBe('cold_start_timeout');
    expect(error.message).toContain('maxHoldSeconds 1');
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
    expect(server.heldCount()).toBe(0);
    expect(reporter.maxHeld).toBe(1);
    expect(reporter.last).toEqual({ held: 0, refused: 0, expired: 1 });
    expect(await metricValue(server, 'lfm_activator_requests_total', { outcome: 'expired' })).toBe(1);
  });

  it('retries a refused connection until the replica listens, then forwards the held request', async () => {
    const port0 = await freePort();
    const targets = new StaticTargets();
    targets.set(target({ endpoints: [{ ip: '127.0.0.1', port: port0 }] }));
    const reporter = new RecordingReporter();
    const { port, server } = await startActivator(targets, { reporter });
    const { done } = send(port, { body: '{"after":"refused"}' });
    // The first connect is refused: the request becomes held and is retried every 50 ms.
    await waitFor('the request to be held', () => server.heldCount() === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(server.heldCount()).toBe(1);
    const { seen, handler } = echoUpstream();
    await startUpstream(handler, port0);
    const res = await done;
    expect(res.status).toBe(201);
    expect(Number(res.headers['x-lfm-cold-start'])).toBeGreaterThanOrEqual(0.25);
    expect(seen.map((s) => s.body)).toEqual(['{"after":"refused"}']);
    expect(reporter.last).toEqual({ held: 0, refused: 0, expired: 0 });
  });

  it('drops a held request whose client goes away, and reports held back to 0', async () => {
    const targets = new StaticTargets();
    targets.set(target());
    const reporter = new RecordingReporter();
    const { port, server } = await startActivator(targets, { reporter });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    const { req, done } = send(port, { body: '{}' });
    done.catch(() => undefined);
    const other = send(port, { body: '{}' });
    other.done.catch(() => undefined);
    await waitFor('two held', () => server.heldCount() === 2);
    expect(timers()).toBeGreaterThanOrEqual(timersBefore + 3);
    req.destroy();
    await waitFor('one held', () => server.heldCount() === 1);
    expect(reporter.last).toEqual({ held: 1, refused: 0, expired: 0 });
    other.req.destroy();
    await waitFor('none held', () => server.heldCount() === 0);
    expect(reporter.last).toEqual({ held: 0, refused: 0, expired: 0 });
    expect(await metricValue(server, 'lfm_activator_requests_total', { outcome: 'client_closed' })).toBe(2);
    expect(await metricValue(server, 'lfm_activator_held_requests', { namespace: 'team-a', name: 'llm' })).toBe(0);
    // The deadline timers are cleared and the retry ticker stops once nothing is held.
    await new Promise((r) => setTimeout(r, 120));
    expect(timers()).toBeLessThanOrEqual(timersBefore);
  });

  it('close() answers every held request 503 at once, stops listening and unsubscribes', async () => {
    const targets = new StaticTargets();
    targets.set(target({ maxHoldSeconds: 600, retryAfterSeconds: 5 }));
    const reporter = new RecordingReporter();
    const server = new ActivatorServer({ targets, log, reporter, retryIntervalMs: 50 });
    const address = await server.listen('127.0.0.1:0');
    const port = Number(address.split(':')[1]);
    expect(targets.listenerCount).toBe(1);
    const requests = [send(port, { body: '{}' }), send(port, { body: '{}' })];
    await waitFor('two held', () => server.heldCount() === 2);
    const started = Date.now();
    await server.close(5000);
    expect(Date.now() - started).toBeLessThan(2000);
    for (const { done } of requests) {
      const res = await done;
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect((JSON.parse(res.body) as { error: { type: string } }).error.type).toBe('cold_start_shutdown');
    }
    expect(server.heldCount()).toBe(0);
    expect(reporter.last).toEqual({ held: 0, refused: 0, expired: 0 });
    expect(targets.listenerCount).toBe(0);
    await expect(send(port, { host: '127.0.0.1', path: '/healthz' }).done).rejects.toThrow(/ECONNREFUSED/);
    expect(await metricValue(server, 'lfm_activator_requests_total', { outcome: 'shutdown' })).toBe(2);
  });

  it('close() lets a forwarded request finish within drainMs', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    const up = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial ');
      void released.then(() => res.end('done'));
    });
    const targets = new StaticTargets();
    targets.set(target({ endpoints: [up.endpoint] }));
    const server = new ActivatorServer({ targets, log, retryIntervalMs: 50 });
    const port = Number((await server.listen('127.0.0.1:0')).split(':')[1]);
    let gotFirst = false;
    const { done } = send(port, { onChunk: () => { gotFirst = true; } });
    await waitFor('the first chunk', () => gotFirst);
    let closed = false;
    const closing = server.close(5000).then(() => { closed = true; });
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    release();
    expect((await done).body).toBe('partial done');
    await closing;
  });

  it('delivers a held POST body intact, with backpressure, once a replica is Ready', async () => {
    const { seen, handler } = echoUpstream();
    const up = await startUpstream(handler);
    const targets = new StaticTargets();
    targets.set(target());
    const { port, server } = await startActivator(targets);
    const messages = Array.from({ length: 4000 }, (_, i) => ({ role: i % 2 ? 'user' : 'assistant', content: `message ${i} ✓` }));
    const body = JSON.stringify({ model: 'lfm2', stream: false, messages });
    expect(Buffer.byteLength(body)).toBeGreaterThan(128 * 1024);
    const { done } = send(port, { body });
    await waitFor('held', () => server.heldCount() === 1);
    await new Promise((r) => setTimeout(r, 100));
    targets.setEndpoints([up.endpoint]);
    const res = await done;
    expect(res.status).toBe(201);
    expect(res.headers['x-lfm-cold-start']).toBeDefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.body).toBe(body);
    expect(seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('leaves a held request body unread: TCP backpressure keeps it in the client until a replica is Ready', async () => {
    const up = await startUpstream((req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => { hash.update(c); bytes += c.length; });
      req.on('end', () => res.end(JSON.stringify({ bytes, sha: hash.digest('hex') })));
    });
    const targets = new StaticTargets();
    targets.set(target());
    const { port, server } = await startActivator(targets);
    const body = Buffer.alloc(48 * 1024 * 1024, 'x');
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/completions', agent: false, headers: { host: HOST, 'content-length': String(body.length) } });
    const done = new Promise<string>((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      });
    });
    req.end(body);
    await waitFor('held', () => server.heldCount() === 1);
    await new Promise((r) => setTimeout(r, 300));
    // What the kernel's socket buffers did not take is still queued in the client: the activator reads none of it.
    expect(req.socket?.writableLength ?? 0).toBeGreaterThan(24 * 1024 * 1024);
    targets.setEndpoints([up.endpoint]);
    expect(JSON.parse(await done)).toEqual({ bytes: body.length, sha: createHash('sha256').update(body).digest('hex') });
  });

  it('spreads held requests over Ready replicas round-robin', async () => {
    const a = echoUpstream();
    const b = echoUpstream();
    const upA = await startUpstream(a.handler);
    const upB = await startUpstream(b.handler);
    const targets = new StaticTargets();
    targets.set(target());
    const { port, server } = await startActivator(targets);
    const all = Array.from({ length: 4 }, () => send(port, { body: '{}' }).done);
    await waitFor('four held', () => server.heldCount() === 4);
    targets.setEndpoints([upA.endpoint, upB.endpoint]);
    expect((await Promise.all(all)).map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(a.seen).toHaveLength(2);
    expect(b.seen).toHaveLength(2);
  });

  it('answers 502 when the replica drops the connection before answering, and cuts a response the replica cuts', async () => {
    let mode: 'drop' | 'cut' = 'drop';
    const up = await startUpstream((req, res) => {
      if (mode === 'drop') {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n', () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const targets = new StaticTargets();
    targets.set(target({ endpoints: [up.endpoint] }));
    const { port, server } = await startActivator(targets);
    const dropped = await send(port, { body: '{}' }).done;
    expect(dropped.status).toBe(502);
    expect((JSON.parse(dropped.body) as { error: { type: string } }).error.type).toBe('upstream_error');
    mode = 'cut';
    await expect(send(port, { body: '{}' }).done).rejects.toThrow();
    expect(await metricValue(server, 'lfm_activator_requests_total', { outcome: 'failed' })).toBe(2);
  });
});
