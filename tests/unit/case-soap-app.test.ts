import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import xml2js from 'xml2js';
import { BASIC, canonicalNotice, fixture, makeApp, soapEnvelope, usernameToken } from '../fixtures/case-system/helpers.js';

const SOAP11 = { 'content-type': 'text/xml; charset=utf-8', authorization: BASIC };
const SOAP12 = { 'content-type': 'application/soap+xml; charset=utf-8', authorization: BASIC };

/** Golden files: compared byte for byte; UPDATE_GOLDEN=1 rewrites them (review the diff before committing). */
function golden(name: string, actual: string): void {
  const file = new URL(`../fixtures/case-system/${name}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    expect(process.env.UPDATE_GOLDEN, `golden file ${name} is missing; run with UPDATE_GOLDEN=1`).toBe('1');
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

async function faultOf(res: Response): Promise<{ code: string; field?: string; text: string }> {
  const text = await res.text();
  const parsed = (await xml2js.parseStringPromise(text, { tagNameProcessors: [xml2js.processors.stripPrefix], explicitArray: false })) as {
    Envelope?: { Body: { Fault: { detail?: { DokuboxFault: Record<string, string> }; Detail?: { DokuboxFault: Record<string, string> } } } };
    DokuboxFault?: Record<string, string>;
  };
  const detail = parsed.DokuboxFault ?? parsed.Envelope?.Body.Fault.detail?.DokuboxFault ?? parsed.Envelope?.Body.Fault.Detail?.DokuboxFault;
  const code = detail?.code;
  if (code === undefined) throw new Error(`no fault in ${text}`);
  return { code, ...(typeof detail?.field === 'string' ? { field: detail.field } : {}), text };
}

describe('case-system SOAP endpoint: happy paths and golden files', () => {
  it('serves the WSDL with the listener\'s address and its schema, never the address of the request\'s Host header', async () => {
    const { app } = await makeApp({ listenerUrl: 'http://127.0.0.1:8080' });
    const res = await app.request('http://evil.example/soap/v1/pickup?wsdl', { headers: { host: 'evil.example' } });
    expect(res.status).toBe(200);
    const wsdl = await res.text();
    expect(wsdl).not.toContain('evil.example');
    expect(wsdl).toContain('location="http://127.0.0.1:8080/soap/v1/pickup"');
    expect(wsdl).toContain('schemaLocation="http://127.0.0.1:8080/soap/v1/pickup?xsd=pickup.xsd"');
    const xsd = await app.request('http://evil.example/soap/v1/pickup?xsd=pickup.xsd');
    expect(await xsd.text()).toContain('targetNamespace="urn:dokubox:pickup:1"');
  });

  it('serves the WSDL with the configured public URL, a path prefix included', async () => {
    const { app } = await makeApp({ publicBaseUrl: 'https://abh.example/dokubox/' });
    const wsdl = await (await app.request('http://evil.example/soap/v1/pickup?wsdl', { headers: { host: 'evil.example' } })).text();
    expect(wsdl).toContain('<soap:address location="https://abh.example/dokubox/soap/v1/pickup"/>');
    expect(wsdl).toContain('<soap12:address location="https://abh.example/dokubox/soap/v1/pickup"/>');
    expect(wsdl).toContain('schemaLocation="https://abh.example/dokubox/soap/v1/pickup?xsd=pickup.xsd"');
  });

  it('NotifyDocumentsReady (canonical, SOAP 1.1), then a duplicate', async () => {
    const { app, port } = await makeApp();
    const request = fixture('notify-canonical.request.xml');
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: request });
    const text = await res.text();
    expect(res.status).toBe(200);
    golden('notify-canonical.response.xml', text);
    const stored = port.stored.get('ADVIS-2026-000123');
    expect(stored?.notice.mobile).toBe('+4915123456789');
    expect(stored?.notice.person.familyName).toBe('Kovačević');
    const again = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: request });
    expect(await again.text()).toContain('<dokubox:outcome>duplicate</dokubox:outcome>');
    expect(port.stored.size).toBe(1);
  });

  it('NotifyDocumentsReady in SOAP 1.2 answers in SOAP 1.2', async () => {
    const { app, port } = await makeApp();
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP12, body: fixture('notify-canonical-soap12.request.xml') });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/soap+xml');
    golden('notify-canonical-soap12.response.xml', await res.text());
    expect(port.stored.get('VOIS-2026-4711')?.notice).toMatchObject({ person: { familyName: 'Шевченко', dateOfBirth: '1985-03' }, language: 'uk', mobile: '+491701234567' });
  });

  it('faults in both SOAP versions match their golden files', async () => {
    const { app } = await makeApp();
    const bad11 = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ type: 'library-card' })) });
    golden('fault-unknown-document-type.soap11.response.xml', await bad11.text());
    const bad12 = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP12, body: soapEnvelope(canonicalNotice({ mobile: '+49 391 5400' }), { version: '1.2' }) });
    golden('fault-invalid-phone.soap12.response.xml', await bad12.text());
    const badXml = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers: { 'content-type': 'application/xml', authorization: BASIC }, body: fixture('notify-xoev.request.xml').replace('true</abh:einwilligungAbholbox>', 'false</abh:einwilligungAbholbox>') });
    golden('fault-consent-missing.xoev.response.xml', await badXml.text());
  });

  it('XÖV vendor format as plain XML and inside a SOAP body', async () => {
    const { app, port } = await makeApp();
    const request = fixture('notify-xoev.request.xml');
    const res = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers: { 'content-type': 'application/xml', authorization: BASIC }, body: request });
    expect(res.status).toBe(200);
    golden('notify-xoev.response.xml', await res.text());
    const notice = port.stored.get('6f1c1e1e-6b1a-4c5e-9d1e-2f0a7f3b9c01')?.notice;
    expect(notice).toMatchObject({
      authority: 'abh-magdeburg',
      caseNumber: '34.2-5678/26',
      boxId: 'mdb-foyer',
      person: { familyName: 'Al-Hassan', givenNames: 'Nour', dateOfBirth: '1990' },
      documents: [{ type: 'eAT', serialNumber: 'Y9P8R7S6T' }, { type: 'travel-refugee', serialNumber: 'F12345678', validUntil: '2029-01-04' }],
      mobile: '+491609876543',
      language: 'ar',
    });
    const inSoap = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(request.replace(/^<\?xml[^>]*>/, '')) });
    expect(await inSoap.text()).toContain('<dokubox:outcome>duplicate</dokubox:outcome>');
  });

  it('GetPickupStatus and CancelPickup by message id', async () => {
    const { app } = await makeApp();
    await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: fixture('notify-canonical.request.xml') });
    const status = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: fixture('status-canonical.request.xml') });
    expect(status.status).toBe(200);
    golden('status-canonical.response.xml', await status.text());
    const cancel = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: fixture('cancel-canonical.request.xml') });
    expect(cancel.status).toBe(200);
    golden('cancel-canonical.response.xml', await cancel.text());
  });
});

describe('renewal and the old card\'s CAN over SOAP and plain XML', () => {
  const XML = { 'content-type': 'application/xml', authorization: BASIC };
  const xoevWith = (elements: string): string => fixture('notify-xoev.request.xml').replace('</abh:abholbereitschaft.mitteilung.0001>', `${elements}</abh:abholbereitschaft.mitteilung.0001>`);

  it('canonical SOAP: a renewal with the CAN reaches the pickup service', async () => {
    const { app, port } = await makeApp();
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ renewal: 'true', oldCardCan: '482913' })) });
    expect(res.status).toBe(200);
    expect(port.stored.get('ADVIS-2026-000777')?.notice).toMatchObject({ renewal: true, oldCardCan: '482913' });
  });

  it('XÖV as plain XML and inside SOAP: <erneuerung> and <bisherigesDokument><zugangsnummer> reach the pickup service', async () => {
    const { app, port } = await makeApp();
    const request = xoevWith('<abh:erneuerung>true</abh:erneuerung><abh:bisherigesDokument><abh:zugangsnummer>482913</abh:zugangsnummer></abh:bisherigesDokument>');
    const res = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers: XML, body: request });
    expect(res.status).toBe(200);
    expect(port.stored.get('6f1c1e1e-6b1a-4c5e-9d1e-2f0a7f3b9c01')?.notice).toMatchObject({ renewal: true, oldCardCan: '482913' });
    const inSoap = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(request.replace(/^<\?xml[^>]*>/, '')) });
    expect(await inSoap.text()).toContain('<dokubox:outcome>duplicate</dokubox:outcome>');
  });

  it('a resend with another CAN is an IDEMPOTENCY_CONFLICT', async () => {
    const { app, port } = await makeApp();
    await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ renewal: 'true', oldCardCan: '482913' })) });
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ renewal: 'true', oldCardCan: '482914' })) });
    expect((await faultOf(res)).code).toBe('IDEMPOTENCY_CONFLICT');
    expect(port.stored.get('ADVIS-2026-000777')?.notice.oldCardCan).toBe('482913');
  });

  it.each([
    ['a malformed Zugangsnummer', '<abh:erneuerung>true</abh:erneuerung><abh:bisherigesDokument><abh:zugangsnummer>4829</abh:zugangsnummer></abh:bisherigesDokument>', 'oldCardCan', 'bisherigesDokument/zugangsnummer'],
    ['a Zugangsnummer without Erneuerung', '<abh:bisherigesDokument><abh:zugangsnummer>482913</abh:zugangsnummer></abh:bisherigesDokument>', 'oldCardCan', 'bisherigesDokument/zugangsnummer'],
    ['an Erneuerung that is not true or false', '<abh:erneuerung>vielleicht</abh:erneuerung>', 'renewal', 'erneuerung'],
  ])('XÖV: %s is a 400 fault naming the field and its element, never the value', async (_name, elements, field, element) => {
    const { app, port } = await makeApp();
    const res = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers: XML, body: xoevWith(elements) });
    expect(res.status).toBe(400);
    const fault = await faultOf(res);
    expect(fault.code).toBe('VALIDATION_FAILED');
    expect(fault.field).toBe(field);
    expect(fault.text).toContain(`<dokubox:element>${element}</dokubox:element>`);
    expect(fault.text).not.toMatch(/4829|vielleicht/);
    expect(port.stored.size).toBe(0);
  });

  it('a SOAP fault for a malformed CAN never echoes it', async () => {
    const { app } = await makeApp();
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ renewal: 'true', oldCardCan: '48291X' })) });
    const fault = await faultOf(res);
    expect(fault.field).toBe('oldCardCan');
    expect(fault.text).toContain('<dokubox:element>oldCardCan</dokubox:element>');
    expect(fault.text).not.toContain('48291');
  });

  it('logs carry no CAN, for accepted and refused notices', async () => {
    const logLines: string[] = [];
    const { app } = await makeApp({ logLines });
    await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ renewal: 'true', oldCardCan: '482913' })) });
    await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ messageId: 'ADVIS-2', oldCardCan: '482913' })) });
    await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ messageId: 'ADVIS-3', renewal: 'true', oldCardCan: '48291X' })) });
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    expect(logLines.join('\n')).not.toContain('48291');
  });
});

describe('XÖV vendor format: withdrawal and status request', () => {
  it('cancels and reports status by the notice UUID (plain XML)', async () => {
    const { app } = await makeApp();
    const headers = { 'content-type': 'application/xml', authorization: BASIC };
    await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers, body: fixture('notify-xoev.request.xml') });
    const ns = 'xmlns:abh="urn:xoev-de:dokubox:abholbox:1"';
    const status = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers, body: fixture('status-xoev.request.xml') });
    golden('status-xoev.response.xml', await status.text());
    const cancel = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers, body: fixture('cancel-xoev.request.xml') });
    golden('cancel-xoev.response.xml', await cancel.text());
    const byPickup = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers, body: `<abh:abholbereitschaft.statusanfrage.0003 ${ns}><abh:abholvorgang>p-1</abh:abholvorgang></abh:abholbereitschaft.statusanfrage.0003>` });
    expect(await byPickup.text()).toContain('<dokubox:state>cancelled</dokubox:state>');
    const unknown = await app.request('/xml/v1/no-such-format', { method: 'POST', headers, body: '<x/>' });
    expect(unknown.status).toBe(404);
  });
});

describe('case-system SOAP endpoint: every rejection is a fault and stores nothing', () => {
  const cases: { name: string; body: () => string; code: string; field?: string; headers?: Record<string, string>; max?: number }[] = [
    { name: 'malformed XML', body: () => '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><x>', code: 'MALFORMED_BODY' },
    { name: 'wrong namespace', body: () => soapEnvelope(canonicalNotice().replace('urn:dokubox:pickup:1', 'urn:other:1')), code: 'VALIDATION_FAILED' },
    { name: 'unknown operation', body: () => soapEnvelope('<p:DeleteEverything xmlns:p="urn:dokubox:pickup:1"/>'), code: 'VALIDATION_FAILED' },
    { name: 'missing required field', body: () => soapEnvelope(canonicalNotice({ caseNumber: null })), code: 'VALIDATION_FAILED', field: 'caseNumber' },
    { name: 'impossible date', body: () => soapEnvelope(canonicalNotice({ dateOfBirth: '1990-02-30' })), code: 'INVALID_DATE', field: 'person.dateOfBirth' },
    { name: 'invalid date format', body: () => soapEnvelope(canonicalNotice({ dateOfBirth: '14.07.1990' })), code: 'INVALID_DATE', field: 'person.dateOfBirth' },
    { name: 'landline phone', body: () => soapEnvelope(canonicalNotice({ mobile: '+49 391 5400' })), code: 'INVALID_PHONE', field: 'mobile' },
    { name: 'invalid phone', body: () => soapEnvelope(canonicalNotice({ mobile: '12' })), code: 'INVALID_PHONE', field: 'mobile' },
    { name: 'unknown document type', body: () => soapEnvelope(canonicalNotice({ type: 'library-card' })), code: 'UNKNOWN_DOCUMENT_TYPE', field: 'documents[0].type' },
    { name: 'no consent', body: () => soapEnvelope(canonicalNotice({ consent: 'false' })), code: 'CONSENT_MISSING', field: 'consent' },
    { name: 'CAN without renewal', body: () => soapEnvelope(canonicalNotice({ oldCardCan: '482913' })), code: 'VALIDATION_FAILED', field: 'oldCardCan' },
    { name: 'CAN with renewal false', body: () => soapEnvelope(canonicalNotice({ renewal: 'false', oldCardCan: '482913' })), code: 'VALIDATION_FAILED', field: 'oldCardCan' },
    { name: 'CAN of five digits', body: () => soapEnvelope(canonicalNotice({ renewal: 'true', oldCardCan: '48291' })), code: 'VALIDATION_FAILED', field: 'oldCardCan' },
    { name: 'CAN with a letter', body: () => soapEnvelope(canonicalNotice({ renewal: 'true', oldCardCan: '48291X' })), code: 'VALIDATION_FAILED', field: 'oldCardCan' },
    { name: 'renewal not a boolean', body: () => soapEnvelope(canonicalNotice({ renewal: 'maybe' })), code: 'VALIDATION_FAILED', field: 'renewal' },
    { name: 'body over the limit', body: () => soapEnvelope(canonicalNotice({ caseNumber: 'x'.repeat(5000) })), code: 'BODY_TOO_LARGE', max: 2048 },
    {
      name: 'DOCTYPE with entity expansion',
      body: () => `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>${soapEnvelope(canonicalNotice({ familyName: '&lol2;' })).replace(/^<\?xml[^>]*>/, '')}`,
      code: 'MALFORMED_BODY',
    },
    { name: 'too deep nesting', body: () => soapEnvelope(`${'<a>'.repeat(100)}${'</a>'.repeat(100)}`), code: 'MALFORMED_BODY' },
    { name: 'no credentials', body: () => soapEnvelope(canonicalNotice()), code: 'UNAUTHENTICATED', headers: { 'content-type': 'text/xml' } },
    {
      name: 'wrong Basic password',
      body: () => soapEnvelope(canonicalNotice()),
      code: 'UNAUTHENTICATED',
      headers: { 'content-type': 'text/xml', authorization: 'Basic ' + Buffer.from('advis-mdb:wrong').toString('base64') },
    },
    {
      name: 'WS-Security digest with a wrong password',
      body: () => soapEnvelope(canonicalNotice(), { header: usernameToken('vois-mdb', 'not-the-password', '2026-01-05T08:00:00Z') }),
      code: 'UNAUTHENTICATED',
      headers: { 'content-type': 'text/xml' },
    },
    {
      name: 'WS-Security token outside the time window',
      body: () => soapEnvelope(canonicalNotice(), { header: usernameToken('vois-mdb', 'wsse-secret-123', '2026-01-05T07:30:00Z') }),
      code: 'UNAUTHENTICATED',
      headers: { 'content-type': 'text/xml' },
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} -> ${testCase.code}`, async () => {
      const { app, port } = await makeApp({ maxBodyBytes: testCase.max ?? 64 * 1024 });
      const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: testCase.headers ?? SOAP11, body: testCase.body() });
      const fault = await faultOf(res);
      expect(fault.code).toBe(testCase.code);
      if (testCase.field !== undefined) expect(fault.field).toBe(testCase.field);
      expect(res.status).toBe(testCase.code === 'UNAUTHENTICATED' ? 401 : testCase.code === 'BODY_TOO_LARGE' ? 413 : 500);
      expect(fault.text).toContain(`<faultcode>dokubox:${testCase.code}</faultcode>`);
      expect(fault.text).not.toMatch(/at .*\.(ts|js):\d+/);
      expect(port.stored.size).toBe(0);
    });
  }

  it('SOAP 1.2 faults carry Sender and the code as subcode', async () => {
    const { app, port } = await makeApp();
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP12, body: soapEnvelope(canonicalNotice({ consent: 'false' }), { version: '1.2' }) });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('<soap:Value>soap:Sender</soap:Value><soap:Subcode><soap:Value>dokubox:CONSENT_MISSING</soap:Value>');
    expect(port.stored.size).toBe(0);
  });

  it('duplicate message id with different content -> IDEMPOTENCY_CONFLICT, first notice unchanged', async () => {
    const { app, port } = await makeApp();
    await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice()) });
    const res = await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ caseNumber: 'other' })) });
    expect((await faultOf(res)).code).toBe('IDEMPOTENCY_CONFLICT');
    expect(port.stored.size).toBe(1);
    expect(port.stored.get('ADVIS-2026-000777')?.notice.caseNumber).toBe('34.2-777/26');
  });

  it('WS-Security UsernameToken: accepted once, the replayed nonce is refused', async () => {
    const { app, port } = await makeApp();
    const body = soapEnvelope(canonicalNotice(), { header: usernameToken('vois-mdb', 'wsse-secret-123', '2026-01-05T07:59:30Z', 'bm9uY2Utb25lLTEyMzQ1Ng==') });
    const ok = await app.request('/soap/v1/pickup', { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
    expect(ok.status).toBe(200);
    const replay = await app.request('/soap/v1/pickup', { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
    expect((await faultOf(replay)).code).toBe('UNAUTHENTICATED');
    expect(port.stored.size).toBe(1);
  });

  it('XÖV: unknown document code, partial date and a field named by its element', async () => {
    const { app, port } = await makeApp();
    const request = fixture('notify-xoev.request.xml').replace('<code>01</code>', '<code>99</code>');
    const res = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers: { 'content-type': 'application/xml', authorization: BASIC }, body: request });
    expect(res.status).toBe(422);
    const text = await res.text();
    expect(text).toContain('<dokubox:code>UNKNOWN_DOCUMENT_TYPE</dokubox:code>');
    expect(text).toContain('<dokubox:field>documents[0].type</dokubox:field>');
    expect(text).toContain('<dokubox:element>dokument[0]/dokumentart/code</dokubox:element>');
    const impossible = fixture('notify-xoev.request.xml').replace('00.00.1990', '31.02.1990');
    const res2 = await app.request('/xml/v1/xoev-vendor', { method: 'POST', headers: { 'content-type': 'application/xml', authorization: BASIC }, body: impossible });
    expect((await faultOf(res2)).code).toBe('INVALID_DATE');
    expect(port.stored.size).toBe(0);
  });

  it('logs carry no names, dates of birth or phone numbers, for accepted and rejected notices', async () => {
    const logLines: string[] = [];
    const { app } = await makeApp({ logLines });
    await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: fixture('notify-canonical.request.xml') });
    await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ mobile: '+49 391 5400' })) });
    await app.request('/soap/v1/pickup', { method: 'POST', headers: SOAP11, body: soapEnvelope(canonicalNotice({ dateOfBirth: '1990-02-30' })) });
    expect(logLines.length).toBeGreaterThanOrEqual(3);
    const all = logLines.join('\n');
    for (const secret of ['Kovačević', 'Ana Marija', '1990-07-14', '23456789', 'Müller', 'Zoë', '5400', '1990-02-30']) expect(all).not.toContain(secret);
  });
});
