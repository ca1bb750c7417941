import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';

function capture(): { lines: () => Record<string, unknown>[]; logger: ReturnType<typeof createLogger> } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk.toString());
      callback();
    },
  });
  return { lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>), logger: createLogger({ level: 'info', destination: sink }) };
}

describe('log redaction', () => {
  it('keeps error codes, of our errors and of the network, readable', () => {
    const { logger, lines } = capture();
    logger.info({ code: 'VALIDATION_FAILED', field: 'mobile' }, 'case-system request rejected');
    logger.warn({ err: { message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' } }, 'redis connection lost');
    expect(lines()[0]).toMatchObject({ code: 'VALIDATION_FAILED', field: 'mobile' });
    expect(lines()[1]).toMatchObject({ err: { code: 'ECONNREFUSED' } });
  });

  it('hides pickup codes where they can sit, and personal data wherever it is', () => {
    const { logger, lines } = capture();
    logger.info({ entered: { code: '482913', dateOfBirth: '1990-05-17' }, recipient: { code: '482913', mobile: '+4915112345678' }, pickupCode: '482913' }, 'x');
    logger.info({ pickup: { person: { familyName: 'Müller' } }, mobile: '+4915112345678' }, 'y');
    const text = JSON.stringify(lines());
    expect(text).not.toContain('482913');
    expect(text).not.toContain('1990-05-17');
    expect(text).not.toContain('15112345678');
    expect(text).not.toContain('Müller');
  });
});
