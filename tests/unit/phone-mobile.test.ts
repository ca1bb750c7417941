/**
 * normaliseMobile asks libphonenumber for the number's type only; before, it asked isValid() first and
 * then getType(). Both must accept and refuse exactly the same numbers and give the same E.164 form.
 */
import { getCountries, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { describe, expect, it } from 'vitest';
import { normaliseMobile } from '../../src/core/notice.js';

/** The former implementation, without the memo of the last number. */
function reference(raw: string): string | undefined {
  const parsed = parsePhoneNumberFromString(raw, 'DE');
  if (!parsed?.isValid()) return undefined;
  const type = parsed.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') return undefined;
  return parsed.number;
}

/** Every country's example mobile number and variants of it: each digit changed, shorter, longer, other leading digits. */
function candidates(): string[] {
  const out = new Set<string>(['', '+', 'abc', '0', '110', '+49', '+49 151', '0151 2345678', '0151 23456789', '030 1234567', '0800 1234567', '0900 1234567', '+49 32 12345678', '015123456789', '+4915123456789x12']);
  for (const country of getCountries()) {
    const national = (examples as Record<string, string | undefined>)[country];
    if (national === undefined) continue;
    const code = getCountryCallingCode(country);
    const variants = new Set<string>([national, national.slice(0, -1), `${national}0`, `${national}12`, national.slice(1)]);
    for (let position = 0; position < national.length; position++) {
      for (let digit = 0; digit <= 9; digit++) variants.add(`${national.slice(0, position)}${digit}${national.slice(position + 1)}`);
    }
    for (const variant of variants) {
      out.add(`+${code}${variant}`);
      out.add(`+${code} ${variant}`);
    }
    if (country === 'DE') for (const variant of variants) out.add(`0${variant}`);
  }
  // Random German numbers of every length, with and without the country code.
  let seed = 13;
  const random = (): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  for (let i = 0; i < 3_000; i++) {
    let digits = '';
    const length = 3 + Math.floor(random() * 13);
    for (let k = 0; k < length; k++) digits += String(Math.floor(random() * 10));
    out.add(`+49${digits}`);
    out.add(`0${digits}`);
    out.add(`+${digits}`);
  }
  return [...out];
}

describe('normaliseMobile', () => {
  it('accepts and refuses exactly the numbers isValid() + getType() did, with the same E.164 form', () => {
    const numbers = candidates();
    let accepted = 0;
    const differences: string[] = [];
    for (const raw of numbers) {
      const expected = reference(raw);
      if (expected !== undefined) accepted += 1;
      if (normaliseMobile(raw) !== expected) differences.push(raw);
    }
    expect(differences).toEqual([]);
    // The sample covers both sides well.
    expect(numbers.length).toBeGreaterThan(40_000);
    expect(accepted).toBeGreaterThan(20_000);
    expect(numbers.length - accepted).toBeGreaterThan(10_000);
  });
});
