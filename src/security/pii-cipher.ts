/**
 * Personal data at rest: AES-256-GCM with a key from configuration. Each
 * sealed value carries its own random IV and the authentication tag; the
 * pickup id is bound in as associated data so a sealed blob cannot be moved
 * to another pickup.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

export interface PersonalData {
  familyName: string;
  givenNames: string;
  dateOfBirth: string;
  mobile: string;
  serialNumbers: string[];
  /** The pickup code in clear, needed once more when the SMS is sent. */
  code?: string;
}

const VERSION = 'v1';

export class PiiCipher {
  private readonly key: Buffer;

  constructor(base64Key: string) {
    this.key = Buffer.from(base64Key, 'base64');
    if (this.key.length !== 32) throw new Error('PII key must be 32 bytes');
  }

  seal(pickupId: string, data: PersonalData): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(pickupId));
    const body = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  open(pickupId: string, sealed: string): PersonalData {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) throw new Error('sealed personal data has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAAD(Buffer.from(pickupId));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as PersonalData;
  }
}

/** Keyed hash for lookups and fingerprints that must not reveal their input. */
export function keyedHash(secret: string, purpose: string, value: string): string {
  return createHmac('sha256', Buffer.from(secret, 'base64')).update(`${purpose}\u0000${value}`).digest('hex');
}

/** JSON with sorted keys, so equal content gives equal fingerprints. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
