import { describe, expect, it } from 'vitest';
import { DocumentTypeCatalog } from '../../src/core/documents.js';
import { DokuboxError } from '../../src/core/errors.js';
import { fingerprintContent, normaliseMobile, parseNotice } from '../../src/core/notice.js';
import { loadDocumentTypes } from '../../src/mappings/loaders.js';

const catalog = new DocumentTypeCatalog(loadDocumentTypes('mappings/document-types.yaml'));

const valid = () => ({
  messageId: 'msg-1',
  authority: 'magdeburg-abh',
  caseNumber: 'AZ-1',
  boxId: 'md-foyer',
  person: { familyName: 'Nguyễn', givenNames: 'Thị Hương', dateOfBirth: '1990' },
  documents: [
    { type: 'eAT', serialNumber: 'Y12345678' },
    { type: 'travel-refugee', serialNumber: 'R1234567', validUntil: '2031-05-01' },
  ],
  mobile: '0151 234 567 89',
  language: 'AR',
  consent: true,
});

function errorOf(input: unknown): DokuboxError {
  try {
    parseNotice(input, catalog);
  } catch (error) {
    if (error instanceof DokuboxError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('canonical notice validation', () => {
  it('accepts a notice with two documents, a partial birth date and normalises phone and language', () => {
    const notice = parseNotice(valid(), catalog);
    expect(notice.mobile).toBe('+4915123456789');
    expect(notice.language).toBe('ar');
    expect(notice.accessible).toBe(false);
    expect(notice.documents).toHaveLength(2);
  });

  it.each([
    ['missing field', (n: Record<string, unknown>) => delete n.caseNumber, 'VALIDATION_FAILED', 'caseNumber'],
    ['wrong type', (n: Record<string, unknown>) => (n.consent = 'yes'), 'VALIDATION_FAILED', 'consent'],
    ['unknown field', (n: Record<string, unknown>) => (n.extra = 1), 'VALIDATION_FAILED', 'extra'],
    ['no documents', (n: Record<string, unknown>) => (n.documents = []), 'VALIDATION_FAILED', 'documents'],
    ['no consent', (n: Record<string, unknown>) => (n.consent = false), 'CONSENT_MISSING', 'consent'],
    ['impossible birth date', (n: Record<string, unknown>) => ((n.person as Record<string, unknown>).dateOfBirth = '1990-02-30'), 'INVALID_DATE', 'person.dateOfBirth'],
    ['German-format birth date', (n: Record<string, unknown>) => ((n.person as Record<string, unknown>).dateOfBirth = '17.05.1990'), 'INVALID_DATE', 'person.dateOfBirth'],
    ['unknown document type', (n: Record<string, unknown>) => ((n.documents as Record<string, unknown>[])[0]!.type = 'library-card'), 'UNKNOWN_DOCUMENT_TYPE', 'documents[0].type'],
    ['malformed serial', (n: Record<string, unknown>) => ((n.documents as Record<string, unknown>[])[0]!.serialNumber = 'ab-12'), 'VALIDATION_FAILED', 'documents[0].serialNumber'],
    ['invalid validUntil', (n: Record<string, unknown>) => ((n.documents as Record<string, unknown>[])[1]!.validUntil = '2031-13-01'), 'INVALID_DATE', 'documents[1].validUntil'],
    ['landline', (n: Record<string, unknown>) => (n.mobile = '+49 391 5400'), 'INVALID_PHONE', 'mobile'],
    ['not a phone number', (n: Record<string, unknown>) => (n.mobile = '12'), 'VALIDATION_FAILED', 'mobile'],
    ['garbage phone number', (n: Record<string, unknown>) => (n.mobile = 'call me maybe'), 'INVALID_PHONE', 'mobile'],
    ['bad message id', (n: Record<string, unknown>) => (n.messageId = 'has spaces'), 'VALIDATION_FAILED', 'messageId'],
  ])('rejects %s with %s naming the field', (_name, mutate, code, field) => {
    const input = valid() as unknown as Record<string, unknown>;
    mutate(input);
    const error = errorOf(input);
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
  });

  it('is not a renewal unless it says so, and then has no CAN', () => {
    const notice = parseNotice(valid(), catalog);
    expect(notice.renewal).toBe(false);
    expect(notice).not.toHaveProperty('oldCardCan');
  });

  it('accepts a renewal with the old card\'s CAN, and a renewal without one', () => {
    expect(parseNotice({ ...valid(), renewal: true, oldCardCan: ' 012345 ' }, catalog)).toMatchObject({ renewal: true, oldCardCan: '012345' });
    const withoutCan = parseNotice({ ...valid(), renewal: true }, catalog);
    expect(withoutCan.renewal).toBe(true);
    expect(withoutCan).not.toHaveProperty('oldCardCan');
  });

  it.each([
    ['a CAN without renewal', { oldCardCan: '482913' }, 'oldCardCan'],
    ['a CAN with renewal false', { renewal: false, oldCardCan: '482913' }, 'oldCardCan'],
    ['a CAN of five digits', { renewal: true, oldCardCan: '48291' }, 'oldCardCan'],
    ['a CAN of seven digits', { renewal: true, oldCardCan: '4829131' }, 'oldCardCan'],
    ['a CAN with letters', { renewal: true, oldCardCan: '48291A' }, 'oldCardCan'],
    ['a CAN with non-ASCII digits', { renewal: true, oldCardCan: '٤٨٢٩١٣' }, 'oldCardCan'],
    ['an empty CAN', { renewal: true, oldCardCan: '' }, 'oldCardCan'],
    ['a CAN as a number', { renewal: true, oldCardCan: 482913 }, 'oldCardCan'],
    ['renewal as a string', { renewal: 'true' }, 'renewal'],
  ])('refuses %s with VALIDATION_FAILED naming the field, without echoing the value', (_name, fields, field) => {
    const error = errorOf({ ...valid(), ...fields });
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.field).toBe(field);
    for (const digits of ['48291', '٤٨٢٩']) expect(error.message).not.toContain(digits);
  });

  it('fingerprints a notice without renewal as before the renewal fields existed, and covers the CAN', () => {
    const plain = parseNotice(valid(), catalog);
    expect(fingerprintContent(plain)).not.toHaveProperty('renewal');
    const { renewal: _renewal, ...before } = plain;
    expect(fingerprintContent(plain)).toEqual(before);
    const renewed = parseNotice({ ...valid(), renewal: true, oldCardCan: '482913' }, catalog);
    expect(fingerprintContent(renewed)).toMatchObject({ renewal: true, oldCardCan: '482913' });
  });

  it('rejects the same document twice', () => {
    const input = valid();
    input.documents = [input.documents[0]!, input.documents[0]!];
    expect(errorOf(input).field).toBe('documents');
  });

  it('never echoes personal values in its messages', () => {
    const input = valid();
    input.mobile = '+49 391 5400123';
    const error = errorOf(input);
    expect(error.message).not.toContain('5400');
  });

  it('accepts foreign mobile numbers in international format', () => {
    expect(normaliseMobile('+48 512 345 678')).toBe('+48512345678');
    expect(normaliseMobile('+380 67 123 4567')).toBe('+380671234567');
  });

  it('rejects a body that is not an object', () => {
    expect(errorOf([]).code).toBe('VALIDATION_FAILED');
    expect(errorOf(null).code).toBe('VALIDATION_FAILED');
  });
});
