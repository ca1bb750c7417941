/**
 * The one contract every SMS gateway implements (seven.io over HTTP, SMPP,
 * the development gateway). Callers never learn which gateway they talk to:
 * they get an accepted message or an `SmsSendError` that says whether trying
 * again can help, and delivery reports arrive through `onDeliveryReport`.
 */

export interface SmsMessage {
  /** E.164, e.g. `+4915112345678`. */
  to: string;
  text: string;
  /** Alphanumeric sender id (at most 11 characters) or a number (at most 16 digits). */
  sender: string;
  /** Our reference, echoed by gateways that support it; `[A-Za-z0-9._@-]`, at most 64. */
  foreignId: string;
}

export type SmsEncoding = 'gsm' | 'ucs2';

export interface SmsSendResult {
  /** The gateway's id of the (first part of the) message; delivery reports refer to it. */
  providerMessageId: string;
  parts: number;
  encoding: SmsEncoding;
}

export const DELIVERY_STATUSES = ['accepted', 'buffered', 'delivered', 'failed', 'expired', 'rejected', 'unknown'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Final statuses: nothing more will be reported for the message. */
export const FINAL_DELIVERY_STATUSES: ReadonlySet<DeliveryStatus> = new Set(['delivered', 'failed', 'expired', 'rejected']);

export interface DeliveryReport {
  gateway: string;
  providerMessageId: string;
  status: DeliveryStatus;
  /** The gateway's own status word, for operators (never personal data). */
  providerStatus: string;
  /** Milliseconds since the epoch when the gateway saw the status, if it said. */
  at?: number;
  /** The gateway's error code, if any. */
  errorCode?: string;
}

export type DeliveryReportListener = (report: DeliveryReport) => void | Promise<void>;

export const SMS_FAILURE_REASONS = [
  /** The recipient number is not valid or not reachable in that country. */
  'invalid_number',
  /** The account has no credit left. */
  'no_credit',
  /** The API key / SMPP credentials are wrong, the API is disabled or our IP is not allowed. */
  'auth',
  /** A request parameter is missing or wrong (our bug or our configuration). */
  'bad_request',
  /** The sender id is not accepted. */
  'bad_sender',
  /** The text is longer than the gateway accepts. */
  'too_long',
  /** The gateway or the carrier refused the message for another reason. */
  'rejected',
  /** The gateway asks us to slow down. */
  'throttled',
  /** The gateway could not be reached or answered with a server error. */
  'unavailable',
  /** The request was sent but no answer came in time: the gateway may or may not have accepted it. */
  'timeout',
] as const;
export type SmsFailureReason = (typeof SMS_FAILURE_REASONS)[number];

const RETRYABLE: Record<SmsFailureReason, boolean> = {
  invalid_number: false,
  no_credit: false,
  auth: false,
  bad_request: false,
  bad_sender: false,
  too_long: false,
  rejected: false,
  throttled: true,
  unavailable: true,
  timeout: true,
};

export interface SmsSendErrorDetails {
  /** The gateway's code (e.g. seven.io `202`, SMPP `0x58`), for operators. */
  providerCode?: string;
  /** Milliseconds the gateway asks us to wait before the next message (throttling). */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A message the gateway did not accept. `retryable` says whether sending the
 * same message later can succeed; `ambiguous` says the gateway may have
 * accepted it anyway (a timeout after the request left), so a retry can
 * produce a second SMS. Messages never contain the number or the text.
 */
export class SmsSendError extends Error {
  readonly reason: SmsFailureReason;
  readonly retryable: boolean;
  readonly ambiguous: boolean;
  readonly providerCode: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(reason: SmsFailureReason, message: string, details: SmsSendErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SmsSendError';
    this.reason = reason;
    this.retryable = RETRYABLE[reason];
    this.ambiguous = reason === 'timeout';
    this.providerCode = details.providerCode;
    this.retryAfterMs = details.retryAfterMs;
  }
}

export function isSmsSendError(error: unknown): error is SmsSendError {
  return error instanceof SmsSendError;
}

export interface SmsGateway {
  /** Short name for logs and metrics: `seven`, `smpp`, `dev`. */
  readonly name: string;
  /** Resolves when the gateway accepted the message; throws `SmsSendError` otherwise. */
  send(message: SmsMessage): Promise<SmsSendResult>;
  /** Registers a listener for delivery reports; returns a function that removes it. */
  onDeliveryReport(listener: DeliveryReportListener): () => void;
  close(): Promise<void>;
}

/** Small helper the gateways share to fan delivery reports out to listeners. */
export class DeliveryReportHub {
  private readonly listeners = new Set<DeliveryReportListener>();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  add(listener: DeliveryReportListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async emit(report: DeliveryReport): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(report);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}

/** Alphanumeric sender ids are limited to 11 characters, numeric ones to 16 digits. */
export function validateSender(sender: string): string | undefined {
  if (/^\+?\d{1,16}$/.test(sender)) return undefined;
  if (/^[A-Za-z0-9 .\-_&]{1,11}$/.test(sender)) return undefined;
  return 'a sender id must be at most 11 letters/digits or at most 16 digits';
}
