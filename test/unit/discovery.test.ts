import { describe, expect, it } from 'vitest';
import { computeKindAvailability, findMissingKinds, RoutingDiscovery, type KindAvailability, type ReadGroupVersion } from '../../src/controller/discovery.js';

const ALL: KindAvailability = { inferencePool: true, inferenceObjective: true, httpRoute: true };
const NONE: KindAvailability = { inferencePool: false, inferenceObjective: false, httpRoute: false };

describe('computeKindAvailability', () => {
  it.each([
    ['nothing served', new Map(), NONE],
    ['every group-version lists its kind', new Map([
      ['inference.networking.k8s.io/v1', ['inferencepools', 'inferencepools/status']],
      ['llm-d.ai/v1alpha2', ['inferenceobjectives', 'inferenceobjectives/status', 'inferencemodelrewrites']],
      ['gateway.networking.k8s.io/v1', ['gateways', 'httproutes', 'grpcroutes']],
    ]), ALL],
    ['a group-version without the kind (only another resource of the group)', new Map([['llm-d.ai/v1alpha2', ['inferencemodelrewrites']], ['gateway.networking.k8s.io/v1', ['gateways']]]), NONE],
    ['a subresource alone is not the kind', new Map([['inference.networking.k8s.io/v1', ['inferencepools/status']]]), NONE],
    ['a group-version not served (404)', new Map([['inference.networking.k8s.io/v1', ['inferencepools']], ['llm-d.ai/v1alpha2', undefined]]), { ...NONE, inferencePool: true }],
  ] as const)('%s', (_name, served, expected) => {
    expect(computeKindAvailability(served as ReadonlyMap<string, readonly string[] | undefined>)).toEqual(expected);
  });
});

describe('findMissingKinds', () => {
  const children = [{ needs: ['inferencePool'] as const }, { needs: ['inferencePool', 'inferenceObjective'] as const }, { needs: ['inferencePool', 'httpRoute'] as const }];
  it.each([
    ['all served', children, ALL, []],
    ['none served: every kind used, in order', children, NONE, ['inferencePool', 'inferenceObjective', 'httpRoute']],
    ['a kind counts only where used', children.slice(0, 1), { ...NONE, inferencePool: true }, []],
    ['objectives without their CRD', children.slice(0, 2), { ...ALL, inferenceObjective: false }, ['inferenceObjective']],
    ['no children', [], NONE, []],
  ] as const)('%s', (_name, c, available, expected) => {
    expect(findMissingKinds(c, available)).toEqual(expected);
  });
});

/** Discovery answers from a table the test edits, counting the requests; time is the test's. */
function setup(refreshMs = 30_000) {
  const served = new Map<string, readonly string[] | undefined>([['inference.networking.k8s.io/v1', ['inferencepools']]]);
  const state = { now: 0, reads: 0, fail: false as boolean, changes: [] as KindAvailability[] };
  const read: ReadGroupVersion = async (group, version) => {
    state.reads++;
    await Promise.resolve();
    if (state.fail) throw new Error('503');
    return served.get(`${group}/${version}`);
  };
  const errors: unknown[] = [];
  const discovery = new RoutingDiscovery(read, { refreshMs, now: () => state.now, onError: (e) => errors.push(e) });
  discovery.onChange((now) => state.changes.push(now));
  return { served, state, discovery, errors };
}

describe('RoutingDiscovery', () => {
  it('asks once per group-version, then answers from its cache until refreshMs has passed', async () => {
    const { state, discovery } = setup();
    expect(discovery.known()).toBeUndefined();
    expect(await discovery.current()).toEqual({ ...NONE, inferencePool: true });
    expect(state.reads).toBe(3);
    state.now = 29_999;
    await discovery.current();
    expect(state.reads).toBe(3);
    state.now = 30_000;
    await discovery.current();
    expect(state.reads).toBe(6);
  });

  it('asks again at the next demand after invalidate() (an apply answered 404)', async () => {
    const { state, discovery, served } = setup();
    await discovery.current();
    served.delete('inference.networking.k8s.io/v1');
    discovery.invalidate();
    expect(await discovery.current()).toEqual(NONE);
    expect(state.reads).toBe(6);
  });

  it('shares one round of requests among concurrent callers', async () => {
    const { state, discovery } = setup();
    await Promise.all([discovery.current(), discovery.current(), discovery.refresh()]);
    expect(state.reads).toBe(3);
  });

  it('reports the first answer and each change, not a repeated answer', async () => {
    const { state, discovery, served } = setup();
    await discovery.refresh();
    await discovery.refresh();
    served.set('gateway.networking.k8s.io/v1', ['httproutes']);
    await discovery.refresh();
    expect(state.changes).toEqual([{ ...NONE, inferencePool: true }, { ...NONE, inferencePool: true, httpRoute: true }]);
  });

  it('keeps the previous answer when a refresh fails (until refreshMs later), and throws without one', async () => {
    const { state, discovery, errors } = setup();
    state.fail = true;
    await expect(discovery.current()).rejects.toThrow('503');
    state.fail = false;
    await discovery.current();
    state.fail = true;
    state.now = 60_000;
    expect(await discovery.current()).toEqual({ ...NONE, inferencePool: true });
    const reads = state.reads;
    await discovery.current();
    expect(state.reads).toBe(reads);
    expect(errors).toHaveLength(2);
  });
});
