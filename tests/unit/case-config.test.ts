import { describe, expect, it } from 'vitest';
import { caseSystemEnvSchema } from '../../src/case-system/config.js';

describe('case-system configuration', () => {
  it('parses clients and callbacks from JSON strings with defaults for the rest', () => {
    const env = caseSystemEnvSchema.parse({
      CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'advis', authority: 'abh-a', wsse: { username: 'advis', password: 'long-enough' } }]),
      CASE_SYSTEM_CALLBACKS: JSON.stringify({ 'abh-a': { url: 'https://advis.example/callback', timeoutMs: 5000 } }),
    });
    expect(env.CASE_SYSTEM_CLIENTS[0]?.id).toBe('advis');
    expect(env.CASE_SYSTEM_CALLBACKS['abh-a']?.url).toBe('https://advis.example/callback');
    expect(env.CASE_SYSTEM_MAX_BODY_BYTES).toBe(256 * 1024);
    expect(env.CASE_SYSTEM_REPORT_ATTEMPTS).toBe(10);
  });

  it('refuses a client with a malformed password hash and non-JSON', () => {
    expect(caseSystemEnvSchema.safeParse({ CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'a', authority: 'b', basic: { username: 'u', passwordSha256: 'nothex' } }]) }).success).toBe(false);
    expect(caseSystemEnvSchema.safeParse({ CASE_SYSTEM_CALLBACKS: '{nope' }).success).toBe(false);
    expect(caseSystemEnvSchema.safeParse({ CASE_SYSTEM_CLIENTS: JSON.stringify([{ id: 'a', authority: 'b' }]) }).success).toBe(false);
  });
});
