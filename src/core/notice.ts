/**
 * The canonical "document(s) ready for pickup" notice. Every inbound format
 * (JSON over REST, the canonical SOAP format, XÖV-style XML of a case-system
 * vendor) is mapped onto this shape before anything else happens.
 */
import { z } from 'zod';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { DokuboxError, type ErrorCode } from './errors.js';
import { isFullDate, parsePartialDate } from './dates.js';
import type { DocumentTypeCatalog } from './documents.js';
import { failValidation } from './validation.js';

export const SUPPORTED_LANGUAGES = ['de', 'en', 'ar', 'uk', 'ru', 'tr', 'fa', 'fr'] as const;

const ID_PATTERN = /^[A-Za-z0-9._:@-]+$/;
const LANGUAGE_PATTERN = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/;
const CAN_PATTERN = /^[0-9]{6}$/;

const id = z.string().trim().min(1).max(64).regex(ID_PATTERN, 'use only letters, digits and . _ : @ -');

export const noticeSchema = z.strictObject({
  messageId: id,
  authority: id,
  caseNumber: z.string().trim().min(1).max(64),
  boxId: id,
  person: z.strictObject({
    familyName: z.string().trim().min(1).max(200),
    givenNames: z.string().trim().max(200).default(''),
    dateOfBirth: z.string().trim(),
  }),
  documents: z
    .array(
      z.strictObject({
        type: z.string().trim().min(1).max(64),
        serialNumber: z.string().trim().min(1).max(32),
        validUntil: z.string().trim().optional(),
      }),
    )
    .min(1)
    .max(5),
  mobile: z.string().trim().min(3).max(32),
  language: z.string().trim().toLowerCase().regex(LANGUAGE_PATTERN, 'use an ISO 639 language code such as de, en or ar').default('de'),
  consent: z.boolean(),
  accessible: z.boolean().default(false),
  /** The applicant has an older card that this document renews. */
  renewal: z.boolean().default(false),
  /** Card access number (CAN) of the old card; only with renewal. Never stored in clear. */
  oldCardCan: z.string().trim().regex(CAN_PATTERN, 'must be exactly 6 digits (the card access number printed on the front of the old card)').optional(),
});

export type NoticeInput = z.input<typeof noticeSchema>;
type NoticeFields = z.output<typeof noticeSchema>;

const NOTICE_KEYS = new Set(Object.keys(noticeSchema.shape));
const PERSON_KEYS = new Set(Object.keys(noticeSchema.shape.person.shape));
const DOCUMENT_KEYS = new Set(Object.keys(noticeSchema.shape.documents.element.shape));

/** A plain object (what JSON.parse and the XML mappings build) whose own keys are all in `allowed` and none undefined. */
function plainWith(value: unknown, allowed: ReadonlySet<string>): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key) || !allowed.has(key) || (value as Record<string, unknown>)[key] === undefined) return false;
  }
  return true;
}

/** The trimmed text when `value` is a string whose trimmed length is within [min, max]; else undefined. */
function trimmed(value: unknown, min: number, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text.length >= min && text.length <= max ? text : undefined;
}

function idOf(value: unknown): string | undefined {
  const text = trimmed(value, 1, 64);
  return text !== undefined && ID_PATTERN.test(text) ? text : undefined;
}

/**
 * The notice schema's result for a notice that passes every rule, computed directly (a notice is checked on every
 * request; zod's general machinery costs several times this); undefined for anything else, which noticeSchema then
 * judges and explains. Never accepts what the schema refuses and gives the schema's data
 * (tests/unit/notice-fast-path.test.ts compares both over many valid and invalid inputs).
 */
export function quickNoticeFields(input: unknown): NoticeFields | undefined {
  if (!plainWith(input, NOTICE_KEYS)) return undefined;
  const messageId = idOf(input.messageId);
  const authority = idOf(input.authority);
  const boxId = idOf(input.boxId);
  const caseNumber = trimmed(input.caseNumber, 1, 64);
  const mobile = trimmed(input.mobile, 3, 32);
  const consent = input.consent;
  if (messageId === undefined || authority === undefined || boxId === undefined || caseNumber === undefined || mobile === undefined || typeof consent !== 'boolean') return undefined;
  const person = input.person;
  if (!plainWith(person, PERSON_KEYS)) return undefined;
  const familyName = trimmed(person.familyName, 1, 200);
  const givenNames = person.givenNames === undefined ? '' : trimmed(person.givenNames, 0, 200);
  const dateOfBirth = trimmed(person.dateOfBirth, 0, Infinity);
  if (familyName === undefined || givenNames === undefined || dateOfBirth === undefined) return undefined;
  const list = input.documents;
  if (!Array.isArray(list) || list.length < 1 || list.length > 5) return undefined;
  const documents: NoticeFields['documents'] = [];
  for (let i = 0; i < list.length; i++) {
    const doc: unknown = list[i];
    if (!plainWith(doc, DOCUMENT_KEYS)) return undefined;
    const type = trimmed(doc.type, 1, 64);
    const serialNumber = trimmed(doc.serialNumber, 1, 32);
    if (type === undefined || serialNumber === undefined) return undefined;
    if (doc.validUntil === undefined) {
      documents.push({ type, serialNumber });
    } else {
      const validUntil = trimmed(doc.validUntil, 0, Infinity);
      if (validUntil === undefined) return undefined;
      documents.push({ type, serialNumber, validUntil });
    }
  }
  let language = 'de';
  if (input.language !== undefined) {
    if (typeof input.language !== 'string') return undefined;
    language = input.language.trim().toLowerCase();
    if (!LANGUAGE_PATTERN.test(language)) return undefined;
  }
  // Only an absent field takes its default (null is refused, as by the schema).
  const accessible = input.accessible === undefined ? false : input.accessible;
  const renewal = input.renewal === undefined ? false : input.renewal;
  if (typeof accessible !== 'boolean' || typeof renewal !== 'boolean') return undefined;
  const fields: NoticeFields = { messageId, authority, caseNumber, boxId, person: { familyName, givenNames, dateOfBirth }, documents, mobile, language, consent, accessible, renewal };
  if (input.oldCardCan !== undefined) {
    const can = trimmed(input.oldCardCan, 0, Infinity);
    if (can === undefined || !CAN_PATTERN.test(can)) return undefined;
    fields.oldCardCan = can;
  }
  return fields;
}

export interface NoticeDocument {
  type: string;
  serialNumber: string;
  validUntil?: string;
}

export interface CanonicalNotice {
  messageId: string;
  authority: string;
  caseNumber: string;
  boxId: string;
  person: { familyName: string; givenNames: string; dateOfBirth: string };
  documents: NoticeDocument[];
  /** E.164, mobile only. */
  mobile: string;
  language: string;
  consent: true;
  accessible: boolean;
  /** This document renews an older card of the applicant. */
  renewal: boolean;
  /** CAN (6 digits) of the renewed card; only with renewal. Stored only as a keyed hash (hashCan), never logged. */
  oldCardCan?: string;
}

function fail(code: ErrorCode, message: string, field: string): never {
  throw new DokuboxError(code, message, { field });
}

/** The last number normaliseMobile accepted, as given and as E.164 (see there). */
let lastMobile: { raw: string; e164: string } | undefined;

/**
 * Normalises a phone number to E.164 and insists it is a mobile number. A
 * notice mapped from XML is normalised by its mapping and then validated as a
 * notice: the second call, with the E.164 number the first returned, is
 * answered from the last result instead of parsing it again.
 */
export function normaliseMobile(raw: string, defaultCountry: 'DE' = 'DE'): string | undefined {
  if (lastMobile !== undefined && (raw === lastMobile.e164 || raw === lastMobile.raw)) return lastMobile.e164;
  const parsed = parsePhoneNumberFromString(raw, defaultCountry);
  if (parsed === undefined) return undefined;
  // getType() alone decides: a number with a type is valid (isValid() is `getType() !== undefined` whenever the
  // country has type patterns, and a type is only ever found there), so asking isValid() first would match the
  // same patterns twice (tests/unit/phone-mobile.test.ts compares both over many numbers).
  const type = parsed.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return undefined;
  lastMobile = { raw, e164: parsed.number };
  return parsed.number;
}

/**
 * Validates an untrusted notice and returns the canonical one, or throws a
 * DokuboxError naming the first offending field. Messages never echo values.
 */
export function parseNotice(input: unknown, catalog: DocumentTypeCatalog): CanonicalNotice {
  let data = quickNoticeFields(input);
  if (data === undefined) {
    const result = noticeSchema.safeParse(input);
    if (!result.success) failValidation(result.error, input);
    data = result.data;
  }
  if (!data.consent) fail('CONSENT_MISSING', 'The applicant has not consented to pickup at the box; hand the document over at the counter.', 'consent');
  if (!parsePartialDate(data.person.dateOfBirth)) {
    fail('INVALID_DATE', 'Field person.dateOfBirth must be YYYY, YYYY-MM or YYYY-MM-DD and a real date.', 'person.dateOfBirth');
  }
  data.documents.forEach((doc, index) => {
    if (!catalog.has(doc.type)) {
      fail('UNKNOWN_DOCUMENT_TYPE', `Field documents[${index}].type names an unknown document type; known types: ${catalog.ids().join(', ')}.`, `documents[${index}].type`);
    }
    if (!catalog.serialMatches(doc.type, doc.serialNumber)) {
      fail('VALIDATION_FAILED', `Field documents[${index}].serialNumber does not look like a document number of this type (letters and digits as printed).`, `documents[${index}].serialNumber`);
    }
    if (doc.validUntil !== undefined && !isFullDate(doc.validUntil)) {
      fail('INVALID_DATE', `Field documents[${index}].validUntil must be a real date YYYY-MM-DD.`, `documents[${index}].validUntil`);
    }
  });
  if (data.oldCardCan !== undefined && !data.renewal) {
    fail('VALIDATION_FAILED', 'Field oldCardCan is only allowed when renewal is true (it is the card access number of the card this document renews).', 'oldCardCan');
  }
  const serials = new Set(data.documents.map((d) => `${d.type}:${d.serialNumber}`));
  if (serials.size !== data.documents.length) fail('VALIDATION_FAILED', 'Field documents lists the same document twice.', 'documents');
  const mobile = normaliseMobile(data.mobile);
  if (mobile === undefined) {
    fail('INVALID_PHONE', 'Field mobile must be a valid mobile phone number (landlines cannot receive the SMS); use international format, e.g. +49 151 ...', 'mobile');
  }
  return {
    messageId: data.messageId,
    authority: data.authority,
    caseNumber: data.caseNumber,
    boxId: data.boxId,
    person: { familyName: data.person.familyName, givenNames: data.person.givenNames, dateOfBirth: data.person.dateOfBirth },
    documents: data.documents.map((d) => (d.validUntil === undefined ? { type: d.type, serialNumber: d.serialNumber } : { type: d.type, serialNumber: d.serialNumber, validUntil: d.validUntil })),
    mobile,
    language: data.language,
    consent: true,
    accessible: data.accessible,
    renewal: data.renewal,
    ...(data.oldCardCan === undefined ? {} : { oldCardCan: data.oldCardCan }),
  };
}

/**
 * What the idempotency fingerprint of a notice covers: all of it, the CAN
 * included (a resend with another CAN is a conflict). `renewal: false` is
 * left out, so a notice without the renewal fields keeps the fingerprint it
 * had before they existed (a resend across an upgrade stays a duplicate).
 */
export function fingerprintContent(notice: CanonicalNotice): Omit<CanonicalNotice, 'renewal'> & { renewal?: true } {
  const { renewal, ...rest } = notice;
  return renewal ? { ...rest, renewal } : rest;
}
