/**
 * Untrusted XML from case systems: size, shape and DOCTYPE checks on the raw
 * text before any parser sees it, then parsing with xml2js into a uniform
 * tree (every element an object with `$ns`, optional `$` attributes and `_`
 * text; children always arrays) that mappings address by local names.
 */
import xml2js from 'xml2js';
import { DokuboxError } from '../core/errors.js';

export interface XmlLimits {
  /** Deepest element nesting accepted (a SOAP envelope adds 2). */
  maxDepth: number;
  /** Most elements accepted in one document. */
  maxElements: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 32, maxElements: 2000 };

export interface XmlAttribute {
  value: string;
  local: string;
  uri: string;
}

export interface XmlElement {
  $ns: { uri: string; local: string };
  $?: Record<string, XmlAttribute>;
  _?: string;
  [child: string]: XmlElement[] | XmlElement['$ns'] | Record<string, XmlAttribute> | string | undefined;
}

function malformed(message: string, context: Record<string, string | number> = {}): DokuboxError {
  return new DokuboxError('MALFORMED_BODY', message, { context });
}

/**
 * One linear pass over the raw text: rejects DOCTYPE/ENTITY declarations (no
 * entity expansion can happen later), counts elements and tracks nesting, so
 * a hostile document is refused before a parser allocates anything for it.
 */
export function checkXmlShape(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): void {
  let depth = 0;
  let elements = 0;
  let i = text.indexOf('<');
  while (i !== -1 && i < text.length) {
    const next = text.charCodeAt(i + 1);
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end === -1) throw malformed('The XML ends inside a comment.');
      i = text.indexOf('<', end + 3);
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i + 9);
      if (end === -1) throw malformed('The XML ends inside a CDATA section.');
      i = text.indexOf('<', end + 3);
      continue;
    }
    if (next === 0x21 /* ! */) {
      // <!DOCTYPE, <!ENTITY, <!ELEMENT ...: never needed by a SOAP or XÖV message, and the door to entity expansion.
      throw malformed('DOCTYPE and ENTITY declarations are not accepted; send the message without them.', { reason: 'doctype' });
    }
    if (next === 0x3f /* ? */) {
      const end = text.indexOf('?>', i + 2);
      if (end === -1) throw malformed('The XML ends inside a processing instruction.');
      i = text.indexOf('<', end + 2);
      continue;
    }
    // Find the end of the tag, skipping quoted attribute values (they may contain '>').
    let j = i + 1;
    let quote = 0;
    for (; j < text.length; j++) {
      const ch = text.charCodeAt(j);
      if (quote !== 0) {
        if (ch === quote) quote = 0;
      } else if (ch === 0x22 || ch === 0x27) {
        quote = ch;
      } else if (ch === 0x3e /* > */) {
        break;
      }
    }
    if (j >= text.length) throw malformed('The XML ends inside a tag.');
    if (next === 0x2f /* / */) {
      depth -= 1;
    } else {
      elements += 1;
      if (elements > limits.maxElements) throw malformed(`The XML has more than ${limits.maxElements} elements.`, { reason: 'too_many_elements' });
      if (text.charCodeAt(j - 1) !== 0x2f) {
        depth += 1;
        if (depth > limits.maxDepth) throw malformed(`The XML nests deeper than ${limits.maxDepth} levels.`, { reason: 'too_deep' });
      }
    }
    i = text.indexOf('<', j + 1);
  }
}

const parserOptions: xml2js.ParserOptions = {
  explicitArray: true,
  explicitRoot: true,
  xmlns: true,
  strict: true,
  tagNameProcessors: [xml2js.processors.stripPrefix],
  attrNameProcessors: [xml2js.processors.stripPrefix],
};

/** Parses checked XML text; returns the root element. */
export async function parseXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): Promise<XmlElement> {
  checkXmlShape(text, limits);
  let parsed: unknown;
  try {
    parsed = await new xml2js.Parser(parserOptions).parseStringPromise(text);
  } catch {
    // The parser's message quotes the document; it may carry personal data.
    throw malformed('The body is not well-formed XML.', { reason: 'not_well_formed' });
  }
  if (parsed === null || typeof parsed !== 'object') throw malformed('The body is empty.');
  const root = Object.values(parsed as Record<string, unknown>)[0];
  if (root === undefined || root === null || typeof root !== 'object') throw malformed('The body has no root element.');
  return root as XmlElement;
}

/** Child elements of `el` with this local name (namespace-agnostic). */
export function children(el: XmlElement, local: string): XmlElement[] {
  if (local.startsWith('$') || local === '_') return [];
  const value = el[local];
  return Array.isArray(value) ? value : [];
}

/** All child elements in document order is not kept by xml2js; this returns them grouped by name. */
export function allChildren(el: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  for (const [key, value] of Object.entries(el)) {
    if (key === '$' || key === '$ns' || key === '_') continue;
    if (Array.isArray(value)) out.push(...value);
  }
  return out;
}

export function textOf(el: XmlElement): string {
  return typeof el._ === 'string' ? el._ : '';
}

export function attributeOf(el: XmlElement, local: string): string | undefined {
  const attrs = el.$;
  if (attrs === undefined) return undefined;
  for (const attr of Object.values(attrs)) {
    if (attr.local === local && attr.uri !== 'http://www.w3.org/2000/xmlns/') return attr.value;
  }
  return undefined;
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch] ?? ch);
}
