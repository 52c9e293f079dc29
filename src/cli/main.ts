#!/usr/bin/env node
// The lfm-operator command line (the commands are in program.ts): wires them to this process's files, output and
// exit status.
import { readText } from './documents.js';
import { buildProgram } from './program.js';

await buildProgram({
  readText,
  stdout: (text) => { process.stdout.write(text); },
  stderr: (text) => { process.stderr.write(text); },
  setExitCode: (code) => { process.exitCode = code; },
  runOperator: async (flags) => {
    const { runOperator } = await import('./run.js');
    await runOperator(flags);
  },
}).parseAsync(process.argv);
