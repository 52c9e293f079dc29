#!/usr/bin/env node
// `make manifests` writes the generated install files (the chart's RBAC and CRD templates, its README's generated
// sections and the engine ports of its values.yaml, dist/install.yaml); with --check (`make verify-install`) it writes
// nothing and fails when one is stale.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildGeneratedFiles, findRepoRoot, readSources } from './generate.js';

const root = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
const check = process.argv.includes('--check');
const files = buildGeneratedFiles(readSources(root));
const stale: string[] = [];
for (const [path, content] of Object.entries(files)) {
  const file = join(root, path);
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) continue;
  if (check) {
    stale.push(path);
  } else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    process.stdout.write(`wrote ${path}\n`);
  }
}
if (stale.length > 0) {
  process.stderr.write(`stale generated install files (run make manifests): ${stale.join(', ')}\n`);
  process.exit(1);
}
