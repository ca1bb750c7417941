import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../support/harness.js';

const base = { REDIS_URL: 'redis://127.0.0.1:6379', SECRET_KEY: randomBytes(32).toString('base64'), PII_KEY: randomBytes(32).toString('base64') };

const problems = configProblems;

describe('configuration from the environment', () => {
  it('applies documented defaults', () => {
    const config = loadConfig(base);
    expect(config.PORT).toBe(8080);
    expect(config.BODY_LIMIT_BYTES).toBe(65536);
    expect(config.API_KEYS).toEqual([]);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['REDIS_URL', 'localhost:6379'],
    ['PII_KEY', Buffer.alloc(16).toString('base64')],
    ['SECRET_KEY', 'short'],
    ['LOG_LEVEL', 'loud'],
    ['API_KEYS', 'not json'],
    ['API_KEYS', '[{"id":"x","role":"emperor","authority":"a","sha256":"00"}]'],
  ])('names %s when its value (%s) is wrong', (name, value) => {
    const found = problems({ ...base, [name]: value });
    expect(found.some((p) => p.startsWith(`${name}`))).toBe(true);
  });

  it('names every missing required variable at once', () => {
    const found = problems({});
    expect(found.join('\n')).toMatch(/REDIS_URL: is required/);
    expect(found.join('\n')).toMatch(/SECRET_KEY: is required/);
    expect(found.join('\n')).toMatch(/PII_KEY: is required/);
  });

  it('refuses simulated time in production, and its settings without it', () => {
    expect(problems({ ...base, NODE_ENV: 'production', SIMULATED_TIME: 'true' }).some((p) => p.startsWith('SIMULATED_TIME: must be false in production'))).toBe(true);
    expect(problems({ ...base, SIMULATED_TIME_START: '2026-12-16T10:00:00+01:00' })).toEqual(['SIMULATED_TIME_START: takes effect only with SIMULATED_TIME=true; remove it or set SIMULATED_TIME']);
    expect(problems({ ...base, SIMULATED_TIME: 'true', SIMULATED_TIME_START: '2026-12-16 10:00' }).some((p) => p.startsWith('SIMULATED_TIME_START: must be ISO 8601'))).toBe(true);
    expect(problems({ ...base, SIMULATED_TIME: 'true', SIMULATED_TIME_SPEED: '-1' }).some((p) => p.startsWith('SIMULATED_TIME_SPEED'))).toBe(true);
    const config = loadConfig({ ...base, SIMULATED_TIME: 'yes', SIMULATED_TIME_START: '2026-12-16T10:00:00+01:00', SIMULATED_TIME_SPEED: '3600' });
    expect([config.SIMULATED_TIME, config.SIMULATED_TIME_SPEED, loadConfig(base).SIMULATED_TIME]).toEqual([true, 3600, false]);
  });
});
