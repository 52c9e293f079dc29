// I/O. `node dist/test/devcluster/demo-engine.js --listen IP:PORT --model NAME`: a stand-in for an engine pod of the
// demo (the fake GPU nodes run no engine). It answers the OpenAI routes with a canned completion (streamed as
// server-sent events when the request asks for it) and /metrics in vLLM's format (EngineStandIn's text), so the
// activator can forward a held request to it and the autoscaler can read it, then see it idle and scale to zero.
// It binds only a loopback address.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { EngineStandIn } from '../support/engine-stand-in.js';

const PROMPT_TOKENS = 12;
const WORDS = ['Scale', ' to', ' zero', ' keeps', ' GPUs', ' free', ' until', ' a', ' request', ' comes.'];

function answer(model: string, stream: boolean, res: ServerResponse): void {
  const id = `chatcmpl-demo-${Date.now()}`;
  if (!stream) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      id, object: 'chat.completion', model,
      choices: [{ index: 0, message: { role: 'assistant', content: WORDS.join('') }, finish_reason: 'stop' }],
      usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: WORDS.length, total_tokens: PROMPT_TOKENS + WORDS.length },
    }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const timer = setInterval(() => {
    if (i < WORDS.length) {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model, choices: [{ index: 0, delta: { content: WORDS[i] } }] })}\n\n`);
      i++;
      return;
    }
    clearInterval(timer);
    res.end('data: [DONE]\n\n');
  }, 50);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { listen: { type: 'string' }, model: { type: 'string', default: 'model' } } });
  const [ip = '', portText = ''] = (values.listen ?? '').split(':');
  if (!ip.startsWith('127.') || !/^\d+$/.test(portText)) throw new Error('--listen must be a loopback IP:PORT (the demo pod\'s IP)');
  const model = values.model ?? 'model';
  const port = Number(portText);
  const metrics = new EngineStandIn('demo', ip, port, { slots: 64, serviceSeconds: 0.5, promptTokens: PROMPT_TOKENS, outputTokens: WORDS.length, servedName: model });
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/health') {
      res.writeHead(200).end();
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.metrics());
    } else if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model' }] }));
    } else if (req.method === 'POST' && req.url?.startsWith('/v1/')) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { stream?: boolean };
        metrics.promptTotal += PROMPT_TOKENS;
        metrics.generationTotal += WORDS.length;
        metrics.finishedTotal++;
        answer(model, body.stream === true, res);
      });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, resolve);
  });
  process.stdout.write(`demo engine serving ${model} on ${ip}:${port}\n`);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`demo-engine: ${err.message}\n`);
  process.exit(1);
});
