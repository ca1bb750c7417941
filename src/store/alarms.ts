/**
 * Staff alarms (door did not open, door left open, tamper, item left inside,
 * board offline, an item sensor that disagrees with the pickups after a board
 * (re)connected ...): a Redis Stream per deployment that staff screens and
 * the API read, a warning log line and a counter. Alarms carry ids, never
 * personal data.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';

/** Every alarm kind; openapi.yaml lists the same (tests/integration/openapi.test.ts compares them). */
export const ALARM_KINDS = [
  'door_did_not_open',
  'door_left_open',
  'door_opened_without_command',
  'item_left_after_pickup',
  'loaded_without_document',
  'item_still_present_after_retrieval',
  'board_offline',
  'board_online',
  'inventory_mismatch',
  'transition_failed',
  'sms_failed',
  'sms_undeliverable',
  'kiosk_paused',
  'code_blocked',
  'staff_signin_locked',
] as const;

export type AlarmKind = (typeof ALARM_KINDS)[number];

export interface Alarm {
  kind: AlarmKind;
  boxId: string;
  compartment?: string;
  pickupId?: string;
  gateway?: string;
  /** Lock board address on the gateway's bus (board alarms of Kerong boxes). */
  board?: number;
  detail?: string;
}

export interface StoredAlarm extends Alarm {
  id: string;
  at: string;
}

export interface AlarmSink {
  raise(alarm: Alarm): Promise<void>;
}

export class RedisAlarms implements AlarmSink {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    ns: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onRaise?: (alarm: Alarm) => void,
  ) {
    this.key = `${ns}:alarms`;
  }

  async raise(alarm: Alarm): Promise<void> {
    const at = new Date(this.clock.now()).toISOString();
    this.logger.warn({ alarm: alarm.kind, boxId: alarm.boxId, compartment: alarm.compartment, pickupId: alarm.pickupId, gateway: alarm.gateway, board: alarm.board, detail: alarm.detail }, 'alarm');
    this.onRaise?.(alarm);
    await this.redis.xadd(this.key, 'MAXLEN', '~', '10000', '*', 'a', JSON.stringify({ ...alarm, at }));
  }

  /** Marks an alarm as seen and handled by someone (an actor id, never personal data); false when it does not exist. */
  async acknowledge(id: string, by: string): Promise<boolean> {
    if (!/^\d+-\d+$/.test(id)) return false;
    const found = await this.redis.xrange(this.key, id, id);
    if (found.length === 0) return false;
    const acknowledged = `${this.key}:acknowledged`;
    await this.redis.hsetnx(acknowledged, id, JSON.stringify({ by, at: new Date(this.clock.now()).toISOString() }));
    // The stream keeps about 10,000 alarms; forget acknowledgements of alarms it no longer holds.
    if ((await this.redis.hlen(acknowledged)) > 12_000) {
      const [first] = await this.redis.xrange(this.key, '-', '+', 'COUNT', 1);
      const oldest = first?.[0];
      const older = oldest === undefined ? [] : (await this.redis.hkeys(acknowledged)).filter((key) => compareStreamIds(key, oldest) < 0);
      if (older.length > 0) await this.redis.hdel(acknowledged, ...older);
    }
    return true;
  }

  /** Alarms of a box not acknowledged yet, newest first. */
  async open(boxId: string, limit = 100): Promise<StoredAlarm[]> {
    const alarms = await this.list(boxId, limit);
    if (alarms.length === 0) return [];
    const acknowledged = await this.redis.hmget(`${this.key}:acknowledged`, ...alarms.map((a) => a.id));
    return alarms.filter((_, i) => acknowledged[i] === null);
  }

  /** Newest first. */
  async list(boxId: string, limit = 100): Promise<StoredAlarm[]> {
    const entries = await this.redis.xrevrange(this.key, '+', '-', 'COUNT', Math.max(limit * 5, 500));
    const alarms: StoredAlarm[] = [];
    for (const [id, fields] of entries) {
      const raw = fields[fields.indexOf('a') + 1];
      if (raw === undefined) continue;
      const alarm = JSON.parse(raw) as StoredAlarm;
      if (alarm.boxId === boxId) alarms.push({ ...alarm, id });
      if (alarms.length >= limit) break;
    }
    return alarms;
  }
}

/** Orders two stream ids (`ms-seq`). */
function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am === bm ? as - bs : am - bm;
}
