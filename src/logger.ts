/**
 * pino JSON logs. Personal data must never reach a log line; the redaction
 * list is a safety net for the field names that could carry it, not the
 * primary defence (the code does not log such values in the first place).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { isoAt, systemClock } from './core/clock.js';

/**
 * Field names that only ever mean personal data are redacted wherever they
 * appear; `code` is redacted only where a pickup code could sit (entered at
 * the kiosk, read for an SMS, inside the personal data), because elsewhere
 * `code` is an error code (`VALIDATION_FAILED`, `ECONNREFUSED`) that
 * operators need.
 */
export const REDACTED_PATHS = [
  'mobile',
  'phone',
  'dateOfBirth',
  'familyName',
  'givenNames',
  'person',
  'password',
  'apiKey',
  'pickupCode',
  '*.mobile',
  '*.phone',
  '*.dateOfBirth',
  '*.familyName',
  '*.givenNames',
  '*.person',
  '*.password',
  '*.pickupCode',
  'entered.code',
  'body.code',
  'req.body.code',
  'recipient.code',
  'personal.code',
  'pii.code',
  'sms.code',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
];

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'dokubox' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // pino.stdTimeFunctions.isoTime's text (`,"time":"<toISOString>"`), with the second's part remembered.
      timestamp: () => `,"time":"${isoAt(systemClock)}"`,
    },
    options.destination,
  );
}

/**
 * The service's own logger on stdout: JSON lines (for log shippers) or, in
 * development, pino-pretty's readable lines (loaded only then). Same
 * redaction either way.
 */
export async function createServiceLogger(options: { level: string; format: 'json' | 'pretty' }): Promise<Logger> {
  // JSON lines are written asynchronously and in blocks of up to 4 KB (a write is a system call, a large
  // part of a notice's cost: docs/performance.md), and at least every 250 ms; pino flushes what is buffered
  // when the process exits, and Dokubox.close() flushes too.
  if (options.format === 'json') {
    const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
    setInterval(() => {
      try {
        destination.flush();
      } catch {
        // Nothing buffered, or a write in flight: the next tick flushes.
      }
    }, 250).unref();
    return createLogger({ level: options.level, destination });
  }
  const { default: pretty } = await import('pino-pretty');
  // Synchronous, so that log lines and the start-up banner (written to stdout directly) keep their order.
  return createLogger({
    level: options.level,
    destination: pretty({ sync: true, colorize: process.stdout.isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', singleLine: true }),
  });
}

export type { Logger };

/** Writes out what the logger has buffered (an asynchronous destination); a no-op for synchronous ones. */
export async function flushLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    try {
      logger.flush(() => resolve());
    } catch {
      resolve();
    }
  });
}
