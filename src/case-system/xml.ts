/**
 * Untrusted XML from case systems: shape and DOCTYPE checks on the raw bytes
 * as they arrive (XmlShapeScanner), before any parser sees them, then parsing
 * with saxes (before: xml2js on sax, whose attribute handling is quadratic in
 * the attributes of one element: hence the limits, kept) into a uniform
 * tree (every element an object with `$ns`, optional `$` attributes and `_`
 * text; children always arrays) that mappings address by local names.
 */
import { SaxesParser, type SaxesAttributeNS } from 'saxes';
import { DokuboxError } from '../core/errors.js';

export interface XmlLimits {
  /** Deepest element nesting accepted (a SOAP envelope adds 2). */
  maxDepth: number;
  /** Most elements accepted in one document. */
  maxElements: number;
  /** Most attributes in one document, namespace declarations included. */
  maxAttributes: number;
  /** Most attributes on one element, namespace declarations included. */
  maxAttributesPerElement: number;
  /** Most comments in one document. */
  maxComments: number;
  /** Most processing instructions in one document, the XML declaration included. */
  maxProcessingInstructions: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = {
  maxDepth: 32,
  maxElements: 2000,
  maxAttributes: 4000,
  maxAttributesPerElement: 64,
  maxComments: 100,
  maxProcessingInstructions: 10,
};

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

const LT = 0x3c; // <
const GT = 0x3e; // >
const BANG = 0x21; // !
const QUESTION = 0x3f; // ?
const SLASH = 0x2f; // /
const EQUALS = 0x3d; // =
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const COMMENT_OPEN = Buffer.from('<!--');
const CDATA_OPEN = Buffer.from('<![CDATA[');

type ScanMode = 'text' | 'tag' | 'comment' | 'cdata' | 'pi';
const TERMINATORS = { comment: Buffer.from('-->'), cdata: Buffer.from(']]>'), pi: Buffer.from('?>') } as const;

/**
 * Checks the shape of XML as its bytes arrive, before any parser sees them:
 * refuses DOCTYPE/ENTITY declarations (no entity expansion can happen later)
 * and counts elements, nesting, attributes (in total and per element),
 * comments and processing instructions, throwing MALFORMED_BODY at the first
 * limit passed, so a hostile document is refused after the bytes that break
 * the limit, not after all of it. One linear pass; only the markup characters
 * are looked at, which are ASCII and never part of a multi-byte UTF-8
 * sequence, so chunks may end anywhere.
 */
export class XmlShapeScanner {
  private mode: ScanMode = 'text';
  /** Unscanned bytes kept from the previous chunk (a few bytes of an unfinished construct). */
  private carry: Buffer = Buffer.alloc(0);
  private quote = 0;
  private closing = false;
  private previous = 0;
  private tagAttributes = 0;
  private depth = 0;
  private elements = 0;
  private attributes = 0;
  private comments = 0;
  private instructions = 0;

  constructor(private readonly limits: XmlLimits = DEFAULT_XML_LIMITS) {}

  /** Scans the next bytes (or text) of the document. */
  push(chunk: Uint8Array | string): void {
    const next = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.carry.length === 0 ? next : Buffer.concat([this.carry, next]);
    this.carry = buf.subarray(this.scan(buf));
  }

  /** The document is complete: refuses one that ends inside markup. */
  end(): void {
    if (this.mode !== 'text' || this.carry.length > 0) throw malformed(`The XML ends inside ${this.mode === 'comment' ? 'a comment' : this.mode === 'cdata' ? 'a CDATA section' : this.mode === 'pi' ? 'a processing instruction' : 'a tag'}.`);
  }

  /** Scans `buf` as far as it can; returns the offset of the first byte it needs to see again with more data. */
  private scan(buf: Buffer): number {
    let i = 0;
    while (i < buf.length) {
      if (this.mode === 'text') {
        const lt = buf.indexOf(LT, i);
        if (lt === -1) return buf.length;
        if (lt + 1 >= buf.length) return lt;
        const kind = buf[lt + 1];
        if (kind === BANG) {
          if (startsWithAt(buf, lt, COMMENT_OPEN)) {
            this.count('comments', this.limits.maxComments, 'comments', 'too_many_comments');
            this.mode = 'comment';
            i = lt + COMMENT_OPEN.length;
          } else if (startsWithAt(buf, lt, CDATA_OPEN)) {
            this.mode = 'cdata';
            i = lt + CDATA_OPEN.length;
          } else if (isPrefixAt(buf, lt, COMMENT_OPEN) || isPrefixAt(buf, lt, CDATA_OPEN)) {
            return lt; // "<!-" or "<![CD" at the end of the chunk: decide with more data
          } else {
            // <!DOCTYPE, <!ENTITY, <!ELEMENT ...: never needed by a SOAP or XÖV message, and the door to entity expansion.
            throw malformed('DOCTYPE and ENTITY declarations are not accepted; send the message without them.', { reason: 'doctype' });
          }
        } else if (kind === QUESTION) {
          this.count('instructions', this.limits.maxProcessingInstructions, 'processing instructions', 'too_many_processing_instructions');
          this.mode = 'pi';
          i = lt + 2;
        } else {
          this.mode = 'tag';
          this.closing = kind === SLASH;
          this.quote = 0;
          this.previous = 0;
          this.tagAttributes = 0;
          if (!this.closing) this.count('elements', this.limits.maxElements, 'elements', 'too_many_elements');
          i = lt + 1;
        }
      } else if (this.mode === 'tag') {
        for (; i < buf.length; i++) {
          const ch = buf[i] ?? 0;
          if (this.quote !== 0) {
            if (ch === this.quote) this.quote = 0;
          } else if (ch === DQUOTE || ch === SQUOTE) {
            this.quote = ch;
          } else if (ch === EQUALS && !this.closing) {
            // Outside quotes, '=' in a start tag only stands between an attribute's name and value.
            this.tagAttributes += 1;
            if (this.tagAttributes > this.limits.maxAttributesPerElement) {
              throw malformed(`An XML element has more than ${this.limits.maxAttributesPerElement} attributes.`, { reason: 'too_many_attributes_per_element' });
            }
            this.count('attributes', this.limits.maxAttributes, 'attributes', 'too_many_attributes');
          } else if (ch === GT) {
            if (this.closing) {
              this.depth -= 1;
            } else if (this.previous !== SLASH) {
              this.depth += 1;
              if (this.depth > this.limits.maxDepth) throw malformed(`The XML nests deeper than ${this.limits.maxDepth} levels.`, { reason: 'too_deep' });
            }
            this.mode = 'text';
            i += 1;
            break;
          }
          this.previous = ch;
        }
      } else {
        const terminator = TERMINATORS[this.mode];
        const end = buf.indexOf(terminator, i);
        // Keep the last bytes: they may be the start of the terminator.
        if (end === -1) return Math.max(i, buf.length - (terminator.length - 1));
        this.mode = 'text';
        i = end + terminator.length;
      }
    }
    return buf.length;
  }

  private count(counter: 'elements' | 'attributes' | 'comments' | 'instructions', limit: number, what: string, reason: string): void {
    this[counter] += 1;
    if (this[counter] > limit) throw malformed(`The XML has more than ${limit} ${what}.`, { reason });
  }
}

function startsWithAt(buf: Buffer, at: number, prefix: Buffer): boolean {
  return buf.length - at >= prefix.length && buf.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}

/** Whether the rest of `buf` from `at` is a proper prefix of `full` (more data may complete it). */
function isPrefixAt(buf: Buffer, at: number, full: Buffer): boolean {
  const rest = buf.length - at;
  return rest < full.length && buf.compare(full, 0, rest, at, buf.length) === 0;
}

/** Checks a whole document's shape (see XmlShapeScanner). */
export function checkXmlShape(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): void {
  const scanner = new XmlShapeScanner(limits);
  scanner.push(text);
  scanner.end();
}

/** Checks the shape of XML text (see XmlShapeScanner) and parses it; returns the root element. */
export async function parseXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): Promise<XmlElement> {
  checkXmlShape(text, limits);
  return parseCheckedXml(text);
}

const WHITESPACE_ONLY = /^\s*$/;

/** `soap:Envelope` -> `Envelope` (what mappings address elements and attributes by). */
function stripPrefix(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

interface Frame {
  el: XmlElement;
  text: string;
  cdata: boolean;
}

/**
 * Parses XML text whose shape an XmlShapeScanner has already checked; returns the root element.
 * saxes (strict XML 1.0 with namespaces; about four times faster than sax on a notice) drives the
 * tree building directly: the same tree xml2js built on sax before (whitespace-only text dropped
 * unless in CDATA, children grouped by local name, attributes keyed by local name). Anything the
 * parser refuses, also after the root element, is MALFORMED_BODY.
 */
export async function parseCheckedXml(text: string): Promise<XmlElement> {
  return parseCheckedXmlSync(text);
}

/** The synchronous core of parseCheckedXml. */
export function parseCheckedXmlSync(text: string): XmlElement {
  if (text.trim() === '') throw malformed('The body is empty.');
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: Frame[] = [];
  let root: XmlElement | undefined;
  // Without an error handler saxes throws at the first error, which ends the parse.
  parser.on('opentag', (tag) => {
    const el = { $ns: { uri: tag.uri, local: tag.local } } as XmlElement;
    let attrs: Record<string, XmlAttribute> | undefined;
    for (const name in tag.attributes) {
      const attr = tag.attributes[name] as SaxesAttributeNS;
      attrs ??= {};
      Object.defineProperty(attrs, stripPrefix(name), { value: { name: attr.name, value: attr.value, prefix: attr.prefix, local: attr.local, uri: attr.uri }, enumerable: true, writable: true, configurable: true });
    }
    if (attrs !== undefined) el.$ = attrs;
    stack.push({ el, text: '', cdata: false });
  });
  parser.on('text', (chunk) => {
    const top = stack[stack.length - 1];
    if (top !== undefined) top.text += chunk;
  });
  parser.on('cdata', (chunk) => {
    const top = stack[stack.length - 1];
    if (top !== undefined) {
      top.text += chunk;
      top.cdata = true;
    }
  });
  parser.on('closetag', (tag) => {
    const frame = stack.pop();
    if (frame === undefined) return;
    if (frame.cdata || !WHITESPACE_ONLY.test(frame.text)) frame.el._ = frame.text;
    const parent = stack[stack.length - 1];
    if (parent === undefined) {
      root ??= frame.el;
      return;
    }
    const key = stripPrefix(tag.name);
    const siblings = Object.hasOwn(parent.el, key) ? parent.el[key] : undefined;
    if (Array.isArray(siblings)) siblings.push(frame.el);
    else Object.defineProperty(parent.el, key, { value: [frame.el], enumerable: true, writable: true, configurable: true });
  });
  try {
    parser.write(text).close();
  } catch {
    // The parser's message quotes the document; it may carry personal data.
    throw malformed('The body is not well-formed XML.', { reason: 'not_well_formed' });
  }
  if (root === undefined) throw malformed('The body has no root element.');
  return root;
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
