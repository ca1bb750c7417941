/**
 * The case-system endpoints spend nothing on requests that cannot succeed:
 * HTTP Basic and the client certificate are checked before the body is read,
 * and hostile XML is refused while it streams in, before any parser runs. The
 * assertions count the bytes pulled from the body and watch the XML parser.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SaxesParser } from 'saxes';
import { checkXmlShape, DEFAULT_XML_LIMITS, XmlShapeScanner, type XmlLimits } from '../../src/case-system/xml.js';
import { BASIC, canonicalNotice, makeApp, soapEnvelope, usernameToken } from '../fixtures/case-system/helpers.js';
import { lazyBody, streamingRequest } from '../support/lazy-body.js';

const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const basicHeader = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

afterEach(() => {
  vi.restoreAllMocks();
});

/** Watches the XML parser (saxes) for the rest of the test. */
const watchParser = () => vi.spyOn(SaxesParser.prototype, 'write');

async function post(app: Awaited<ReturnType<typeof makeApp>>['app'], path: string, headers: Record<string, string>, body: ReadableStream<Uint8Array> | string): Promise<Response> {
  return app.request(streamingRequest(`http://localhost${path}`, headers, body));
}

/** The `code` of a SOAP fault or plain DokuboxFault. */
async function faultCode(res: Response): Promise<string> {
  return /<(?:dokubox:)?code>([A-Z_]+)</.exec(await res.text())?.[1] ?? 'none';
}

/** A SOAP 1.1 envelope whose Envelope element carries `count` attributes (about 10 bytes each). */
function manyAttributes(count: number): string {
  const attributes = Array.from({ length: count }, (_, i) => ` a${i}="x"`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${SOAP11_NS}"${attributes}><soap:Body>${canonicalNotice()}</soap:Body></soap:Envelope>`;
}

describe('case-system endpoints check what needs no body before reading it', () => {
  it('a wrong Basic password is refused without reading any of the body', async () => {
    const { app, port } = await makeApp();
    const parse = watchParser();
    const body = lazyBody(soapEnvelope(canonicalNotice()));
    const res = await post(app, '/soap/v1/pickup', { 'content-type': 'text/xml', authorization: basicHeader('advis-mdb', 'wrong') }, body.stream);
    expect(res.status).toBe(401);
    expect(await faultCode(res)).toBe('UNAUTHENTICATED');
    expect(body.pulled()).toBe(0);
    expect(parse).not.toHaveBeenCalled();
    expect(port.stored.size).toBe(0);
  });

  it('without Authorization header and client certificate, and no client that a UsernameToken alone identifies, the body is never read', async () => {
    const { app } = await makeApp({
      clients: [
        { id: 'advis-mdb', authority: 'abh-magdeburg', basic: { username: 'advis-mdb', passwordSha256: sha256('correct horse battery') } },
        { id: 'both', authority: 'abh-magdeburg', basic: { username: 'both', passwordSha256: sha256('basic-pass-1') }, wsse: { username: 'both', password: 'wsse-secret-123' } },
      ],
    });
    const parse = watchParser();
    for (const path of ['/soap/v1/pickup', '/xml/v1/xoev-vendor']) {
      const body = lazyBody(manyAttributes(24_000));
      const res = await post(app, path, { 'content-type': 'text/xml' }, body.stream);
      expect(res.status).toBe(401);
      expect(await faultCode(res)).toBe('UNAUTHENTICATED');
      expect(body.pulled()).toBe(0);
    }
    expect(parse).not.toHaveBeenCalled();
  });

  it('a client configured with Basic and WS-Security must pass Basic before its envelope is read, then the UsernameToken', async () => {
    const { app, port } = await makeApp({
      clients: [{ id: 'both', authority: 'abh-magdeburg', basic: { username: 'both', passwordSha256: sha256('basic-pass-1') }, wsse: { username: 'both', password: 'wsse-secret-123' } }],
    });
    const token = () => usernameToken('both', 'wsse-secret-123', '2026-01-05T07:59:30Z');
    const wrongBasic = lazyBody(soapEnvelope(canonicalNotice(), { header: token() }));
    const refused = await post(app, '/soap/v1/pickup', { 'content-type': 'text/xml', authorization: basicHeader('both', 'nope') }, wrongBasic.stream);
    expect(refused.status).toBe(401);
    expect(wrongBasic.pulled()).toBe(0);

    const noToken = await post(app, '/soap/v1/pickup', { 'content-type': 'text/xml', authorization: basicHeader('both', 'basic-pass-1') }, soapEnvelope(canonicalNotice()));
    expect(noToken.status).toBe(401);
    const ok = await post(app, '/soap/v1/pickup', { 'content-type': 'text/xml', authorization: basicHeader('both', 'basic-pass-1') }, soapEnvelope(canonicalNotice(), { header: token() }));
    expect(ok.status).toBe(200);
    expect(port.stored.size).toBe(1);
  });

  it('a client known only by its UsernameToken is still accepted from the parsed header', async () => {
    const { app, port } = await makeApp();
    const res = await post(app, '/soap/v1/pickup', { 'content-type': 'text/xml' }, soapEnvelope(canonicalNotice(), { header: usernameToken('vois-mdb', 'wsse-secret-123', '2026-01-05T07:59:30Z') }));
    expect(res.status).toBe(200);
    expect(port.stored.size).toBe(1);
  });
});

describe('hostile XML is refused while it streams in, before any parser runs', () => {
  const limit = 256 * 1024;

  it('an envelope with 24,000 attributes on one element is refused after its first bytes, with or without credentials', async () => {
    const { app, port } = await makeApp({ maxBodyBytes: limit });
    const parse = watchParser();
    const hostile = manyAttributes(24_000);
    expect(hostile.length).toBeGreaterThan(240 * 1024);
    const credentials: Record<string, string>[] = [{ 'content-type': 'text/xml', authorization: BASIC }, { 'content-type': 'text/xml' }];
    for (const headers of credentials) {
      const body = lazyBody(hostile, 4096);
      const res = await post(app, '/soap/v1/pickup', headers, body.stream);
      expect(await faultCode(res)).toBe('MALFORMED_BODY');
      expect(res.status).toBe(500);
      // 64 attributes fit in the first chunk; the refusal comes with it.
      expect(body.pulled()).toBeLessThanOrEqual(4096);
    }
    expect(parse).not.toHaveBeenCalled();
    expect(port.stored.size).toBe(0);
  });

  it('refuses more attributes in the document than allowed, even when each element has few', async () => {
    const { app } = await makeApp({ maxBodyBytes: limit });
    const parse = watchParser();
    const attributes = Array.from({ length: 50 }, (_, i) => ` b${i}="y"`).join('');
    const padding = `<p:extra xmlns:p="urn:other"${attributes}/>`.repeat(100);
    const res = await post(app, '/soap/v1/pickup', { 'content-type': 'text/xml', authorization: BASIC }, soapEnvelope(`${canonicalNotice()}`).replace('<soap:Body>', `<soap:Header>${padding}</soap:Header><soap:Body>`));
    expect(await faultCode(res)).toBe('MALFORMED_BODY');
    expect(parse).not.toHaveBeenCalled();
  });

  it('refuses too many comments and too many processing instructions, like too many elements', async () => {
    const { app } = await makeApp({ maxBodyBytes: limit });
    const parse = watchParser();
    const comments = soapEnvelope(canonicalNotice()).replace('<soap:Body>', `<soap:Body>${'<!-- c -->'.repeat(101)}`);
    const instructions = soapEnvelope(canonicalNotice()).replace('<soap:Body>', `<soap:Body>${'<?pi x?>'.repeat(10)}`);
    for (const body of [comments, instructions]) {
      const res = await post(app, '/soap/v1/pickup', { 'content-type': 'text/xml', authorization: BASIC }, body);
      expect(await faultCode(res)).toBe('MALFORMED_BODY');
    }
    expect(parse).not.toHaveBeenCalled();
  });

  it('plain XML (/xml/v1/:mapping) has the same limits', async () => {
    const { app } = await makeApp({ maxBodyBytes: limit });
    const parse = watchParser();
    const xoev = readFileSync(new URL('../fixtures/case-system/notify-xoev.request.xml', import.meta.url), 'utf8');
    const attributes = Array.from({ length: 65 }, (_, i) => ` z${i}="1"`).join('');
    const body = lazyBody(xoev.replace(/<abh:abholbereitschaft\.mitteilung\.0001/, (m) => `${m}${attributes}`), 256);
    const res = await post(app, '/xml/v1/xoev-vendor', { 'content-type': 'application/xml', authorization: BASIC }, body.stream);
    expect(res.status).toBe(400);
    expect(await faultCode(res)).toBe('MALFORMED_BODY');
    expect(body.pulled()).toBeLessThan(Buffer.byteLength(xoev));
    expect(parse).not.toHaveBeenCalled();
  });

  it('an envelope within the limits (namespace declarations, a comment, the XML declaration) is accepted', async () => {
    const { app, port } = await makeApp();
    const declarations = Array.from({ length: 12 }, (_, i) => ` xmlns:n${i}="urn:n:${i}"`).join('');
    const body = soapEnvelope(canonicalNotice()).replace(`xmlns:soap="${SOAP11_NS}"`, `xmlns:soap="${SOAP11_NS}"${declarations}`).replace('<soap:Body>', '<!-- sent by ADVIS 7.2 --><soap:Body>');
    const res = await post(app, '/soap/v1/pickup', { 'content-type': 'text/xml', authorization: BASIC }, lazyBody(body, 7).stream);
    expect(res.status).toBe(200);
    expect(port.stored.size).toBe(1);
  });
});

describe('a SOAP body over CASE_SYSTEM_MAX_BODY_BYTES', () => {
  it('gets 413 and a fault in the SOAP version of its Content-Type, refused from its declared length without reading', async () => {
    const { app } = await makeApp({ maxBodyBytes: 4096 });
    for (const [contentType, expected] of [
      ['text/xml; charset=utf-8', '<faultcode>dokubox:BODY_TOO_LARGE</faultcode>'],
      ['application/soap+xml; charset=utf-8', '<soap:Value>soap:Sender</soap:Value><soap:Subcode><soap:Value>dokubox:BODY_TOO_LARGE</soap:Value>'],
    ] as const) {
      const body = lazyBody(10 * 1024 * 1024);
      const res = await post(app, '/soap/v1/pickup', { 'content-type': contentType, authorization: BASIC, 'content-length': String(10 * 1024 * 1024) }, body.stream);
      expect(res.status).toBe(413);
      expect(res.headers.get('content-type')).toBe(contentType);
      expect(res.headers.get('connection')).toBe('close');
      expect(await res.text()).toContain(expected);
      expect(body.pulled()).toBe(0);
    }
  });

  it('a streamed body is refused as soon as it passes the limit', async () => {
    const { app } = await makeApp({ maxBodyBytes: 4096 });
    const body = lazyBody(`<soap:Envelope xmlns:soap="${SOAP11_NS}"><soap:Body>${'<x>text</x>'.repeat(100_000)}</soap:Body></soap:Envelope>`, 1024);
    const res = await post(app, '/soap/v1/pickup', { 'content-type': 'text/xml', authorization: BASIC }, body.stream);
    expect(res.status).toBe(413);
    expect(await faultCode(res)).toBe('BODY_TOO_LARGE');
    expect(body.pulled()).toBeLessThanOrEqual(4096 + 1024);
  });
});

describe('XmlShapeScanner', () => {
  const verdict = (run: () => void): string => {
    try {
      run();
      return 'ok';
    } catch (error) {
      return (error as Error).message;
    }
  };
  const inChunks = (text: string, size: number, limits?: XmlLimits) => () => {
    const bytes = Buffer.from(text, 'utf8');
    const scanner = new XmlShapeScanner(limits);
    for (let i = 0; i < bytes.length; i += size) scanner.push(bytes.subarray(i, i + size));
    scanner.end();
  };
  const documents = [
    readFileSync(new URL('../fixtures/case-system/notify-canonical.request.xml', import.meta.url), 'utf8'),
    '<?xml version="1.0"?><r a="x>y" b=\'=\'><!-- <!DOCTYPE -- --><![CDATA[<!ENTITY ]] >]]><?pi ?><s/>Kovačević</r>',
    '<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
    `${'<a>'.repeat(40)}${'</a>'.repeat(40)}`,
    '<r><!-- never closed',
    '<r><![CDATA[ never closed',
    '<r a="1"',
  ];

  it('gives the same verdict wherever the chunks split the bytes, inside multi-byte characters too', () => {
    for (const document of documents) {
      const whole = verdict(() => checkXmlShape(document));
      for (const size of [1, 2, 3, 5, 8, 64]) expect(verdict(inChunks(document, size)), `${document.slice(0, 40)} in chunks of ${size}`).toBe(whole);
    }
    expect(documents.map((d) => verdict(() => checkXmlShape(d)))).toEqual([
      'ok',
      'ok',
      'DOCTYPE and ENTITY declarations are not accepted; send the message without them.',
      'The XML nests deeper than 32 levels.',
      'The XML ends inside a comment.',
      'The XML ends inside a CDATA section.',
      'The XML ends inside a tag.',
    ]);
  });

  it('counts attributes per element and in total, comments and processing instructions against their limits', () => {
    const limits: XmlLimits = { ...DEFAULT_XML_LIMITS, maxAttributes: 5, maxAttributesPerElement: 3, maxComments: 1, maxProcessingInstructions: 1 };
    expect(verdict(() => checkXmlShape('<r a="1" b="2" c="3"/>', limits))).toBe('ok');
    expect(verdict(() => checkXmlShape('<r a="1" b="2" c="3" d="4"/>', limits))).toBe('An XML element has more than 3 attributes.');
    expect(verdict(() => checkXmlShape('<r a="1" b="2"><s c="3" d="4"/><t e = "5" f="6"/></r>', limits))).toBe('The XML has more than 5 attributes.');
    expect(verdict(() => checkXmlShape('<r a="=" b=\'==\'></r >', limits))).toBe('ok');
    expect(verdict(() => checkXmlShape('<r><!--1--><!--2--></r>', limits))).toBe('The XML has more than 1 comments.');
    expect(verdict(() => checkXmlShape('<?xml version="1.0"?><?pi?><r/>', limits))).toBe('The XML has more than 1 processing instructions.');
  });
});
