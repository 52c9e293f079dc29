// I/O. A raw request to the API server with a kubeconfig's credentials that resolves with any HTTP status, for test
// and harness code that inspects refusals as they are. The operator itself talks through src/kube/client.ts.
import type { KubeConfig } from '@kubernetes/client-node';
import { request, type RequestOptions } from 'node:https';

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API path, e.g. /apis/apps/v1/namespaces/x/deployments. */
  path: string;
  query?: Record<string, string>;
  /** An object is sent as JSON; a string as is. */
  body?: unknown;
  /** Default application/json; application/apply-patch+yaml for server-side apply. */
  contentType?: string;
  timeoutMs?: number;
}

export interface KubeResponse {
  status: number;
  text: string;
  /** The parsed JSON body, or undefined when it is not JSON. */
  body: unknown;
}

/** Sends the request; resolves with any HTTP status (it is the caller's to judge), rejects on transport errors. */
export async function requestKube(kc: KubeConfig, req: KubeRequest): Promise<KubeResponse> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('kubeconfig has no current cluster');
  const url = new URL(req.path, server);
  for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
  const payload = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  const options: RequestOptions = {
    method: req.method,
    headers: {
      Accept: 'application/json',
      ...(payload !== undefined ? { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
    },
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise<KubeResponse>((resolve, reject) => {
    const r = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try { body = JSON.parse(text); } catch { body = undefined; }
        resolve({ status: res.statusCode ?? 0, text, body });
      });
      res.on('error', reject);
    });
    r.setTimeout(req.timeoutMs ?? 30_000, () => r.destroy(new Error(`${req.method} ${req.path}: timed out`)));
    r.on('error', reject);
    if (payload !== undefined) r.write(payload);
    r.end();
  });
}

/** The `message` of a Kubernetes Status body, else the raw text. */
export function readStatusMessage(res: KubeResponse): string {
  const message = (res.body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : res.text;
}
