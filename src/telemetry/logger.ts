// The operator's structured logger: pino JSON on stderr, one child logger per reconcile. Secrets are never logged:
// objects are logged by reference (namespace/name), and known secret-bearing keys are redacted.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info'): Logger {
  return pino({
    level,
    base: { app: 'lfm-operator' },
    redact: { paths: ['*.token', '*.HF_TOKEN', '*.authorization', '*.password', 'headers.authorization'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  }, pino.destination(2));
}
