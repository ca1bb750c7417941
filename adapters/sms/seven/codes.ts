/**
 * seven.io's numeric result codes and delivery-report status words mapped
 * onto the product's gateway contract. Codes we do not know are treated as
 * permanent: retrying a message for a reason nobody understands could send it
 * twice or loop forever.
 */
import type { DeliveryStatus, SmsFailureReason } from '../types.js';

export const SEVEN_OK = '100';

const CODE_REASONS: Record<string, { reason: SmsFailureReason; text: string }> = {
  '201': { reason: 'invalid_number', text: 'the recipient country is not supported' },
  '202': { reason: 'invalid_number', text: 'the recipient number is invalid' },
  '300': { reason: 'auth', text: 'the API key is missing or wrong' },
  '301': { reason: 'bad_request', text: 'the recipient is missing' },
  '305': { reason: 'bad_request', text: 'the text is missing' },
  '306': { reason: 'bad_sender', text: 'the sender id is not accepted' },
  '401': { reason: 'too_long', text: 'the text is too long' },
  // Reload lock: the same text went to the same number within the last minutes,
  // so an earlier attempt already got through; sending again cannot help.
  '402': { reason: 'rejected', text: 'reload lock: the same message was sent moments ago' },
  '500': { reason: 'no_credit', text: 'the account has no credit left' },
  '600': { reason: 'unavailable', text: 'the carrier failed to take the message' },
  '700': { reason: 'unavailable', text: 'the gateway reported an unknown error' },
  '900': { reason: 'auth', text: 'authentication failed' },
  '902': { reason: 'auth', text: 'the HTTP API is disabled for this account' },
  '903': { reason: 'auth', text: 'the server IP address is not allowed for this account' },
};

export function reasonForSevenCode(code: string): { reason: SmsFailureReason; text: string } {
  return CODE_REASONS[code] ?? { reason: 'rejected', text: `the gateway answered with unknown code ${code}` };
}

const STATUSES: Record<string, DeliveryStatus> = {
  DELIVERED: 'delivered',
  NOTDELIVERED: 'failed',
  BUFFERED: 'buffered',
  TRANSMITTED: 'accepted',
  ACCEPTED: 'accepted',
  EXPIRED: 'expired',
  REJECTED: 'rejected',
  FAILED: 'failed',
};

export function statusForSeven(status: string): DeliveryStatus {
  return STATUSES[status.toUpperCase()] ?? 'unknown';
}
