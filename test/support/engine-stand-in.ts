// Engine stand-ins and a load generator for the autoscaling tests. A stand-in serves /health, vLLM-format /metrics
// and POST /drain on a pod's loopback IP; the load generator (a queue model) owns the requests: it dispatches them
// to stand-ins whose pods are Ready, completes them after their service time, and counts requests cut short when a
// stand-in goes away before finishing them. A test can also make a stand-in report a standing backlog (extraWaiting):
// requests in its waiting gauge that never move, at whatever throughput the load generator gives it. Nothing here
// dials anything but 127.0.0.0/8.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInOptions {
  /** Requests one replica runs at once; more wait in its queue. */
  slots: number;
  /** Seconds one request takes. */
  serviceSeconds: number;
  promptTokens: number;
  outputTokens: number;
  servedName: string;
}

interface Request { id: number; startedAt?: number }

export class EngineStandIn {
  readonly running: Request[] = [];
  readonly waiting: Request[] = [];
  promptTotal = 0;
  generationTotal = 0;
  /** Requests finished (vllm:request_success_total). */
  finishedTotal = 0;
  /**
   * Requests added to the reported waiting gauge on top of the real queue: a standing backlog that neither grows nor
   * drains, whatever the throughput. It is only reported (drains and busy() ignore it); set it to 0 to clear it.
   */
  extraWaiting = 0;
  /** When true, /metrics and /health stop answering (a hung engine). */
  silent = false;
  draining = false;
  closed = false;
  private server?: http.Server;
  private drainWaiters: (() => void)[] = [];

  constructor(readonly podName: string, readonly ip: string, readonly port: number, private readonly o: StandInOptions) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (this.silent) return; // never answers: the scraper times out
      if (req.url === '/health') {
        res.writeHead(200).end();
      } else if (req.url === '/metrics') {
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(this.metrics());
      } else if (req.url === '/drain' && req.method === 'POST') {
        this.draining = true;
        if (this.busy() === 0) res.writeHead(200).end('drained');
        else this.drainWaiters.push(() => res.writeHead(200).end('drained'));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, this.ip, () => resolve());
    });
  }

  get address(): string {
    const a = this.server?.address() as AddressInfo | undefined;
    return `http://${a?.address}:${a?.port}`;
  }

  busy(): number {
    return this.running.length + this.waiting.length;
  }

  metrics(): string {
    const l = `model_name="${this.o.servedName}",engine="0"`;
    return [
      '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
      '# TYPE vllm:num_requests_waiting gauge',
      `vllm:num_requests_waiting{${l}} ${this.waiting.length + this.extraWaiting}`,
      '# HELP vllm:num_requests_running Number of requests in model execution batches.',
      '# TYPE vllm:num_requests_running gauge',
      `vllm:num_requests_running{${l}} ${this.running.length}`,
      '# HELP vllm:prompt_tokens_total Number of prefill tokens processed.',
      '# TYPE vllm:prompt_tokens_total counter',
      `vllm:prompt_tokens_total{${l}} ${this.promptTotal}`,
      '# HELP vllm:generation_tokens_total Number of generation tokens processed.',
      '# TYPE vllm:generation_tokens_total counter',
      `vllm:generation_tokens_total{${l}} ${this.generationTotal}`,
      '# HELP vllm:request_success_total Count of successfully processed requests.',
      '# TYPE vllm:request_success_total counter',
      `vllm:request_success_total{${l},finished_reason="stop"} ${this.finishedTotal}`,
      '',
    ].join('\n');
  }

  /** Advances the queue model to `now` (ms): finishes due requests, starts waiting ones in free slots. */
  step(now: number): number {
    let finished = 0;
    for (let i = this.running.length - 1; i >= 0; i--) {
      const r = this.running[i]!;
      if (now - (r.startedAt ?? now) >= this.o.serviceSeconds * 1000) {
        this.running.splice(i, 1);
        this.promptTotal += this.o.promptTokens;
        this.generationTotal += this.o.outputTokens;
        this.finishedTotal++;
        finished++;
      }
    }
    while (this.running.length < this.o.slots && this.waiting.length > 0) {
      const r = this.waiting.shift()!;
      r.startedAt = now;
      this.running.push(r);
    }
    if (this.draining && this.busy() === 0) for (const w of this.drainWaiters.splice(0)) w();
    return finished;
  }

  /** Closes the server; returns the requests it still held (cut short). */
  async close(): Promise<number> {
    this.closed = true;
    const cut = this.busy();
    this.running.length = 0;
    this.waiting.length = 0;
    for (const w of this.drainWaiters.splice(0)) w();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r) ?? r(undefined));
    return cut;
  }
}

/**
 * Offers `ratePerSecond` requests to the stand-ins that accept them (Ready, not draining; least busy first); the rest
 * wait in line. Every open stand-in keeps serving what it holds, Ready or not: a pod being deleted finishes its
 * requests while its drain waits for them.
 */
export class LoadGenerator {
  ratePerSecond = 0;
  readonly backlog: Request[] = [];
  completed = 0;
  cut = 0;
  private nextId = 0;
  private carry = 0;
  private timer?: NodeJS.Timeout;
  private last = Date.now();

  /** targets: every stand-in that exists; accepts: which of them may be given new requests (default: all). */
  constructor(private readonly targets: () => EngineStandIn[], private readonly accepts: (t: EngineStandIn) => boolean = () => true) {}

  start(periodMs = 100): void {
    this.last = Date.now();
    this.timer = setInterval(() => this.step(Date.now()), periodMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  step(now: number): void {
    const dt = (now - this.last) / 1000;
    this.last = now;
    this.carry += this.ratePerSecond * dt;
    while (this.carry >= 1) {
      this.backlog.push({ id: this.nextId++ });
      this.carry -= 1;
    }
    const open = this.targets().filter((t) => !t.draining && !t.closed && this.accepts(t));
    while (this.backlog.length > 0 && open.length > 0) {
      open.sort((a, b) => a.busy() - b.busy());
      open[0]!.waiting.push(this.backlog.shift()!);
    }
    for (const t of this.targets()) if (!t.closed) this.completed += t.step(now);
  }

  /** Requests offered and not yet finished, wherever they are. */
  outstanding(): number {
    return this.backlog.length + this.targets().reduce((n, t) => n + (t.closed ? 0 : t.busy()), 0);
  }
}
