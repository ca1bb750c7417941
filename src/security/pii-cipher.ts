/**
 * Personal data at rest: AES-256-GCM with a key from configuration. Each
 * sealed value carries its own random 96-bit IV and the authentication tag;
 * the pickup id is bound in as associated data so a sealed blob cannot be
 * moved to another pickup. The IVs are cut from a pool that the CSPRNG fills
 * (randomFillSync) 256 IVs at a time and every byte of it is used once: as
 * random as one randomBytes(12) per seal, without a call into the CSPRNG for
 * each (docs/performance.md).
 */
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomFillSync, type KeyObject } from 'node:crypto';

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
const IV_BYTES = 12;
const IV_POOL = 256;

/** Fresh random IVs, each handed out once. */
class IvPool {
  private readonly pool = Buffer.alloc(IV_BYTES * IV_POOL);
  private next = IV_POOL;

  take(): Buffer {
    if (this.next === IV_POOL) {
      randomFillSync(this.pool);
      this.next = 0;
    }
    // A copy: the pool is refilled later, the IV must stay as it was handed out.
    const iv = Buffer.from(this.pool.subarray(this.next * IV_BYTES, (this.next + 1) * IV_BYTES));
    this.pool.fill(0, this.next * IV_BYTES, (this.next + 1) * IV_BYTES);
    this.next += 1;
    return iv;
  }
}

const ivs = new IvPool();

/** A fresh random 96-bit IV (never the same bytes handed out twice from the pool). */
export function nextIv(): Buffer {
  return ivs.take();
}

export class PiiCipher {
  private readonly key: Buffer;

  constructor(base64Key: string) {
    this.key = Buffer.from(base64Key, 'base64');
    if (this.key.length !== 32) throw new Error('PII key must be 32 bytes');
  }

  seal(pickupId: string, data: PersonalData): string {
    const iv = ivs.take();
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(pickupId));
    const head = cipher.update(JSON.stringify(data), 'utf8');
    // GCM is a stream mode: final() adds nothing (the tag is separate); joined only should it ever return bytes.
    const tail = cipher.final();
    const body = tail.length === 0 ? head : Buffer.concat([head, tail]);
    return `${VERSION}.${iv.toString('base64')}.${cipher.getAuthTag().toString('base64')}.${body.toString('base64')}`;
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

const hmacKeys = new Map<string, KeyObject>();

/** The HMAC key of a configured secret, decoded once. */
function hmacKey(secret: string): KeyObject {
  let key = hmacKeys.get(secret);
  if (key === undefined) {
    key = createSecretKey(Buffer.from(secret, 'base64'));
    // Bounded: a process has one or two secrets (tests create a few more).
    if (hmacKeys.size >= 16) hmacKeys.clear();
    hmacKeys.set(secret, key);
  }
  return key;
}

/** Keyed hash for lookups and fingerprints that must not reveal their input. */
export function keyedHash(secret: string, purpose: string, value: string): string {
  return createHmac('sha256', hmacKey(secret)).update(`${purpose}\u0000${value}`).digest('hex');
}

/** JSON texts of object keys: a process sees few distinct keys (a notice's field names), bounded anyway. */
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < 1024) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * JSON with sorted keys, so equal content gives equal fingerprints. The output is exactly that of
 * sorting Object.entries and joining (fingerprints stored before stay valid), built in one pass.
 */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // As Array.prototype.join: an element without a JSON form (undefined) is empty.
      out += (stableStringify(value[i]) as string | undefined) ?? '';
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, as `<` does.
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = record[key];
    if (item === undefined) continue;
    if (out.length > 1) out += ',';
    out += quotedKey(key) + ':' + String(stableStringify(item));
  }
  return `${out}}`;
}
