/**
 * Reads the declarative files under mappings/ and validates them. A broken
 * file stops start-up with a message naming the file and the field.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { z } from 'zod';
import { validateOpeningHours, WEEKDAYS, type Weekday } from '../core/calendar.js';
import type { BoxDefinition } from '../core/box.js';
import { DEFAULT_POLICY, OLD_DOCUMENT_HANDLING, POLICY_PRESETS, POLICY_STEPS, policyProblems } from '../core/pickup-policy.js';
import type { DocumentType } from '../core/documents.js';

export class MappingError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(file: string, field: string, message: string) {
    super(`${file}: field '${field || '(root)'}' ${message}`);
    this.name = 'MappingError';
  }
}

const idText = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, . _ -');

/** The most compartments one box file may have. */
export const MAX_COMPARTMENTS = 20_000;

const compartmentSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9-]{1,16}$/, 'must be 1-16 letters, digits or -'),
  size: z.enum(['S', 'M', 'L']),
  heightCm: z.number().int().min(0).max(250),
  accessible: z.boolean(),
  locker: z.strictObject({ gateway: z.string().min(1), board: z.number().int().min(0).max(255), lock: z.number().int().min(0).max(255) }).optional(),
});

const boxSchema = z.strictObject({
  id: idText,
  authority: idText,
  name: z.string().min(1).max(200),
  location: z.string().min(1).max(80),
  timeZone: z.string().refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Berlin'),
  holidayState: z.string().regex(/^[A-Z]{2}$/, 'must be a German state code such as ST, SN, BE'),
  openingHours: z.partialRecord(z.enum(WEEKDAYS as [Weekday, ...Weekday[]]), z.array(z.string())),
  closedOnHolidays: z.boolean().default(true),
  deadlineWorkingDays: z.number().int().min(1).max(60).default(7),
  locker: z.record(z.string(), z.unknown()).optional(),
  pickup: z
    .union([
      z.strictObject({ preset: z.enum(Object.keys(POLICY_PRESETS) as [keyof typeof POLICY_PRESETS]) }).transform(({ preset }) => POLICY_PRESETS[preset]),
      z.strictObject({ steps: z.array(z.enum(POLICY_STEPS)).min(1).max(POLICY_STEPS.length), oldDocument: z.enum(OLD_DOCUMENT_HANDLING).default('none') }),
    ])
    .default(DEFAULT_POLICY)
    .superRefine((policy, ctx) => {
      for (const problem of policyProblems(policy)) ctx.addIssue({ code: 'custom', message: problem });
    }),
  front: z.strictObject({ columns: z.number().int().min(1).max(200), rows: z.number().int().min(1).max(100) }).optional(),
  kioskIdleSeconds: z.number().int().min(15).max(600).default(60),
  // Up to the largest front the schema allows (200 columns of 100); registration is batched (PickupStore.syncBox).
  compartments: z.array(compartmentSchema).min(1).max(MAX_COMPARTMENTS),
});

const documentTypeSchema = z.strictObject({
  id: idText,
  names: z.record(z.string(), z.string()).refine((n) => typeof n.de === 'string', 'needs at least a German name (de)'),
  serialPattern: z.string().refine((p) => {
    try {
      new RegExp(p);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression'),
  requiresPinLetterConfirmation: z.boolean().default(false),
});

function readYaml(file: string): unknown {
  try {
    return parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new MappingError(file, '', `cannot be read as YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function check<T>(file: string, schema: z.ZodType<T>, data: unknown): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.map(String).join('.') ?? '';
  throw new MappingError(file, field, issue?.message ?? 'is invalid');
}

export function loadBoxFile(file: string): BoxDefinition {
  const box = check(file, boxSchema, readYaml(file)) as BoxDefinition;
  try {
    validateOpeningHours(box.openingHours);
  } catch (error) {
    throw new MappingError(file, 'openingHours', error instanceof Error ? error.message : String(error));
  }
  if (box.front !== undefined && box.front.columns * box.front.rows < box.compartments.length) {
    throw new MappingError(file, 'front', `has ${box.front.columns * box.front.rows} places for ${box.compartments.length} compartments; raise columns or rows`);
  }
  const seen = new Set<string>();
  box.compartments.forEach((c, i) => {
    if (seen.has(c.id)) throw new MappingError(file, `compartments.${i}.id`, `repeats compartment '${c.id}'`);
    seen.add(c.id);
  });
  return box;
}

export function loadBoxes(dir: string): Map<string, BoxDefinition> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
  } catch {
    throw new MappingError(dir, '', 'is not a readable directory of box files (BOXES_DIR)');
  }
  const boxes = new Map<string, BoxDefinition>();
  for (const name of files.sort()) {
    const box = loadBoxFile(join(dir, name));
    if (boxes.has(box.id)) throw new MappingError(join(dir, name), 'id', `repeats box id '${box.id}' of another file`);
    boxes.set(box.id, box);
  }
  if (boxes.size === 0) throw new MappingError(dir, '', 'contains no box definitions (*.yaml)');
  return boxes;
}

export function loadDocumentTypes(file: string): DocumentType[] {
  const types = check(file, z.array(documentTypeSchema).min(1), readYaml(file)) as DocumentType[];
  const ids = new Set<string>();
  types.forEach((t, i) => {
    if (ids.has(t.id)) throw new MappingError(basename(file), `${i}.id`, `repeats document type '${t.id}'`);
    ids.add(t.id);
  });
  return types;
}
