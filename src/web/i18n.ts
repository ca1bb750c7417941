/**
 * Message catalogues of the screens at the box (mappings/i18n/*.yaml), in
 * ICU MessageFormat read by intl-messageformat: placeholders, plural rules
 * of each language and dates in the box's time zone. Numbers and dates use
 * Latin digits in every language, so compartment numbers, codes and times
 * read as printed on the doors and in the SMS.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntlMessageFormat } from 'intl-messageformat';
import { load as parseYaml } from 'js-yaml';
import { z } from 'zod';
import { MappingError } from '../mappings/loaders.js';

export const KIOSK_LANGUAGES = ['de', 'en', 'ar', 'uk', 'ru', 'tr', 'fa', 'fr'] as const;
export type KioskLanguage = (typeof KIOSK_LANGUAGES)[number];

const catalogueSchema = z.strictObject({
  language: z.enum(KIOSK_LANGUAGES),
  name: z.string().min(1),
  locale: z.string().min(2),
  direction: z.enum(['ltr', 'rtl']),
  messages: z.record(z.string().regex(/^[a-zA-Z0-9.]+$/), z.string().min(1)),
});

export type Catalogue = z.infer<typeof catalogueSchema>;

export type MessageValues = Record<string, string | number | Date>;

export class Catalogues {
  private readonly compiled = new Map<string, IntlMessageFormat>();

  constructor(private readonly byLanguage: ReadonlyMap<string, Catalogue>) {}

  /** The catalogue of a language; German for anything unknown. */
  catalogue(language: string): Catalogue {
    return this.byLanguage.get(language) ?? (this.byLanguage.get('de') as Catalogue);
  }

  has(language: string): language is KioskLanguage {
    return this.byLanguage.has(language);
  }

  languages(): Catalogue[] {
    return KIOSK_LANGUAGES.flatMap((l) => this.byLanguage.get(l) ?? []);
  }

  /** Formats a message; `timeZone` is the box's, for dates and times. */
  t(language: string, key: string, values: MessageValues = {}, timeZone = 'Europe/Berlin'): string {
    const catalogue = this.catalogue(language);
    const cacheKey = `${catalogue.language}\u0000${key}\u0000${timeZone}`;
    let format = this.compiled.get(cacheKey);
    if (format === undefined) {
      const message = catalogue.messages[key] ?? this.catalogue('de').messages[key];
      if (message === undefined) throw new Error(`no message '${key}' in the catalogues`);
      format = new IntlMessageFormat(message, `${catalogue.locale}-u-ca-gregory-nu-latn`, {
        date: { opening: { weekday: 'long', day: 'numeric', month: 'long', timeZone } },
        time: { short: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone } },
      });
      this.compiled.set(cacheKey, format);
    }
    return String(format.format(values));
  }
}

/** Reads and checks every catalogue: each parses as ICU and has German's keys. */
export function loadCatalogues(dir: string): Catalogues {
  const byLanguage = new Map<string, Catalogue>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    const path = join(dir, file);
    const parsed = catalogueSchema.safeParse(parseYaml(readFileSync(path, 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new MappingError(path, issue?.path.map(String).join('.') ?? '', issue?.message ?? 'is invalid');
    }
    for (const [key, message] of Object.entries(parsed.data.messages)) {
      try {
        new IntlMessageFormat(message, parsed.data.locale);
      } catch (error) {
        throw new MappingError(path, `messages.${key}`, `is no valid ICU message: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    byLanguage.set(parsed.data.language, parsed.data);
  }
  const german = byLanguage.get('de');
  if (german === undefined) throw new MappingError(dir, '', 'needs the German catalogue de.yaml');
  for (const catalogue of byLanguage.values()) {
    const missing = Object.keys(german.messages).filter((k) => catalogue.messages[k] === undefined);
    if (missing.length > 0) throw new MappingError(join(dir, `${catalogue.language}.yaml`), 'messages', `lacks ${missing.join(', ')}`);
  }
  return new Catalogues(byLanguage);
}
