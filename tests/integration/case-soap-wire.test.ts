import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import soap from 'soap';
import { afterEach, describe, expect, it } from 'vitest';
import xml2js from 'xml2js';
import { CALLBACK_WSDL, PICKUP_WSDL, PICKUP_XSD } from '../../adapters/case-system/wsdl.js';
import { serveMutualTls } from '../../src/case-system/auth.js';
import { CaseSystemSimulator } from '../../simulator/case-system/client.js';
import { sampleNotice } from '../../simulator/case-system/data.js';
import { answerToChunkedUpload, answerToPartialUpload } from '../support/lazy-body.js';
import { schemaErrors } from '../support/xml-schema.js';
import { canonicalNotice, CLIENT_FINGERPRINT, makeApp, postWithClientCert, soapEnvelope, tlsFile } from '../fixtures/case-system/helpers.js';

const servers: ServerType[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

const realClock = { now: () => Date.now() };

async function listen(app: { fetch: Parameters<typeof serve>[0]['fetch'] }): Promise<string> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(`http://127.0.0.1:${info.port}`));
    servers.push(server);
  });
}

const BASIC = { basic: { username: 'advis-mdb', password: 'correct horse battery' } };
const BASIC_HEADER = `Basic ${Buffer.from('advis-mdb:correct horse battery').toString('base64')}`;
/** The authority and box of the test's case-system clients (tests/fixtures/case-system/helpers.ts). */
const FIXTURE = { authority: 'abh-magdeburg', boxId: 'mdb-foyer' };


describe('refusals over a socket arrive before the body is sent', () => {
  it('an oversized SOAP upload gets 413 and a closed connection after its first KiB', async () => {
    const { app } = await makeApp();
    const answer = await answerToPartialUpload(new URL('/soap/v1/pickup', await listen(app)), { 'content-type': 'text/xml', authorization: `Basic ${Buffer.from('advis-mdb:correct horse battery').toString('base64')}` }, 100 * 1024 * 1024, 1024);
    expect(answer.status).toBe(413);
    expect(answer.body).toContain('<faultcode>dokubox:BODY_TOO_LARGE</faultcode>');
    expect(answer.connection).toBe('close');
  }, 10_000);

  it('an oversized SOAP upload without a declared length gets 413 once it passes the limit, not after all of it', async () => {
    const { app } = await makeApp({ maxBodyBytes: 64 * 1024 });
    const answer = await answerToChunkedUpload(new URL('/soap/v1/pickup', await listen(app)), { 'content-type': 'text/xml', authorization: BASIC_HEADER }, ' '.repeat(8 * 1024), 50 * 1024 * 1024);
    expect(answer.status).toBe(413);
    expect(answer.body).toContain('<faultcode>dokubox:BODY_TOO_LARGE</faultcode>');
    expect(answer.sent).toBeLessThan(10 * 1024 * 1024);
  }, 10_000);

  it('a streamed XML body that nests too deep is refused while it arrives, with a fault naming the depth', async () => {
    const { app } = await makeApp();
    const answer = await answerToChunkedUpload(new URL('/xml/v1/xoev-vendor', await listen(app)), { 'content-type': 'application/xml', authorization: BASIC_HEADER }, '<a>'.repeat(1000), 60 * 1024);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/deeper than \d+ levels/);
  }, 10_000);

  it('a wrong Basic password gets 401 before any of the body is sent', async () => {
    const { app } = await makeApp();
    const answer = await answerToPartialUpload(new URL('/soap/v1/pickup', await listen(app)), { 'content-type': 'text/xml', authorization: `Basic ${Buffer.from('advis-mdb:wrong').toString('base64')}` }, 200 * 1024, 0);
    expect(answer.status).toBe(401);
    expect(answer.body).toContain('dokubox:UNAUTHENTICATED');
    expect(answer.connection).toBe('close');
  }, 10_000);
});

describe('WSDL and XSD', () => {
  it('both WSDLs load in node-soap and describe their operations; the XSD is well-formed', async () => {
    const pickup = await soap.createClientAsync(PICKUP_WSDL);
    const described = pickup.describe() as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(described.PickupService ?? {})).toEqual(['PickupSoap11Port', 'PickupSoap12Port']);
    expect(Object.keys(described.PickupService?.PickupSoap11Port ?? {})).toEqual(['NotifyDocumentsReady', 'CancelPickup', 'GetPickupStatus']);
    const callback = await soap.createClientAsync(CALLBACK_WSDL);
    const cb = callback.describe() as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(cb.PickupStatusCallback?.PickupStatusCallbackSoap11Port ?? {})).toEqual(['ReportPickupEvent']);
    const xsd = (await xml2js.parseStringPromise(readFileSync(PICKUP_XSD, 'utf8'))) as Record<string, { $: Record<string, string> }>;
    expect(xsd['xsd:schema']?.$.targetNamespace).toBe('urn:dokubox:pickup:1');
  });

  it('a notice with renewal and the old card\'s CAN is valid against the XSD; a CAN that is not six digits is not', () => {
    const notice = (fields: Record<string, string>): string => `<?xml version="1.0" encoding="UTF-8"?>${canonicalNotice(fields)}`;
    expect(schemaErrors(notice({}))).toBe('');
    expect(schemaErrors(notice({ renewal: 'true', oldCardCan: '012345' }))).toBe('');
    expect(schemaErrors(notice({ renewal: 'true', oldCardCan: '12345' }))).toMatch(/oldCardCan/);
    expect(schemaErrors(notice({ renewal: 'yes' }))).toMatch(/renewal/);
  });
});

describe('the simulator against the SOAP endpoint over HTTP', () => {
  it('notifies (single, batch, XÖV plain and canonical), polls and cancels through the served WSDL', async () => {
    const { app, port } = await makeApp();
    const base = await listen(app);
    const sim = new CaseSystemSimulator(base, BASIC);
    const first = await sim.notify(sampleNotice(0, { runId: 'wire', ...FIXTURE }));
    expect(first).toMatchObject({ outcome: 'created', state: 'waiting', messageId: 'SIM-wire-000000' });
    const again = await sim.notify(sampleNotice(0, { runId: 'wire', ...FIXTURE }));
    expect(again.outcome).toBe('duplicate');
    const batch = await sim.notifyBatch(12, { runId: 'batch', parallel: 3, ...FIXTURE });
    expect(batch.every((o) => o.outcome === 'created')).toBe(true);
    const xoev = await sim.notifyXoev(sampleNotice(1, { runId: 'xoev', ...FIXTURE }));
    expect(xoev.status).toBe(200);
    const xoevSoap = await sim.notifyXoevSoap(sampleNotice(2, { runId: 'xoev', ...FIXTURE }));
    expect(xoevSoap.body).toContain('<dokubox:outcome>created</dokubox:outcome>');
    expect(port.stored.get('SIM-xoev-000002')?.notice.person.dateOfBirth).toBe('1985-03');
    expect(port.stored.get('SIM-xoev-000001')?.notice.person).toEqual({ familyName: 'Al-Hassan', givenNames: 'Nour', dateOfBirth: '1990' });
    expect(port.stored.get('SIM-batch-000002')?.notice.person.familyName).toBe('Шевченко');
    expect(await sim.pollUntil({ messageId: 'SIM-wire-000000' }, 'waiting', { wait: () => Promise.resolve() })).toBe('waiting');
    expect((await sim.cancel({ pickupId: first.pickupId })).state).toBe('cancelled');
    expect((await sim.status({ messageId: 'SIM-wire-000000' })).state).toBe('cancelled');
    expect(port.stored.size).toBe(15);
  });

  it('the simulator sends a renewal with the old card\'s CAN, canonical over SOAP and in the XÖV format', async () => {
    const { app, port } = await makeApp();
    const sim = new CaseSystemSimulator(await listen(app), BASIC);
    const renewal = { renewal: true, oldCardCan: '482913' };
    expect((await sim.notify(sampleNotice(0, { runId: 'can', ...FIXTURE, ...renewal }))).outcome).toBe('created');
    expect((await sim.notifyXoev(sampleNotice(1, { runId: 'can', ...FIXTURE, ...renewal }))).status).toBe(200);
    const batch = await sim.notifyBatch(2, { runId: 'can-batch', ...FIXTURE, ...renewal });
    expect(batch.map((o) => o.outcome)).toEqual(['created', 'created']);
    for (const id of ['SIM-can-000000', 'SIM-can-000001', 'SIM-can-batch-000001']) expect(port.stored.get(id)?.notice).toMatchObject(renewal);
    await expect(sim.notify(sampleNotice(2, { runId: 'can', ...FIXTURE, oldCardCan: '482913' }))).rejects.toThrow(/VALIDATION_FAILED/);
    expect(port.stored.size).toBe(4);
  });

  it('a node-soap client speaking SOAP 1.2 gets SOAP 1.2 answers', async () => {
    const { app, port } = await makeApp();
    const base = await listen(app);
    const client = await soap.createClientAsync(`${base}/soap/v1/pickup?wsdl`, { forceSoap12Headers: true, endpoint: `${base}/soap/v1/pickup` });
    client.setSecurity(new soap.BasicAuthSecurity('advis-mdb', 'correct horse battery'));
    const { documents, ...rest } = sampleNotice(4, { runId: 's12', ...FIXTURE });
    const [result, raw] = (await (client as unknown as Record<string, (a: unknown) => Promise<[Record<string, unknown>, string]>>).NotifyDocumentsReadyAsync?.({ ...rest, documents: { document: documents } })) ?? [{}, ''];
    expect(result.outcome).toBe('created');
    expect(raw).toContain('http://www.w3.org/2003/05/soap-envelope');
    expect(port.stored.size).toBe(1);
  });

  it('node-soap WS-Security PasswordDigest client is accepted', async () => {
    const { app, port } = await makeApp({ clock: realClock });
    const base = await listen(app);
    const sim = new CaseSystemSimulator(base, { wsse: { username: 'vois-mdb', password: 'wsse-secret-123' } });
    expect((await sim.notify(sampleNotice(3, { runId: 'wsse', ...FIXTURE }))).outcome).toBe('created');
    expect(port.stored.size).toBe(1);
  });

  it('a SOAP fault reaches the node-soap client with the code', async () => {
    const { app, port } = await makeApp();
    const sim = new CaseSystemSimulator(await listen(app), BASIC);
    const bad = { ...sampleNotice(0, FIXTURE), consent: false };
    await expect(sim.notify(bad)).rejects.toThrow(/CONSENT_MISSING/);
    expect(port.stored.size).toBe(0);
  });
});

describe('mutual TLS', () => {
  const tls = tlsFile;
  const post = (port: number, clientCert: 'client' | 'rogue' | 'none') => postWithClientCert(port, clientCert, soapEnvelope(canonicalNotice()));

  async function start(fingerprint: string): Promise<{ port: number; stored: () => number }> {
    const { app, port: pickups } = await makeApp({ tlsFingerprint: fingerprint });
    const { server, port } = await serveMutualTls({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', key: tls('server.key'), cert: tls('server.crt'), ca: tls('ca.crt') });
    servers.push(server);
    expect((server.address() as AddressInfo).port).toBe(port);
    return { port, stored: () => pickups.stored.size };
  }

  it('accepts the configured client certificate', async () => {
    const { port, stored } = await start(CLIENT_FINGERPRINT);
    const res = await post(port, 'client');
    expect(res.status).toBe(200);
    expect(stored()).toBe(1);
  });

  it('a CA-issued certificate that is not configured gets an UNAUTHENTICATED fault', async () => {
    const { port, stored } = await start('CD'.repeat(32));
    const res = await post(port, 'client');
    expect(res.status).toBe(401);
    expect(res.body).toContain('dokubox:UNAUTHENTICATED');
    expect(stored()).toBe(0);
  });

  it('a certificate from another issuer, or none, does not get past the handshake', async () => {
    const { port, stored } = await start(CLIENT_FINGERPRINT);
    await expect(post(port, 'rogue')).rejects.toThrow();
    await expect(post(port, 'none')).rejects.toThrow();
    expect(stored()).toBe(0);
  });
});
