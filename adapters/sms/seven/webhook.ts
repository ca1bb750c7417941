/**
 * Verification of seven.io's signed webhooks (delivery reports). A request is
 * accepted only when its HMAC-SHA256 signature over
 * `timestamp\nnonce\nMETHOD\nurl\nmd5(body)` matches, its timestamp is fresh
 * and its nonce has not been seen before. The nonce is claimed only after the
 * signature checked out, so forged requests cannot burn nonces.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../../../src/core/clock.js';
import type { DeliveryReport } from '../types.js';
import { statusForSeven } from './codes.js';

export interface WebhookRequest {
  method: string;
  /** The full URL seven.io called, as it signed it (scheme, host, path, query). */
  url: string;
  headers: Record<string, string | string[] | undefined> | Headers;
  /** The raw body exactly as received. */
  body: string | Uint8Array;
}

/**
 * The largest webhook body accepted. A delivery report is under 2 KB; anything
 * far larger is not from seven.io and is refused before it is read
 * (`POST /sms/v1/seven/webhook` answers 413).
 */
export const SEVEN_WEBHOOK_MAX_BYTES = 16 * 1024;

export type WebhookRefusal = 'missing_headers' | 'bad_signature' | 'stale' | 'replayed' | 'malformed';

export type WebhookVerification = { ok: true; reports: DeliveryReport[] } | { ok: false; reason: WebhookRefusal };

/** Remembers nonces for a while; `claim` is true only the first time. */
export interface NonceStore {
  claim(nonce: string, ttlSeconds: number): Promise<boolean>;
}

export class RedisNonceStore implements NonceStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'dokubox:sms:nonce:',
  ) {}

  async claim(nonce: string, ttlSeconds: number): Promise<boolean> {
    const result = await this.redis.set(`${this.prefix}${nonce}`, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX');
    return result === 'OK';
  }
}

/** For tests and single-process development only. */
export class MemoryNonceStore implements NonceStore {
  private readonly seen = new Map<string, number>();
  constructor(private readonly clock: Clock) {}

  async claim(nonce: string, ttlSeconds: number): Promise<boolean> {
    const now = this.clock.now();
    for (const [key, expires] of this.seen) if (expires <= now) this.seen.delete(key);
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now + ttlSeconds * 1000);
    return true;
  }
}

export interface SevenWebhookVerifierOptions {
  signingSecret: string;
  nonces: NonceStore;
  clock: Clock;
  /** Older or newer timestamps than this are refused; default 300 s. */
  maxAgeSeconds?: number;
}

/** The signature seven.io puts into `X-Signature` (lower-case hex). */
export function signSevenWebhook(secret: string, parts: { timestamp: string; nonce: string; method: string; url: string; body: string | Uint8Array }): string {
  const bodyHash = createHash('md5').update(parts.body).digest('hex');
  const payload = [parts.timestamp, parts.nonce, parts.method.toUpperCase(), parts.url, bodyHash].join('\n');
  return createHmac('sha256', secret).update(payload).digest('hex');
}

function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

export class SevenWebhookVerifier {
  private readonly maxAgeSeconds: number;

  constructor(private readonly options: SevenWebhookVerifierOptions) {
    if (options.signingSecret === '') throw new Error('the seven.io webhook signing secret must not be empty');
    this.maxAgeSeconds = options.maxAgeSeconds ?? 300;
  }

  /**
   * The checks that need only the headers (present, well-formed, fresh), so a
   * request that cannot pass is refused before its body is read.
   */
  checkHeaders(headers: WebhookRequest['headers']): WebhookRefusal | undefined {
    const timestamp = header(headers, 'x-timestamp');
    const nonce = header(headers, 'x-nonce');
    const signature = header(headers, 'x-signature');
    if (!timestamp || !nonce || !signature) return 'missing_headers';
    if (!/^\d{1,12}$/.test(timestamp) || nonce.length > 200) return 'malformed';
    const ageSeconds = this.options.clock.now() / 1000 - Number(timestamp);
    if (Math.abs(ageSeconds) > this.maxAgeSeconds) return 'stale';
    return undefined;
  }

  async verify(request: WebhookRequest): Promise<WebhookVerification> {
    const refusal = this.checkHeaders(request.headers);
    if (refusal !== undefined) return { ok: false, reason: refusal };
    const timestamp = header(request.headers, 'x-timestamp') ?? '';
    const nonce = header(request.headers, 'x-nonce') ?? '';
    const signature = header(request.headers, 'x-signature') ?? '';

    const expected = Buffer.from(signSevenWebhook(this.options.signingSecret, { timestamp, nonce, method: request.method, url: request.url, body: request.body }), 'hex');
    const given = /^[0-9a-fA-F]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };

    // Remember nonces at least as long as a timestamp stays acceptable.
    if (!(await this.options.nonces.claim(nonce, this.maxAgeSeconds * 2))) return { ok: false, reason: 'replayed' };

    const reports = parseSevenWebhookBody(typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8'));
    return reports ? { ok: true, reports } : { ok: false, reason: 'malformed' };
  }
}

/** seven.io writes local times as `YYYY-MM-DD hh:mm:ss(.sss)` or unix seconds. */
function parseSevenTime(value: unknown): number | undefined {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{9,12}$/.test(value))) return Number(value) * 1000;
  if (typeof value !== 'string') return undefined;
  const parsed = Date.parse(value.includes('T') ? value : value.replace(' ', 'T'));
  return Number.isNaN(parsed) ? undefined : parsed;
}

/**
 * Reads the delivery reports of a webhook body. Other events (inbound SMS,
 * voice) yield an empty list; an unreadable body yields undefined.
 */
export function parseSevenWebhookBody(body: string): DeliveryReport[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const event = parsed as { webhook_event?: unknown; data?: unknown };
  if (event.webhook_event !== 'dlr') return [];
  const data = event.data as { msg_id?: unknown; status?: unknown; timestamp?: unknown } | undefined;
  if (!data || (typeof data.msg_id !== 'string' && typeof data.msg_id !== 'number') || typeof data.status !== 'string') return undefined;
  const at = parseSevenTime(data.timestamp);
  return [
    {
      gateway: 'seven',
      providerMessageId: String(data.msg_id),
      status: statusForSeven(data.status),
      providerStatus: data.status.toUpperCase(),
      ...(at === undefined ? {} : { at }),
    },
  ];
}
