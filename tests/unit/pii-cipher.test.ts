import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyedHash, nextIv, PiiCipher, stableStringify } from '../../src/security/pii-cipher.js';

/** The implementation fingerprints were made with before (sorted Object.entries, joined). */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const person = { familyName: 'Kovačević', givenNames: 'Ana', dateOfBirth: '1990', mobile: '+4915123456789', serialNumbers: ['CFGHJKLMN'] };

describe('personal data sealing', () => {
  it('writes the same stable JSON as before, so stored fingerprints stay valid', () => {
    const values: unknown[] = [
      { messageId: 'M-1', authority: 'a', documents: [{ type: 'eAT', serialNumber: 'X1', validUntil: undefined }], person: { familyName: 'Ä', givenNames: '' }, consent: true, accessible: false },
      { b: 1, a: [1, 'x', null, { z: undefined, y: 2 }], 'é': 'ü', Z: 0, _: -1.5 },
      [undefined, 1],
      'text',
      null,
      42,
    ];
    for (const value of values) expect(stableStringify(value)).toBe(reference(value));
  });

  it('writes the same stable JSON as before for random nested values, keys that need escaping and numeric keys included', () => {
    let seed = 11;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const keys = ['a', 'B', 'z', '10', '2', '"q"', 'back\\slash', 'é', '\u2028', '', ' ', 'messageId', 'person', 'ä', '😀'];
    const make = (depth: number): unknown => {
      const r = random();
      if (depth > 2 || r < 0.4) return [null, true, false, 0, -1.5, 1e21, 'text', 'Kovačević "x" \\ \n', undefined][Math.floor(random() * 9)];
      if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => make(depth + 1));
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 6); i > 0; i--) object[keys[Math.floor(random() * keys.length)] as string] = make(depth + 1);
      return object;
    };
    for (let i = 0; i < 3_000; i++) {
      const value = make(0);
      expect(stableStringify(value)).toBe(reference(value));
    }
  });

  it('seals in the format v1.<iv>.<tag>.<body> (base64), which a plain AES-256-GCM decipher opens', () => {
    const key = randomBytes(32);
    const sealed = new PiiCipher(key.toString('base64')).seal('p-1', person);
    const [version, iv, tag, body, ...rest] = sealed.split('.');
    expect([version, rest.length, Buffer.from(iv ?? '', 'base64').length, Buffer.from(tag ?? '', 'base64').length]).toEqual(['v1', 0, 12, 16]);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv ?? '', 'base64'));
    decipher.setAAD(Buffer.from('p-1'));
    decipher.setAuthTag(Buffer.from(tag ?? '', 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body ?? '', 'base64')), decipher.final()]).toString('utf8');
    expect(plain).toBe(JSON.stringify(person));
  });

  it('gives every seal a fresh IV: 10,000 seals, no IV twice, each opens again', () => {
    const cipher = new PiiCipher(randomBytes(32).toString('base64'));
    const ivs = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const sealed = cipher.seal(`p-${i}`, person);
      ivs.add(sealed.split('.')[1] ?? '');
      if (i % 997 === 0) expect(cipher.open(`p-${i}`, sealed)).toEqual(person);
    }
    expect(ivs.size).toBe(10_000);
    const pooled = Array.from({ length: 600 }, () => nextIv().toString('hex'));
    expect(new Set(pooled).size).toBe(600);
    expect(pooled.every((iv) => iv.length === 24 && iv !== '0'.repeat(24))).toBe(true);
  });

  it('refuses a sealed value moved to another pickup', () => {
    const cipher = new PiiCipher(randomBytes(32).toString('base64'));
    expect(() => cipher.open('other', cipher.seal('mine', person))).toThrow();
  });

  it('keys the hash with the secret', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(32).toString('base64');
    expect(keyedHash(a, 'case', 'X')).toBe(keyedHash(a, 'case', 'X'));
    expect(keyedHash(a, 'case', 'X')).not.toBe(keyedHash(b, 'case', 'X'));
    expect(keyedHash(a, 'case', 'X')).not.toBe(keyedHash(a, 'serial', 'X'));
  });
});
