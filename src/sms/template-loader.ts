/**
 * Loads and checks the SMS templates (mappings/sms-templates/*.yaml) once at
 * start-up, so a typo fails the start and not the first SMS.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { z } from 'zod';
import { SUPPORTED_LANGUAGES } from '../core/notice.js';
import { projectPath } from '../project-root.js';
import { DEFAULT_SMS_LANGUAGE, PLACEHOLDERS, SMS_KINDS, type LanguageTemplates, type SmsTemplateSet } from './templates.js';

export const DEFAULT_SMS_TEMPLATE_DIR = projectPath('mappings/sms-templates');

const templateText = z.string().min(1).max(1000);

const fileSchema = z.strictObject({
  language: z.string().regex(/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/),
  locale: z.string().min(2),
  direction: z.enum(['ltr', 'rtl']),
  weekdays: z.tuple([z.string(), z.string(), z.string(), z.string(), z.string(), z.string(), z.string()]),
  date: z.string().min(1),
  templates: z.strictObject({ ready: templateText, reminder: templateText, expired: templateText, cancelled: templateText, code: templateText }),
});

/** Placeholders a kind must use: a ready (or new-code) SMS without its code is useless. */
const REQUIRED: Record<(typeof SMS_KINDS)[number], readonly string[]> = {
  ready: ['code', 'location', 'deadline'],
  reminder: ['location', 'deadline'],
  expired: [],
  cancelled: [],
  code: ['code', 'location', 'deadline'],
};

export function parseTemplateFile(name: string, text: string): LanguageTemplates {
  const result = fileSchema.safeParse(parseYaml(text));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`SMS template file ${name}: ${issue ? `${issue.path.join('.')} ${issue.message}` : 'is invalid'}`);
  }
  const data = result.data;
  for (const kind of SMS_KINDS) {
    const used = [...data.templates[kind].matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
    const unknown = used.filter((p) => !(PLACEHOLDERS as readonly string[]).includes(p));
    if (unknown.length > 0) throw new Error(`SMS template file ${name}: ${kind} uses unknown placeholder(s) ${unknown.map((p) => `{${p}}`).join(', ')}`);
    const missing = REQUIRED[kind].filter((p) => !used.includes(p));
    if (missing.length > 0) throw new Error(`SMS template file ${name}: ${kind} must mention ${missing.map((p) => `{${p}}`).join(', ')}`);
  }
  return data;
}

export function loadSmsTemplates(dir: string = DEFAULT_SMS_TEMPLATE_DIR): SmsTemplateSet {
  const set = new Map<string, LanguageTemplates>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()) {
    const templates = parseTemplateFile(file, readFileSync(join(dir, file), 'utf8'));
    if (set.has(templates.language)) throw new Error(`SMS template file ${file}: language ${templates.language} is defined twice`);
    set.set(templates.language, templates);
  }
  const missing = [DEFAULT_SMS_LANGUAGE, ...SUPPORTED_LANGUAGES].filter((l) => !set.has(l));
  if (missing.length > 0) throw new Error(`SMS templates missing for language(s) ${[...new Set(missing)].join(', ')} in ${dir}`);
  return set;
}
