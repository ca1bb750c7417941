/**
 * What a clerk sees of an applicant before revealing (docs/security.md):
 * initials, the mobile number's country code, area code and last four
 * digits, the year of birth.
 */

/** `Amina Zoë` `Abdullahi` -> `A. A.` (first letter of the given names, then of the family name). */
export function maskName(givenNames: string, familyName: string): string {
  const initial = (s: string): string => {
    const first = [...s.trim()][0];
    return first === undefined ? '' : `${first.toUpperCase()}.`;
  };
  return [initial(givenNames), initial(familyName)].filter((s) => s !== '').join(' ');
}

/** `+4915123456789` -> `+49 151 ****6789`; other countries: `+` and the first two digits, then the last four. */
export function maskMobile(mobile: string): string {
  const digits = mobile.replace(/[^0-9]/g, '');
  const last = digits.slice(-4);
  if (mobile.startsWith('+49') && digits.length >= 9) return `+49 ${digits.slice(2, 5)} ****${last}`;
  if (digits.length >= 8) return `+${digits.slice(0, 2)} ****${last}`;
  return '****';
}

/** `1991-04-17` -> `1991`. */
export function maskDateOfBirth(dateOfBirth: string): string {
  return /^\d{4}/.exec(dateOfBirth)?.[0] ?? '****';
}
