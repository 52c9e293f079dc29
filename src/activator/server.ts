// The scale-to-zero activator's HTTP core. It receives requests for an LfmDeployment that has no Ready replica
// (its Service points here while it is scaled to zero), holds them in a bounded FIFO per target while a replica
// starts, then forwards each to a Ready pod and streams the response back unchanged.
//
// Memory: a held request's body is never read. The IncomingMessage stays paused, so at most a socket buffer of it
// sits in this process and TCP backpressure holds the rest in the client; a held request costs its socket, its
// parser and two small objects. Timers: one deadline timer per held request and one retry ticker while anything is
// held. Where the targets come from (informers) and where held counts go (status) are injected (types.ts).
import http, { type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { Logger } from '../telemetry/logger.js';
import { parseTargetHost } from './host.js';
import { createActivatorMetrics, type ActivatorMetrics, type Outcome } from './metrics.js';
import type { Endpoint, HeldReporter, Target, TargetSource } from './types.js';

export interface ActivatorServerOptions {
  targets: TargetSource;
  reporter?: HeldReporter;
  log: Logger;
  /** Defaults to a fresh registry (createActivatorMetrics). */
  metrics?: ActivatorMetrics;
  /** Milliseconds, for measuring how long requests were held (x-lfm-cold-start, lfm_activator_hold_seconds); deadlines use real timers. */
  now?: () => number;
  /** How often held requests are re-checked against their target and failed connects are retried. Default 250. */
  retryIntervalMs?: number;
  /** A TCP connect to a replica that neither succeeds nor fails within this is abandoned and retried. Default 2000. */
  connectTimeoutMs?: number;
}

/** A target's held requests in arrival order, its round-robin cursor, and its cumulative refused/expired counts. */
interface TargetState {
  readonly namespace: string;
  readonly name: string;
  readonly queue: Pending[];
  next: number;
  refused: number;
  expired: number;
}

/**
 * A request on the proxy path from arrival to its outcome. waiting: held, no connect in progress; connecting: a TCP
 * connect to a replica is in progress (held or not); forwarding: connected, streaming; done: answered.
 */
interface Pending {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly state: TargetState;
  /** now() at arrival. */
  readonly arrivedAt: number;
  /** Date.now() after which the request gets 503 if it is still not connected to a replica. */
  readonly deadlineAt: number;
  readonly maxHoldSeconds: number;
  retryAfterSeconds: number;
  phase: 'waiting' | 'connecting' | 'forwarding' | 'done';
  /** In state.queue (it arrived with no Ready replica, or its first connect failed). */
  held: boolean;
  attempts: number;
  deadlineTimer?: NodeJS.Timeout;
  connecting?: net.Socket;
  upstream?: ClientRequest;
  socket?: net.Socket;
}

/** Hop-by-hop headers (RFC 9110 7.6.1): never forwarded in either direction. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

const MAX_TIMER_MS = 2 ** 31 - 1;

const ignore = (): void => undefined;

const HOST_HELP = 'the Host header must be NAME.NAMESPACE[.svc[.cluster.local]][:PORT] of an LfmDeployment with spec.autoscaling.scaleToZero';

/** The headers a Connection header names (they are hop-by-hop too). */
function connectionTokens(value: string | string[] | undefined): string[] {
  const joined = Array.isArray(value) ? value.join(',') : value ?? '';
  return joined.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
}

/** The request headers sent to the replica: end-to-end headers as received (Host kept), x-forwarded-for appended. */
export function forwardRequestHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const drop = new Set([...HOP_BY_HOP, ...connectionTokens(req.headers.connection)]);
  const out: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined && !drop.has(key)) out[key] = value;
  }
  const client = req.socket.remoteAddress;
  if (client !== undefined) {
    const prior = req.headers['x-forwarded-for'];
    const priorText = Array.isArray(prior) ? prior.join(', ') : prior;
    out['x-forwarded-for'] = priorText ? `${priorText}, ${client}` : client;
  }
  return out;
}

/** The replica's response headers as a flat [name, value, ...] list, hop-by-hop headers left out. */
function forwardResponseHeaders(raw: readonly string[], connection: string | string[] | undefined): string[] {
  const drop = new Set([...HOP_BY_HOP, ...connectionTokens(connection)]);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!drop.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** An OpenAI-style error answer from the activator itself; the connection is closed (the request body is unread). */
function sendError(res: ServerResponse, status: number, error: { type: string; message: string; retryAfterSeconds?: number }): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { message: error.message, type: error.type } });
  const headers: OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  res.writeHead(status, headers);
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** "HOST:PORT" (IPv6 in brackets; an empty HOST listens on every address). */
function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(address);
  if (!m) throw new Error(`invalid listen address ${JSON.stringify(address)}: want HOST:PORT (IPv6 in brackets)`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port: Number(m[3]) };
}

function retryAfterOf(target: Target): number {
  return Math.max(1, Math.ceil(target.retryAfterSeconds));
}

export class ActivatorServer {
  private readonly targets: TargetSource;
  private readonly reporter: HeldReporter | undefined;
  private readonly log: Logger;
  readonly metrics: ActivatorMetrics;
  private readonly now: () => number;
  private readonly retryIntervalMs: number;
  private readonly connectTimeoutMs: number;
  private readonly server: http.Server;
  private readonly states = new Map<string, TargetState>();
  /** Every request on the proxy path that has no outcome yet. */
  private readonly live = new Set<Pending>();
  private ticker: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private listening = false;
  private closing = false;
  private closed: Promise<void> | undefined;
  private onDrained: (() => void) | undefined;

  constructor(options: ActivatorServerOptions) {
    this.targets = options.targets;
    this.reporter = options.reporter;
    this.log = options.log;
    this.metrics = options.metrics ?? createActivatorMetrics();
    this.now = options.now ?? Date.now;
    this.retryIntervalMs = options.retryIntervalMs ?? 250;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 2000;
    // requestTimeout 0: a held request's body is deliberately left unread for up to maxHoldSeconds, which Node's
    // default (300 s to receive the whole request) would cut. headersTimeout still bounds slow headers.
    this.server = http.createServer({ requestTimeout: 0, noDelay: true }, (req, res) => this.handle(req, res));
  }

  /** Listens on "HOST:PORT" (port 0 picks one); resolves to the bound "host:port". */
  listen(address: string): Promise<string> {
    let host: string | undefined;
    let port: number;
    try {
      ({ host, port } = parseListenAddress(address));
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.unsubscribe ??= this.targets.onChange((namespace, name) => this.onTargetChange(namespace, name));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.removeListener('error', reject);
        this.listening = true;
        const a = this.server.address();
        if (a === null || typeof a === 'string') return resolve(address);
        resolve(a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
      });
    });
  }

  /** Requests held for one target, or for all targets. */
  heldCount(namespace?: string, name?: string): number {
    if (namespace !== undefined && name !== undefined) return this.states.get(`${namespace}/${name}`)?.queue.length ?? 0;
    let n = 0;
    for (const s of this.states.values()) if (namespace === undefined || s.namespace === namespace) n += s.queue.length;
    return n;
  }

  /**
   * Stops accepting; answers every held request 503 at once; lets forwarded requests finish within drainMs, then
   * destroys what is left. Reports the final counts of every target.
   */
  close(drainMs = 10_000): Promise<void> {
    this.closed ??= this.shutdown(drainMs);
    return this.closed;
  }

  private async shutdown(drainMs: number): Promise<void> {
    this.closing = true;
    this.unsubscribe?.();
    this.stopTicker();
    const serverClosed = this.listening ? new Promise<void>((resolve) => this.server.close(() => resolve())) : Promise.resolve();
    const waiting = [...this.live].filter((p) => p.phase === 'waiting' || p.phase === 'connecting');
    for (const p of waiting) this.answerShutdown(p);
    if (waiting.length > 0) this.log.info({ requests: waiting.length }, 'activator stopping: answered held requests 503');
    this.server.closeIdleConnections();
    await this.drain(drainMs);
    for (const p of [...this.live]) {
      this.destroyUpstream(p);
      p.res.destroy();
      this.finish(p, 'shutdown');
    }
    this.server.closeAllConnections();
    await serverClosed;
    for (const s of this.states.values()) this.report(s);
  }

  /** Resolves when every forwarded request has finished, or after drainMs. */
  private drain(drainMs: number): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onDrained = undefined;
        resolve();
      };
      const timer = setTimeout(done, drainMs);
      this.onDrained = done;
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    // An aborted request emits 'error'; its outcome is handled through the response's 'close'.
    req.on('error', ignore);
    const parsed = parseTargetHost(req.headers.host);
    const target = parsed ? this.targets.get(parsed.namespace, parsed.name) : undefined;
    if (target) return this.proxy(req, res, target);
    this.serveLocal(req, res, parsed);
  }

  /** Health, readiness, metrics, and the 404 for a Host that names no target. */
  private serveLocal(req: IncomingMessage, res: ServerResponse, parsed: { namespace: string; name: string } | undefined): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return sendText(res, 200, 'ok');
    if (path === '/readyz') {
      const ready = this.targets.ready() && !this.closing;
      return sendText(res, ready ? 200 : 503, ready ? 'ok' : this.closing ? 'shutting down' : 'target caches not synced');
    }
    if (path === '/metrics') return this.serveMetrics(res);
    this.metrics.unknownHostTotal.inc();
    this.log.debug({ host: req.headers.host?.slice(0, 260), method: req.method }, 'activator: no target for host');
    if (parsed) {
      return sendText(res, 404, `${parsed.namespace}/${parsed.name}: no LfmDeployment of that name has spec.autoscaling.scaleToZero (it does not exist, or does not scale to zero); ${HOST_HELP}\n`);
    }
    sendText(res, 404, `no scale-to-zero target for this request: ${HOST_HELP}\n`);
  }

  private serveMetrics(res: ServerResponse): void {
    const registry = this.metrics.registry;
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        this.log.warn({ err }, 'activator: collecting metrics failed');
        sendText(res, 500, 'collecting metrics failed\n');
      },
    );
  }

  private stateOf(target: Target): TargetState {
    const key = `${target.namespace}/${target.name}`;
    let s = this.states.get(key);
    if (!s) {
      s = { namespace: target.namespace, name: target.name, queue: [], next: 0, refused: 0, expired: 0 };
      this.states.set(key, s);
    }
    return s;
  }

  private proxy(req: IncomingMessage, res: ServerResponse, target: Target): void {
    const state = this.stateOf(target);
    const p: Pending = {
      req, res, state,
      arrivedAt: this.now(),
      deadlineAt: Date.now() + target.maxHoldSeconds * 1000,
      maxHoldSeconds: target.maxHoldSeconds,
      retryAfterSeconds: retryAfterOf(target),
      phase: 'waiting', held: false, attempts: 0,
    };
    this.live.add(p);
    res.once('close', () => this.onClientClose(p));
    // The path without its query (a query may carry a key); never the headers or the body.
    this.log.debug({ namespace: state.namespace, name: state.name, method: req.method, path: req.url?.split('?')[0] }, 'activator: request');
    if (this.closing) return this.answerShutdown(p);
    if (target.endpoints.length > 0) {
      // Requests already held go first.
      if (state.queue.length > 0) this.dispatch(state);
      return this.attempt(p, target);
    }
    if (state.queue.length >= target.maxHeldRequests) return this.refuse(p, target);
    this.hold(p);
  }

  private refuse(p: Pending, target: Target): void {
    this.log.debug({ namespace: target.namespace, name: target.name, held: p.state.queue.length }, 'activator: hold queue full, 429');
    sendError(p.res, 429, {
      type: 'cold_start_queue_full',
      message: `${target.namespace}/${target.name} is starting from zero replicas and this activator already holds its maximum of ${target.maxHeldRequests} requests (spec.autoscaling.scaleToZero.maxHeldRequests); retry after ${p.retryAfterSeconds} s`,
      retryAfterSeconds: p.retryAfterSeconds,
    });
    this.finish(p, 'refused');
  }

  private hold(p: Pending): void {
    const s = p.state;
    p.held = true;
    p.phase = 'waiting';
    s.queue.push(p);
    if (s.queue.length === 1) this.log.info({ namespace: s.namespace, name: s.name }, 'activator: holding requests until a replica is Ready');
    // Node's timers take at most 2^31-1 ms (24.8 days); a longer maxHoldSeconds is clamped rather than firing at once.
    p.deadlineTimer = setTimeout(() => this.expire(p), Math.min(MAX_TIMER_MS, Math.max(0, p.deadlineAt - Date.now())));
    this.startTicker();
    this.changed(s);
  }

  private onTargetChange(namespace: string, name: string): void {
    const s = this.states.get(`${namespace}/${name}`);
    if (s && s.queue.length > 0) this.dispatch(s);
  }

  private tick(): void {
    let held = 0;
    for (const s of this.states.values()) {
      if (s.queue.length > 0) this.dispatch(s);
      held += s.queue.length;
    }
    if (held === 0) this.stopTicker();
  }

  private startTicker(): void {
    if (this.ticker || this.closing) return;
    this.ticker = setInterval(() => this.tick(), this.retryIntervalMs);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** Starts a connect for every held request of the target that has none, when the target has Ready replicas. */
  private dispatch(s: TargetState): void {
    const target = this.targets.get(s.namespace, s.name);
    if (!target || target.endpoints.length === 0 || this.closing) return;
    let fresh = 0;
    let retries = 0;
    for (const p of [...s.queue]) {
      if (p.phase !== 'waiting') continue;
      p.retryAfterSeconds = retryAfterOf(target);
      if (p.attempts === 0) fresh++;
      else retries++;
      this.attempt(p, target);
    }
    if (fresh > 0) {
      const oldest = s.queue[0];
      const waited = oldest ? (this.now() - oldest.arrivedAt) / 1000 : 0;
      this.log.info({ namespace: s.namespace, name: s.name, requests: fresh, retries, endpoints: target.endpoints.length, oldestWaitSeconds: Number(waited.toFixed(3)) }, 'activator: dispatching held requests to Ready replicas');
    } else if (retries > 0) {
      this.log.debug({ namespace: s.namespace, name: s.name, retries }, 'activator: retrying connects to replicas');
    }
  }

  /** Opens a TCP connection to the next Ready replica (round robin); the HTTP request is issued only once connected. */
  private attempt(p: Pending, target: Target): void {
    const s = p.state;
    const endpoint = target.endpoints[s.next++ % target.endpoints.length]!;
    if (s.next >= Number.MAX_SAFE_INTEGER) s.next = 0;
    p.phase = 'connecting';
    p.attempts++;
    const socket = net.connect({ host: endpoint.ip, port: endpoint.port });
    p.connecting = socket;
    const onTimeout = () => socket.destroy(Object.assign(new Error(`connect to ${endpoint.ip}:${endpoint.port} timed out`), { code: 'ETIMEDOUT' }));
    const onError = (err: NodeJS.ErrnoException) => this.connectFailed(p, socket, endpoint, err);
    socket.setTimeout(this.connectTimeoutMs, onTimeout);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeListener('timeout', onTimeout);
      socket.removeListener('error', onError);
      this.connected(p, socket);
    });
  }

  /** Any failure before the connection is up (refused, reset, timed out, unreachable): retried until the deadline. */
  private connectFailed(p: Pending, socket: net.Socket, endpoint: Endpoint, err: NodeJS.ErrnoException): void {
    socket.destroy();
    if (p.connecting === socket) p.connecting = undefined;
    if (p.phase !== 'connecting') return;
    if (this.closing) return this.answerShutdown(p);
    this.log.debug({ namespace: p.state.namespace, name: p.state.name, endpoint: `${endpoint.ip}:${endpoint.port}`, code: err.code }, 'activator: connect to replica failed; retrying');
    if (p.held) {
      p.phase = 'waiting';
      this.startTicker();
    } else {
      this.hold(p);
    }
  }

  private connected(p: Pending, socket: net.Socket): void {
    p.connecting = undefined;
    if (p.phase !== 'connecting') {
      socket.destroy();
      return;
    }
    p.phase = 'forwarding';
    p.socket = socket;
    let coldStart: string | undefined;
    if (p.held) {
      const waited = Math.max(0, (this.now() - p.arrivedAt) / 1000);
      coldStart = waited.toFixed(3);
      this.metrics.holdSeconds.observe(waited);
      this.unhold(p);
    }
    this.forward(p, socket, coldStart);
  }

  /** Takes the request out of its target's queue and clears its deadline. */
  private unhold(p: Pending): void {
    if (p.deadlineTimer) clearTimeout(p.deadlineTimer);
    p.deadlineTimer = undefined;
    if (!p.held) return;
    p.held = false;
    const q = p.state.queue;
    const i = q.indexOf(p);
    if (i >= 0) q.splice(i, 1);
    this.changed(p.state);
  }

  private forward(p: Pending, socket: net.Socket, coldStart: string | undefined): void {
    const { req } = p;
    socket.setNoDelay(true);
    const upstream = http.request({
      createConnection: () => socket,
      method: req.method,
      path: req.url,
      headers: forwardRequestHeaders(req),
      setHost: false,
    });
    p.upstream = upstream;
    upstream.on('response', (up) => this.relay(p, up, coldStart));
    upstream.on('error', (err) => this.upstreamFailed(p, err));
    req.pipe(upstream);
  }

  /** Streams the replica's response back as it arrives: status and end-to-end headers unchanged, chunks unbuffered. */
  private relay(p: Pending, up: IncomingMessage, coldStart: string | undefined): void {
    if (p.phase !== 'forwarding') {
      up.destroy();
      return;
    }
    const { res } = p;
    const headers = forwardResponseHeaders(up.rawHeaders, up.headers.connection);
    if (coldStart !== undefined) headers.push('x-lfm-cold-start', coldStart);
    res.writeHead(up.statusCode ?? 502, up.statusMessage, headers);
    res.flushHeaders();
    up.on('error', (err) => this.upstreamFailed(p, err));
    up.on('close', () => {
      if (!up.complete) this.upstreamFailed(p, new Error('the replica closed the connection mid-response'));
    });
    res.once('finish', () => this.finish(p, 'forwarded'));
    up.pipe(res);
  }

  private upstreamFailed(p: Pending, err: Error): void {
    if (p.phase !== 'forwarding') return;
    const s = p.state;
    this.log.warn({ namespace: s.namespace, name: s.name, err: err.message }, 'activator: forwarding to replica failed');
    this.destroyUpstream(p);
    if (p.res.headersSent) p.res.destroy();
    else sendError(p.res, 502, { type: 'upstream_error', message: `the replica of ${s.namespace}/${s.name} failed before answering: ${err.message}` });
    this.finish(p, 'failed');
  }

  private expire(p: Pending): void {
    p.deadlineTimer = undefined;
    if (p.phase !== 'waiting' && p.phase !== 'connecting') return;
    const s = p.state;
    this.log.info({ namespace: s.namespace, name: s.name, maxHoldSeconds: p.maxHoldSeconds, attempts: p.attempts }, 'activator: held request expired, 503');
    p.connecting?.destroy();
    s.expired++;
    sendError(p.res, 503, {
      type: 'cold_start_timeout',
      message: `no replica of ${s.namespace}/${s.name} became Ready within maxHoldSeconds ${p.maxHoldSeconds} (spec.autoscaling.scaleToZero.maxHoldSeconds); retry after ${p.retryAfterSeconds} s`,
      retryAfterSeconds: p.retryAfterSeconds,
    });
    this.finish(p, 'expired');
  }

  private answerShutdown(p: Pending): void {
    const s = p.state;
    p.connecting?.destroy();
    sendError(p.res, 503, {
      type: 'cold_start_shutdown',
      message: `the activator holding this request for ${s.namespace}/${s.name} is shutting down; retry after ${p.retryAfterSeconds} s`,
      retryAfterSeconds: p.retryAfterSeconds,
    });
    this.finish(p, 'shutdown');
  }

  /** The response closed: after finishing normally (already done) or because the client went away. */
  private onClientClose(p: Pending): void {
    if (p.phase === 'done') return;
    this.log.debug({ namespace: p.state.namespace, name: p.state.name, phase: p.phase }, 'activator: client closed the request');
    this.destroyUpstream(p);
    this.finish(p, 'client_closed');
  }

  private destroyUpstream(p: Pending): void {
    p.connecting?.destroy();
    p.upstream?.destroy();
    p.socket?.destroy();
  }

  /** Records the request's one outcome and releases everything it holds. */
  private finish(p: Pending, outcome: Outcome): void {
    if (p.phase === 'done') return;
    p.phase = 'done';
    p.connecting = undefined;
    const s = p.state;
    if (outcome === 'refused') s.refused++;
    const counted = outcome === 'refused' || outcome === 'expired';
    if (p.held) this.unhold(p);
    else if (counted) this.changed(s);
    if (p.deadlineTimer) clearTimeout(p.deadlineTimer);
    this.live.delete(p);
    this.metrics.requestsTotal.inc({ namespace: s.namespace, name: s.name, outcome });
    if (this.live.size === 0) this.onDrained?.();
  }

  /** A target's held count or cumulative counts changed: gauge and reporter. */
  private changed(s: TargetState): void {
    this.metrics.heldRequests.set({ namespace: s.namespace, name: s.name }, s.queue.length);
    this.report(s);
  }

  private report(s: TargetState): void {
    if (!this.reporter) return;
    try {
      this.reporter.report(s.namespace, s.name, { held: s.queue.length, refused: s.refused, expired: s.expired });
    } catch (err) {
      this.log.warn({ err }, 'activator: held reporter threw');
    }
  }
}
