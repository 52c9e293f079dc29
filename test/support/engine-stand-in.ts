// Engine stand-ins and a load generator for the autoscaling tests. A stand-in serves /health, /metrics in its engine's
// exact format (vLLM's labelled series, or llama-server's unlabelled text) and POST /drain on a pod's loopback IP; the
// load generator (a queue model) owns the requests: it dispatches them to stand-ins whose pods are Ready, completes
// them after their service time, and counts requests cut short when a stand-in goes away before finishing them. A test
// can also make a stand-in report a standing backlog (extraWaiting): requests in its waiting gauge that never move, at
// whatever throughput the load generator gives it. Nothing here dials anything but 127.0.0.0/8.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Whose /metrics and /health a stand-in speaks. */
export type StandInEngine = 'vllm' | 'llamacpp';

export interface StandInOptions {
  /** Requests one replica runs at once (llama-server's slots, --parallel); more wait in its queue. */
  slots: number;
  /** Seconds one request takes. */
  serviceSeconds: number;
  promptTokens: number;
  outputTokens: number;
  /** vLLM's model_name label; llama-server's metrics carry no label. */
  servedName: string;
  /** Default 'vllm'. */
  engine?: StandInEngine;
}

interface Request { id: number; startedAt?: number }

/**
 * llama-server's metric state (server_context's metrics, tools/server/server.cpp, late 2025): totals since start and
 * the bucket since the last /metrics scrape, which every scrape resets (the throughput gauges average over it).
 */
export interface LlamaCppMetricValues {
  /** n_prompt_tokens_processed_total, n_tokens_predicted_total. */
  promptTokensTotal: number;
  tokensPredictedTotal: number;
  /** t_prompt_processing_total, t_tokens_generation_total: milliseconds. */
  promptMsTotal: number;
  predictedMsTotal: number;
  nDecodeTotal: number;
  nBusySlotsTotal: number;
  /** Largest n_tokens of one llama_decode() batch. */
  nTokensMax: number;
  /** The bucket: tokens and milliseconds since the last scrape. */
  bucketPromptTokens: number;
  bucketPromptMs: number;
  bucketPredictedTokens: number;
  bucketPredictedMs: number;
  /** n_processing_slots, n_tasks_deferred. */
  processingSlots: number;
  deferredTasks: number;
}

/**
 * The 6 significant digits of a positive finite number and its decimal exponent, rounded as glibc's printf does (to
 * nearest, an exact tie to even; JavaScript's toExponential breaks ties away from zero).
 */
function computeSignificantDigits(abs: number): { digits: string; exponent: number } {
  const [exact = '', exactExponent = '0'] = abs.toExponential(20).split('e');
  const all = exact.replace('.', '');
  const kept = all.slice(0, 6);
  if (/^50*$/.test(all.slice(6)) && Number(kept.at(-1)) % 2 === 0) return { digits: kept, exponent: Number(exactExponent) };
  const [rounded = '', exponent = '0'] = abs.toExponential(5).split('e');
  return { digits: rounded.replace('.', ''), exponent: Number(exponent) };
}

/**
 * A double as C++'s `std::ostream << double` writes it by default (printf %g, precision 6), which is how llama-server
 * prints every metric value: 1234567 tokens read `1.23457e+06`, 235.7431 s `235.743`.
 *   %g: with X the exponent of the value rounded to 6 digits, %e if X < -4 or X >= 6, else %f with 5 - X decimals;
 *       trailing zeros (and a trailing point) removed.
 */
export function formatCppDouble(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  const { digits, exponent } = computeSignificantDigits(Math.abs(value));
  const trim = (int: string, frac: string) => (/^0*$/.test(frac) ? int : `${int}.${frac.replace(/0+$/, '')}`);
  if (exponent < -4 || exponent >= 6) {
    return `${sign}${trim(digits.slice(0, 1), digits.slice(1))}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}${trim('0', '0'.repeat(-exponent - 1) + digits)}`;
  return `${sign}${trim(digits.slice(0, exponent + 1), digits.slice(exponent + 1))}`;
}

/**
 * llama-server's /metrics text, byte for byte: the handler's metric definitions in order, counters then gauges, each
 * `# HELP llamacpp:<name> <help>`, `# TYPE llamacpp:<name> <type>`, `llamacpp:<name> <value>`; no labels (one model
 * per process). Source: ggml-org/llama.cpp tools/server/server.cpp, the /metrics handler of late 2025 (the
 * server_http_context version `src/engines/data/llamacpp.json` describes). n_busy_slots_per_decode is typed counter
 * there although it is an average.
 */
export function renderLlamaCppMetrics(m: LlamaCppMetricValues): string {
  const metrics: [type: 'counter' | 'gauge', name: string, help: string, value: number][] = [
    ['counter', 'prompt_tokens_total', 'Number of prompt tokens processed.', Math.trunc(m.promptTokensTotal)],
    ['counter', 'prompt_seconds_total', 'Prompt process time', Math.trunc(m.promptMsTotal) / 1e3],
    ['counter', 'tokens_predicted_total', 'Number of generation tokens processed.', Math.trunc(m.tokensPredictedTotal)],
    ['counter', 'tokens_predicted_seconds_total', 'Predict process time', Math.trunc(m.predictedMsTotal) / 1e3],
    ['counter', 'n_decode_total', 'Total number of llama_decode() calls', Math.trunc(m.nDecodeTotal)],
    ['counter', 'n_tokens_max', 'Largest observed n_tokens.', Math.trunc(m.nTokensMax)],
    ['counter', 'n_busy_slots_per_decode', 'Average number of busy slots per llama_decode() call', Math.fround(Math.fround(Math.trunc(m.nBusySlotsTotal)) / Math.max(Math.fround(Math.trunc(m.nDecodeTotal)), 1))],
    ['gauge', 'prompt_tokens_seconds', 'Average prompt throughput in tokens/s.', m.bucketPromptTokens ? 1e3 / m.bucketPromptMs * m.bucketPromptTokens : 0],
    ['gauge', 'predicted_tokens_seconds', 'Average generation throughput in tokens/s.', m.bucketPredictedTokens ? 1e3 / m.bucketPredictedMs * m.bucketPredictedTokens : 0],
    ['gauge', 'requests_processing', 'Number of requests processing.', Math.trunc(m.processingSlots)],
    ['gauge', 'requests_deferred', 'Number of requests deferred.', Math.trunc(m.deferredTasks)],
  ];
  return metrics.map(([type, name, help, value]) =>
    `# HELP llamacpp:${name} ${help}\n# TYPE llamacpp:${name} ${type}\nllamacpp:${name} ${formatCppDouble(value)}\n`).join('');
}

/**
 * llama-server's answer to every route (but the web UI's) while the model loads: the HTTP server already listens
 * (tools/server/server-http.cpp, middleware_server_state; its json is nlohmann::ordered_json, so keys keep this order).
 */
export const LLAMACPP_LOADING_BODY = '{"error":{"message":"Loading model","type":"unavailable_error","code":503}}';
/** The llama-server batch size (-b, --batch-size default 2048): a longer prompt takes several decodes. */
const LLAMACPP_N_BATCH = 2048;
/** The share of a request's service time spent on its prompt (the rest generates). */
const PROMPT_SHARE = 0.1;

export class EngineStandIn {
  readonly running: Request[] = [];
  readonly waiting: Request[] = [];
  promptTotal = 0;
  generationTotal = 0;
  /** Requests finished (vllm:request_success_total). */
  finishedTotal = 0;
  /** llama-server's timing and decode counters and its per-scrape bucket (llamacpp only). */
  readonly llamacpp = {
    promptMsTotal: 0, predictedMsTotal: 0, nDecodeTotal: 0, nBusySlotsTotal: 0, nTokensMax: 0,
    bucketPromptTokens: 0, bucketPromptMs: 0, bucketPredictedTokens: 0, bucketPredictedMs: 0,
  };
  /**
   * llamacpp: the model is loading, so every route answers 503 with LLAMACPP_LOADING_BODY, as llama-server does
   * between listening and having the model in memory. (vLLM does not listen before then; not modelled.)
   */
  loading = false;
  /** When the stand-in started (llama-server's Process-Start-Time-Unix header), ms since the epoch. */
  readonly startedAt = Date.now();
  readonly engine: StandInEngine;
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

  constructor(readonly podName: string, readonly ip: string, readonly port: number, private readonly o: StandInOptions) {
    this.engine = o.engine ?? 'vllm';
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (this.silent) return; // never answers: the scraper times out
      if (this.engine === 'llamacpp' && this.loading && req.url !== '/drain') {
        res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8' }).end(LLAMACPP_LOADING_BODY);
      } else if (req.url === '/health') {
        if (this.engine === 'llamacpp') res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end('{"status":"ok"}');
        else res.writeHead(200).end();
      } else if (req.url === '/metrics') {
        const headers = this.engine === 'llamacpp' ? { 'Process-Start-Time-Unix': String(Math.floor(this.startedAt / 1000)) } : {};
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', ...headers }).end(this.scrape());
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

  /** What GET /metrics answers: the text, and for llama-server the reset of its bucket that a scrape does. */
  scrape(): string {
    const text = this.metrics();
    if (this.engine === 'llamacpp') {
      Object.assign(this.llamacpp, { bucketPromptTokens: 0, bucketPromptMs: 0, bucketPredictedTokens: 0, bucketPredictedMs: 0 });
    }
    return text;
  }

  /** The /metrics text now, in the engine's format (reading it resets nothing). */
  metrics(): string {
    if (this.engine === 'llamacpp') {
      return renderLlamaCppMetrics({
        ...this.llamacpp, promptTokensTotal: this.promptTotal, tokensPredictedTotal: this.generationTotal,
        processingSlots: this.running.length, deferredTasks: this.waiting.length + this.extraWaiting,
      });
    }
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
    const concurrent = this.running.length;
    for (let i = this.running.length - 1; i >= 0; i--) {
      const r = this.running[i]!;
      if (now - (r.startedAt ?? now) >= this.o.serviceSeconds * 1000) {
        this.recordLlamaCppTimings(concurrent);
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

  /**
   * llama-server's timings for one finished request that ran among `concurrent` busy slots: its prompt share of the
   * service time and the rest generating; ceil(prompt / n_batch) prompt decodes and one per generated token, each
   * shared by the busy slots.
   */
  private recordLlamaCppTimings(concurrent: number): void {
    const m = this.llamacpp;
    const promptMs = this.o.serviceSeconds * 1000 * PROMPT_SHARE;
    const predictedMs = this.o.serviceSeconds * 1000 - promptMs;
    const decodes = Math.ceil(this.o.promptTokens / LLAMACPP_N_BATCH) + this.o.outputTokens;
    m.promptMsTotal += promptMs;
    m.predictedMsTotal += predictedMs;
    m.bucketPromptTokens += this.o.promptTokens;
    m.bucketPromptMs += promptMs;
    m.bucketPredictedTokens += this.o.outputTokens;
    m.bucketPredictedMs += predictedMs;
    m.nDecodeTotal += decodes / Math.max(concurrent, 1);
    m.nBusySlotsTotal += decodes;
    m.nTokensMax = Math.max(m.nTokensMax, Math.min(this.o.promptTokens, LLAMACPP_N_BATCH));
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
