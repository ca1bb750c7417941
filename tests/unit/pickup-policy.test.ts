import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { frontGrid, frontPosition } from '../../src/core/box.js';
import { hashCan, hashCode, hashesEqual } from '../../src/core/code.js';
import { verificationMethodOf, factorsMatch, factorsWellFormed, missingFactors, policyProblems, POLICY_PRESETS, type EnteredFactors, type PickupPolicy } from '../../src/core/pickup-policy.js';
import { loadBoxFile } from '../../src/mappings/loaders.js';

const SECRET = Buffer.alloc(32, 7);
const BOX = 'box-1';
const stored = (over: Partial<{ renewal: boolean; can: string; dateOfBirth: string }> = {}) => ({
  codeHash: hashCode(SECRET, BOX, '482915'),
  mobile: '+4915112345678',
  dateOfBirth: over.dateOfBirth ?? '1991-04-17',
  renewal: over.renewal ?? false,
  canHash: over.can === undefined ? undefined : hashCan(SECRET, BOX, over.can),
});
const check = (policy: PickupPolicy, entered: EnteredFactors, s = stored()) =>
  factorsMatch(policy, s, entered, { codeHash: hashCode(SECRET, BOX, entered.code), canHash: entered.can === undefined ? '' : hashCan(SECRET, BOX, entered.can), equal: hashesEqual });

describe('pickup policies', () => {
  it('Magdeburg takes mobile number (in any usual format), code and date of birth, all of them right', () => {
    const p = POLICY_PRESETS.magdeburg;
    expect(check(p, { mobile: '0151 12345678', code: '482915', dateOfBirth: '17.04.1991' })).toBe(true);
    expect(check(p, { mobile: '+49 151 12345678', code: '482915', dateOfBirth: '1991-04-17' })).toBe(true);
    expect(check(p, { mobile: '0151 12345679', code: '482915', dateOfBirth: '17.04.1991' })).toBe(false);
    expect(check(p, { mobile: '015112345678', code: '482916', dateOfBirth: '17.04.1991' })).toBe(false);
    expect(check(p, { mobile: '015112345678', code: '482915', dateOfBirth: '18.04.1991' })).toBe(false);
    expect(check(p, { mobile: '015112345678', code: '482915' })).toBe(false);
  });

  it('Bochum takes mobile number and code', () => {
    expect(check(POLICY_PRESETS.bochum, { mobile: '015112345678', code: '482915' })).toBe(true);
    expect(check(POLICY_PRESETS.bochum, { mobile: '015112340000', code: '482915' })).toBe(false);
  });

  it('Dortmund proves a renewal by the old card’s CAN and a first card by the date of birth, and needs the PIN letter', () => {
    const p = POLICY_PRESETS.dortmund;
    const renewal = stored({ renewal: true, can: '314159' });
    expect(check(p, { mobile: '015112345678', code: '482915', pinLetter: true, can: '314159' }, renewal)).toBe(true);
    expect(check(p, { mobile: '015112345678', code: '482915', pinLetter: true, can: '314158' }, renewal)).toBe(false);
    expect(check(p, { mobile: '015112345678', code: '482915', pinLetter: true, dateOfBirth: '17.04.1991' }, renewal)).toBe(false);
    expect(check(p, { mobile: '015112345678', code: '482915', pinLetter: true, dateOfBirth: '17.04.1991' })).toBe(true);
    expect(check(p, { mobile: '015112345678', code: '482915', pinLetter: true, can: '314159' })).toBe(false);
    expect(check(p, { mobile: '015112345678', code: '482915', pinLetter: false, can: '314159' }, renewal)).toBe(false);
  });

  it('matches a partly unknown date of birth only in its partial form', () => {
    const partial = stored({ dateOfBirth: '1990' });
    expect(check(POLICY_PRESETS.magdeburg, { mobile: '015112345678', code: '482915', dateOfBirth: 'XX.XX.1990' }, partial)).toBe(true);
    expect(check(POLICY_PRESETS.magdeburg, { mobile: '015112345678', code: '482915', dateOfBirth: '01.01.1990' }, partial)).toBe(false);
  });

  it('tells malformed and missing entries apart from wrong ones', () => {
    const p = POLICY_PRESETS.dortmund;
    expect(factorsWellFormed(p, { code: '48291', mobile: '0151', pinLetter: true, can: '314159' })).toBe(false);
    expect(factorsWellFormed(p, { code: '482915', mobile: '0151123', pinLetter: true, can: '31415' })).toBe(false);
    expect(factorsWellFormed(p, { code: '482915', mobile: '0151123', pinLetter: true, can: '314159', dateOfBirth: '17.04.1991' })).toBe(false);
    expect(factorsWellFormed(p, { code: '482915', mobile: '0151123', pinLetter: true, can: '314159' })).toBe(true);
    expect(missingFactors(p, { code: '482915' })).toEqual(['mobile', 'pinLetter', 'dateOfBirth or can']);
    expect(missingFactors(POLICY_PRESETS.bochum, { code: '1', mobile: 'x' })).toEqual([]);
  });

  it('names the verification method for the case system after the policy', () => {
    expect(verificationMethodOf(POLICY_PRESETS.magdeburg)).toBe('sms-code+mobile+date-of-birth');
    expect(verificationMethodOf(POLICY_PRESETS.bochum)).toBe('sms-code+mobile');
    expect(verificationMethodOf({ steps: ['code', 'dateOfBirth'], oldDocument: 'none' })).toBe('sms-code+date-of-birth');
  });

  it('refuses policies that are unsafe or contradictory', () => {
    expect(policyProblems({ steps: ['mobile', 'dateOfBirth'], oldDocument: 'none' })).toContain('steps must include code');
    expect(policyProblems({ steps: ['code'], oldDocument: 'none' })[0]).toMatch(/second factor/);
    expect(policyProblems({ steps: ['code', 'code', 'mobile'], oldDocument: 'none' })).toContain('steps must not repeat a step');
    expect(policyProblems({ steps: ['code', 'dateOfBirth', 'dateOfBirthOrCan'], oldDocument: 'none' })[0]).toMatch(/either/);
    for (const preset of Object.values(POLICY_PRESETS)) expect(policyProblems(preset)).toEqual([]);
  });
});

describe('the box front', () => {
  const box = { front: { columns: 3, rows: 2 }, compartments: ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, size: 'S' as const, heightCm: 50, accessible: false })) };

  it('places compartments column by column from the bottom', () => {
    expect(frontPosition(box, 'a')).toEqual({ column: 0, row: 0, columns: 3, rows: 2 });
    expect(frontPosition(box, 'b')).toEqual({ column: 0, row: 1, columns: 3, rows: 2 });
    expect(frontPosition(box, 'e')).toEqual({ column: 2, row: 0, columns: 3, rows: 2 });
    expect(frontPosition(box, 'zz')).toBeUndefined();
    expect(frontGrid({ compartments: box.compartments })).toEqual({ columns: 2, rows: 3 });
  });
});

describe('box files', () => {
  const write = (extra: string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'box-'));
    const file = join(dir, 'box.yaml');
    writeFileSync(
      file,
      `id: b\nauthority: a\nname: B\nlocation: L\ntimeZone: Europe/Berlin\nholidayState: ST\nopeningHours: { mon: ["08:00-18:00"] }\n${extra}\ncompartments:\n  - { id: "1", size: S, heightCm: 90, accessible: true }\n  - { id: "2", size: S, heightCm: 90, accessible: true }\n`,
    );
    return file;
  };

  it('reads a preset, explicit steps, and the default of code and date of birth', () => {
    expect(loadBoxFile(write('pickup: { preset: bochum }')).pickup).toEqual(POLICY_PRESETS.bochum);
    expect(loadBoxFile(write('pickup: { steps: [code, mobile], oldDocument: returnSlot }')).pickup).toEqual({ steps: ['code', 'mobile'], oldDocument: 'returnSlot' });
    expect(loadBoxFile(write('')).pickup).toEqual({ steps: ['code', 'dateOfBirth'], oldDocument: 'none' });
    expect(loadBoxFile(write('')).kioskIdleSeconds).toBe(60);
  });

  it('names the field of a policy without a second factor, an unknown preset, and a front too small', () => {
    expect(() => loadBoxFile(write('pickup: { steps: [code] }'))).toThrow(/pickup.*second factor/);
    expect(() => loadBoxFile(write('pickup: { preset: hamburg }'))).toThrow(/pickup/);
    expect(() => loadBoxFile(write('front: { columns: 1, rows: 1 }'))).toThrow(/front.*1 places for 2 compartments/);
  });
});
