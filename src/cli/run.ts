// `lfm-operator run`: parses the configuration once, starts the operator, and stops it cleanly on SIGTERM/SIGINT.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { AutoscalerLoop } from '../autoscaler/io/loop.js';
import { parseOperatorConfig } from '../controller/config.js';
import { EventRecorder } from '../kube/events.js';
import { Operator } from '../controller/operator.js';
import { createLogger } from '../telemetry/logger.js';
import { createMetrics } from '../telemetry/metrics.js';

const NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export async function runOperator(flags: Record<string, unknown>): Promise<void> {
  const parsed = parseOperatorConfig({
    flags,
    env: process.env,
    ...(existsSync(NAMESPACE_FILE) ? { podNamespace: readFileSync(NAMESPACE_FILE, 'utf8').trim() } : {}),
    randomSuffix: randomBytes(4).toString('hex'),
  });
  if (!parsed.ok) {
    process.stderr.write(`error: invalid configuration: ${parsed.message}\n`);
    process.exit(2);
  }
  const config = parsed.config;
  const log = createLogger(config.logLevel);
  const metrics = createMetrics();
  const operator = new Operator(config, log, metrics, {
    onLeading: ({ client, caches }) => {
      const events = new EventRecorder(client, { component: 'lfm-autoscaler', instance: config.identity }, (err) => log.warn({ err: err.message }, 'could not record event'));
      if (!config.autoscaler) return { stop: async () => undefined };
      const loop = new AutoscalerLoop({
        client, lfmDeployments: caches.lfmDeployments, deployments: caches.deployments, pods: caches.pods, endpointPickerPods: caches.endpointPickerPods, activatorPods: caches.activatorPods,
        log: log.child({ component: 'autoscaler' }), metrics, events,
      });
      loop.start();
      return { stop: async () => { await loop.stop(); await events.flush(); } };
    },
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    operator.stop().then(() => process.exit(0), (err: Error) => {
      log.error({ err: err.message }, 'unclean shutdown');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  log.info({ identity: config.identity, leaderElect: config.leaderElect }, 'starting lfm-operator');
  await operator.start();
}
