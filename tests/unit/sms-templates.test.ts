import { describe, expect, it } from 'vitest';
import { SUPPORTED_LANGUAGES } from '../../src/core/notice.js';
import { countSegments } from '../../src/sms/segments.js';
import { loadSmsTemplates, parseTemplateFile } from '../../src/sms/template-loader.js';
import { formatDeadline, formatHours, MAX_LOCATION_LENGTH, renderSms, SMS_KINDS, type SmsVariables } from '../../src/sms/templates.js';

const templates = loadSmsTemplates();
// A Wednesday in December; the box closes at 19:30 Berlin time.
const deadline = Date.parse('2026-12-02T18:30:00Z');
const typical: SmsVariables = {
  code: '123456',
  location: 'Julius-Bremer-Str. 8',
  deadline,
  hours: { mon: ['08:00-19:30'], tue: ['08:00-19:30'], wed: ['08:00-19:30'], thu: ['08:00-19:30'], fri: ['08:00-19:30'] },
  timeZone: 'Europe/Berlin',
};
// The longest values the texts are designed for: a 40-character location and split opening hours.
const longest: SmsVariables = {
  code: '987650',
  location: 'Bürgerbüro Breiter Weg 222, 39104 Foyer'.padEnd(MAX_LOCATION_LENGTH, '.').slice(0, MAX_LOCATION_LENGTH),
  deadline: Date.parse('2026-09-30T17:30:00Z'),
  hours: { mon: ['07:30-18:00'], tue: ['07:30-18:00'], wed: ['07:30-18:00'], thu: ['07:30-18:00'], fri: ['07:30-14:00'] },
  timeZone: 'Europe/Berlin',
};

describe('SMS templates', () => {
  it('has every kind for every supported language', () => {
    for (const language of SUPPORTED_LANGUAGES) {
      for (const kind of SMS_KINDS) expect(renderSms(templates, kind, language, typical).language).toBe(language);
    }
  });

  it('renders the German ready text as intended', () => {
    const sms = renderSms(templates, 'ready', 'de', typical);
    expect(sms.text).toBe('Ihr Dokument liegt in der DokuBox Julius-Bremer-Str. 8 bereit. Code 123456, abholbar bis Mi 02.12., Mo-Fr 8-19:30 Uhr.');
    expect(sms).toMatchObject({ encoding: 'gsm', segments: 1 });
  });

  it('renders the German new-code text as intended, in one segment', () => {
    const sms = renderSms(templates, 'code', 'de', typical);
    expect(sms.text).toBe('Neuer Code für die DokuBox Julius-Bremer-Str. 8: 123456. Der alte gilt nicht mehr. Abholbar bis Mi 02.12., Mo-Fr 8-19:30 Uhr.');
    expect(sms).toMatchObject({ encoding: 'gsm', segments: 1 });
  });

  it.each(['de', 'en', 'fr', 'tr', 'ru', 'uk', 'ar', 'fa'])('tells in %s that the new code replaces the old one, with the code, the place and the deadline', (language) => {
    const sms = renderSms(templates, 'code', language, typical);
    const ready = renderSms(templates, 'ready', language, typical);
    expect(sms.language).toBe(language);
    expect(sms.text).toContain('123456');
    expect(sms.text).toContain('Julius-Bremer-Str. 8');
    expect(sms.text).toContain(formatDeadline(deadline, typical.timeZone, templates.get(language)!));
    expect(sms.text).not.toBe(ready.text);
  });

  it('formats the deadline in the box time zone and the language', () => {
    // 23:30 UTC on Tuesday is already Wednesday in Berlin.
    const late = { ...typical, deadline: Date.parse('2026-12-01T23:30:00Z') };
    expect(renderSms(templates, 'ready', 'de', late).text).toContain('bis Mi 02.12.');
    expect(renderSms(templates, 'ready', 'en', late).text).toContain('by Wed 2 Dec');
    expect(renderSms(templates, 'ready', 'fa', late).text).toContain('چهارشنبه 2/12');
  });

  it.each(SMS_KINDS)('keeps German and English %s texts in one segment with the longest values', (kind) => {
    for (const language of ['de', 'en']) {
      const sms = renderSms(templates, kind, language, longest);
      expect(sms.encoding, `${language}/${kind}: ${sms.text}`).toBe('gsm');
      expect(sms.segments, `${language}/${kind} (${sms.units}): ${sms.text}`).toBe(1);
    }
  });

  it.each(SUPPORTED_LANGUAGES)('keeps every %s text within three segments with the longest values', (language) => {
    for (const kind of SMS_KINDS) {
      const sms = renderSms(templates, kind, language, longest);
      expect(sms.segments, `${language}/${kind} (${sms.encoding}, ${sms.units}): ${sms.text}`).toBeLessThanOrEqual(3);
      expect(sms.text).not.toMatch(/[{}\uFFFD]/);
      // No lone surrogates: every code unit pair is a valid scalar.
      expect(sms.text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      if (kind === 'ready' || kind === 'reminder' || kind === 'code') expect(sms.text).toContain('987650');
    }
  });

  it.each(['ar', 'fa'])('keeps %s right-to-left text intact with the code and the street isolated', (language) => {
    const sms = renderSms(templates, 'ready', language, typical);
    expect(sms.encoding).toBe('ucs2');
    expect(sms.text).toContain('\u2066123456\u2069');
    expect(sms.text).toContain('\u2068Julius-Bremer-Str. 8\u2069');
    expect(sms.text).toBe(sms.text.normalize('NFC'));
    // Arabic script survived and the digits are Latin, not Arabic-Indic.
    expect(sms.text).toMatch(/[\u0600-\u06FF]/);
    expect(sms.text).not.toMatch(/[\u0660-\u0669\u06F0-\u06F9]/);
  });

  it('falls back to German for unknown languages and uses the base of regional tags', () => {
    expect(renderSms(templates, 'ready', 'sw', typical).language).toBe('de');
    expect(renderSms(templates, 'ready', '', typical).language).toBe('de');
    expect(renderSms(templates, 'ready', 'en-US', typical).language).toBe('en');
    expect(renderSms(templates, 'ready', 'UK', typical).language).toBe('uk');
  });

  it('refuses to render a ready or new-code SMS without a code', () => {
    const { code: _code, ...withoutCode } = typical;
    expect(() => renderSms(templates, 'ready', 'de', withoutCode)).toThrow(/pickup code/);
    expect(() => renderSms(templates, 'code', 'ar', withoutCode)).toThrow(/pickup code/);
    expect(renderSms(templates, 'expired', 'de', withoutCode).text).not.toContain('{');
  });

  it('groups opening hours', () => {
    const days = ['Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa', 'So'] as const;
    expect(formatHours(longest.hours, days)).toBe('Mo-Do 7:30-18, Fr 7:30-14');
    expect(formatHours({ mon: ['08:00-12:00', '13:00-18:00'], tue: ['08:00-12:00', '13:00-18:00'], thu: ['09:00-12:00'] }, days)).toBe('Mo,Di 8-12, 13-18, Do 9-12');
  });

  it('counts segments with GSM-7 and UCS-2 rules', () => {
    expect(countSegments('a'.repeat(160))).toEqual({ encoding: 'gsm', segments: 1, units: 160 });
    expect(countSegments('a'.repeat(161)).segments).toBe(2);
    expect(countSegments('€'.repeat(80))).toMatchObject({ encoding: 'gsm', segments: 1, units: 160 });
    expect(countSegments('äöüß'.repeat(40))).toMatchObject({ encoding: 'gsm', segments: 1 });
    expect(countSegments('ş'.repeat(70))).toMatchObject({ encoding: 'ucs2', segments: 1 });
    expect(countSegments('ş'.repeat(71))).toMatchObject({ encoding: 'ucs2', segments: 2 });
  });

  it('rejects template files with unknown placeholders or a ready text without the code', () => {
    const base = 'language: xx\nlocale: de\ndirection: ltr\nweekdays: [a, b, c, d, e, f, g]\ndate: dd.LL.\ntemplates:\n';
    const kinds = (ready: string, code = '{code} {location} {deadline}') => `${base}  ready: "${ready}"\n  reminder: "{location} {deadline}"\n  expired: "x"\n  cancelled: "y"\n  code: "${code}"\n`;
    expect(() => parseTemplateFile('xx.yaml', kinds('{code} {location} {deadline} {name}'))).toThrow(/unknown placeholder/);
    expect(() => parseTemplateFile('xx.yaml', kinds('{location} {deadline}'))).toThrow(/must mention \{code\}/);
    expect(() => parseTemplateFile('xx.yaml', kinds('{code} {location} {deadline}', 'new code at {location} until {deadline}'))).toThrow(/code must mention \{code\}/);
    expect(() => parseTemplateFile('xx.yaml', `${base}  ready: "{code} {location} {deadline}"\n  reminder: "{location} {deadline}"\n  expired: "x"\n  cancelled: "y"\n`)).toThrow(/templates\.code/);
    expect(parseTemplateFile('xx.yaml', kinds('{code} {location} {deadline}')).language).toBe('xx');
  });
});
