/**
 * Statistics per box and day or week (src/stats/statistics.ts): counted by
 * the store's scripts with the event they count, on the box's local day,
 * exactly once, and served at GET /v1/boxes/{boxId}/statistics as JSON or CSV.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientIdentity } from '../../src/service/types.js';
import type { StatisticsRow } from '../../src/stats/statistics.js';
import { AUTHORITY, BOX, createWorld, KEYS, notice, type TestWorld } from '../support/harness.js';

const caseSystem: ClientIdentity = { id: 'case-1', role: 'case-system', authority: AUTHORITY };

let world: TestWorld;
beforeEach(async () => {
  world = await createWorld({ start: '2026-03-02T07:00:00Z' });
});
afterEach(async () => world.close());

async function submitted(boxId = BOX): Promise<{ id: string; state: string }> {
  const { pickup } = await world.dokubox.service.submitNotice(caseSystem, notice({ boxId }));
  return pickup;
}

async function notified(boxId = BOX): Promise<string> {
  const pickup = await submitted(boxId);
  await world.dokubox.service.markLoaded(pickup.id, 'staff:s1');
  await world.dokubox.service.markNotified(pickup.id, 'system:sms');
  return pickup.id;
}

async function collect(pickupId: string): Promise<void> {
  await world.dokubox.service.markCollected(pickupId, 'kiosk:k1', 'code_and_date_of_birth');
}

async function rows(from: string, to: string, granularity: 'day' | 'week' = 'day', boxId = BOX): Promise<StatisticsRow[]> {
  await world.dokubox.events.drain();
  return world.dokubox.statistics.getStatistics(boxId, { from, to, granularity });
}

const minutes = (n: number) => n * 60_000;

describe('statistics per box and day', () => {
  it("counts notices, collections, expiries and cancellations on the box's local day: 23:30 UTC in winter is the next day in Berlin", async () => {
    world.clock.set('2026-03-02T22:30:00Z'); // 23:30 on Monday in Berlin
    const monday = await notified();
    const cancelledMonday = await submitted();
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId: cancelledMonday.id }, 'cancelled_by_case_system');
    world.clock.set('2026-03-02T23:30:00Z'); // 00:30 on Tuesday in Berlin
    await submitted();
    await collect(monday);
    // Notified on Tuesday: the deadline (7 working days) passes on Thursday 12 March at 19:30 local.
    await notified();
    world.clock.set('2026-03-12T19:00:00Z');
    expect(await world.dokubox.service.expireDue()).toBe(1);

    const days = await rows('2026-03-02', '2026-03-12');
    expect(days.map((r) => r.period)).toEqual(['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12']);
    expect(days[0]).toMatchObject({ period: '2026-03-02', notices: 2, cancelled: 1, collected: 0, expired: 0 });
    expect(days[1]).toMatchObject({ period: '2026-03-03', notices: 2, cancelled: 0, collected: 1, expired: 0, medianMinutesToPickup: 60 });
    expect(days[10]).toMatchObject({ period: '2026-03-12', notices: 0, expired: 1 });
    // A day without anything: counts 0, ratios and the median null.
    expect(days[5]).toEqual({
      period: '2026-03-07',
      notices: 0,
      collected: 0,
      expired: 0,
      cancelled: 0,
      waited: 0,
      waitedShare: null,
      medianMinutesToPickup: null,
      smsDelivered: 0,
      smsUndeliverable: 0,
      smsFailed: 0,
      smsDeliveryRate: null,
    });
    // Other boxes are counted apart.
    expect((await rows('2026-03-02', '2026-03-03', 'day', 'small')).map((r) => r.notices)).toEqual([0, 0]);
  });

  it('counts each event in the step that records it, exactly once: a repeated delivery report and a lost race add nothing', async () => {
    const pickupId = await notified();
    const dayKey = `${world.config.REDIS_KEY_PREFIX}:stats:day:${BOX}:2026-03-02`;
    // The gateway reports the same delivery twice: one event, one count, at once (no consumer of the stream in between).
    const guard = { once: 'dlr:ready:m-1:delivered' };
    expect(await world.dokubox.service.recordSms(pickupId, 'sms_delivered', { smsStatus: 'delivered' }, guard, 'ready')).toBe(true);
    expect(await world.dokubox.service.recordSms(pickupId, 'sms_delivered', { smsStatus: 'delivered' }, guard, 'ready')).toBe(false);
    expect(await world.dokubox.redis.hget(dayKey, 'smsDelivered')).toBe('1');
    // Events that are no outcome count nothing.
    await world.dokubox.service.recordSms(pickupId, 'reminder_sent', {}, {}, 'reminder');
    // Two kiosks collect at once: one transition wins, the other is refused, one collection and one sample are counted.
    world.clock.advance(minutes(12));
    const results = await Promise.allSettled([collect(pickupId), collect(pickupId)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await world.dokubox.redis.hgetall(dayKey)).toEqual({ notices: '1', smsDelivered: '1', collected: '1' });
    expect(await world.dokubox.redis.lrange(`${dayKey}:durations`, 0, -1)).toEqual(['720']);
    expect(await world.dokubox.redis.ttl(dayKey)).toBeGreaterThan(399 * 86_400);
    // The stream delivers the events to its subscribers as before; statistics are none of them and keep no markers.
    await world.dokubox.events.drain();
    const [day] = await rows('2026-03-02', '2026-03-02');
    expect(day).toMatchObject({ notices: 1, collected: 1, smsDelivered: 1, medianMinutesToPickup: 12 });
    expect(await world.dokubox.redis.keys(`${world.config.REDIS_KEY_PREFIX}:stats:seen:*`)).toEqual([]);
  });

  it("removes the statistics consumer group an earlier version left on the event stream, so that the stream is trimmed again", async () => {
    const { redis } = world.dokubox;
    const stream = `${world.config.REDIS_KEY_PREFIX}:events`;
    const groupsOf = async () => ((await redis.xinfo('GROUPS', stream)) as unknown[][]).map((g) => String(g[1])).sort();
    await submitted();
    // An earlier version's `stats` group that nobody reads any more: it holds every entry from here on.
    await redis.xgroup('CREATE', stream, 'stats', '$');
    await submitted();
    await world.dokubox.events.drain();
    await world.dokubox.events.trim();
    expect(await redis.xlen(stream)).toBeGreaterThan(0);
    await world.dokubox.events.init();
    expect(await groupsOf()).not.toContain('stats');
    await world.dokubox.events.trim();
    expect(await redis.xlen(stream)).toBe(0);
  });

  it('takes the median of the minutes from notified to collected, and a week the median of all its samples', async () => {
    // Monday: 10 and 20 minutes; Tuesday: 30, 40 and 50 minutes.
    const collectAfter = async (durations: number[]) => {
      const ids: string[] = [];
      for (let i = 0; i < durations.length; i += 1) ids.push(await notified());
      const start = world.clock.now();
      const order = durations.map((d, i) => ({ d, id: ids[i]! })).sort((a, b) => a.d - b.d);
      for (const { d, id } of order) {
        world.clock.set(start + minutes(d));
        await collect(id);
      }
    };
    await collectAfter([20, 10]);
    world.clock.set('2026-03-03T08:00:00Z');
    await collectAfter([50, 30, 40]);

    const days = await rows('2026-03-02', '2026-03-03');
    expect(days.map((r) => r.medianMinutesToPickup)).toEqual([15, 40]);
    const [week] = await rows('2026-03-02', '2026-03-08', 'week');
    // The median of all five samples (30), not the median of the daily medians (27.5).
    expect(week).toMatchObject({ period: '2026-W10', collected: 5, notices: 5, medianMinutesToPickup: 30 });
  });

  it('counts a notice when the ingest creates its pickup, once: not again for the same message sent twice', async () => {
    const message = notice();
    const { pickup } = await world.dokubox.service.submitNotice(caseSystem, message);
    // Counted in the same step that created the pickup, before any consumer ran.
    const dayKey = `${world.config.REDIS_KEY_PREFIX}:stats:day:${BOX}:2026-03-02`;
    expect(await world.dokubox.redis.hget(dayKey, 'notices')).toBe('1');
    const ttl = await world.dokubox.redis.ttl(dayKey);
    expect(ttl).toBeGreaterThan(399 * 86_400);
    expect((await world.dokubox.service.submitNotice(caseSystem, message)).outcome).toBe('duplicate');
    expect(await world.dokubox.store.history(pickup.id)).toHaveLength(1);
    expect((await rows('2026-03-02', '2026-03-02'))[0]).toMatchObject({ notices: 1, waited: 0 });
  });

  it('counts the notices that had to wait for a compartment and their share', async () => {
    // The small box has four compartments: the fifth notice waits.
    const pickups = [];
    for (let i = 0; i < 5; i += 1) pickups.push(await submitted('small'));
    expect(pickups.map((p) => p.state)).toEqual(['reserved', 'reserved', 'reserved', 'reserved', 'waiting']);
    const [day] = await rows('2026-03-02', '2026-03-02', 'day', 'small');
    expect(day).toMatchObject({ notices: 5, waited: 1, waitedShare: 0.2 });
    // Getting a compartment later is no second notice, and no second wait.
    await world.dokubox.service.cancelPickup(caseSystem, { pickupId: pickups[0]!.id }, 'cancelled_by_staff');
    expect((await world.dokubox.store.get(pickups[4]!.id))?.state).toBe('reserved');
    expect((await rows('2026-03-02', '2026-03-02', 'day', 'small'))[0]).toMatchObject({ notices: 5, waited: 1, cancelled: 1 });
  });

  it('counts SMS outcomes of every kind and their delivery rate', async () => {
    const a = await notified();
    const b = await notified();
    await world.dokubox.service.recordSms(a, 'sms_delivered');
    await world.dokubox.service.recordSms(a, 'reminder_sent');
    await world.dokubox.service.recordSms(b, 'sms_undeliverable');
    await world.dokubox.service.recordSms(b, 'sms_delivered');
    await world.dokubox.service.recordSms(b, 'sms_failed');
    const [day] = await rows('2026-03-02', '2026-03-02');
    expect(day).toMatchObject({ smsDelivered: 2, smsUndeliverable: 1, smsFailed: 1, smsDeliveryRate: 0.5 });
  });

  it('gives a row per ISO week, the first and last week holding only the days in the range', async () => {
    world.clock.set('2026-03-01T10:00:00Z'); // Sunday: week 9
    await submitted();
    world.clock.set('2026-03-09T10:00:00Z'); // Monday: week 11
    await submitted();
    world.clock.set('2026-03-10T10:00:00Z'); // Tuesday: week 11, after the range
    await submitted();
    const weeks = await rows('2026-03-01', '2026-03-09', 'week');
    expect(weeks.map((w) => [w.period, w.notices])).toEqual([
      ['2026-W09', 1],
      ['2026-W10', 0],
      ['2026-W11', 1],
    ]);
  });

  it('keeps the day keys with a TTL of 400 days', async () => {
    await notified();
    await world.dokubox.events.drain();
    const ttl = await world.dokubox.redis.ttl(`${world.config.REDIS_KEY_PREFIX}:stats:day:${BOX}:2026-03-02`);
    expect(ttl).toBeGreaterThan(399 * 86_400);
    expect(ttl).toBeLessThanOrEqual(400 * 86_400);
  });
});

describe('GET /v1/boxes/{boxId}/statistics', () => {
  const path = (query: string, boxId = BOX) => `/v1/boxes/${boxId}/statistics?${query}`;

  it('answers JSON with one row per period', async () => {
    const pickupId = await notified();
    world.clock.advance(minutes(90));
    await collect(pickupId);
    await world.dokubox.events.drain();
    const res = await world.request('GET', path('from=2026-03-02&to=2026-03-03'), { key: KEYS.staff });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { boxId: string; timeZone: string; granularity: string; rows: StatisticsRow[] };
    expect(body).toMatchObject({ boxId: BOX, timeZone: 'Europe/Berlin', from: '2026-03-02', to: '2026-03-03', granularity: 'day' });
    expect(body.rows).toHaveLength(2);
    expect(body.rows[0]).toMatchObject({ period: '2026-03-02', notices: 1, collected: 1, medianMinutesToPickup: 90, waitedShare: 0 });
  });

  it('answers CSV with format=csv or Accept: text/csv: a header row, CRLF, empty fields for null, as an attachment', async () => {
    await submitted();
    await world.dokubox.events.drain();
    for (const res of [
      await world.request('GET', path('from=2026-03-02&to=2026-03-08&granularity=week&format=csv'), { key: KEYS.monitoring }),
      await world.request('GET', path('from=2026-03-02&to=2026-03-08&granularity=week'), { key: KEYS.monitoring, headers: { accept: 'text/csv' } }),
    ]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="statistics-${BOX}-2026-03-02-2026-03-08.csv"`);
      expect(await res.text()).toBe(
        'period,notices,collected,expired,cancelled,waited,waitedShare,medianMinutesToPickup,smsDelivered,smsUndeliverable,smsFailed,smsDeliveryRate\r\n' +
          '2026-W10,1,0,0,0,0,0,,0,0,0,\r\n',
      );
    }
    // format=json wins over the Accept header.
    const json = await world.request('GET', path('from=2026-03-02&to=2026-03-02&format=json'), { key: KEYS.staff, headers: { accept: 'text/csv' } });
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it.each([
    ['from is missing', 'to=2026-03-02', 'from'],
    ['from is no date', 'from=yesterday&to=2026-03-02', 'from'],
    ['to does not exist', 'from=2026-02-01&to=2026-02-30', 'to'],
    ['from is after to', 'from=2026-03-03&to=2026-03-02', 'from'],
    ['the range is longer than 400 days', 'from=2025-01-01&to=2026-02-05', 'to'],
    ['granularity is unknown', 'from=2026-03-02&to=2026-03-02&granularity=month', 'granularity'],
    ['format is unknown', 'from=2026-03-02&to=2026-03-02&format=xlsx', 'format'],
  ])('answers 400 naming the parameter when %s', async (_name, query, field) => {
    const res = await world.request('GET', path(query), { key: KEYS.staff });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; field: string } }).error).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  it('accepts a range of exactly 400 days', async () => {
    const res = await world.request('GET', path('from=2025-01-01&to=2026-02-04'), { key: KEYS.staff });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { rows: unknown[] }).rows).toHaveLength(400);
  });

  it("answers 422 for another authority's box or an unknown one, like the other box routes", async () => {
    for (const boxId of ['dd-rathaus', 'no-such-box']) {
      const res = await world.request('GET', path('from=2026-03-02&to=2026-03-02', boxId), { key: KEYS.staff });
      expect(res.status).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNKNOWN_BOX');
    }
  });

  it('is for staff, monitoring and admin keys: case-system, kiosk and locker keys get 403, no key 401', async () => {
    const query = path('from=2026-03-02&to=2026-03-02');
    for (const key of [KEYS.staff, KEYS.monitoring, KEYS.admin]) expect((await world.request('GET', query, { key })).status).toBe(200);
    for (const key of [KEYS.caseSystem, KEYS.kiosk, KEYS.locker]) expect((await world.request('GET', query, { key })).status).toBe(403);
    expect((await world.request('GET', query, { key: null })).status).toBe(401);
  });
});
