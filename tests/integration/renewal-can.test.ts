/**
 * A renewal notice with the old card's CAN (asked at boxes whose pickup
 * policy uses it): stored only as a keyed hash, never in clear anywhere in
 * Redis or in the logs, part of the idempotency fingerprint, and gone when
 * the pickup ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashCan } from '../../src/core/code.js';
import { sha256Hex } from '../../src/http/auth.js';
import { BOX, createWorld, KEYS, notice, type TestWorld } from '../support/harness.js';

/** Digits that appear in nothing else the test writes (ids are UUIDs, times are fixed by the manual clock). */
const CAN = '907263';
const OTHER_CAN = '907264';

let world: TestWorld;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(async () => world.close());

async function submit(body: unknown): Promise<Response> {
  return world.request('POST', '/v1/notices', { key: KEYS.caseSystem, body });
}

async function created(body: unknown): Promise<string> {
  const res = await submit(body);
  expect(res.status).toBe(201);
  return ((await res.json()) as { pickup: { id: string } }).pickup.id;
}

/** Every key of the test's prefix with everything it holds, as text. */
async function redisDump(): Promise<string> {
  const redis = world.dokubox.redis;
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${world.config.REDIS_KEY_PREFIX}:*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      let value: unknown;
      switch (type) {
        case 'string':
          value = await redis.get(key);
          break;
        case 'hash':
          value = await redis.hgetall(key);
          break;
        case 'list':
          value = await redis.lrange(key, 0, -1);
          break;
        case 'set':
          value = await redis.smembers(key);
          break;
        case 'zset':
          value = await redis.zrange(key, '0', '-1', 'WITHSCORES');
          break;
        case 'stream':
          value = await redis.xrange(key, '-', '+');
          break;
        default:
          value = `(${type})`;
      }
      out.push(`${key} ${JSON.stringify(value)}`);
    }
  } while (cursor !== '0');
  return out.join('\n');
}

describe('renewal notices with the old card\'s CAN', () => {
  it('store renewal and only the keyed hash of the CAN', async () => {
    const id = await created(notice({ renewal: true, oldCardCan: CAN }));
    const stored = await world.dokubox.store.get(id);
    expect(stored?.renewal).toBe(true);
    expect(stored?.canHash).toBe(hashCan(Buffer.from(world.config.SECRET_KEY, 'base64'), BOX, CAN));
    // 64 hex characters: the pickup hash stays in Redis's compact encoding.
    expect(await world.dokubox.redis.object('ENCODING', `${world.config.REDIS_KEY_PREFIX}:pickup:${id}`)).toBe('listpack');
  });

  it('a notice without renewal stores renewal false and no CAN hash; a renewal without CAN stores no CAN hash', async () => {
    const plain = await world.dokubox.store.get(await created(notice()));
    expect(plain?.renewal).toBe(false);
    expect(plain?.canHash).toBeUndefined();
    const withoutCan = await world.dokubox.store.get(await created(notice({ renewal: true })));
    expect(withoutCan?.renewal).toBe(true);
    expect(withoutCan?.canHash).toBeUndefined();
  });

  it('a resend with the same CAN is a duplicate, with another CAN a conflict', async () => {
    const input = notice({ renewal: true, oldCardCan: CAN });
    const id = await created(input);
    const again = await submit(input);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { pickup: { id: string } }).pickup.id).toBe(id);
    const other = await submit({ ...input, oldCardCan: OTHER_CAN });
    expect(other.status).toBe(409);
    const body = (await other.json()) as { error: { code: string; field: string } };
    expect(body.error).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', field: 'messageId' });
    expect((await world.dokubox.store.get(id))?.canHash).toBe(hashCan(Buffer.from(world.config.SECRET_KEY, 'base64'), BOX, CAN));
  });

  it.each([
    ['a CAN without renewal', { oldCardCan: CAN }],
    ['a CAN with renewal false', { renewal: false, oldCardCan: CAN }],
    ['a CAN of five digits', { renewal: true, oldCardCan: CAN.slice(0, 5) }],
    ['a CAN with a letter', { renewal: true, oldCardCan: `${CAN.slice(0, 5)}X` }],
  ])('refuses %s with 400 VALIDATION_FAILED naming oldCardCan, without echoing it', async (_name, fields) => {
    const res = await submit({ ...notice(), ...fields });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'oldCardCan' } });
    expect(text).not.toContain(CAN.slice(0, 5));
  });

  it('drops the CAN hash when the pickup ends, and keeps renewal in the pseudonymous record', async () => {
    const id = await created(notice({ renewal: true, oldCardCan: CAN }));
    const cancel = await world.request('POST', `/v1/pickups/${id}/cancel`, { key: KEYS.caseSystem });
    expect(cancel.status).toBe(200);
    const ended = await world.dokubox.store.get(id);
    expect(ended?.state).toBe('cancelled');
    expect(ended?.pii).toBeUndefined();
    expect(ended?.canHash).toBeUndefined();
    expect(ended?.renewal).toBe(true);
  });

  it('the CAN appears nowhere in Redis nor in the logs', async () => {
    expect(world.logs.length).toBeGreaterThan(5);
    const dump = await redisDump();
    expect(dump).toContain(':pickup:');
    for (const digits of [CAN, OTHER_CAN, CAN.slice(0, 5)]) {
      expect(dump, `Redis holds ${digits}`).not.toContain(digits);
      expect(world.logs.join('\n'), `a log line holds ${digits}`).not.toContain(digits);
    }
  });
});

describe('a renewal at a box that asks for the old card\'s CAN (Dortmund policy)', () => {
  const DORTMUND_KEY = 'test-case-system-dortmund-0001';
  let dortmund: TestWorld;
  beforeAll(async () => {
    dortmund = await createWorld({
      env: {
        BOXES_DIR: 'tests/fixtures/boxes-kiosk',
        API_KEYS: JSON.stringify([{ id: 'case-do', role: 'case-system', authority: 'dortmund-abh', sha256: sha256Hex(DORTMUND_KEY) }]),
      },
    });
  });
  afterAll(async () => dortmund.close());

  const at = (overrides: Parameters<typeof notice>[0]) => notice({ authority: 'dortmund-abh', boxId: 'do-kiosk', ...overrides });

  it('is refused without the CAN (it could never be collected), naming oldCardCan, and stores nothing', async () => {
    const res = await dortmund.request('POST', '/v1/notices', { key: DORTMUND_KEY, body: at({ renewal: true }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', field: 'oldCardCan' } });
    expect(await dortmund.dokubox.redis.keys(`${dortmund.config.REDIS_KEY_PREFIX}:pickup:*`)).toEqual([]);
  });

  it('is accepted with the CAN; a first issue there needs none', async () => {
    for (const body of [at({ renewal: true, oldCardCan: CAN }), at({})]) {
      const res = await dortmund.request('POST', '/v1/notices', { key: DORTMUND_KEY, body });
      expect(res.status).toBe(201);
    }
  });
});
