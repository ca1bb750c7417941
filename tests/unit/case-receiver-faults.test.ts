/**
 * Faults for failures on dokubox's side: a Redis outage is a retryable 503
 * with Retry-After (SOAP 1.1 Server class, SOAP 1.2 Receiver, plain XML), an
 * unexpected error stays a 500; every fault detail the endpoint writes, and
 * every golden fault file, validates against the served XSD.
 */
import { readdirSync } from 'node:fs';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { BASIC, canonicalNotice, fixture, makeApp, soapEnvelope } from '../fixtures/case-system/helpers.js';
import { faultDetailElement, schemaErrors } from '../support/xml-schema.js';

const SOAP11 = { 'content-type': 'text/xml; charset=utf-8', authorization: BASIC };
const SOAP12 = { 'content-type': 'application/soap+xml; charset=utf-8', authorization: BASIC };

async function appFailingWith(error: Error) {
  const made = await makeApp();
  made.port.submitNotice = async () => {
    throw error;
  };
  return made;
}

describe('faults when dokubox cannot serve', () => {
  it.each([
    ['LOADING Redis is loading the dataset in memory'],
    ["READONLY You can't write against a read only replica."],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.'],
  ])('a Redis reply "%s" is a retryable SOAP 1.1 Server fault with 503 and Retry-After', async (reply) => {
    const { app } = await appFailingWith(new ReplyError(reply));
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice()) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const text = await res.text();
    expect(text).toMatch(/<faultcode>soap:Server<\/faultcode><faultstring xml:lang="en">[^<]*same message id[^<]*<\/faultstring>/);
    expect(text).toContain('<dokubox:code>DEPENDENCY_UNAVAILABLE</dokubox:code>');
    expect(text).toContain('<dokubox:retryable>true</dokubox:retryable>');
    expect(text).not.toContain(reply.split(' ')[0]);
    expect(schemaErrors(faultDetailElement(text))).toBe('');
  });

  it('a Redis outage is a SOAP 1.2 Receiver fault with the dokubox subcode, 503 and Retry-After', async () => {
    const { app } = await appFailingWith(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' }));
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP12, body: soapEnvelope(canonicalNotice(), { version: '1.2' }) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const text = await res.text();
    expect(text).toContain('<soap:Value>soap:Receiver</soap:Value><soap:Subcode><soap:Value>dokubox:DEPENDENCY_UNAVAILABLE</soap:Value>');
    expect(schemaErrors(faultDetailElement(text))).toBe('');
  });

  it('a Redis outage on the plain XML route is a retryable DokuboxFault with 503 and Retry-After', async () => {
    const { app } = await appFailingWith(new Error('Connection is closed.'));
    const res = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers: { 'content-type': 'application/xml', authorization: BASIC }, body: fixture('notify-xoev.request.xml') });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    const text = await res.text();
    expect(text).toContain('<dokubox:code>DEPENDENCY_UNAVAILABLE</dokubox:code>');
    expect(schemaErrors(text)).toBe('');
  });

  it('an unexpected error stays a 500 Server fault without Retry-After and without its text', async () => {
    const { app } = await appFailingWith(new TypeError("Cannot read properties of undefined (reading 'id')"));
    for (const [headers, version] of [
      [SOAP11, '1.1'],
      [SOAP12, '1.2'],
    ] as const) {
      const res = await app.request('/soap/v1/pickup', { method: 'POST', headers, body: soapEnvelope(canonicalNotice(), { version }) });
      expect(res.status).toBe(500);
      expect(res.headers.get('retry-after')).toBeNull();
      const text = await res.text();
      expect(text).toContain(version === '1.1' ? '<faultcode>soap:Server</faultcode>' : '<soap:Value>soap:Receiver</soap:Value>');
      expect(text).toContain('<dokubox:code>INTERNAL</dokubox:code>');
      expect(text).not.toContain('Cannot read');
      expect(schemaErrors(faultDetailElement(text))).toBe('');
    }
  });
});

describe('fault details and the XSD', () => {
  it('a sender fault with field and element validates (the element names where it sits in the vendor format)', async () => {
    const { app } = await makeApp();
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ mobile: '12' })) });
    const text = await res.text();
    expect(text).toContain('<dokubox:field>mobile</dokubox:field>');
    expect(schemaErrors(faultDetailElement(text))).toBe('');
  });

  it.each(readdirSync(new URL('../fixtures/case-system/', import.meta.url)).filter((name) => name.startsWith('fault-')))('the golden fault %s validates', (name) => {
    const text = fixture(name);
    expect(schemaErrors(text.includes('Envelope') ? faultDetailElement(text) : text)).toBe('');
  });
});
