import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createCaseSystemAuthenticator, passwordDigest, RedisNonceStore } from '../../src/case-system/auth.js';
import { ManualClock } from '../../src/core/clock.js';
import { parseXml } from '../../src/case-system/xml.js';
import { usernameToken } from '../fixtures/case-system/helpers.js';

const redis = new Redis(inject('redisUrl'));
afterAll(async () => {
  await redis.quit();
});

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const basic = (user: string, password: string): Headers => new Headers({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const security = async (xml: string) => parseXml(xml);

describe('case-system authentication', () => {
  const clock = new ManualClock('2026-01-05T08:00:00Z');
  const authenticate = createCaseSystemAuthenticator({
    clock,
    nonces: new RedisNonceStore(redis, `test:${randomUUID()}:`),
    clients: [
      { id: 'advis', authority: 'abh-a', basic: { username: 'advis', passwordSha256: sha256('pw-advis-123') } },
      { id: 'vois', authority: 'abh-b', wsse: { username: 'vois', password: 'pw-vois-1234' } },
      { id: 'both', authority: 'abh-c', basic: { username: 'both', passwordSha256: sha256('pw-both-1234') }, tlsClientCertFingerprint: 'ab:'.repeat(31) + 'ab' },
    ],
  });

  it('the PasswordDigest matches the UsernameToken profile', () => {
    // Base64(SHA-1(nonce + created + password)) computed independently.
    const nonce = Buffer.from('0123456789abcdef');
    const expected = createHash('sha1').update(Buffer.concat([nonce, Buffer.from('2026-01-05T08:00:00Z'), Buffer.from('secret')])).digest('base64');
    expect(passwordDigest(nonce.toString('base64'), '2026-01-05T08:00:00Z', 'secret')).toBe(expected);
  });

  it('HTTP Basic: right password in, wrong password and unknown user out', async () => {
    await expect(authenticate({ headers: basic('advis', 'pw-advis-123') })).resolves.toEqual({ id: 'advis', role: 'case-system', authority: 'abh-a' });
    await expect(authenticate({ headers: basic('advis', 'pw-advis-124') })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(authenticate({ headers: basic('nobody', 'x') })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(authenticate({ headers: new Headers() })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('WS-Security: digest accepted once per nonce (Redis), stale or future timestamps refused', async () => {
    const token = await security(usernameToken('vois', 'pw-vois-1234', '2026-01-05T07:58:00Z', Buffer.from(randomUUID()).toString('base64')));
    await expect(authenticate({ headers: new Headers(), security: token })).resolves.toMatchObject({ id: 'vois', authority: 'abh-b' });
    await expect(authenticate({ headers: new Headers(), security: token })).rejects.toMatchObject({ code: 'UNAUTHENTICATED', context: { mechanism: 'wsse-replay' } });
    const stale = await security(usernameToken('vois', 'pw-vois-1234', '2026-01-05T07:54:59Z'));
    await expect(authenticate({ headers: new Headers(), security: stale })).rejects.toMatchObject({ context: { mechanism: 'wsse-timestamp' } });
    const future = await security(usernameToken('vois', 'pw-vois-1234', '2026-01-05T08:05:01Z'));
    await expect(authenticate({ headers: new Headers(), security: future })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const plain = await security(usernameToken('vois', 'pw-vois-1234', '2026-01-05T08:00:00Z').replace('#PasswordDigest', '#PasswordText'));
    await expect(authenticate({ headers: new Headers(), security: plain })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('a client configured with Basic and mutual TLS needs both', async () => {
    await expect(authenticate({ headers: basic('both', 'pw-both-1234') })).rejects.toMatchObject({ context: { mechanism: 'tls' } });
    await expect(authenticate({ headers: basic('both', 'pw-both-1234'), tlsClientCertFingerprint: 'AB'.repeat(32) })).resolves.toMatchObject({ id: 'both' });
    await expect(authenticate({ headers: new Headers(), tlsClientCertFingerprint: 'AB'.repeat(32) })).rejects.toMatchObject({ context: { mechanism: 'basic' } });
  });
});
