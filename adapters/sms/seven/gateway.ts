/**
 * seven.io over its documented HTTP API (`POST {base}/api/sms`). We call the
 * API with fetch instead of `@seven.io/client` because the client has a fixed
 * base URL (no simulator, no regional endpoint), no request timeout, ignores
 * the HTTP status and reports failures as free-text errors; see docs/sms.md.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../../src/core/clock.js';
import { DeliveryReportHub, SmsSendError, validateSender, type DeliveryReportListener, type SmsGateway, type SmsMessage, type SmsSendResult } from '../types.js';
import { reasonForSevenCode, SEVEN_OK } from './codes.js';
import { SevenWebhookVerifier, type NonceStore, type WebhookRequest } from './webhook.js';

export const SEVEN_DEFAULT_BASE_URL = 'https://gateway.seven.io';

export interface SevenGatewayOptions {
  apiKey: string;
  /** Without `/api`; default `https://gateway.seven.io`. */
  baseUrl?: string;
  /** Abort a request that has not been answered after this long; default 10 s. */
  timeoutMs?: number;
  /** Minutes the gateway keeps trying to deliver; unset uses the account default. */
  ttlMinutes?: number;
  label?: string;
  /** Webhook verification; without it `handleWebhook` refuses every request. */
  webhook?: { signingSecret: string; nonces: NonceStore; maxAgeSeconds?: number; publicUrl?: string };
  clock: Clock;
  logger: Logger;
  /** For tests; default global fetch. */
  fetch?: typeof fetch;
}

interface SevenMessage {
  id?: string | number | null;
  recipient?: string;
  encoding?: string;
  parts?: number | string;
  success?: boolean | string;
  error?: string | number | null;
  error_text?: string | null;
}

const FOREIGN_ID = /^[A-Za-z0-9._@-]{1,64}$/;

export class SevenGateway implements SmsGateway {
  readonly name: string = 'seven';
  private readonly hub: DeliveryReportHub;
  private readonly baseUrl: string;
  private readonly verifier: SevenWebhookVerifier | undefined;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: SevenGatewayOptions) {
    this.baseUrl = (options.baseUrl ?? SEVEN_DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
    this.hub = new DeliveryReportHub((error) => options.logger.error({ err: error }, 'sms delivery report listener failed'));
    this.verifier = options.webhook
      ? new SevenWebhookVerifier({
          signingSecret: options.webhook.signingSecret,
          nonces: options.webhook.nonces,
          clock: options.clock,
          ...(options.webhook.maxAgeSeconds === undefined ? {} : { maxAgeSeconds: options.webhook.maxAgeSeconds }),
        })
      : undefined;
  }

  onDeliveryReport(listener: DeliveryReportListener): () => void {
    return this.hub.add(listener);
  }

  async close(): Promise<void> {}

  async send(message: SmsMessage): Promise<SmsSendResult> {
    const senderProblem = validateSender(message.sender);
    if (senderProblem) throw new SmsSendError('bad_sender', `seven.io: ${senderProblem}`);
    if (!FOREIGN_ID.test(message.foreignId)) throw new SmsSendError('bad_request', 'seven.io: foreign id must be 1-64 of A-Z a-z 0-9 . _ @ -');
    const body: Record<string, string | number> = { to: message.to, text: message.text, from: message.sender, foreign_id: message.foreignId };
    if (this.options.ttlMinutes !== undefined) body.ttl = this.options.ttlMinutes;
    if (this.options.label !== undefined) body.label = this.options.label;

    let response: Response;
    try {
      response = await this.fetchFn(`${this.baseUrl}/api/sms`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Api-Key': this.options.apiKey },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw this.transportError(error);
    }

    let raw: string;
    try {
      raw = await response.text();
    } catch (error) {
      throw this.transportError(error);
    }
    if (response.status === 429) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new SmsSendError('throttled', 'seven.io asks to slow down (HTTP 429)', {
        providerCode: '429',
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      });
    }
    if (response.status >= 500) throw new SmsSendError('unavailable', `seven.io answered HTTP ${response.status}`, { providerCode: String(response.status) });
    if (response.status === 401 || response.status === 403) throw new SmsSendError('auth', `seven.io refused the API key (HTTP ${response.status})`, { providerCode: String(response.status) });
    if (response.status >= 400) throw new SmsSendError('bad_request', `seven.io answered HTTP ${response.status}`, { providerCode: String(response.status) });
    return this.readAnswer(raw, message.foreignId);
  }

  /**
   * What can be decided from the headers alone (webhooks configured, signature headers present,
   * well-formed and fresh): the answer for a request that cannot pass, before its body is read.
   */
  checkWebhookHeaders(headers: WebhookRequest['headers']): { status: number; body: string } | undefined {
    if (!this.verifier) return { status: 404, body: 'webhooks are not configured' };
    const refusal = this.verifier.checkHeaders(headers);
    if (refusal === undefined) return undefined;
    this.options.logger.warn({ reason: refusal, gateway: this.name }, 'sms webhook refused');
    return { status: refusal === 'malformed' ? 400 : 401, body: refusal };
  }

  /** Verifies a delivery-report webhook and hands its reports to the listeners. */
  async handleWebhook(request: WebhookRequest): Promise<{ status: number; body: string }> {
    if (!this.verifier) return { status: 404, body: 'webhooks are not configured' };
    const url = this.options.webhook?.publicUrl ?? request.url;
    const result = await this.verifier.verify({ ...request, url });
    if (!result.ok) {
      this.options.logger.warn({ reason: result.reason, gateway: this.name }, 'sms webhook refused');
      return { status: result.reason === 'malformed' ? 400 : 401, body: result.reason };
    }
    for (const report of result.reports) await this.hub.emit(report);
    return { status: 200, body: 'ok' };
  }

  private transportError(error: unknown): SmsSendError {
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new SmsSendError('timeout', `seven.io did not answer within ${this.options.timeoutMs ?? 10_000} ms; the message may have been accepted`, { cause: error });
    }
    return new SmsSendError('unavailable', 'seven.io could not be reached', { cause: error });
  }

  private readAnswer(raw: string, foreignId: string): SmsSendResult {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = raw.trim();
    }
    // Account-level failures come back as a bare code (`900`), not as JSON.
    if (typeof parsed === 'number' || typeof parsed === 'string') {
      const code = String(parsed);
      if (code === SEVEN_OK) throw new SmsSendError('unavailable', 'seven.io answered 100 without message details');
      const { reason, text } = reasonForSevenCode(code);
      throw new SmsSendError(reason, `seven.io: ${text} (${code})`, { providerCode: code });
    }
    if (typeof parsed !== 'object' || parsed === null) throw new SmsSendError('unavailable', 'seven.io answered with an unreadable body');
    const answer = parsed as { success?: string | number; messages?: SevenMessage[] };
    const first = Array.isArray(answer.messages) ? answer.messages[0] : undefined;
    const overall = answer.success === undefined ? undefined : String(answer.success);
    if (!first) {
      const code = overall ?? 'none';
      const { reason, text } = code === SEVEN_OK ? { reason: 'unavailable' as const, text: 'no message in the answer' } : reasonForSevenCode(code);
      throw new SmsSendError(reason, `seven.io: ${text} (${code})`, { providerCode: code });
    }
    // HTTP 200 and a top-level 100 can still carry a rejected message.
    const accepted = first.success === true || first.success === 'true';
    if (!accepted) {
      const code = first.error !== undefined && first.error !== null && String(first.error) !== '' ? String(first.error) : overall && overall !== SEVEN_OK ? overall : 'unknown';
      const { reason, text } = reasonForSevenCode(code);
      throw new SmsSendError(reason, `seven.io rejected the message: ${text} (${code})`, { providerCode: code });
    }
    // Accepted without an id (seen in sandbox mode): still accepted, so never
    // report a failure that would make the queue send it again.
    const id = first.id === undefined || first.id === null || String(first.id) === '' ? `unknown:${foreignId}` : String(first.id);
    const parts = Number(first.parts ?? 1);
    return {
      providerMessageId: id,
      parts: Number.isInteger(parts) && parts > 0 ? parts : 1,
      encoding: first.encoding === 'ucs2' ? 'ucs2' : 'gsm',
    };
  }
}
