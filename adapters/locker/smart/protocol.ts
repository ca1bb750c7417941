/**
 * The smart-controller protocol (v1): a box controller with its own REST API
 * for commands and HMAC-signed webhooks for events. Shapes, header names and
 * the signature live here so the adapter and the controller emulator cannot
 * drift apart. The full description is in docs/locker.md.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const API_PREFIX = '/api/v1';
export const TIMESTAMP_HEADER = 'x-dokubox-timestamp';
export const SIGNATURE_HEADER = 'x-dokubox-signature';
export const SIGNATURE_VERSION = 'v1';

export const compartmentStateSchema = z.object({
  id: z.string().min(1),
  door: z.enum(['open', 'closed', 'unknown']),
  occupancy: z.enum(['occupied', 'empty', 'unknown']),
  enabled: z.boolean(),
});
export type SmartCompartmentState = z.infer<typeof compartmentStateSchema>;

export const stateResponseSchema = z.object({
  controllerId: z.string(),
  compartments: z.array(compartmentStateSchema),
});
export type SmartStateResponse = z.infer<typeof stateResponseSchema>;

export const openResponseSchema = z.object({
  commandId: z.string(),
  status: z.enum(['accepted', 'done']),
});

export const errorResponseSchema = z.object({
  error: z.enum(['unknown_compartment', 'disabled', 'broken', 'busy', 'maintenance', 'unauthorized', 'bad_request']),
  message: z.string().optional(),
});
export type SmartErrorCode = z.infer<typeof errorResponseSchema>['error'];

export const SMART_EVENT_TYPES = [
  'compartment.opened',
  'compartment.closed',
  'compartment.occupied',
  'compartment.emptied',
  'controller.online',
  'controller.offline',
] as const;

export const webhookEventSchema = z.object({
  /** Unique per event; the controller resends the same id when it retries a delivery. */
  id: z.string().min(1).max(128),
  type: z.enum(SMART_EVENT_TYPES),
  controllerId: z.string().min(1),
  compartmentId: z.string().min(1).optional(),
  occurredAt: z.string(),
});
export type SmartWebhookEvent = z.infer<typeof webhookEventSchema>;

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`, timestamp in Unix seconds. */
export function signWebhook(secret: string, timestampSeconds: number, rawBody: string | Uint8Array): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestampSeconds}.`);
  mac.update(rawBody);
  return `${SIGNATURE_VERSION}=${mac.digest('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing_headers' | 'bad_timestamp' | 'stale' | 'bad_signature' };

export function verifyWebhookSignature(
  secret: string,
  rawBody: string | Uint8Array,
  timestampHeader: string | undefined,
  signatureHeader: string | undefined,
  nowMs: number,
  toleranceMs: number,
): SignatureCheck {
  if (!timestampHeader || !signatureHeader) return { ok: false, reason: 'missing_headers' };
  if (!/^\d{1,12}$/.test(timestampHeader)) return { ok: false, reason: 'bad_timestamp' };
  const ts = Number(timestampHeader);
  // Stale or far-future timestamps are refused so a captured request cannot be replayed later.
  if (Math.abs(nowMs - ts * 1000) > toleranceMs) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signWebhook(secret, ts, rawBody));
  // A header may list several signatures (secret rotation): any valid one is enough.
  const candidates = signatureHeader.split(',').map((s) => Buffer.from(s.trim()));
  const valid = candidates.some((c) => c.length === expected.length && timingSafeEqual(c, expected));
  return valid ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
