/**
 * The case-system integration through the real composition root: a notice
 * over SOAP becomes a pickup in Redis, and every state change goes back to
 * the simulator's callback server, in order, without personal data.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCallbackServer, type CallbackServer } from '../../simulator/case-system/callback-server.js';
import { CaseSystemSimulator } from '../../simulator/case-system/client.js';
import { sampleNotice } from '../../simulator/case-system/data.js';
import { AUTHORITY, createWorld, type TestWorld } from '../support/harness.js';
import { mutualTlsEnv, postWithClientCert } from '../fixtures/case-system/helpers.js';

let world: TestWorld;
let callback: CallbackServer;
let simulator: CaseSystemSimulator;

beforeAll(async () => {
  callback = await startCallbackServer();
  world = await createWorld({
    env: {
      PORT: '0',
      CASE_SYSTEM_CLIENTS: JSON.stringify([
        { id: 'vois-1', authority: AUTHORITY, basic: { username: 'vois', passwordSha256: createHash('sha256').update('correct horse battery').digest('hex') } },
      ]),
      CASE_SYSTEM_CALLBACKS: JSON.stringify({ [AUTHORITY]: { url: callback.url } }),
      CASE_SYSTEM_REPORT_BACKOFF_MS: '10',
    },
  });
  const { url } = await world.dokubox.listen();
  world.dokubox.reports.start();
  simulator = new CaseSystemSimulator(url, { basic: { username: 'vois', password: 'correct horse battery' } });
});

afterAll(async () => {
  await world.close();
  await callback.close();
});

describe('case system end to end', () => {
  it('turns a SOAP notice into a pickup and reports reserved, loaded and cancelled back in order', async () => {
    const notice = sampleNotice(3, { authority: AUTHORITY, boxId: 'md-foyer' });
    const outcome = await simulator.notify(notice);
    expect(outcome).toMatchObject({ outcome: 'created', state: 'reserved' });
    const pickupId = outcome.pickupId;
    const stored = await world.dokubox.store.get(pickupId);
    expect(stored?.messageId).toBe(notice.messageId);

    await world.dokubox.service.markLoaded(pickupId, 'staff:s1');
    await world.dokubox.service.cancelPickup({ id: 'vois-1', role: 'case-system', authority: AUTHORITY }, { pickupId }, 'cancelled_by_case_system');
    await world.dokubox.events.drain();

    const reports = await callback.waitForReports(3);
    expect(reports.map((r) => [r.seq, r.status])).toEqual([
      [1, 'reserved'],
      [2, 'loaded'],
      [3, 'cancelled'],
    ]);
    expect(reports.every((r) => r.messageId === notice.messageId && r.pickupId === pickupId)).toBe(true);
    expect(JSON.stringify(reports)).not.toContain(notice.person.familyName);
  });
});

describe('case systems with client certificates', () => {
  const post = (port: number, cert: 'client' | 'rogue') =>
    postWithClientCert(port, cert, readFileSync('tests/fixtures/case-system/status-canonical.request.xml', 'utf8'), { soapaction: '"urn:dokubox:pickup:1/GetPickupStatus"' });

  it('serves the SOAP endpoint over HTTPS on CASE_SYSTEM_TLS_PORT and knows the client by its certificate', async () => {
    const tlsWorld = await createWorld({ env: mutualTlsEnv(AUTHORITY) });
    try {
      const { tlsUrl } = await tlsWorld.dokubox.listen();
      const port = Number(new URL(tlsUrl!).port);
      const known = await post(port, 'client');
      expect(known.body).not.toContain('UNAUTHENTICATED');
      expect(known.body).toContain('Envelope');
      await expect(post(port, 'rogue')).rejects.toThrow();
    } finally {
      await tlsWorld.close();
    }
  });

  it('logs a SOAP notice in one line: the request with the pickup it created, no personal data', async () => {
    const before = world.logs.length;
    const notice = sampleNotice(4, { authority: AUTHORITY, boxId: 'md-foyer' });
    const outcome = await simulator.notify(notice);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = world.logs.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.pickupId === outcome.pickupId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request', method: 'POST', route: '/soap/v1/pickup', status: 200, event: 'notice accepted', client: 'vois-1', outcome: 'created', format: 'canonical' });
    expect(JSON.stringify(lines)).not.toContain(notice.person.familyName);
  });
});
