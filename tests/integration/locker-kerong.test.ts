/**
 * The Kerong adapter against the CU16 emulator over real TCP: events from
 * door and item changes, faults of boards and gateways, bus discipline.
 */
import { once } from 'node:events';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KerongLocker } from '../../adapters/locker/kerong/index.js';
import { CMD } from '../../adapters/locker/kerong/codec.js';
import type { CompartmentLayout, KerongBoxConfigInput, LockerEvent } from '../../adapters/locker/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { isDokuboxError } from '../../src/core/errors.js';
import { Cu16Emulator, type EmulatorRequest } from '../../simulator/locker/cu16-emulator.js';
import { magdeburgLayout } from '../../simulator/locker/layouts.js';

const logger = pino({ level: 'silent' });

/** gw1: boards 0 and 1 (A01-A32), gw2: board 3 (B01-B16). */
function layout(base: 0 | 1 = 0): CompartmentLayout[] {
  const out: CompartmentLayout[] = [];
  for (let i = 0; i < 32; i++) out.push({ id: `A${String(i + 1).padStart(2, '0')}`, locker: { gateway: 'gw1', board: Math.floor(i / 16), lock: (i % 16) + base } });
  for (let i = 0; i < 16; i++) out.push({ id: `B${String(i + 1).padStart(2, '0')}`, locker: { gateway: 'gw2', board: 3, lock: i + base } });
  return out;
}

interface Rig {
  emulator: Cu16Emulator;
  locker: KerongLocker;
  events: LockerEvent[];
}

const rigs: Rig[] = [];

afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    await rig.locker.stop();
    await rig.emulator.stop();
  }
});

async function rig(options: { config?: Partial<KerongBoxConfigInput>; base?: 0 | 1; openValue?: 0 | 1; unlockReply?: 'none' | 'state'; onEvent?: (e: LockerEvent, locker: KerongLocker) => void } = {}): Promise<Rig> {
  const compartments = layout(options.base ?? 0);
  const emulator = new Cu16Emulator({
    gateways: [{ id: 'gw1' }, { id: 'gw2' }],
    compartments,
    lockNumberBase: options.base ?? 0,
    lockBitOpenValue: options.openValue ?? 1,
    unlockReply: options.unlockReply ?? 'none',
  });
  const gateways = await emulator.start();
  const locker = new KerongLocker({
    config: {
      gateways,
      lockNumberBase: options.base ?? 0,
      lockBitOpenValue: options.openValue ?? 1,
      pollIntervalMs: 10,
      replyTimeoutMs: 400,
      drainMs: 20,
      offlineAfterMissedPolls: 1,
      reconnectInitialMs: 20,
      reconnectMaxMs: 100,
      ...options.config,
    },
    compartments,
    logger,
  });
  const events: LockerEvent[] = [];
  locker.on('event', (e) => {
    events.push(e);
    options.onEvent?.(e, locker);
  });
  const r = { emulator, locker, events };
  rigs.push(r);
  const ready = waitUntil(locker, () => locker.snapshot().every((s) => s.door !== 'unknown'));
  await locker.start();
  await ready;
  return r;
}

/** Resolves when `check` holds, re-checked on every adapter event and finished poll cycle. */
function waitUntil(locker: KerongLocker, check: () => boolean, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = (): void => {
      if (!check()) return;
      cleanup();
      resolve();
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('condition not reached in time'));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      locker.off('event', probe);
      locker.off('cycle', probe);
    };
    locker.on('event', probe);
    locker.on('cycle', probe);
    probe();
  });
}

function nextEvent(locker: KerongLocker, match: (e: LockerEvent) => boolean, timeoutMs = 5000): Promise<LockerEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      locker.off('event', listener);
      reject(new Error('expected locker event did not come'));
    }, timeoutMs);
    const listener = (e: LockerEvent): void => {
      if (!match(e)) return;
      clearTimeout(timer);
      locker.off('event', listener);
      resolve(e);
    };
    locker.on('event', listener);
  });
}

const is = (type: LockerEvent['type'], id?: string) => (e: LockerEvent) => e.type === type && (id === undefined || ('compartmentId' in e && e.compartmentId === id));

/** Waits until the gateway's poll loop has completed `n` further cycles. */
async function cycles(locker: KerongLocker, gateway: string, n: number): Promise<void> {
  for (let i = 0; i < n; ) {
    const [id] = (await once(locker, 'cycle')) as [string];
    if (id === gateway) i++;
  }
}

describe('Kerong adapter against the CU16 emulator', () => {
  it('reports every board online with a full snapshot at start', async () => {
    const { locker, events } = await rig();
    const online = events.filter((e) => e.type === 'board.online');
    expect(online).toHaveLength(3);
    expect(online.every((e) => e.type === 'board.online' && e.reason === 'first_contact')).toBe(true);
    expect(locker.snapshot()).toHaveLength(48);
    expect(locker.snapshot().every((s) => s.door === 'closed' && s.item === 'absent' && s.enabled)).toBe(true);
    expect(events.some((e) => e.type.startsWith('door.') || e.type.startsWith('item.'))).toBe(false);
  });

  it('open sends the unlock and the door opening and closing become events', async () => {
    const { locker, emulator } = await rig();
    const unlocked = once(emulator, 'unlock');
    const opened = nextEvent(locker, is('door.opened', 'A18'));
    await locker.open('A18');
    const [unlock] = await unlocked;
    expect(unlock).toMatchObject({ gateway: 'gw1', board: 1, lock: 1, compartmentId: 'A18', opened: true });
    const event = await opened;
    expect(event).toMatchObject({ type: 'door.opened', compartmentId: 'A18' });
    expect(typeof event.at).toBe('string');
    expect(locker.snapshot().find((s) => s.compartmentId === 'A18')?.door).toBe('open');

    const closed = nextEvent(locker, is('door.closed', 'A18'));
    emulator.closeDoor('A18');
    await closed;
  });

  it('loading and pickup: item.present comes before door.closed, item.absent on taking it', async () => {
    const { locker, emulator, events } = await rig();
    const opened = nextEvent(locker, is('door.opened', 'B05'));
    await locker.open('B05');
    await opened;
    const closed = nextEvent(locker, is('door.closed', 'B05'));
    emulator.insertItem('B05');
    emulator.closeDoor('B05');
    await closed;
    const mine = events.filter((e) => 'compartmentId' in e && e.compartmentId === 'B05').map((e) => e.type);
    expect(mine).toEqual(['door.opened', 'item.present', 'door.closed']);

    const absent = nextEvent(locker, is('item.absent', 'B05'));
    const unlocked = once(emulator, 'unlock');
    await locker.open('B05');
    await unlocked;
    emulator.takeItem('B05');
    await absent;
    expect(locker.snapshot().find((s) => s.compartmentId === 'B05')?.item).toBe('absent');
  });

  it('a jammed lock gets one pulse and no door.opened', async () => {
    const { locker, emulator, events } = await rig();
    emulator.jamLock('A03');
    const unlocked = once(emulator, 'unlock');
    await locker.open('A03');
    const [unlock] = await unlocked;
    expect(unlock).toMatchObject({ compartmentId: 'A03', opened: false });
    await cycles(locker, 'gw1', 3);
    expect(events.some(is('door.opened', 'A03'))).toBe(false);
    expect(emulator.unlockCount('A03')).toBe(1);
  });

  it('pulses the lock even when the door sensor already says open, and reports the door open after the unlock', async () => {
    const { locker, emulator } = await rig();
    const opened = nextEvent(locker, is('door.opened', 'A07'));
    emulator.forceOpen('A07');
    await opened;
    const unlocked = once(emulator, 'unlock');
    // The door stays open: whoever waits for this unlock hears that it is open.
    const openAgain = nextEvent(locker, is('door.opened', 'A07'));
    await locker.open('A07');
    await unlocked;
    expect(emulator.unlockCount('A07')).toBe(1);
    await openAgain;
  });

  it('a door unlocked before its board first answered is reported open (an instance that has just taken over the gateway)', async () => {
    // The unlock goes out when board 0 has answered and board 1 has not: board 1's first answer already shows the door open.
    let unlocking: Promise<unknown> | undefined;
    const opened: LockerEvent[] = [];
    const { events } = await rig({
      config: { pollIntervalMs: 60_000 },
      onEvent: (e, locker) => {
        if (e.type === 'board.online' && e.gateway === 'gw1' && e.board === 0) unlocking = locker.open('A18').catch((error: unknown) => error);
        if (e.type === 'door.opened') opened.push(e);
      },
    });
    expect(await unlocking).toBeUndefined();
    const online = events.findIndex((e) => e.type === 'board.online' && e.gateway === 'gw1' && e.board === 1);
    expect(online).toBeGreaterThanOrEqual(0);
    // Only the unlocked door, right after its board's first answer; the other closed doors of the board give no events.
    expect(opened.map((e) => 'compartmentId' in e && e.compartmentId)).toEqual(['A18']);
    expect(events.indexOf(opened[0] as LockerEvent)).toBe(online + 1);
  });

  it('a broken item sensor shows as a stuck reading', async () => {
    const { locker, emulator } = await rig();
    const present = nextEvent(locker, is('item.present', 'A09'));
    emulator.breakItemSensor('A09', 'present');
    await present;
    expect(emulator.item('A09')).toBe('absent');
  });

  it('refuses disabled and unknown compartments without touching the bus', async () => {
    const { locker, emulator } = await rig();
    await locker.setEnabled('A01', false);
    expect(locker.snapshot()[0]).toMatchObject({ compartmentId: 'A01', enabled: false });
    await expect(locker.open('A01')).rejects.toMatchObject({ code: 'COMPARTMENT_UNAVAILABLE' });
    await expect(locker.open('Z99')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(emulator.unlockCount('A01')).toBe(0);
    await locker.setEnabled('A01', true);
    const unlocked = once(emulator, 'unlock');
    await locker.open('A01');
    await unlocked;
    expect(emulator.unlockCount('A01')).toBe(1);
  });

  it('a silent board goes offline and unknown, and is reconciled when it answers again', async () => {
    const { locker, emulator } = await rig();
    const offline = nextEvent(locker, (e) => e.type === 'board.offline' && e.board === 1);
    emulator.silenceBoard('gw1', 1);
    const off = await offline;
    expect(off).toMatchObject({ type: 'board.offline', gateway: 'gw1', board: 1, reason: 'no_reply' });
    expect(off.type === 'board.offline' && off.compartmentIds).toHaveLength(16);
    const snap = locker.snapshot().filter((s) => s.compartmentId >= 'A17' && s.compartmentId <= 'A32');
    expect(snap.every((s) => s.door === 'unknown' && s.item === 'unknown')).toBe(true);
    expect(locker.snapshot().find((s) => s.compartmentId === 'A01')?.door).toBe('closed');
    const refused = await locker.open('A20').catch((e: unknown) => e);
    expect(isDokuboxError(refused) && refused.code).toBe('DEPENDENCY_UNAVAILABLE');

    // Things happen while nobody can see them.
    emulator.forceOpen('A20');
    emulator.insertItem('A20');
    emulator.forceOpen('A21');

    const seen: LockerEvent[] = [];
    const collect = (e: LockerEvent): void => void seen.push(e);
    locker.on('event', collect);
    const back = nextEvent(locker, (e) => e.type === 'board.online' && e.board === 1);
    emulator.silenceBoard('gw1', 1, false);
    expect(await back).toMatchObject({ reason: 'recovered' });
    locker.off('event', collect);
    expect(seen.map((e) => `${e.type}${'compartmentId' in e ? ` ${e.compartmentId}` : ''}`)).toEqual([
      'board.online',
      'door.opened A20',
      'item.present A20',
      'door.opened A21',
    ]);
  });

  it('reconnects after the gateway drops and resumes', async () => {
    const { locker, emulator } = await rig();
    const offline = nextEvent(locker, (e) => e.type === 'board.offline' && e.gateway === 'gw2');
    await emulator.dropGateway('gw2');
    expect(await offline).toMatchObject({ reason: 'connection_lost', board: 3 });
    await expect(locker.open('B01')).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    // gw1 keeps working while gw2 is gone.
    const a = nextEvent(locker, is('door.opened', 'A02'));
    await locker.open('A02');
    await a;

    const online = nextEvent(locker, (e) => e.type === 'board.online' && e.gateway === 'gw2');
    await emulator.restoreGateway('gw2');
    expect(await online).toMatchObject({ reason: 'recovered' });
    const b = nextEvent(locker, is('door.opened', 'B01'));
    await locker.open('B01');
    await b;
  });

  it('raises the alarm for a gateway that is down from the start and comes up later', async () => {
    const compartments = layout();
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }, { id: 'gw2' }], compartments });
    const gateways = await emulator.start();
    await emulator.dropGateway('gw2');
    const locker = new KerongLocker({ config: { gateways, pollIntervalMs: 10, reconnectInitialMs: 20, reconnectMaxMs: 50 }, compartments, logger });
    rigs.push({ emulator, locker, events: [] });
    const offline = nextEvent(locker, (e) => e.type === 'board.offline' && e.gateway === 'gw2');
    await locker.start();
    expect(await offline).toMatchObject({ board: 3, reason: 'unreachable' });
    const online = nextEvent(locker, (e) => e.type === 'board.online' && e.gateway === 'gw2');
    await emulator.restoreGateway('gw2');
    await online;
    expect(locker.snapshot().every((s) => s.door === 'closed')).toBe(true);
  });

  it('uses a gateway again within two seconds after it was gone for 30 s (reconnect waits capped by default)', async () => {
    const compartments = layout();
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }, { id: 'gw2' }], compartments });
    const gateways = await emulator.start();
    // The adapter's default reconnect settings; only the waits between connection attempts run on the manual clock.
    const clock = new ManualClock();
    const locker = new KerongLocker({ config: { gateways, pollIntervalMs: 10 }, compartments, logger, timers: clock });
    rigs.push({ emulator, locker, events: [] });
    const ready = waitUntil(locker, () => locker.snapshot().every((s) => s.door !== 'unknown'));
    await locker.start();
    await ready;
    const bus = locker.bus('gw2');

    /** Moves the manual clock in 100 ms steps until the pending reconnect wait has run out; returns how long that took. */
    const untilNextAttempt = (): number => {
      expect(clock.pendingTimers()).toBe(1);
      let waited = 0;
      while (clock.pendingTimers() > 0) {
        clock.advance(100);
        waited += 100;
      }
      return waited;
    };

    const offline = once(bus, 'offline');
    await emulator.dropGateway('gw2');
    await offline;
    const waits: number[] = [];
    while (waits.reduce((a, b) => a + b, 0) < 30_000) {
      const refused = once(bus, 'connect_failed');
      waits.push(untilNextAttempt());
      await refused;
    }
    expect(Math.max(...waits)).toBeLessThanOrEqual(2000);

    const online = nextEvent(locker, (e) => e.type === 'board.online' && e.gateway === 'gw2');
    await emulator.restoreGateway('gw2');
    const connected = once(bus, 'online');
    expect(untilNextAttempt()).toBeLessThanOrEqual(2000);
    await connected;
    expect(await online).toMatchObject({ board: 3, reason: 'recovered' });
  });

  it('handles garbage before replies, split replies and slow replies', async () => {
    const { locker, emulator, events } = await rig({ config: { replyTimeoutMs: 300 } });
    emulator.setGarbage('gw1', Uint8Array.of(0xff, 0x02, 0x10, 0x35, 0x00, 0x02));
    emulator.setSplitReplies('gw1', 5);
    emulator.setReplyDelay('gw1', 30);
    await cycles(locker, 'gw1', 2);
    const opened = nextEvent(locker, is('door.opened', 'A30'));
    await locker.open('A30');
    await opened;
    expect(events.some((e) => e.type === 'board.offline')).toBe(false);
    expect(locker.bus('gw1').garbageBytes).toBeGreaterThan(0);
  });

  it('drains a reply that comes after the timeout so it is not taken for the next answer', async () => {
    // Wide margins for a loaded machine: the late reply comes 100 ms after the 400 ms timeout, well
    // inside the 400 ms drain window and 200 ms before the next query's own (300 ms) answer would,
    // so without draining it would be taken for that answer.
    const { locker, emulator } = await rig({ config: { replyTimeoutMs: 400, drainMs: 400, pollIntervalMs: 60_000, offlineAfterMissedPolls: 100 } });
    const bus = locker.bus('gw2');
    emulator.setReplyDelay('gw2', 500);
    await expect(bus.query(3)).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    // The late reply (door closed) arrives while the next query would be waiting for its own, slower answer.
    emulator.setReplyDelay('gw2', 300);
    emulator.forceOpen('B02');
    const state = await bus.query(3);
    expect(state.board).toBe(3);
    expect((state.lockBits >> 1) & 1).toBe(1);
  });

  it('unlocks jump ahead of queued polls', async () => {
    const { locker, emulator } = await rig({ config: { pollIntervalMs: 60_000 } });
    emulator.setReplyDelay('gw1', 20);
    const requests: EmulatorRequest[] = [];
    emulator.on('request', (r: EmulatorRequest) => {
      if (r.gateway === 'gw1') requests.push(r);
    });
    const bus = locker.bus('gw1');
    const polls = Array.from({ length: 6 }, () => bus.query(0));
    await locker.open('A05');
    await Promise.all(polls);
    const order = requests.map((r) => (r.frame.cmd === CMD.UNLOCK ? 'U' : 'P'));
    // At most the poll already on the wire goes first.
    expect(order.indexOf('U')).toBeLessThanOrEqual(1);
    expect(order.filter((c) => c === 'U')).toHaveLength(1);
  });

  it('never retries an unlock that was lost with the connection', async () => {
    const { locker, emulator } = await rig({ config: { pollIntervalMs: 60_000 } });
    emulator.setReplyDelay('gw2', 500);
    const bus = locker.bus('gw2');
    const inFlight = bus.query(3).catch((e: unknown) => e);
    await once(emulator, 'request');
    const opening = locker.open('B09').catch((e: unknown) => e);
    await emulator.dropGateway('gw2');
    expect(await opening).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(await inFlight).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    emulator.setReplyDelay('gw2', 0);
    const online = nextEvent(locker, (e) => e.type === 'board.online' && e.gateway === 'gw2');
    await emulator.restoreGateway('gw2');
    await online;
    await locker.pollAll();
    expect(emulator.unlockCount('B09')).toBe(0);
  });

  it('follows the configured polarity and lock numbering', async () => {
    const { locker, emulator } = await rig({ base: 1, openValue: 0, unlockReply: 'state' });
    expect(locker.snapshot().every((s) => s.door === 'closed')).toBe(true);
    const unlocks: EmulatorRequest[] = [];
    emulator.on('request', (r: EmulatorRequest) => {
      if (r.frame.cmd === CMD.UNLOCK) unlocks.push(r);
    });
    const opened = nextEvent(locker, is('door.opened', 'A01'));
    await locker.open('A01');
    await opened;
    // Layout lock 1 with base 1 is wire lock 0 of board 0: `02 00 31 03 36`.
    expect(unlocks.map((r) => r.frame.addr)).toEqual([0x00]);
    expect(emulator.unlockCount('A01')).toBe(1);
    expect(locker.snapshot()[0]?.door).toBe('open');
  });

  it('sets the pulse time on each board when configured', async () => {
    const { emulator } = await rig({ config: { unlockPulseMs: 800 } });
    expect(emulator.pulseMs('gw1', 0)).toBe(800);
    expect(emulator.pulseMs('gw2', 3)).toBe(800);
  });

  it('rejects a layout that does not fit the bus', () => {
    expect(
      () =>
        new KerongLocker({
          config: { gateways: [{ id: 'gw1', host: '127.0.0.1', port: 5000 }], lockNumberBase: 1 },
          compartments: [{ id: 'x', locker: { gateway: 'gw1', board: 0, lock: 0 } }],
          logger,
        }),
    ).toThrow(/outside 1-16/);
    expect(() => new KerongLocker({ config: { gateways: [] }, compartments: [], logger })).toThrow(/invalid/);
  });
});

describe('Magdeburg-sized box (456 compartments, 2 gateways)', () => {
  it('watches all 29 boards and opens compartments on both buses', async () => {
    const compartments = magdeburgLayout();
    const emulator = new Cu16Emulator({ gateways: [{ id: 'gw1' }, { id: 'gw2' }], compartments });
    const gateways = await emulator.start();
    const locker = new KerongLocker({ config: { gateways, pollIntervalMs: 50 }, compartments, logger });
    rigs.push({ emulator, locker, events: [] });
    const online: LockerEvent[] = [];
    locker.on('event', (e) => {
      if (e.type === 'board.online') online.push(e);
    });
    const ready = waitUntil(locker, () => locker.snapshot().every((s) => s.door === 'closed'));
    await locker.start();
    await ready;
    expect(online).toHaveLength(29);
    for (const id of ['001', '256', '257', '456']) {
      const opened = nextEvent(locker, is('door.opened', id));
      await locker.open(id);
      await opened;
    }
    expect(locker.snapshot().filter((s) => s.door === 'open').map((s) => s.compartmentId)).toEqual(['001', '256', '257', '456']);
  });
});
