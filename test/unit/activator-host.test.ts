import { describe, expect, it } from 'vitest';
import { parseTargetHost } from '../../src/activator/host.js';

describe('parseTargetHost', () => {
  const valid: [string, string, string][] = [
    ['llm.team-a', 'llm', 'team-a'],
    ['llm.team-a:8000', 'llm', 'team-a'],
    ['llm.team-a.svc', 'llm', 'team-a'],
    ['llm.team-a.svc:80', 'llm', 'team-a'],
    ['llm.team-a.svc.cluster.local', 'llm', 'team-a'],
    ['llm.team-a.svc.cluster.local:8000', 'llm', 'team-a'],
    ['llm.team-a.svc.cluster.local.', 'llm', 'team-a'],
    ['llm.team-a.svc.cluster.local.:8000', 'llm', 'team-a'],
    ['llm.team-a.', 'llm', 'team-a'],
    ['LFM2-Chat.Default.SVC.Cluster.Local:65535', 'lfm2-chat', 'default'],
    ['a.b', 'a', 'b'],
    ['0abc.9', '0abc', '9'],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}`, 'a'.repeat(63), 'b'.repeat(63)],
  ];
  it.each(valid)('%s → %s in %s', (host, name, namespace) => {
    expect(parseTargetHost(host)).toEqual({ name, namespace });
  });

  const invalid: (string | undefined)[] = [
    undefined,
    '',
    'llm',
    'llm:8000',
    '127.0.0.1',
    '127.0.0.1:8080',
    '10.96.0.10',
    '[::1]',
    '[::1]:8000',
    '::1',
    'fe80::1',
    'llm.team-a.other',
    'llm.team-a.svc.cluster',
    'llm.team-a.svc.cluster.example',
    'llm.team-a.cluster.local',
    'llm.team-a.svc.cluster.local.extra',
    'llm..svc',
    '.team-a',
    'llm.team-a..',
    '-llm.team-a',
    'llm-.team-a',
    'llm.team_a',
    'l l m.team-a',
    `${'a'.repeat(64)}.team-a`,
    'llm.team-a:',
    'llm.team-a:http',
    'llm.team-a:65536',
    'llm.team-a:123456',
    'llm.team-a:80:80',
  ];
  it.each(invalid)('rejects %j', (host) => {
    expect(parseTargetHost(host)).toBeUndefined();
  });
});
