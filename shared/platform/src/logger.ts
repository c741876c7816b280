import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

/** Paths pino blanks in every log line: credentials never reach the logs. */
const redact = [
  'secret',
  '*.secret',
  'password',
  '*.password',
  'headers.authorization',
  'headers["x-hub-signature-256"]',
  'headers["x-signature-256"]',
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'req.headers["x-signature-256"]',
  'config.DATABASE_URL',
  'config.AMQP_URL',
];

/** One root logger per process; everything else is a child of it. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: redact, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
