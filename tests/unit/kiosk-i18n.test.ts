import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isArgumentElement,
  isDateElement,
  isNumberElement,
  isPluralElement,
  isPoundElement,
  isSelectElement,
  isTagElement,
  isTimeElement,
  parse,
  type MessageFormatElement,
  type PluralElement,
} from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../mappings/i18n', import.meta.url).pathname;

interface Catalogue {
  language: string;
  name: string;
  locale: string;
  direction: string;
  messages: Record<string, unknown>;
}

const read = (file: string): Catalogue => load(readFileSync(join(dir, file), 'utf8')) as Catalogue;

// Per language: its own name, the locale the kiosk formats with and the CLDR
// plural categories every {count, plural, ...} message gives.
const expected: Record<string, { name: string; locale: string; plural: string[] }> = {
  de: { name: 'Deutsch', locale: 'de-DE', plural: ['one', 'other'] },
  en: { name: 'English', locale: 'en-GB', plural: ['one', 'other'] },
  ar: { name: 'العربية', locale: 'ar', plural: ['zero', 'one', 'two', 'few', 'many', 'other'] },
  uk: { name: 'Українська', locale: 'uk-UA', plural: ['one', 'few', 'many', 'other'] },
  ru: { name: 'Русский', locale: 'ru-RU', plural: ['one', 'few', 'many', 'other'] },
  tr: { name: 'Türkçe', locale: 'tr-TR', plural: ['one', 'other'] },
  fa: { name: 'فارسی', locale: 'fa-IR', plural: ['one', 'other'] },
  fr: { name: 'Français', locale: 'fr-FR', plural: ['one', 'many', 'other'] },
};
const rightToLeft = new Set(['ar', 'fa']);

const files = readdirSync(dir)
  .filter((file) => file.endsWith('.yaml'))
  .sort();
const german = read('de.yaml');
const germanKeys = Object.keys(german.messages).sort();

// The named formats the kiosk passes to intl-messageformat.
const formats = { date: { opening: { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'Europe/Berlin' } } } as const;
const instant = new Date('2026-12-02T07:00:00Z');
const sample = { compartment: '117', name: 'Box', column: 3, row: 2, current: 1, total: 3, when: instant, until: instant };
const counts = [0, 1, 2, 3, 4, 5, 11, 100];

/** Every argument a message uses, with its type and style: `when:date:opening`, `count:plural`, `name`. */
function argumentsOf(elements: MessageFormatElement[], found = new Set<string>()): Set<string> {
  for (const element of elements) {
    if (isArgumentElement(element)) {
      found.add(element.value);
    } else if (isNumberElement(element) || isDateElement(element) || isTimeElement(element)) {
      const kind = isNumberElement(element) ? 'number' : isDateElement(element) ? 'date' : 'time';
      found.add(`${element.value}:${kind}:${typeof element.style === 'string' ? element.style : JSON.stringify(element.style)}`);
    } else if (isPluralElement(element) || isSelectElement(element)) {
      found.add(`${element.value}:${isPluralElement(element) ? element.pluralType : 'select'}`);
      for (const option of Object.values(element.options)) argumentsOf(option.value, found);
    } else if (isTagElement(element)) {
      argumentsOf(element.children, found);
    }
  }
  return found;
}

function pluralsOf(elements: MessageFormatElement[]): PluralElement[] {
  return elements.flatMap((element) => {
    if (isPluralElement(element)) return [element, ...Object.values(element.options).flatMap((option) => pluralsOf(option.value))];
    if (isSelectElement(element)) return Object.values(element.options).flatMap((option) => pluralsOf(option.value));
    if (isTagElement(element)) return pluralsOf(element.children);
    return [];
  });
}

describe('kiosk catalogues (mappings/i18n)', () => {
  it('has a catalogue for every language the kiosk offers, and only those', () => {
    expect(files.map((file) => file.replace(/\.yaml$/, ''))).toEqual(Object.keys(expected).sort());
  });

  describe.each(files)('%s', (file) => {
    const catalogue = read(file);
    const language = file.replace(/\.yaml$/, '');
    const want = expected[language];

    it('has the header fields of its language', () => {
      expect(Object.keys(catalogue).sort()).toEqual(['direction', 'language', 'locale', 'messages', 'name']);
      expect(want, `${language} is missing from the table in this test`).toBeDefined();
      expect(catalogue.language).toBe(language);
      expect(catalogue.name).toBe(want?.name);
      expect(catalogue.locale).toBe(want?.locale);
      expect(catalogue.direction).toBe(rightToLeft.has(language) ? 'rtl' : 'ltr');
    });

    it('has exactly the keys of de.yaml, each a non-empty string', () => {
      expect(Object.keys(catalogue.messages).sort()).toEqual(germanKeys);
      for (const [key, message] of Object.entries(catalogue.messages)) {
        expect(typeof message === 'string' && message.trim() !== '', key).toBe(true);
      }
    });

    it('uses the same arguments, types and styles as de.yaml in every message', () => {
      for (const key of germanKeys) {
        const message = catalogue.messages[key];
        if (typeof message !== 'string') continue;
        const mine = [...argumentsOf(parse(message))].sort();
        const theirs = [...argumentsOf(parse(String(german.messages[key])))].sort();
        expect(mine, key).toEqual(theirs);
      }
    });

    it('gives every plural message the CLDR categories of its language, with # in the other branch', () => {
      const categories = want?.plural ?? [];
      expect([...new Intl.PluralRules(catalogue.locale).resolvedOptions().pluralCategories].sort()).toEqual([...categories].sort());
      for (const [key, message] of Object.entries(catalogue.messages)) {
        for (const plural of pluralsOf(parse(String(message)))) {
          const given = Object.keys(plural.options).filter((option) => !option.startsWith('='));
          expect(given.sort(), key).toEqual([...categories].sort());
          expect(plural.options.other?.value.some(isPoundElement), `${key}: other without #`).toBe(true);
        }
      }
    });

    it('has no apostrophe that ICU would read as the start of a quote', () => {
      for (const [key, message] of Object.entries(catalogue.messages)) {
        expect(String(message), key).not.toMatch(/(^|[^'])'[{}#|]/);
      }
    });

    it('formats every message with sample values', () => {
      for (const [key, message] of Object.entries(catalogue.messages)) {
        const format = new IntlMessageFormat(String(message), catalogue.locale, formats);
        for (const count of counts) {
          const text = format.format({ ...sample, count });
          expect(typeof text, key).toBe('string');
          expect(String(text), `${key} (count ${count})`).not.toMatch(/[{}]/);
          expect(String(text).trim(), key).not.toBe('');
        }
      }
    });
  });
});
