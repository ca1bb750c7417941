/**
 * Turns the first problem zod found in untrusted input into one clear error:
 * which field, what is wrong, what is expected. Never the value itself (it
 * may be personal data), only its kind.
 */
import type { z } from 'zod';
import { DokuboxError } from './errors.js';

/** `documents[0].type` style path. */
export function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc === '' ? String(part) : `${acc}.${String(part)}`), '');
}

/** Whether `path` leads to a value in `root` (an explicit null counts as present). */
function present(root: unknown, path: readonly PropertyKey[]): boolean {
  let node = root;
  for (const part of path) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, part)) return false;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node !== undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true/false';
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const EXPECTED: Record<string, string> = { string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false', object: 'an object', array: 'an array', date: 'a date' };

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((node, part) => (node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[part] : undefined), root);
}

/**
 * What is wrong with the field of `issue`, e.g. `is required` or `must be a
 * string, not a number`. `textOnly` input (the environment: every value is
 * text) says only what is expected.
 */
export function describeIssue(issue: z.core.$ZodIssue, root: unknown, options: { textOnly?: boolean } = {}): string {
  if (issue.code === 'invalid_type') {
    if (!present(root, issue.path)) return 'is required';
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    return options.textOnly === true ? `must be ${expected}` : `must be ${expected}, not ${kindOf(valueAt(root, issue.path))}`;
  }
  if (issue.code === 'invalid_value' && issue.values.length > 0) return `must be one of ${issue.values.map(String).join(', ')}`;
  return issue.message;
}

/** Throws VALIDATION_FAILED for the first issue: unknown fields by name, otherwise the field and what it must be. */
export function failValidation(error: z.ZodError, root: unknown): never {
  const issue = error.issues[0];
  if (issue === undefined) throw new DokuboxError('VALIDATION_FAILED', 'The request is invalid.');
  const field = pathOf(issue.path);
  if (issue.code === 'unrecognized_keys') {
    throw new DokuboxError('VALIDATION_FAILED', `Unknown field(s) ${issue.keys.join(', ')}${field ? ` in ${field}` : ''}: remove them or check the spelling.`, { field: field || issue.keys[0] || '' });
  }
  throw new DokuboxError('VALIDATION_FAILED', `Field ${field || '(body)'} ${describeIssue(issue, root)}.`, { field });
}
