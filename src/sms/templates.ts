/**
 * Renders the applicant's SMS from the per-language templates in
 * mappings/sms-templates. Pure: the templates are loaded elsewhere
 * (template-loader.ts); dates are formatted in the box's time zone with the
 * language's locale, always with Latin digits and the Gregorian calendar so
 * the code and the deadline read the same as on the touchscreen.
 */
import { DateTime } from 'luxon';
import { WEEKDAYS, type OpeningHours, type Weekday } from '../core/calendar.js';
import { countSegments, type SegmentCount } from './segments.js';

export const SMS_KINDS = ['ready', 'reminder', 'expired', 'cancelled', 'code'] as const;
export type SmsKind = (typeof SMS_KINDS)[number];

/**
 * Kinds sent once per code generation instead of once per pickup: `code`, the
 * new code staff issued (each new code is a message of its own).
 */
export const PER_GENERATION_SMS_KINDS: readonly SmsKind[] = ['code'];

export const DEFAULT_SMS_LANGUAGE = 'de';

export const PLACEHOLDERS = ['code', 'location', 'deadline', 'hours'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

export interface LanguageTemplates {
  language: string;
  /** BCP 47 locale for month names, e.g. `de-DE`. */
  locale: string;
  direction: 'ltr' | 'rtl';
  /** Short weekday names, Monday first. */
  weekdays: readonly [string, string, string, string, string, string, string];
  /** luxon format of the deadline's date part, e.g. `dd.LL.`. */
  date: string;
  templates: Record<SmsKind, string>;
}

export type SmsTemplateSet = ReadonlyMap<string, LanguageTemplates>;

export interface SmsVariables {
  code?: string;
  /** Where the box stands, e.g. `Julius-Bremer-Str. 8`. */
  location: string;
  /** The pickup deadline (epoch ms). */
  deadline: number;
  hours: OpeningHours;
  timeZone: string;
}

export interface RenderedSms extends SegmentCount {
  kind: SmsKind;
  /** The language actually used (German when the requested one has no templates). */
  language: string;
  text: string;
}

/** Longest location the texts are designed for (one GSM-7 segment in German and English). */
export const MAX_LOCATION_LENGTH = 40;

// Left-to-right isolate / first-strong isolate ... pop directional isolate:
// keeps digits and Latin street names in order inside right-to-left text.
const LRI = '\u2066';
const FSI = '\u2068';
const PDI = '\u2069';

export function resolveLanguage(templates: SmsTemplateSet, requested: string): string {
  const lower = requested.toLowerCase();
  if (templates.has(lower)) return lower;
  const base = lower.split(/[-_]/)[0] ?? '';
  return templates.has(base) ? base : DEFAULT_SMS_LANGUAGE;
}

function formatTime(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? String(h) : `${h}:${String(m).padStart(2, '0')}`;
}

function formatWindow(window: string): string {
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(window);
  if (!match) return window;
  const [, sh, sm, eh, em] = match.map(Number) as [number, number, number, number, number];
  return `${formatTime(sh * 60 + sm)}-${formatTime(eh * 60 + em)}`;
}

/** `Mo-Fr 8-19:30`, consecutive days with the same windows grouped. */
export function formatHours(hours: OpeningHours, weekdays: LanguageTemplates['weekdays']): string {
  const groups: { from: number; to: number; windows: string }[] = [];
  WEEKDAYS.forEach((day: Weekday, index) => {
    const windows = (hours[day] ?? []).map(formatWindow).join(', ');
    if (windows === '') return;
    const last = groups[groups.length - 1];
    if (last && last.to === index - 1 && last.windows === windows) last.to = index;
    else groups.push({ from: index, to: index, windows });
  });
  return groups
    .map((g) => {
      const from = weekdays[g.from] ?? '';
      const days = g.from === g.to ? from : `${from}${g.to === g.from + 1 ? ',' : '-'}${weekdays[g.to] ?? ''}`;
      return `${days} ${g.windows}`;
    })
    .join(', ');
}

export function formatDeadline(deadline: number, timeZone: string, language: LanguageTemplates): string {
  const local = DateTime.fromMillis(deadline, { zone: timeZone }).setLocale(language.locale).reconfigure({ numberingSystem: 'latn', outputCalendar: 'gregory' });
  return `${language.weekdays[local.weekday - 1] ?? ''} ${local.toFormat(language.date)}`;
}

export class SmsTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmsTemplateError';
  }
}

export function renderSms(templates: SmsTemplateSet, kind: SmsKind, requestedLanguage: string, vars: SmsVariables): RenderedSms {
  const language = resolveLanguage(templates, requestedLanguage);
  const set = templates.get(language);
  if (!set) throw new SmsTemplateError(`no SMS templates for the default language '${DEFAULT_SMS_LANGUAGE}'`);
  const rtl = set.direction === 'rtl';
  const values: Record<Placeholder, () => string> = {
    code: () => {
      if (vars.code === undefined || !/^\d{4,10}$/.test(vars.code)) throw new SmsTemplateError(`the ${kind} SMS needs a pickup code of digits`);
      return rtl ? `${LRI}${vars.code}${PDI}` : vars.code;
    },
    location: () => (rtl ? `${FSI}${vars.location}${PDI}` : vars.location),
    deadline: () => formatDeadline(vars.deadline, vars.timeZone, set),
    hours: () => formatHours(vars.hours, set.weekdays),
  };
  const text = set.templates[kind]
    .replace(/\{(\w+)\}/g, (_match, name: string) => {
      const value = values[name as Placeholder] as (() => string) | undefined;
      if (!value) throw new SmsTemplateError(`template ${language}/${kind} uses an unknown placeholder {${name}}`);
      return value();
    })
    .normalize('NFC');
  return { kind, language, text, ...countSegments(text) };
}
