// The invalid-resource fixtures of test/fixtures/invalid: one set, judged by both the offline plan and the API server.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export interface InvalidFixture { file: string; field: string; apiserver: string; plan: string; body: unknown; text: string }

export const FIXTURE_DIR = new URL('../fixtures/invalid/', import.meta.url).pathname;

export function loadInvalidFixtures(): InvalidFixture[] {
  return readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.yaml')).sort().map((file) => {
    const text = readFileSync(join(FIXTURE_DIR, file), 'utf8');
    const header = (key: string) => new RegExp(`^# ${key}: (.*)$`, 'm').exec(text)?.[1] ?? '';
    return { file, field: header('field'), apiserver: header('apiserver'), plan: header('plan'), body: parse(text) as unknown, text };
  });
}
