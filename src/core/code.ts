/**
 * Pickup codes: six digits from a CSPRNG, stored only as a keyed hash (HMAC
 * with a secret from configuration, bound to the box), verified in constant
 * time together with the date of birth. Uniqueness among a box's live codes
 * is enforced atomically by the store (a drawn duplicate is drawn again).
 */
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { parseEnteredDate, parsePartialDate, partialDateMatches } from './dates.js';

export const CODE_LENGTH = 6;

export function generateCode(random: (max: number) => number = randomInt): string {
  return String(random(10 ** CODE_LENGTH)).padStart(CODE_LENGTH, '0');
}

export function isWellFormedCode(code: string): boolean {
  return /^\d{6}$/.test(code);
}

/** Keyed hash of a code at one box: the only form in which a code is stored. */
export function hashCode(secret: string | Buffer, boxId: string, code: string): string {
  return createHmac('sha256', secret).update(`pickup-code\u0000${boxId}\u0000${code}`).digest('hex');
}

/** Keyed hash of the card access number (CAN) of an applicant's old card at one box: the only form in which a CAN is kept. */
export function hashCan(secret: string | Buffer, boxId: string, can: string): string {
  return createHmac('sha256', secret).update(`card-access-number\u0000${boxId}\u0000${can}`).digest('hex');
}

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  if (left.length !== right.length || left.length === 0) {
    // Compare anyway so that the time does not reveal which check failed.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/**
 * Checks code and date of birth together; both checks always run so the time
 * taken does not tell which one failed.
 */
export function verifyCodeAndBirthDate(
  params: { secret: string | Buffer; boxId: string; storedCodeHash: string; storedDateOfBirth: string },
  entered: { code: string; dateOfBirth: string },
): boolean {
  const codeOk = hashesEqual(params.storedCodeHash, hashCode(params.secret, params.boxId, entered.code));
  const stored = parsePartialDate(params.storedDateOfBirth);
  const given = parseEnteredDate(entered.dateOfBirth);
  const dobOk = stored !== undefined && given !== undefined && partialDateMatches(stored, given);
  return codeOk && dobOk;
}
