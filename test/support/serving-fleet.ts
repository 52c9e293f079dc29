// I/O. Engine stand-ins that answer inference requests, one per pod of an LfmDeployment on the pod's loopback IP and
// the engine's port (scale-to-zero tests send real requests through the activator to them): POST /v1/* answers 200
// with JSON after serviceMs, naming the pod in x-served-by; /metrics reports the requests in flight in vLLM's format
// (EngineStandIn's text, so the autoscaler reads them as it reads StandInFleet's); POST /drain answers once nothing is
// in flight (registered with the harness's kubelet emulation). Only 127.0.0.0/8 is ever bound.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { V1Pod } from '@kubernetes/client-node';
import { RESOURCES, type KubeObject } from '../../src/kube/client.js';
import { devCluster, kubeClient } from './cluster.js';
import { EngineStandIn } from './engine-stand-in.js';

export interface ServingStandInOptions {
  /** Milliseconds a request takes. Default 100. */
  serviceMs?: number;
  /** vLLM's model_name label (the LfmDeployment's name). */
  servedName: string;
}

const PROMPT_TOKENS = 10;
const OUTPUT_TOKENS = 5;

/** One engine replica that serves completions: the requests it got, in flight and done. */
export class ServingStandIn {
  /** The metrics model: running = requests in flight; the totals count finished ones. */
  readonly model: EngineStandIn;
  /** When each request arrived (ms). */
  readonly arrivals: number[] = [];
  draining = false;
  closed = false;
  private server?: http.Server;
  private drainWaiters: (() => void)[] = [];
  private nextId = 0;

  constructor(readonly podName: string, readonly ip: string, readonly port: number, private readonly o: ServingStandInOptions) {
    this.model = new EngineStandIn(podName, ip, port, { slots: 1000, serviceSeconds: (o.serviceMs ?? 100) / 1000, promptTokens: PROMPT_TOKENS, outputTokens: OUTPUT_TOKENS, servedName: o.servedName });
  }

  async start(): Promise<void> {
    if (!this.ip.startsWith('127.')) throw new Error(`ServingStandIn: pod IP ${this.ip} is not a loopback address`);
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, this.ip, () => resolve());
    });
  }

  get drainUrl(): string {
    return `http://${this.ip}:${this.port}/drain`;
  }

  inFlight(): number {
    return this.model.running.length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/health') {
      res.writeHead(200).end();
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(this.model.metrics());
    } else if (req.url === '/drain' && req.method === 'POST') {
      this.draining = true;
      if (this.inFlight() === 0) res.writeHead(200).end('drained');
      else this.drainWaiters.push(() => res.writeHead(200).end('drained'));
    } else if (req.method === 'POST' && req.url?.startsWith('/v1/')) {
      this.serve(req, res);
    } else {
      res.writeHead(404).end();
    }
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const id = this.nextId++;
    const entry = { id, startedAt: Date.now() };
    this.arrivals.push(entry.startedAt);
    this.model.running.push(entry);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = Buffer.concat(chunks).length;
      setTimeout(() => {
        const i = this.model.running.indexOf(entry);
        if (i >= 0) this.model.running.splice(i, 1);
        this.model.promptTotal += PROMPT_TOKENS;
        this.model.generationTotal += OUTPUT_TOKENS;
        this.model.finishedTotal++;
        if (!res.destroyed) {
          const body = JSON.stringify({ id: `cmpl-${id}`, object: 'text_completion', model: this.o.servedName, choices: [{ index: 0, text: 'ok', finish_reason: 'stop' }], usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: OUTPUT_TOKENS }, receivedBytes: received });
          res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': this.podName }).end(body);
        }
        if (this.draining && this.inFlight() === 0) for (const w of this.drainWaiters.splice(0)) w();
      }, this.o.serviceMs ?? 100);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.drainWaiters.splice(0)) w();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r) ?? r(undefined));
  }
}

export interface ServingFleetOptions {
  /** The LfmDeployment's name (its pods carry serving.lfm-operator.io/deployment=<name>). */
  name: string;
  namespace: string;
  /** The engine's port. Default 8000 (vLLM). */
  port?: number;
  serviceMs?: number;
}

/** A ServingStandIn per pod of one LfmDeployment, started as soon as the pod has an IP, closed when it is gone. */
export class ServingFleet {
  readonly standIns = new Map<string, ServingStandIn>();
  /** Pod uids whose pod is Ready and not being deleted. */
  readonly ready = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly unregister = new Map<string, () => void>();
  private busy = false;

  constructor(private readonly o: ServingFleetOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.sync().catch(() => undefined).finally(() => { this.busy = false; });
    }, 100);
  }

  /** Requests served (answered 200) over every stand-in so far. */
  served(): number {
    return [...this.standIns.values()].reduce((n, s) => n + s.model.finishedTotal, 0);
  }

  private async sync(): Promise<void> {
    const pods = (await kubeClient().list<V1Pod & KubeObject>(RESOURCES.pod, { namespace: this.o.namespace, labelSelector: `serving.lfm-operator.io/deployment=${this.o.name}` })).items;
    const seen = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata!.uid!;
      seen.add(uid);
      const ip = pod.status?.podIP;
      if (ip && !this.standIns.has(uid) && !pod.metadata?.deletionTimestamp) {
        const s = new ServingStandIn(pod.metadata!.name!, ip, this.o.port ?? 8000, { servedName: this.o.name, ...(this.o.serviceMs !== undefined ? { serviceMs: this.o.serviceMs } : {}) });
        this.standIns.set(uid, s);
        await s.start();
        this.unregister.set(uid, devCluster().registerStandIn(ip, s.drainUrl));
      }
      const isReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !pod.metadata?.deletionTimestamp;
      if (isReady) this.ready.add(uid);
      else this.ready.delete(uid);
    }
    for (const [uid, s] of this.standIns) {
      if (seen.has(uid) || s.closed) continue;
      this.ready.delete(uid);
      await s.close();
      this.unregister.get(uid)?.();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.standIns.values()) if (!s.closed) await s.close();
    for (const u of this.unregister.values()) u();
  }
}
