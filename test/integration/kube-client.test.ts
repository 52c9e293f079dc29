// The REST client's request timeout against the real API server: every verb still works with a short timeout (which
// the server is told as ?timeout=), and a watch is not cut by it.
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { KubeClient, type KubeObject, type ResourceType, type WatchEvent } from '../../src/kube/client.js';
import { eventually, kubeConfig, TEST_FIELD_MANAGER, useNamespace } from '../support/cluster.js';

const ns = useNamespace('kclient');
const CONFIG_MAP: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
type ConfigMap = KubeObject & { data?: Record<string, string> };

const configMap = (name: string, data: Record<string, string>): ConfigMap =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns.name }, data });

describe('KubeClient with a request timeout, on the real API server', () => {
  it('serves get, list, create, apply, update and delete with a 2 s timeout', async () => {
    const client = new KubeClient(kubeConfig(), TEST_FIELD_MANAGER, { requestTimeoutMs: 2000 });
    const statuses: number[] = [];
    client.onRequest = (_method, _path, status) => statuses.push(status);

    const created = await client.create<ConfigMap>(CONFIG_MAP, configMap('a', { k: '1' }));
    expect(created.metadata?.uid).toBeTruthy();
    expect((await client.get<ConfigMap>(CONFIG_MAP, ns.name, 'a')).data).toEqual({ k: '1' });
    const applied = await client.apply<ConfigMap>(CONFIG_MAP, configMap('b', { k: '2' }), TEST_FIELD_MANAGER);
    expect(applied.data).toEqual({ k: '2' });
    const updated = await client.update<ConfigMap>(CONFIG_MAP, { ...created, data: { k: '3' } }, TEST_FIELD_MANAGER);
    expect(updated.data).toEqual({ k: '3' });
    const list = await client.list<ConfigMap>(CONFIG_MAP, { namespace: ns.name, limit: 1 });
    expect(list.items).toHaveLength(1);
    expect(list.metadata.continue).toBeTruthy();
    await client.delete(CONFIG_MAP, ns.name, 'a');
    await client.delete(CONFIG_MAP, ns.name, 'b');
    expect(statuses.every((s) => s >= 200 && s < 300), `statuses ${statuses.join(',')}`).toBe(true);
    expect(statuses).toHaveLength(7);
  });

  it('sends a timeout the API server reads: a malformed one is refused, so the ones sent above were parsed', async () => {
    const client = new KubeClient(kubeConfig(), TEST_FIELD_MANAGER, { requestTimeoutMs: 2000 });
    const res = await client.send('GET', `/api/v1/namespaces/${ns.name}/configmaps`, { query: { timeout: 'soon' } });
    expect(res.status).toBe(400);
    expect((res.body as { message?: string }).message).toMatch(/timeout/i);
  });

  it('keeps a watch open past the request timeout: an event 3 s in still arrives on a 2 s client', async () => {
    const client = new KubeClient(kubeConfig(), TEST_FIELD_MANAGER, { requestTimeoutMs: 2000 });
    const { metadata } = await client.list<ConfigMap>(CONFIG_MAP, { namespace: ns.name });
    const events: WatchEvent<ConfigMap>[] = [];
    const stop = new AbortController();
    let ended: { error?: unknown } | undefined;
    const watch = client.watch<ConfigMap>(CONFIG_MAP, { namespace: ns.name, resourceVersion: metadata.resourceVersion, timeoutSeconds: 60, signal: stop.signal }, (e) => events.push(e));
    watch.then(() => { ended = {}; }, (error: unknown) => { ended = { error }; });
    try {
      // Time passing is what is under test: outlast the request timeout before the event that must still arrive.
      await delay(3000);
      expect(ended, 'the watch ended before the event').toBeUndefined();
      await client.create(CONFIG_MAP, configMap('late', { at: '3s' }));
      await eventually(() => {
        expect(events.map((e) => [e.type, e.object.metadata?.name])).toContainEqual(['ADDED', 'late']);
      }, { timeoutMs: 10_000, intervalMs: 100 });
      expect(ended).toBeUndefined();
    } finally {
      stop.abort();
      await watch.catch(() => undefined);
    }
  });
});
