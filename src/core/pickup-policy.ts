/**
 * How applicants prove who they are at a box, and what happens with their
 * old document: a box file's `pickup:` block. Authorities differ:
 *
 *   Magdeburg: mobile number, code, date of birth; old document into a return slot.
 *   Bochum:    mobile number and code; old document into the compartment.
 *   Dortmund:  mobile number, code, "has the PIN letter arrived?", then the date
 *              of birth on a first issue or the CAN of the old card on a
 *              renewal; the old card into a slot for destruction.
 *
 * Every factor is entered first and checked together (`factorsMatch`), so no
 * answer tells which factor was wrong, or whether a code exists.
 */
import { parseEnteredDate, parsePartialDate, partialDateMatches } from './dates.js';
import { normaliseMobile } from './notice.js';

export const POLICY_STEPS = ['mobile', 'code', 'pinLetter', 'dateOfBirth', 'dateOfBirthOrCan'] as const;
export type PolicyStep = (typeof POLICY_STEPS)[number];

/** What the applicant does with the old document after taking the new one. */
export const OLD_DOCUMENT_HANDLING = ['none', 'returnSlot', 'intoCompartment', 'destructionSlot'] as const;
export type OldDocumentHandling = (typeof OLD_DOCUMENT_HANDLING)[number];

export interface PickupPolicy {
  steps: readonly PolicyStep[];
  oldDocument: OldDocumentHandling;
}

/** The behaviour of boxes whose file has no `pickup:` block: code and date of birth. */
export const DEFAULT_POLICY: PickupPolicy = { steps: ['code', 'dateOfBirth'], oldDocument: 'none' };

export const POLICY_PRESETS: Readonly<Record<'magdeburg' | 'bochum' | 'dortmund', PickupPolicy>> = {
  magdeburg: { steps: ['mobile', 'code', 'dateOfBirth'], oldDocument: 'returnSlot' },
  bochum: { steps: ['mobile', 'code'], oldDocument: 'intoCompartment' },
  dortmund: { steps: ['mobile', 'code', 'pinLetter', 'dateOfBirthOrCan'], oldDocument: 'destructionSlot' },
};

/** Problems of a policy from a box file (empty when it is sound). */
export function policyProblems(policy: PickupPolicy): string[] {
  const problems: string[] = [];
  const steps = policy.steps;
  if (!steps.includes('code')) problems.push('steps must include code');
  if (new Set(steps).size !== steps.length) problems.push('steps must not repeat a step');
  if (!steps.some((s) => s === 'mobile' || s === 'dateOfBirth' || s === 'dateOfBirthOrCan')) {
    problems.push('steps need a second factor besides the code: mobile, dateOfBirth or dateOfBirthOrCan');
  }
  if (steps.includes('dateOfBirth') && steps.includes('dateOfBirthOrCan')) problems.push('steps take either dateOfBirth or dateOfBirthOrCan, not both');
  return problems;
}

/** What the applicant entered at the box. */
export interface EnteredFactors {
  code: string;
  mobile?: string | undefined;
  dateOfBirth?: string | undefined;
  /** Card access number of the old card (renewals at boxes asking dateOfBirthOrCan). */
  can?: string | undefined;
  /** The answer to "has the PIN letter arrived?". */
  pinLetter?: boolean | undefined;
}

/** What the pickup holds to compare against (the code and CAN only as keyed hashes). */
export interface StoredFactors {
  codeHash: string;
  mobile: string;
  dateOfBirth: string;
  renewal: boolean;
  canHash: string | undefined;
}

export interface FactorHashes {
  /** Keyed hash of the entered code. */
  codeHash: string;
  /** Keyed hash of the entered CAN ('' when none was entered). */
  canHash: string;
  /** Constant-time comparison of two hex hashes. */
  equal(a: string, b: string): boolean;
}

/** The entries a policy needs that are absent (a malformed request, not a guess): field names. */
export function missingFactors(policy: PickupPolicy, entered: Partial<EnteredFactors>): string[] {
  const missing: string[] = [];
  if (entered.code === undefined) missing.push('code');
  for (const step of policy.steps) {
    if (step === 'mobile' && entered.mobile === undefined) missing.push('mobile');
    if (step === 'dateOfBirth' && entered.dateOfBirth === undefined) missing.push('dateOfBirth');
    if (step === 'pinLetter' && entered.pinLetter === undefined) missing.push('pinLetter');
    if (step === 'dateOfBirthOrCan' && entered.dateOfBirth === undefined && entered.can === undefined) missing.push('dateOfBirth or can');
  }
  return missing;
}

/** Format checks before anything is looked up: a malformed entry is a failed attempt without a lookup. */
export function factorsWellFormed(policy: PickupPolicy, entered: EnteredFactors): boolean {
  if (!/^\d{6}$/.test(entered.code)) return false;
  for (const step of policy.steps) {
    if (step === 'mobile' && (entered.mobile === undefined || entered.mobile.length < 3 || entered.mobile.length > 32)) return false;
    if (step === 'dateOfBirth' && entered.dateOfBirth === undefined) return false;
    if (step === 'pinLetter' && entered.pinLetter !== true) return false;
    if (step === 'dateOfBirthOrCan' && (entered.dateOfBirth === undefined) === (entered.can === undefined)) return false;
    if (step === 'dateOfBirthOrCan' && entered.can !== undefined && !/^\d{6}$/.test(entered.can)) return false;
  }
  return true;
}

/**
 * Do the entered factors match the stored ones under the policy? Every
 * comparison runs whatever the outcome of the others, so the time taken does
 * not depend on which factor was wrong.
 */
export function factorsMatch(policy: PickupPolicy, stored: StoredFactors, entered: EnteredFactors, hashes: FactorHashes): boolean {
  const codeOk = hashes.equal(stored.codeHash, hashes.codeHash);
  const mobileOk = normaliseMobile(entered.mobile ?? '') === stored.mobile;
  const storedDate = parsePartialDate(stored.dateOfBirth);
  const enteredDate = entered.dateOfBirth === undefined ? undefined : parseEnteredDate(entered.dateOfBirth);
  const dateOk = storedDate !== undefined && enteredDate !== undefined && partialDateMatches(storedDate, enteredDate);
  const canOk = hashes.equal(stored.canHash ?? '', hashes.canHash);
  let ok = codeOk;
  for (const step of policy.steps) {
    if (step === 'mobile') ok = ok && mobileOk;
    else if (step === 'dateOfBirth') ok = ok && dateOk;
    else if (step === 'pinLetter') ok = ok && entered.pinLetter === true;
    // A renewal is proven with the old card's CAN, a first issue with the date of birth.
    else if (step === 'dateOfBirthOrCan') ok = ok && (stored.renewal ? entered.can !== undefined && canOk : entered.dateOfBirth !== undefined && dateOk);
  }
  return ok;
}

/**
 * How a pickup at a box with this policy was verified, as the case system's
 * `collected` report says it: `sms-code` and the policy's other steps, e.g.
 * `sms-code+mobile+date-of-birth` (Magdeburg), `sms-code+mobile` (Bochum).
 */
export function verificationMethodOf(policy: PickupPolicy): string {
  const names: Record<PolicyStep, string> = { code: 'sms-code', mobile: 'mobile', pinLetter: 'pin-letter', dateOfBirth: 'date-of-birth', dateOfBirthOrCan: 'date-of-birth-or-can' };
  return ['sms-code', ...policy.steps.filter((s) => s !== 'code').map((s) => names[s])].join('+');
}
