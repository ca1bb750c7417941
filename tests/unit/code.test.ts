import { describe, expect, it } from 'vitest';
import { generateCode, hashCan, hashCode, hashesEqual, isWellFormedCode, verifyCodeAndBirthDate } from '../../src/core/code.js';
import { parseEnteredDate, parsePartialDate, partialDateMatches } from '../../src/core/dates.js';

const secret = Buffer.alloc(32, 7);

describe('pickup codes', () => {
  it('are six digits, leading zeros kept', () => {
    expect(generateCode(() => 42)).toBe('000042');
    for (let i = 0; i < 200; i += 1) expect(isWellFormedCode(generateCode())).toBe(true);
  });

  it('hash differently per box and per secret, and never contain the code', () => {
    const a = hashCode(secret, 'box-a', '123456');
    expect(a).not.toBe(hashCode(secret, 'box-b', '123456'));
    expect(a).not.toBe(hashCode(Buffer.alloc(32, 8), 'box-a', '123456'));
    expect(a).not.toContain('123456');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('compares hashes safely, also for different lengths', () => {
    expect(hashesEqual('abcd', 'abcd')).toBe(true);
    expect(hashesEqual('abcd', 'abce')).toBe(false);
    expect(hashesEqual('abcd', 'ab')).toBe(false);
  });

  const stored = (dob: string) => ({ secret, boxId: 'b', storedCodeHash: hashCode(secret, 'b', '654321'), storedDateOfBirth: dob });

  it('verifies the right code with the right date of birth', () => {
    expect(verifyCodeAndBirthDate(stored('1990-05-17'), { code: '654321', dateOfBirth: '1990-05-17' })).toBe(true);
  });

  it('rejects a wrong code', () => {
    expect(verifyCodeAndBirthDate(stored('1990-05-17'), { code: '654320', dateOfBirth: '1990-05-17' })).toBe(false);
  });

  it('rejects a wrong date of birth', () => {
    expect(verifyCodeAndBirthDate(stored('1990-05-17'), { code: '654321', dateOfBirth: '1990-05-18' })).toBe(false);
    expect(verifyCodeAndBirthDate(stored('1990-05-17'), { code: '654321', dateOfBirth: '1990-05' })).toBe(false);
  });

  it('accepts a year-only date of birth only in its partial form, as the document prints it', () => {
    for (const entered of ['1990', 'XX.XX.1990', 'xx.xx.1990', '00.00.1990']) {
      expect(verifyCodeAndBirthDate(stored('1990'), { code: '654321', dateOfBirth: entered }), entered).toBe(true);
    }
  });

  it('refuses any full date, or a year and month, for a year-only date of birth', () => {
    for (const entered of ['1990-06-15', '1990-01-01', '15.06.1990', '1990-06', 'XX.06.1990', '1991', 'XX.XX.1991']) {
      expect(verifyCodeAndBirthDate(stored('1990'), { code: '654321', dateOfBirth: entered }), entered).toBe(false);
    }
  });

  it('accepts a year-and-month date of birth only as year and month', () => {
    for (const entered of ['1990-05', 'XX.05.1990', '00.05.1990']) {
      expect(verifyCodeAndBirthDate(stored('1990-05'), { code: '654321', dateOfBirth: entered }), entered).toBe(true);
    }
    for (const entered of ['1990-05-30', '30.05.1990', '1990', 'XX.XX.1990', '1990-06', 'XX.06.1990']) {
      expect(verifyCodeAndBirthDate(stored('1990-05'), { code: '654321', dateOfBirth: entered }), entered).toBe(false);
    }
  });

  it('accepts a full date of birth in ISO and in German form, and no partial form of it', () => {
    for (const entered of ['1990-05-17', '17.05.1990']) expect(verifyCodeAndBirthDate(stored('1990-05-17'), { code: '654321', dateOfBirth: entered }), entered).toBe(true);
    for (const entered of ['1990', '1990-05', 'XX.05.1990', 'XX.XX.1990']) expect(verifyCodeAndBirthDate(stored('1990-05-17'), { code: '654321', dateOfBirth: entered }), entered).toBe(false);
  });

  it('rejects impossible entered dates', () => {
    expect(verifyCodeAndBirthDate(stored('1990'), { code: '654321', dateOfBirth: '1990-02-30' })).toBe(false);
  });
});

describe('partial dates', () => {
  it.each([
    ['1990', { year: 1990 }],
    ['1990-05', { year: 1990, month: 5 }],
    ['2000-02-29', { year: 2000, month: 2, day: 29 }],
  ])('parses %s', (text, expected) => expect(parsePartialDate(text)).toEqual(expected));

  it.each(['1990-13', '1990-00', '1900-02-29', '2023-02-29', '1990-04-31', '90-01-01', '1990-1-1', '', '1800', '2101'])('rejects %s', (text) => {
    expect(parsePartialDate(text)).toBeUndefined();
  });

  it('match only in the same precision', () => {
    expect(partialDateMatches({ year: 1990, month: 5 }, { year: 1990 })).toBe(false);
    expect(partialDateMatches({ year: 1990 }, { year: 1990, month: 5, day: 1 })).toBe(false);
    expect(partialDateMatches({ year: 1990 }, { year: 1990, month: 5 })).toBe(false);
    expect(partialDateMatches({ year: 1990, month: 5 }, { year: 1990, month: 5, day: 1 })).toBe(false);
    expect(partialDateMatches({ year: 1990 }, { year: 1990 })).toBe(true);
    expect(partialDateMatches({ year: 1990, month: 5 }, { year: 1990, month: 5 })).toBe(true);
  });

  it.each([
    ['XX.XX.1990', { year: 1990 }],
    ['00.00.1990', { year: 1990 }],
    ['XX.05.1990', { year: 1990, month: 5 }],
    ['00.05.1990', { year: 1990, month: 5 }],
    ['17.05.1990', { year: 1990, month: 5, day: 17 }],
    ['1990', { year: 1990 }],
    ['1990-05', { year: 1990, month: 5 }],
    [' 1990-05-17 ', { year: 1990, month: 5, day: 17 }],
  ])('reads the entered date %s as the document prints it', (text, expected) => expect(parseEnteredDate(text)).toEqual(expected));

  it.each(['17.XX.1990', '17.00.1990', '31.04.1990', '29.02.2023', 'XX.13.1990', '1.5.1990', 'XX-XX-1990', '1990-XX', ''])('refuses the entered date %s', (text) => {
    expect(parseEnteredDate(text)).toBeUndefined();
  });
});

describe('card access numbers (CAN) of renewed cards', () => {
  it('hash per box and per secret, never contain the CAN, and differ from a pickup code of the same digits', () => {
    const a = hashCan(secret, 'box-a', '123456');
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).toBe(hashCan(secret, 'box-a', '123456'));
    expect(a).not.toBe(hashCan(secret, 'box-b', '123456'));
    expect(a).not.toBe(hashCan(Buffer.alloc(32, 8), 'box-a', '123456'));
    expect(a).not.toBe(hashCan(secret, 'box-a', '123457'));
    expect(a).not.toBe(hashCode(secret, 'box-a', '123456'));
    expect(a).not.toContain('123456');
  });
});
