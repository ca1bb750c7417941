/**
 * SOAP envelopes and faults, written by hand for SOAP 1.1 and 1.2. A fault
 * carries the stable error code as `dokubox:CODE`, a clerk-readable message
 * and a DokuboxFault detail naming the offending field, never a stack trace.
 */
import { DokuboxError, ERROR_CODES } from '../core/errors.js';
import { asRedisUnavailable } from '../store/redis-errors.js';
import { escapeXml } from './xml.js';

export const PICKUP_NS = 'urn:dokubox:pickup:1';
export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';

export type SoapVersion = '1.1' | '1.2';

export function contentTypeFor(version: SoapVersion): string {
  return version === '1.2' ? 'application/soap+xml; charset=utf-8' : 'text/xml; charset=utf-8';
}

/** Wraps body XML (already serialised) in an envelope of the version. */
export function envelope(version: SoapVersion, body: string): string {
  const ns = version === '1.2' ? SOAP12_NS : SOAP11_NS;
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ns}" xmlns:dokubox="${PICKUP_NS}"><soap:Body>${body}</soap:Body></soap:Envelope>`;
}

export type XmlValue = string | number | boolean | null | undefined | XmlValue[] | { [key: string]: XmlValue };

/** Serialises a plain object as elements in the dokubox namespace (prefix `dokubox`). Arrays repeat the element. */
export function toXml(name: string, value: XmlValue): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => toXml(name, v)).join('');
  if (typeof value === 'object') {
    const inner = Object.entries(value)
      .map(([k, v]) => toXml(k, v))
      .join('');
    return `<dokubox:${name}>${inner}</dokubox:${name}>`;
  }
  return `<dokubox:${name}>${escapeXml(String(value))}</dokubox:${name}>`;
}

export interface FaultInfo {
  code: string;
  message: string;
  field?: string | undefined;
  /** Where the field sits in the sender's document, if known. */
  element?: string | undefined;
  retryable: boolean;
  /** Sender (the message is wrong) or receiver (we failed). */
  sender: boolean;
  /** The HTTP status of the error code (503: resend later, with Retry-After). */
  status: number;
}

export function faultInfo(error: unknown, elementOf?: (field: string) => string | undefined): FaultInfo {
  const known = error instanceof DokuboxError ? error : asRedisUnavailable(error);
  if (known !== undefined) {
    return {
      code: known.code,
      message: known.message,
      field: known.field,
      element: known.field === undefined || known.field === '' ? undefined : elementOf?.(known.field),
      retryable: known.retryable,
      sender: known.status < 500,
      status: known.status,
    };
  }
  return { code: 'INTERNAL', message: 'An internal error occurred; try again later.', retryable: ERROR_CODES.INTERNAL.retryable, sender: false, status: ERROR_CODES.INTERNAL.status };
}

export function faultDetail(info: FaultInfo): string {
  return toXml('DokuboxFault', { code: info.code, field: info.field || undefined, element: info.element, retryable: info.retryable }).replace(
    '<dokubox:DokuboxFault>',
    `<dokubox:DokuboxFault xmlns:dokubox="${PICKUP_NS}">`,
  );
}

export function faultEnvelope(version: SoapVersion, info: FaultInfo): string {
  const message = escapeXml(info.message);
  if (version === '1.1') {
    // SOAP 1.1 §4.4.1: a failure of the receiver is of the Server class ("may succeed later"); the stable code is in the detail.
    const faultcode = info.sender ? `dokubox:${info.code}` : 'soap:Server';
    return envelope(
      '1.1',
      `<soap:Fault><faultcode>${faultcode}</faultcode><faultstring xml:lang="en">${message}</faultstring><detail>${faultDetail(info)}</detail></soap:Fault>`,
    );
  }
  const outer = info.sender ? 'soap:Sender' : 'soap:Receiver';
  return envelope(
    '1.2',
    `<soap:Fault><soap:Code><soap:Value>${outer}</soap:Value><soap:Subcode><soap:Value>dokubox:${info.code}</soap:Value></soap:Subcode></soap:Code><soap:Reason><soap:Text xml:lang="en">${message}</soap:Text></soap:Reason><soap:Detail>${faultDetail(info)}</soap:Detail></soap:Fault>`,
  );
}

/**
 * SOAP 1.1 (WS-I Basic Profile R1126) answers faults with 500; SOAP 1.2 uses 400 for sender faults.
 * Deliberate deviations (docs/case-system.md), each with a complete fault as the body: a fault whose
 * code means "resend later" (503: Redis unavailable, replica not confirming) gets 503 in both
 * versions, with Retry-After (`retryAfter`), because clients and proxies treat 503 as retryable;
 * authentication failures get 401; a body over the size limit, refused at the HTTP layer before
 * anything of it was parsed, gets 413 like every other route (and like a proxy's body limit).
 */
export function faultStatus(version: SoapVersion, info: FaultInfo): 400 | 401 | 413 | 500 | 503 {
  if (info.code === 'UNAUTHENTICATED') return 401;
  // Refused at the HTTP layer before anything was parsed, like the REST routes and a proxy's body limit.
  if (info.code === 'BODY_TOO_LARGE') return 413;
  if (info.status === 503) return 503;
  if (version === '1.2' && info.sender) return 400;
  return 500;
}

/** Headers a fault needs beyond its content type: Retry-After on a 503. */
export function retryAfter(info: FaultInfo, seconds: number): Record<string, string> {
  return info.status === 503 && info.retryable ? { 'retry-after': String(seconds) } : {};
}
