/**
 * parseNotice checks a notice with quickNoticeFields first and asks the zod schema only when that declines.
 * The fast path must accept exactly what the schema accepts (for plain objects without undefined values, all
 * that JSON and the XML mappings produce) and give the schema's data; anything else goes to the schema.
 */
import { describe, expect, it } from 'vitest';
import { noticeSchema, quickNoticeFields } from '../../src/core/notice.js';

let seed = 7;
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

function text(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

const ALPHABETS = ['abcXYZ019', 'abc._:@-', 'ab c', 'äöüßÄ', 'a/b+c', 'DE-de', '0123456789', '\t \n', 'ab-cd12'];
const LENGTHS = [0, 1, 2, 3, 5, 6, 7, 31, 32, 33, 63, 64, 65, 199, 200, 201];

/** A value for any field: strings of every interesting length, padded or not, and values of other kinds. */
function anyValue(): unknown {
  const r = random();
  if (r < 0.7) {
    const core = text(random() < 0.5 ? pick(LENGTHS) : Math.floor(random() * 12), pick(ALPHABETS));
    const pad = random() < 0.3 ? pick([' ', '  ', '\t', '\u00a0', '\n ']) : '';
    return random() < 0.5 ? `${pad}${core}${pad}` : `${core}${pad}`;
  }
  return pick<unknown>([true, false, 0, 42, null, [], {}, ['x'], { a: 1 }, undefined, 'de', 'EN', ' ar ', 'de-AT', '123456', ' 123456 ', '12345', '2030-01-01']);
}

function validNotice(): Record<string, unknown> {
  const notice: Record<string, unknown> = {
    messageId: `MSG-${Math.floor(random() * 1e6)}`,
    authority: 'magdeburg-abh',
    caseNumber: ' AZ 12/3 ',
    boxId: 'md-foyer',
    person: { familyName: 'Kovačević', givenNames: 'Ana', dateOfBirth: '1990' },
    documents: [{ type: 'eAT', serialNumber: 'L01X00T47' }],
    mobile: '+49 151 23456789',
    consent: true,
  };
  if (random() < 0.5) notice.language = pick(['de', ' EN ', 'ar', 'de-at']);
  if (random() < 0.5) notice.accessible = random() < 0.5;
  if (random() < 0.3) {
    notice.renewal = true;
    if (random() < 0.7) notice.oldCardCan = pick(['482913', ' 482913 ']);
  }
  if (random() < 0.3) (notice.person as Record<string, unknown>).givenNames = undefined;
  if (random() < 0.3) delete (notice.person as Record<string, unknown>).givenNames;
  if (random() < 0.3) (notice.documents as unknown[]).push({ type: 'eAT', serialNumber: 'T22000129', validUntil: '2035-02-28' });
  return notice;
}

const TOP = ['messageId', 'authority', 'caseNumber', 'boxId', 'person', 'documents', 'mobile', 'language', 'consent', 'accessible', 'renewal', 'oldCardCan', 'extra'];
const PERSON = ['familyName', 'givenNames', 'dateOfBirth', 'extra'];
const DOCUMENT = ['type', 'serialNumber', 'validUntil', 'extra'];

function mutate(notice: Record<string, unknown>): void {
  const r = random();
  const target: Record<string, unknown> =
    r < 0.5 ? notice : r < 0.75 ? ((notice.person as Record<string, unknown> | undefined) ?? notice) : (((notice.documents as unknown[] | undefined)?.[0] as Record<string, unknown> | undefined) ?? notice);
  const keys = target === notice ? TOP : target === notice.person ? PERSON : DOCUMENT;
  const key = pick(keys);
  const what = random();
  if (what < 0.15) delete target[key];
  else if (what < 0.2 && target === notice) notice.documents = pick<unknown>([[], 'eAT', Array.from({ length: pick([1, 5, 6]) }, (_, i) => ({ type: 'eAT', serialNumber: `L01X00T${i}` }))]);
  else if (what < 0.25 && target === notice) notice.person = pick<unknown>([null, 'x', [], { familyName: 'A' }]);
  else target[key] = anyValue();
}

/** Whether the input holds a key whose value is undefined (JSON never does; such inputs may go to the schema). */
function holdsUndefined(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsUndefined);
  if (value !== null && typeof value === 'object') return Object.values(value).some((v) => v === undefined || holdsUndefined(v));
  return false;
}

describe('quickNoticeFields', () => {
  it('accepts exactly what the schema accepts and gives the same data', () => {
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 30_000; i++) {
      const input = validNotice();
      const mutations = i % 4 === 0 ? 0 : 1 + Math.floor(random() * 3);
      for (let m = 0; m < mutations; m++) mutate(input);
      const expected = noticeSchema.safeParse(input);
      const fast = quickNoticeFields(input);
      if (fast !== undefined) {
        expect(expected.success, JSON.stringify(input)).toBe(true);
        expect(fast).toStrictEqual(expected.data);
      } else if (!holdsUndefined(input)) {
        expect(expected.success, JSON.stringify(input)).toBe(false);
      }
      if (expected.success) accepted += 1;
      else refused += 1;
    }
    expect(accepted).toBeGreaterThan(8_000);
    expect(refused).toBeGreaterThan(8_000);
  });

  it('draws the limits of every field where the schema does: each field alone at every length, padded or not, and of other kinds', () => {
    const compare = (input: Record<string, unknown>): void => {
      const expected = noticeSchema.safeParse(input);
      const fast = quickNoticeFields(input);
      if (fast === undefined && holdsUndefined(input)) return;
      expect(fast === undefined ? 'refused' : 'accepted', JSON.stringify(input)).toBe(expected.success ? 'accepted' : 'refused');
      if (fast !== undefined) expect(fast).toStrictEqual(expected.data);
    };
    const paths: [string, ...string[]][] = [...TOP.map((k) => [k] as [string]), ...PERSON.map((k) => ['person', k] as [string, string]), ...DOCUMENT.map((k) => ['documents', '0', k] as [string, string, string])];
    const values: unknown[] = [true, false, 0, null, [], {}, 'de', ' EN ', 'DE-AT', 'de-', 'd', 'deutsch', '482913', ' 482913 ', '4829134', '48291a', ...LENGTHS.flatMap((n) => [n, n + 1, n - 1])
      .filter((n) => n >= 0)
      .flatMap((n) => ALPHABETS.flatMap((alphabet) => [text(n, alphabet), ` ${text(n, alphabet)} `, `${text(n, alphabet)}\t`]))];
    for (const path of paths) {
      for (const value of values) {
        const input = validNotice();
        if (path[path.length - 1] === 'oldCardCan') input.renewal = true;
        let node = input as Record<string, unknown>;
        for (const part of path.slice(0, -1)) node = node[part] as Record<string, unknown>;
        node[path[path.length - 1] as string] = value;
        compare(input);
      }
    }
    for (let count = 0; count <= 7; count++) compare({ ...validNotice(), documents: Array.from({ length: count }, (_, i) => ({ type: 'eAT', serialNumber: `L01X00T${i}` })) });
  });

  it('leaves anything but plain objects to the schema', () => {
    for (const input of [null, undefined, 'x', 1, [], Object.create(null) as object, new (class Notice {})()]) expect(quickNoticeFields(input)).toBeUndefined();
  });
});
