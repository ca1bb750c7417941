/**
 * API keys, kiosk tokens and Basic passwords are hashed with node's one-shot `hash()`: the same digests
 * as createHash('sha256').update(text).digest('hex'), so configured key hashes stay valid.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiKeyAuthenticator, sha256Hex } from '../../src/http/auth.js';
import { sha256Hex as kioskSha256Hex } from '../../src/kiosk/redis-script.js';

const reference = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('sha256Hex', () => {
  it('gives the digest createHash gave, for ASCII, non-ASCII and long texts', () => {
    const texts = ['', 'bench-0123456789abcdef', 'Kovačević ÄÖÜß', '鍵🔑', 'x'.repeat(10_000), ...Array.from({ length: 200 }, (_, i) => randomBytes(i).toString('base64url'))];
    for (const text of texts) {
      expect(sha256Hex(text)).toBe(reference(text));
      expect(kioskSha256Hex(text)).toBe(reference(text));
    }
  });

  it('identifies a key configured by its createHash digest', () => {
    const key = `key-${randomBytes(16).toString('hex')}`;
    const auth = new ApiKeyAuthenticator([{ id: 'c', role: 'case-system', authority: 'a', sha256: reference(key) }]);
    expect(auth.identify(key)).toEqual({ id: 'c', role: 'case-system', authority: 'a' });
    expect(auth.identify(`${key}x`)).toBeUndefined();
  });
});
