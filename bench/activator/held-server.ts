// The activator under npm run bench:activator, in a child process of its own so its RSS is the activator's alone:
// one scale-to-zero target (bench.default) that never gets a replica, held requests bounded only by the benchmark.
// Prints {"address":"127.0.0.1:PORT"} on stdout once listening; stops on SIGTERM.
import { ActivatorServer } from '../../src/activator/server.js';
import type { Target, TargetSource } from '../../src/activator/types.js';
import { createLogger } from '../../src/telemetry/logger.js';

const target: Target = {
  namespace: 'default', name: 'bench',
  maxHeldRequests: 100_000, maxHoldSeconds: 600, retryAfterSeconds: 30,
  endpoints: [],
};

const targets: TargetSource = {
  get: (namespace, name) => (namespace === target.namespace && name === target.name ? target : undefined),
  onChange: () => () => undefined,
  ready: () => true,
};

const server = new ActivatorServer({ targets, log: createLogger(process.env.LOG_LEVEL ?? 'warn') });
const address = await server.listen('127.0.0.1:0');
process.stdout.write(`${JSON.stringify({ address })}\n`);
process.once('SIGTERM', () => {
  void server.close(0).then(() => process.exit(0));
});
