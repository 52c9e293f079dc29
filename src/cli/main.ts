#!/usr/bin/env node
// The lfm-operator command line (the commands are in program.ts): wires them to this process's files, output and
// exit status.
import { existsSync, readFileSync } from 'node:fs';
import { readText } from './documents.js';
import { buildProgram } from './program.js';

/** The version in the package.json above this file: two levels up from src/cli, three from dist/src/cli. */
function readVersion(): string | undefined {
  for (const up of ['../../package.json', '../../../package.json']) {
    const path = new URL(up, import.meta.url);
    if (!existsSync(path)) continue;
    const pkg = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'lfm-operator') return pkg.version;
  }
  return undefined;
}

await buildProgram({
  readText,
  version: readVersion() ?? 'unknown',
  stdout: (text) => { process.stdout.write(text); },
  stderr: (text) => { process.stderr.write(text); },
  setExitCode: (code) => { process.exitCode = code; },
  runOperator: async (flags) => {
    const { runOperator } = await import('./run.js');
    await runOperator(flags);
  },
  runActivator: async (flags) => {
    const { runActivator } = await import('../activator/kube.js');
    await runActivator(flags);
  },
}).parseAsync(process.argv);
