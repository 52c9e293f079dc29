// The REST client's Retry-After rules (pure) and its retry loop and request deadline, driven through the client's
// transport seam with scripted answers and a manual clock: no network, no waiting.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  ApiError, DEFAULT_MAX_RETRIES, KubeClient, RESOURCES, RequestTimeoutError, isNotFound,
  type Clock, type KubeClientOptions, type TransportRequest, type TransportResponse,
} from '../../src/kube/client.js';
import { decideRetry, parseRetryAfterSeconds, type RetryDecision, type RetryInput } from '../../src/kube/retry-after.js';

describe('parseRetryAfterSeconds', () => {
  const cases: { name: string; header: string | string[] | undefined; want: number | undefined }[] = [
    { name: 'whole seconds', header: '1', want: 1 },
    { name: 'zero', header: '0', want: 0 },
    { name: 'large', header: '120', want: 120 },
    { name: 'explicit plus sign (strconv.Atoi accepts it)', header: '+3', want: 3 },
    { name: 'negative means no wait', header: '-4', want: 0 },
    { name: 'the first of several values', header: ['2', '5'], want: 2 },
    { name: 'a fraction is no instruction', header: '1.5', want: undefined },
    { name: 'an HTTP-date is no instruction (client-go reads only seconds)', header: 'Wed, 21 Oct 2015 07:28:00 GMT', want: undefined },
    { name: 'empty', header: '', want: undefined },
    { name: 'absent', header: undefined, want: undefined },
    { name: 'surrounding space', header: ' 1', want: undefined },
    { name: 'beyond a safe integer', header: '99999999999999999999', want: undefined },
  ];
  for (const c of cases) it(c.name, () => expect(parseRetryAfterSeconds(c.header)).toBe(c.want));
});

describe('decideRetry', () => {
  const base: RetryInput = { status: 429, retryAfter: '1', retries: 0, maxRetries: 10, msUntilDeadline: 30_000 };
  const cases: { name: string; input: Partial<RetryInput>; want: RetryDecision }[] = [
    { name: '429 with Retry-After waits that long', input: {}, want: { retry: true, waitMs: 1000 } },
    { name: '503 with Retry-After (apiserver shutting down)', input: { status: 503, retryAfter: '5' }, want: { retry: true, waitMs: 5000 } },
    { name: '500 with Retry-After 0 retries at once', input: { status: 500, retryAfter: '0' }, want: { retry: true, waitMs: 0 } },
    { name: '504 with Retry-After', input: { status: 504, retryAfter: '2' }, want: { retry: true, waitMs: 2000 } },
    { name: '429 without Retry-After is final', input: { retryAfter: undefined }, want: { retry: false, why: 'final' } },
    { name: '500 without Retry-After is final', input: { status: 500, retryAfter: undefined }, want: { retry: false, why: 'final' } },
    { name: '409 is final even with Retry-After', input: { status: 409 }, want: { retry: false, why: 'final' } },
    { name: '200 is final', input: { status: 200 }, want: { retry: false, why: 'final' } },
    { name: 'an unreadable Retry-After is final', input: { retryAfter: 'soon' }, want: { retry: false, why: 'final' } },
    { name: 'the last allowed retry', input: { retries: 9 }, want: { retry: true, waitMs: 1000 } },
    { name: 'maxRetries reached', input: { retries: 10 }, want: { retry: false, why: 'retries-exhausted' } },
    { name: 'maxRetries 0 never retries', input: { maxRetries: 0 }, want: { retry: false, why: 'retries-exhausted' } },
    { name: 'a wait that fits before the deadline', input: { retryAfter: '29', msUntilDeadline: 30_000 }, want: { retry: true, waitMs: 29_000 } },
    { name: 'a wait that would reach the deadline is not started', input: { retryAfter: '30', msUntilDeadline: 30_000 }, want: { retry: false, why: 'past-deadline' } },
    { name: 'no deadline: any wait (client-go does not cap it)', input: { retryAfter: '3600', msUntilDeadline: Infinity }, want: { retry: true, waitMs: 3_600_000 } },
  ];
  for (const c of cases) it(c.name, () => expect(decideRetry({ ...base, ...c.input })).toEqual(c.want));
});

/** A manual clock: timers fire only when step() moves time to the earliest of them. */
class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private next = 0;
  now() { return this.t; }
  setTimeout(fn: () => void, ms: number) { const id = this.next++; this.timers.push({ at: this.t + ms, fn, id }); return id; }
  clearTimeout(h: unknown) { this.timers = this.timers.filter((x) => x.id !== h); }
  get pending() { return this.timers.length; }
  step(): boolean {
    const first = [...this.timers].sort((a, b) => a.at - b.at || a.id - b.id)[0];
    if (!first) return false;
    this.timers = this.timers.filter((x) => x !== first);
    this.t = Math.max(this.t, first.at);
    first.fn();
    return true;
  }
}

/** Runs p to completion in virtual time: whenever nothing else can happen, the clock jumps to its next timer. */
async function settle<T>(clock: FakeClock, p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  let out: { value?: T; error?: unknown } | undefined;
  p.then((value) => { out = { value }; }, (error: unknown) => { out = { error }; });
  for (;;) {
    await new Promise((r) => setImmediate(r));
    if (out) return out;
    if (!clock.step()) throw new Error('stuck: the promise is pending and no timer is due');
  }
}

type Step = TransportResponse | { afterMs: number; answer: TransportResponse } | 'never';

const answer = (status: number, headers: Record<string, string> = {}, body: unknown = { kind: 'Status', code: status }): TransportResponse =>
  ({ status, headers, text: JSON.stringify(body) });
const tooMany = (retryAfter = '1') => answer(429, { 'retry-after': retryAfter }, { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'Too many requests, please try again later.' });
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' } };

/** A client whose transport answers from a script, one step per request, on the fake clock. */
function scriptedClient(steps: Step[], options: KubeClientOptions = {}) {
  const clock = new FakeClock();
  const sent: (TransportRequest & { at: number })[] = [];
  const counted: number[] = [];
  const transport = (request: TransportRequest): Promise<TransportResponse> => {
    sent.push({ ...request, at: clock.now() });
    const step = steps[Math.min(sent.length, steps.length) - 1];
    if (!step) throw new Error('script is empty');
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new DOMException('This operation was aborted', 'AbortError'));
      request.signal.addEventListener('abort', onAbort, { once: true });
      if (step === 'never') return;
      if ('afterMs' in step) clock.setTimeout(() => resolve(step.answer), step.afterMs);
      else resolve(step);
    });
  };
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const client = new KubeClient(kc, 'unit-test', { clock, transport, ...options });
  client.onRequest = (_method, _path, status) => counted.push(status);
  return { client, clock, sent, counted };
}

const POD_PATH = '/api/v1/namespaces/default/pods/p';

describe('KubeClient retries on Retry-After', () => {
  it('waits Retry-After seconds after a 429, sends the request again and answers the 200', async () => {
    const { client, clock, sent, counted } = scriptedClient([tooMany('1'), answer(200, {}, pod)]);
    const { value, error } = await settle(clock, client.get(RESOURCES.pod, 'default', 'p'));
    expect(error).toBeUndefined();
    expect(value).toEqual(pod);
    expect(sent.map((s) => [s.method, s.at])).toEqual([['GET', 0], ['GET', 1000]]);
    expect(counted).toEqual([429, 200]);
  });

  it('retries any verb, sending the same body again (the server did not process it), on a 5xx with Retry-After', async () => {
    const created = { ...pod, metadata: { ...pod.metadata, uid: 'u1' } };
    const { client, clock, sent } = scriptedClient([answer(503, { 'retry-after': '2' }), answer(201, {}, created)]);
    const { value } = await settle(clock, client.create(RESOURCES.pod, pod));
    expect(value).toEqual(created);
    expect(sent.map((s) => [s.method, s.at, s.body])).toEqual([['POST', 0, JSON.stringify(pod)], ['POST', 2000, JSON.stringify(pod)]]);
  });

  it('answers a 5xx without Retry-After at once', async () => {
    const { client, clock, sent } = scriptedClient([answer(500, {}, { kind: 'Status', code: 500, message: 'etcd unavailable' }), answer(200, {}, pod)]);
    const { error } = await settle(clock, client.get(RESOURCES.pod, 'default', 'p'));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(500);
    expect(sent).toHaveLength(1);
  });

  it('never retries a 404, and keeps its error shape', async () => {
    const { client, clock, sent } = scriptedClient([answer(404, { 'retry-after': '1' }, { kind: 'Status', code: 404, reason: 'NotFound', message: 'pods "p" not found' })]);
    const { error } = await settle(clock, client.get(RESOURCES.pod, 'default', 'p'));
    expect(isNotFound(error)).toBe(true);
    expect((error as ApiError).message).toBe(`GET ${POD_PATH}: 404 pods "p" not found`);
    expect(sent).toHaveLength(1);
  });

  it(`gives up after ${DEFAULT_MAX_RETRIES} retries (client-go's default) with the last answer as the error`, async () => {
    const { client, clock, sent, counted } = scriptedClient([tooMany('1')]);
    const { error } = await settle(clock, client.get(RESOURCES.pod, 'default', 'p'));
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(429);
    expect((error as ApiError).reason).toBe('TooManyRequests');
    expect(sent.map((s) => s.at)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    expect(counted).toEqual(Array(11).fill(429));
  });

  it('maxRetries 0 turns retrying off; send() then answers the 429 itself', async () => {
    const { client, clock, sent } = scriptedClient([tooMany('1'), answer(200, {}, pod)], { maxRetries: 0 });
    const { value } = await settle(clock, client.send('GET', POD_PATH));
    expect(value?.status).toBe(429);
    expect(sent).toHaveLength(1);
  });

  it('does not start a wait that would outlast the deadline: the 429 is the answer, now', async () => {
    const { client, clock, sent } = scriptedClient([tooMany('40'), answer(200, {}, pod)]);
    const { error } = await settle(clock, client.get(RESOURCES.pod, 'default', 'p'));
    expect((error as ApiError).status).toBe(429);
    expect(sent).toHaveLength(1);
    expect(clock.t).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('waits any Retry-After when the timeout is off', async () => {
    const { client, clock, sent } = scriptedClient([tooMany('40'), answer(200, {}, pod)], { requestTimeoutMs: 0 });
    const { value } = await settle(clock, client.get(RESOURCES.pod, 'default', 'p'));
    expect(value).toEqual(pod);
    expect(sent.map((s) => s.at)).toEqual([0, 40_000]);
  });
});

describe('KubeClient request timeout', () => {
  it('rejects a request with no answer after the default 30 s, naming the verb, the path and the timeout', async () => {
    const { client, clock } = scriptedClient(['never']);
    const { error } = await settle(clock, client.get(RESOURCES.pod, 'default', 'p'));
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as Error).message).toBe(`GET ${POD_PATH}: timed out after 30000 ms (client request timeout)`);
    expect(clock.t).toBe(30_000);
  });

  it('bounds all attempts and waits together, and says what the server last answered', async () => {
    // 429 at 800 ms; 1 s wait fits (1200 ms left); the second attempt would answer at 2600 ms, past the deadline.
    const { client, clock, sent } = scriptedClient([{ afterMs: 800, answer: tooMany('1') }, { afterMs: 800, answer: answer(200, {}, pod) }], { requestTimeoutMs: 2000 });
    const { error } = await settle(clock, client.list(RESOURCES.pod, { namespace: 'default' }));
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ method: 'GET', path: '/api/v1/namespaces/default/pods', timeoutMs: 2000, lastStatus: 429 });
    expect((error as Error).message).toBe('GET /api/v1/namespaces/default/pods: timed out after 2000 ms (client request timeout); the last answer was 429');
    expect(sent.map((s) => s.at)).toEqual([0, 1800]);
    expect(clock.t).toBe(2000);
  });

  it('tells the server the time left (?timeout=, as client-go does) on each attempt; not at all when off', async () => {
    const { client, clock, sent } = scriptedClient([tooMany('1'), answer(200, {}, { metadata: { resourceVersion: '1' }, items: [] })]);
    await settle(clock, client.list(RESOURCES.pod, { namespace: 'default', labelSelector: 'a=b' }));
    expect(sent.map((s) => s.path)).toEqual([
      '/api/v1/namespaces/default/pods?labelSelector=a%3Db&timeout=30000ms',
      '/api/v1/namespaces/default/pods?labelSelector=a%3Db&timeout=29000ms',
    ]);

    const off = scriptedClient([answer(200, {}, pod)], { requestTimeoutMs: 0 });
    await settle(off.clock, off.client.get(RESOURCES.pod, 'default', 'p'));
    expect(off.sent.map((s) => s.path)).toEqual([POD_PATH]);
    expect(off.clock.pending).toBe(0);
  });

  it('takes a per-call timeout over the client default', async () => {
    const { client, clock } = scriptedClient(['never']);
    const { error } = await settle(clock, client.request('GET', POD_PATH, { timeoutMs: 5000 }));
    expect((error as RequestTimeoutError).timeoutMs).toBe(5000);
    expect(clock.t).toBe(5000);
  });

  it('leaves no timer behind after an answer', async () => {
    const { client, clock } = scriptedClient([answer(200, {}, pod)]);
    await settle(clock, client.get(RESOURCES.pod, 'default', 'p'));
    expect(clock.pending).toBe(0);
  });

  it('refuses a negative or non-finite timeout', () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:6443' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
    expect(() => new KubeClient(kc, 'unit-test', { requestTimeoutMs: -1 })).toThrow(/requestTimeoutMs/);
    expect(() => new KubeClient(kc, 'unit-test', { requestTimeoutMs: Number.NaN })).toThrow(/requestTimeoutMs/);
  });
});
