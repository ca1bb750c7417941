import { describe, expect, it } from 'vitest';
import { maskDateOfBirth, maskMobile, maskName } from '../../src/core/masking.js';

describe('masking personal data for staff screens', () => {
  it('shows a name as the initials of the given names and the family name', () => {
    expect(maskName('Amina Zoë', 'Abdullahi')).toBe('A. A.');
    expect(maskName('ömer', 'Yılmaz')).toBe('Ö. Y.');
    expect(maskName('', 'Nguyen')).toBe('N.');
  });

  it('shows a German mobile number with its area code and last four digits only', () => {
    expect(maskMobile('+4915123456789')).toBe('+49 151 ****6789');
    expect(maskMobile('+491701234567')).toBe('+49 170 ****4567');
  });

  it('shows other numbers with two digits of the country code and the last four digits', () => {
    expect(maskMobile('+33612345678')).toBe('+33 ****5678');
    expect(maskMobile('12345')).toBe('****');
  });

  it('shows only the year of a date of birth, also a partial one', () => {
    expect(maskDateOfBirth('1991-04-17')).toBe('1991');
    expect(maskDateOfBirth('1990')).toBe('1990');
    expect(maskDateOfBirth('')).toBe('****');
  });
});
