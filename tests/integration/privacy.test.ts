import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, KEYS, notice, BOX, type TestWorld } from '../support/harness.js';

let world: TestWorld;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => world.close());

describe('personal data', () => {
  it('never appears in logs, errors or metrics during a full flow, including failures', async () => {
    const person = { familyName: 'Øzdemir-Kowalczyk', givenNames: 'Zeynep Ágnes', dateOfBirth: '1987-11-23' };
    const mobile = '+4917612345678';
    const input = notice({ person, mobile, documents: [{ type: 'eAT', serialNumber: 'QX9Z81K44' }] });

    const created = (await (await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input })).json()) as { pickup: { id: string } };
    await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: { ...input, caseNumber: 'AZ-CONFLICT' } });
    await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: { ...input, messageId: 'm-landline', mobile: '+49 391 5401234' } });
    await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: { ...input, messageId: 'm-dob', person: { ...person, dateOfBirth: '1987-02-30' } } });
    await world.request('POST', `/v1/boxes/${BOX}/loadings`, { key: KEYS.staff, body: { serialNumber: 'QX9Z81K44' } });
    await world.dokubox.service.markNotified(created.pickup.id);
    const stored = await world.dokubox.store.get(created.pickup.id);
    const code = world.dokubox.service.personalData(stored!).code!;
    const wrong = await world.request('POST', `/v1/boxes/${BOX}/verifications`, { key: KEYS.kiosk, body: { code, dateOfBirth: '1987-11-24' } });
    const wrongText = await wrong.text();
    await world.request('POST', `/v1/boxes/${BOX}/verifications`, { key: KEYS.kiosk, body: { code, dateOfBirth: person.dateOfBirth } });
    await world.request('POST', `/v1/pickups/${created.pickup.id}/collected`, { key: KEYS.kiosk });
    const metrics = await (await world.request('GET', '/metrics', { key: KEYS.monitoring })).text();

    const haystack = [...world.logs, wrongText, metrics].join('\n');
    expect(world.logs.length).toBeGreaterThan(8);
    for (const secret of [person.familyName, 'Zeynep', 'Ágnes', person.dateOfBirth, '1987-11-24', mobile, '17612345678', '5401234', 'QX9Z81K44']) {
      expect(haystack, `found ${secret}`).not.toContain(secret);
    }
    // The random code as a number of its own: its six digits may turn up inside a metric's float by chance (0.0144341090000002).
    expect(haystack, `found the code ${code}`).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
  });

  it('writes one log line per request', async () => {
    const before = world.logs.length;
    await world.request('GET', '/livez', { key: null });
    await world.request('GET', '/v1/boxes', { key: KEYS.staff });
    const lines = world.logs.slice(before).map((l) => JSON.parse(l) as { msg: string; route: string; status: number });
    expect(lines.map((l) => [l.msg, l.route, l.status])).toEqual([
      ['request', '/livez', 200],
      ['request', '/v1/boxes', 200],
    ]);
  });

  it('keeps personal data encrypted at rest', async () => {
    const input = notice({ person: { familyName: 'Shevchenko', givenNames: 'Olena', dateOfBirth: '1979-06' } });
    const created = (await (await world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body: input })).json()) as { pickup: { id: string } };
    const dump = JSON.stringify(await world.dokubox.redis.hgetall(`${world.config.REDIS_KEY_PREFIX}:pickup:${created.pickup.id}`));
    for (const secret of ['Shevchenko', 'Olena', '1979-06', '15123456789', input.documents[0]!.serialNumber]) expect(dump).not.toContain(secret);
  });
});
