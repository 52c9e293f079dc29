// The request timeout over a real socket: a loopback TCP black hole (127.0.0.1 only) that accepts connections and
// never answers, or answers headers and stalls the body. It implements nothing of the Kubernetes API.
import { KubeConfig } from '@kubernetes/client-node';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient, RESOURCES, RequestTimeoutError, type Clock } from '../../src/kube/client.js';

interface BlackHole {
  url: string;
  /** Resolves with each accepted socket, in order. */
  nextConnection(): Promise<net.Socket>;
  /** Resolves when the reply has been written to the socket. */
  replied(socket: net.Socket): Promise<void>;
  close(): Promise<void>;
}

/** Accepts connections on 127.0.0.1; writes `reply` (if any) once the request arrives, then never anything more. */
async function blackHole(reply?: string): Promise<BlackHole> {
  const sockets: net.Socket[] = [];
  const waiting: ((s: net.Socket) => void)[] = [];
  const replies = new WeakMap<net.Socket, Promise<void>>();
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    // Read and discard the request: a paused socket would never see the client's FIN, so never close.
    socket.resume();
    if (reply) replies.set(socket, new Promise((resolve) => socket.once('data', () => socket.write(reply, () => resolve()))));
    const w = waiting.shift();
    if (w) w(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  let handed = 0;
  return {
    url: `http://127.0.0.1:${port}`,
    nextConnection: () => {
      const s = sockets[handed];
      handed++;
      return s ? Promise.resolve(s) : new Promise((resolve) => waiting.push(resolve));
    },
    replied: (socket) => replies.get(socket) ?? Promise.reject(new Error('this black hole never replies')),
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function clientFor(url: string, options: ConstructorParameters<typeof KubeClient>[2]): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // Plain HTTP on loopback: client-node allows http: only with skipTLSVerify.
    clusters: [{ name: 'hole', server: url, skipTLSVerify: true }],
    users: [{ name: 'anonymous' }],
    contexts: [{ name: 'hole', cluster: 'hole', user: 'anonymous' }],
    currentContext: 'hole',
  });
  return new KubeClient(kc, 'unit-test', options);
}

/** A manual clock: timers fire only when advance() passes them. */
class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 0;
  now() { return this.t; }
  setTimeout(fn: () => void, ms: number) { const id = this.next++; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown) { this.timers = this.timers.filter((x) => x.id !== h); }
  get pending() { return this.timers.length; }
  advance(ms: number) {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.fn();
  }
}

const settled = <T>(p: Promise<T>) => {
  const state: { done: boolean; error?: unknown } = { done: false };
  p.then(() => { state.done = true; }, (error: unknown) => { state.done = true; state.error = error; });
  return state;
};
const turn = () => new Promise((r) => setImmediate(r));

let hole: BlackHole | undefined;
afterEach(async () => {
  await hole?.close();
  hole = undefined;
});

describe('KubeClient request timeout against a black hole', () => {
  it('rejects after the configured timeout on the system clock, naming verb, path and timeout', async () => {
    hole = await blackHole();
    const client = clientFor(hole.url, { requestTimeoutMs: 200 });
    const started = performance.now();
    const error = await client.get(RESOURCES.pod, 'default', 'p').then(() => undefined, (e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toBe('GET /api/v1/namespaces/default/pods/p: timed out after 200 ms (client request timeout)');
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(5000);
  });

  it('times out exactly when the client clock passes the deadline, and closes the connection', async () => {
    hole = await blackHole();
    const clock = new FakeClock();
    const client = clientFor(hole.url, { requestTimeoutMs: 1000, clock });
    const request = client.apply(RESOURCES.pod, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' } }, 'test');
    const state = settled(request);
    const socket = await hole.nextConnection();
    const closed = once(socket, 'close');
    clock.advance(999);
    await turn();
    expect(state.done).toBe(false);
    clock.advance(1);
    await request.catch(() => undefined);
    expect(state.error).toBeInstanceOf(RequestTimeoutError);
    expect((state.error as Error).message).toBe('PATCH /api/v1/namespaces/default/pods/p: timed out after 1000 ms (client request timeout)');
    await closed;
    expect(clock.pending).toBe(0);
  });

  it('covers the whole exchange: headers that arrive without their body still time out', async () => {
    hole = await blackHole('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"kind":"Pod",');
    const clock = new FakeClock();
    const client = clientFor(hole.url, { requestTimeoutMs: 1000, clock });
    const request = client.get(RESOURCES.pod, 'default', 'p');
    const state = settled(request);
    const socket = await hole.nextConnection();
    await hole.replied(socket);
    // Loopback delivers at once; a few event-loop turns let the client parse the headers and the partial body.
    for (let i = 0; i < 5; i++) await turn();
    expect(state.done).toBe(false);
    const closed = once(socket, 'close');
    clock.advance(1000);
    await request.catch(() => undefined);
    expect(state.error).toBeInstanceOf(RequestTimeoutError);
    await closed;
  });

  it('does not apply to a watch: the request timeout arms no timer and the watch stays open past it', async () => {
    hole = await blackHole();
    const clock = new FakeClock();
    const client = clientFor(hole.url, { requestTimeoutMs: 1000, clock });
    const stop = new AbortController();
    const watch = client.watch(RESOURCES.pod, { namespace: 'default', resourceVersion: '1', signal: stop.signal }, () => undefined);
    const state = settled(watch);
    const socket = await hole.nextConnection();
    let socketClosed = false;
    socket.on('close', () => { socketClosed = true; });
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    for (let i = 0; i < 5; i++) await turn();
    expect(state.done).toBe(false);
    expect(socketClosed).toBe(false);
    stop.abort();
    await watch.catch(() => undefined);
    expect(state.error).not.toBeInstanceOf(RequestTimeoutError);
  });
});
