/**
 * Declarative mappings from a case system's XML format onto the canonical
 * notice. A mapping (mappings/case-systems/*.yaml) names the root element and
 * namespace it accepts, where each canonical field sits in the document,
 * which code list translates it and which date formats it uses. The engine
 * only picks values out; all business validation stays in core/notice.ts.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { load as parseYaml } from 'js-yaml';
import { z } from 'zod';
import { DokuboxError, ERROR_CODES, type ErrorCode } from '../core/errors.js';
import { formatPartialDate, parsePartialDate } from '../core/dates.js';
import { normaliseMobile } from '../core/notice.js';
import { attributeOf, children, textOf, type XmlElement } from './xml.js';

export const DATE_FORMATS = ['yyyy-MM-dd', 'yyyy-MM', 'yyyy', 'dd.MM.yyyy', 'yyyyMMdd'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

export const NOTICE_FIELDS = [
  'messageId',
  'authority',
  'caseNumber',
  'boxId',
  'person.familyName',
  'person.givenNames',
  'person.dateOfBirth',
  'mobile',
  'language',
  'consent',
  'accessible',
  'renewal',
  'oldCardCan',
] as const;
export type NoticeField = (typeof NOTICE_FIELDS)[number];
export const DOCUMENT_FIELDS = ['type', 'serialNumber', 'validUntil'] as const;

const path = z
  .string()
  .min(1)
  .regex(/^[A-Za-z_][\w.-]*(\/[A-Za-z_][\w.-]*)*(\/@[A-Za-z_][\w.-]*)?$|^@[A-Za-z_][\w.-]*$/, 'a path is element names separated by / with an optional final /@attribute');

const fieldSpec = z
  .strictObject({
    /** Where the value sits, relative to the root element (or the repeated element for documents). */
    path: path.optional(),
    /** A fixed value instead of a path. */
    const: z.union([z.string(), z.boolean()]).optional(),
    /** Take the value from the authenticated client (the authority it is configured for). */
    fromClient: z.literal('authority').optional(),
    type: z.enum(['string', 'boolean', 'partialDate', 'date', 'mobile']).default('string'),
    /** Date formats tried in order; `00` for an unknown day or month is allowed in dd.MM.yyyy. */
    formats: z.array(z.enum(DATE_FORMATS)).min(1).optional(),
    /** Name of a code list in `codeLists` that translates the value. */
    codes: z.string().optional(),
  })
  .superRefine((spec, ctx) => {
    const sources = [spec.path, spec.const, spec.fromClient].filter((s) => s !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of path, const, fromClient' });
    if ((spec.type === 'partialDate' || spec.type === 'date') && spec.formats === undefined) {
      ctx.addIssue({ code: 'custom', path: ['formats'], message: 'a date field needs formats' });
    }
  });

const codeList = z.strictObject({
  /** XÖV code lists: when set, a `listURI` attribute on the code element must equal it. */
  listURI: z.string().optional(),
  values: z.record(z.string(), z.string()),
  /** `passthrough` hands unknown codes on unchanged (validation decides); `reject` fails with `errorCode`. */
  unknown: z.enum(['passthrough', 'reject']).default('passthrough'),
  errorCode: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).default('VALIDATION_FAILED'),
});

const check = z.strictObject({
  path,
  equals: z.string(),
  message: z.string().optional(),
});

const referenceSpec = z.strictObject({
  pickupId: path,
  messageId: path,
});

export const mappingFileSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and -'),
    description: z.string().optional(),
    /** Namespace of the root element (an empty string for no namespace). */
    namespace: z.string(),
    notice: z.strictObject({
      root: z.string().min(1),
      /** Values that must be present and equal, e.g. the XÖV message type. */
      checks: z.array(check).default([]),
      fields: z.partialRecord(z.enum(NOTICE_FIELDS), fieldSpec),
      documents: z.strictObject({
        each: path,
        fields: z.partialRecord(z.enum(DOCUMENT_FIELDS), fieldSpec),
      }),
    }),
    /** Root elements of the cancel and status requests, when the format has them. */
    cancel: z.strictObject({ root: z.string().min(1) }).extend(referenceSpec.shape).optional(),
    status: z.strictObject({ root: z.string().min(1) }).extend(referenceSpec.shape).optional(),
    codeLists: z.record(z.string(), codeList).default({}),
  })
  .superRefine((file, ctx) => {
    const visit = (specs: Record<string, z.infer<typeof fieldSpec> | undefined>, at: (string | number)[]): void => {
      for (const [name, spec] of Object.entries(specs)) {
        if (spec?.codes !== undefined && file.codeLists[spec.codes] === undefined) {
          ctx.addIssue({ code: 'custom', path: [...at, name, 'codes'], message: `names the code list '${spec.codes}' which codeLists does not define` });
        }
      }
    };
    visit(file.notice.fields, ['notice', 'fields']);
    visit(file.notice.documents.fields, ['notice', 'documents', 'fields']);
    for (const required of ['messageId', 'person.familyName', 'person.dateOfBirth', 'mobile', 'consent'] as const) {
      if (file.notice.fields[required] === undefined) ctx.addIssue({ code: 'custom', path: ['notice', 'fields', required], message: 'is required' });
    }
    for (const required of ['type', 'serialNumber'] as const) {
      if (file.notice.documents.fields[required] === undefined) ctx.addIssue({ code: 'custom', path: ['notice', 'documents', 'fields', required], message: 'is required' });
    }
  });

export type MappingFile = z.infer<typeof mappingFileSchema>;
type FieldSpec = z.infer<typeof fieldSpec>;

/** A loaded, validated mapping plus the engine that applies it. */
export interface CaseSystemMapping {
  readonly name: string;
  readonly namespace: string;
  readonly file: MappingFile;
  /** Which operation a root element (namespace + local name) is, if this mapping accepts it. */
  operationFor(root: XmlElement): 'notice' | 'cancel' | 'status' | undefined;
  /** Builds the (not yet validated) canonical notice input. */
  toNotice(root: XmlElement, client: { authority: string }): Record<string, unknown>;
  toReference(root: XmlElement, operation: 'cancel' | 'status'): { pickupId: string } | { messageId: string };
  /** The document path of a canonical field (for fault details), e.g. `person/geburtsdatum`. */
  sourceOf(field: string): string | undefined;
}

function pathToString(parts: readonly PropertyKey[]): string {
  return parts.map(String).join('.');
}

/** Validates a parsed mapping; a broken one throws CONFIG_INVALID naming the file and the field. */
export function compileMapping(data: unknown, fileName: string): CaseSystemMapping {
  const result = mappingFileSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue ? pathToString(issue.path) : '';
    throw new DokuboxError('CONFIG_INVALID', `Mapping ${fileName}: ${field || '(file)'} ${issue?.message ?? 'is invalid'}.`, {
      field,
      context: { file: fileName },
    });
  }
  return new DeclarativeMapping(result.data);
}

/** Loads one mapping file (YAML). */
export async function loadMappingFile(file: string): Promise<CaseSystemMapping> {
  let data: unknown;
  try {
    data = parseYaml(await readFile(file, 'utf8'));
  } catch (error) {
    throw new DokuboxError('CONFIG_INVALID', `Mapping ${basename(file)} cannot be read as YAML.`, { context: { file: basename(file) }, cause: error });
  }
  return compileMapping(data, basename(file));
}

/** Loads every `*.yaml` in a directory, keyed by mapping name. */
export async function loadMappings(dir: string): Promise<Map<string, CaseSystemMapping>> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort();
  const out = new Map<string, CaseSystemMapping>();
  for (const name of names) {
    const mapping = await loadMappingFile(join(dir, name));
    if (out.has(mapping.name)) throw new DokuboxError('CONFIG_INVALID', `Mapping ${name}: name '${mapping.name}' is used twice.`, { field: 'name', context: { file: name } });
    out.set(mapping.name, mapping);
  }
  return out;
}

/** Elements (or one attribute value) at a `/`-separated path. */
interface CompiledPath {
  parts: string[];
  attribute?: string;
}

/** Paths split once: a mapping file has a fixed, small set of them (bounded anyway). */
const compiledPaths = new Map<string, CompiledPath>();

function compilePath(spec: string): CompiledPath {
  const known = compiledPaths.get(spec);
  if (known !== undefined) return known;
  const parts = spec.split('/');
  const last = parts[parts.length - 1];
  const attribute = last?.startsWith('@') ? last.slice(1) : undefined;
  if (attribute !== undefined) parts.pop();
  const compiled: CompiledPath = attribute === undefined ? { parts } : { parts, attribute };
  if (compiledPaths.size >= 1000) compiledPaths.clear();
  compiledPaths.set(spec, compiled);
  return compiled;
}

function select(root: XmlElement, spec: string): { elements: XmlElement[]; attribute?: string } {
  const { parts, attribute } = compilePath(spec);
  let current = [root];
  for (const part of parts) {
    // One element on the way down (the common case) needs no flattening.
    const only = current.length === 1 ? current[0] : undefined;
    current = only !== undefined ? children(only, part) : current.flatMap((el) => children(el, part));
    if (current.length === 0) break;
  }
  return attribute === undefined ? { elements: current } : { elements: current, attribute };
}

function valueAt(root: XmlElement, spec: string): string | undefined {
  const { elements, attribute } = select(root, spec);
  const first = elements[0];
  if (first === undefined) return undefined;
  return attribute === undefined ? textOf(first) : attributeOf(first, attribute);
}

const DATE_PATTERNS: Record<DateFormat, RegExp> = {
  'yyyy-MM-dd': /^(?<y>\d{4})-(?<m>\d{2})-(?<d>\d{2})$/,
  'yyyy-MM': /^(?<y>\d{4})-(?<m>\d{2})$/,
  yyyy: /^(?<y>\d{4})$/,
  'dd.MM.yyyy': /^(?<d>\d{2})\.(?<m>\d{2})\.(?<y>\d{4})$/,
  yyyyMMdd: /^(?<y>\d{4})(?<m>\d{2})(?<d>\d{2})$/,
};

/**
 * Converts a date in one of the formats into `YYYY[-MM[-DD]]`. `00` marks an
 * unknown day or month (XÖV "teilbekanntes Datum"); an unknown month with a
 * known day is not a date. Returns undefined when nothing fits or the date
 * is impossible.
 */
export function convertDate(raw: string, formats: readonly DateFormat[], partialAllowed: boolean): string | undefined {
  for (const format of formats) {
    const groups = DATE_PATTERNS[format].exec(raw)?.groups;
    if (groups === undefined) continue;
    const year = Number(groups.y);
    const month = groups.m === undefined ? 0 : Number(groups.m);
    const day = groups.d === undefined ? 0 : Number(groups.d);
    if (month === 0 && day !== 0) return undefined;
    const partial = month === 0 ? { year } : day === 0 ? { year, month } : { year, month, day };
    const iso = formatPartialDate(partial);
    const checked = parsePartialDate(iso);
    if (checked === undefined) return undefined;
    if (!partialAllowed && checked.day === undefined) return undefined;
    return iso;
  }
  return undefined;
}

const TRUE = new Set(['true', '1', 'ja', 'yes']);
const FALSE = new Set(['false', '0', 'nein', 'no']);

class DeclarativeMapping implements CaseSystemMapping {
  readonly name: string;
  readonly namespace: string;

  constructor(readonly file: MappingFile) {
    this.name = file.name;
    this.namespace = file.namespace;
  }

  operationFor(root: XmlElement): 'notice' | 'cancel' | 'status' | undefined {
    if (root.$ns.uri !== this.namespace) return undefined;
    if (root.$ns.local === this.file.notice.root) return 'notice';
    if (root.$ns.local === this.file.cancel?.root) return 'cancel';
    if (root.$ns.local === this.file.status?.root) return 'status';
    return undefined;
  }

  sourceOf(field: string): string | undefined {
    const doc = /^documents\[(\d+)\]\.(\w+)$/.exec(field);
    if (doc) {
      const spec = this.file.notice.documents.fields[doc[2] as (typeof DOCUMENT_FIELDS)[number]];
      return spec?.path === undefined ? undefined : `${this.file.notice.documents.each}[${doc[1]}]/${spec.path}`;
    }
    if (field === 'documents') return this.file.notice.documents.each;
    return this.file.notice.fields[field as NoticeField]?.path;
  }

  toNotice(root: XmlElement, client: { authority: string }): Record<string, unknown> {
    for (const check of this.file.notice.checks) {
      if (valueAt(root, check.path)?.trim() !== check.equals) {
        throw new DokuboxError('VALIDATION_FAILED', check.message ?? `Element ${check.path} must be '${check.equals}'.`, { field: check.path });
      }
    }
    const notice: Record<string, unknown> = {};
    const person: Record<string, unknown> = {};
    for (const [name, spec] of Object.entries(this.file.notice.fields)) {
      if (spec === undefined) continue;
      const value = this.extract(root, spec, name, client);
      if (value === undefined) continue;
      if (name.startsWith('person.')) person[name.slice(7)] = value;
      else notice[name] = value;
    }
    notice.person = person;
    const { elements } = select(root, this.file.notice.documents.each);
    notice.documents = elements.map((el, index) => {
      const doc: Record<string, unknown> = {};
      for (const [name, spec] of Object.entries(this.file.notice.documents.fields)) {
        if (spec === undefined) continue;
        const value = this.extract(el, spec, `documents[${index}].${name}`, client);
        if (value !== undefined) doc[name] = value;
      }
      return doc;
    });
    return notice;
  }

  toReference(root: XmlElement, operation: 'cancel' | 'status'): { pickupId: string } | { messageId: string } {
    const spec = operation === 'cancel' ? this.file.cancel : this.file.status;
    if (spec === undefined) throw new DokuboxError('VALIDATION_FAILED', `This format has no ${operation} request.`);
    const pickupId = valueAt(root, spec.pickupId)?.trim();
    if (pickupId) return { pickupId };
    const messageId = valueAt(root, spec.messageId)?.trim();
    if (messageId) return { messageId };
    throw new DokuboxError('VALIDATION_FAILED', `Give ${spec.pickupId} or ${spec.messageId} to say which pickup is meant.`, { field: spec.pickupId });
  }

  private extract(root: XmlElement, spec: FieldSpec, field: string, client: { authority: string }): unknown {
    if (spec.const !== undefined) return spec.const;
    if (spec.fromClient !== undefined) return client.authority;
    const source = spec.path ?? '';
    const found = valueAt(root, source);
    if (found === undefined) return undefined;
    let raw = found.trim();
    if (spec.codes !== undefined) raw = this.translate(root, spec, raw, field);
    switch (spec.type) {
      case 'string':
        return raw;
      case 'boolean':
        if (TRUE.has(raw.toLowerCase())) return true;
        if (FALSE.has(raw.toLowerCase())) return false;
        throw new DokuboxError('VALIDATION_FAILED', `Field ${field} (element ${source}) must be true or false.`, { field });
      case 'partialDate':
      case 'date': {
        const converted = convertDate(raw, spec.formats ?? [], spec.type === 'partialDate');
        if (converted === undefined) {
          throw new DokuboxError('INVALID_DATE', `Field ${field} (element ${source}) is not a real date in the format ${(spec.formats ?? []).join(' or ')}.`, { field });
        }
        return converted;
      }
      case 'mobile': {
        const mobile = normaliseMobile(raw);
        if (mobile === undefined) {
          throw new DokuboxError('INVALID_PHONE', `Field ${field} (element ${source}) must be a valid mobile phone number (landlines cannot receive the SMS).`, { field });
        }
        return mobile;
      }
    }
  }

  private translate(root: XmlElement, spec: FieldSpec, raw: string, field: string): string {
    const list = this.file.codeLists[spec.codes ?? ''];
    if (list === undefined) return raw;
    if (list.listURI !== undefined && spec.path !== undefined) {
      // The code sits in <x listURI="..."><code>..</code></x>: the attribute is on the parent.
      const parent = spec.path.split('/').slice(0, -1).join('/');
      const uri = parent === '' ? valueAt(root, '@listURI') : valueAt(root, `${parent}/@listURI`);
      if (uri !== undefined && uri !== list.listURI) {
        throw new DokuboxError('VALIDATION_FAILED', `Field ${field} uses the code list ${uri}; expected ${list.listURI}.`, { field });
      }
    }
    const translated = list.values[raw];
    if (translated !== undefined) return translated;
    if (list.unknown === 'reject') {
      throw new DokuboxError(list.errorCode, `Field ${field} (element ${spec.path ?? ''}) has a code that is not in the code list ${spec.codes ?? ''}.`, { field });
    }
    return raw;
  }
}
