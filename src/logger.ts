/**
 * pino JSON logs. Personal data must never reach a log line; the redaction
 * list is a safety net for the field names that could carry it, not the
 * primary defence (the code does not log such values in the first place).
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'mobile',
  'phone',
  'code',
  'dateOfBirth',
  'familyName',
  'givenNames',
  'person',
  'password',
  'apiKey',
  '*.mobile',
  '*.phone',
  '*.code',
  '*.dateOfBirth',
  '*.familyName',
  '*.givenNames',
  '*.person',
  '*.password',
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
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

export type { Logger };
