/**
 * The smart-controller adapter against its emulator over real HTTP: commands
 * by REST, events by signed webhooks into a receiver that calls
 * `handleSmartWebhook`, reconciliation when webhooks get lost.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SmartLocker } from '../../adapters/locker/smart/index.js';
import type { LockerEvent } from '../../adapters/locker/types.js';
import { SmartControllerEmulator, type SmartEmulatorDelivery } from '../../simulator/locker/smart-emulator.js';

const logger = pino({ level: 'silent' });
const secret = 'test-webhook-secret-0123456789';
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function rig(options: { openMode?: 'async' | 'sync'; now?: () => number; start?: boolean } = {}) {
  const ids = ['001', '002', '003', '004'];
  const emulator = new SmartControllerEmulator({ controllerId: 'ctl-1', compartments: ids, apiKey: 'key-1', webhookSecret: secret, openMode: options.openMode, now: options.now, webhookRetryDelayMs: 10 });
  const baseUrl = await emulator.start();
  cleanups.push(() => emulator.stop());
  const locker = new SmartLocker({
    config: { controllerId: 'ctl-1', baseUrl, apiKey: 'key-1', webhookSecret: secret, pollIntervalMs: 0, requestTimeoutMs: 1000 },
    compartments: ids.map((id) => ({ id })),
    logger,
  });
  const statuses: number[] = [];
  // The core mounts the handler in its HTTP app; a bare node:http server does the same here.
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const result = locker.handleSmartWebhook(Buffer.concat(chunks), req.headers);
      statuses.push(result.status);
      res.writeHead(result.status);
      res.end(result.body);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => receiver.close(resolve)));
  emulator.setWebhookUrl(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/locker/events`);
  const events: LockerEvent[] = [];
  locker.on('event', (e) => events.push(e));
  if (options.start !== false) await locker.start();
  cleanups.push(() => locker.stop());
  return { emulator, locker, events, statuses };
}

function nextEvent(locker: SmartLocker, match: (e: LockerEvent) => boolean): Promise<LockerEvent> {
  return new Promise((resolve) => {
    const listener = (e: LockerEvent): void => {
      if (!match(e)) return;
      locker.off('event', listener);
      resolve(e);
    };
    locker.on('event', listener);
  });
}

const is = (type: LockerEvent['type'], id: string) => (e: LockerEvent) => e.type === type && 'compartmentId' in e && e.compartmentId === id;

describe('Smart controller adapter against its emulator', () => {
  it('starts with the full state and board.online', async () => {
    const { locker, events } = await rig();
    expect(events).toEqual([expect.objectContaining({ type: 'board.online', gateway: 'ctl-1', reason: 'first_contact' })]);
    expect(locker.snapshot().every((s) => s.door === 'closed' && s.item === 'absent' && s.enabled)).toBe(true);
  });

  it('open (202) leads to a signed door.opened webhook; loading and closing follow', async () => {
    const { locker, emulator, events, statuses } = await rig();
    const opened = nextEvent(locker, is('door.opened', '002'));
    await locker.open('002');
    await opened;
    const closed = nextEvent(locker, is('door.closed', '002'));
    emulator.insertItem('002');
    emulator.closeDoor('002');
    await closed;
    expect(events.filter((e) => 'compartmentId' in e).map((e) => e.type)).toEqual(['door.opened', 'item.present', 'door.closed']);
    expect(statuses.every((s) => s === 204)).toBe(true);
  });

  it('open answered 200 (synchronous controller) works the same', async () => {
    const { locker } = await rig({ openMode: 'sync' });
    const opened = nextEvent(locker, is('door.opened', '001'));
    await locker.open('001');
    await opened;
  });

  it('reports door.opened after an open command for a door that is open already (the controller has nothing to send)', async () => {
    const { locker, emulator } = await rig();
    const first = nextEvent(locker, is('door.opened', '003'));
    emulator.forceOpen('003');
    await first;
    const again = nextEvent(locker, is('door.opened', '003'));
    await locker.open('003');
    await again;
    expect(emulator.openCount('003')).toBe(1);
  });

  it('reports door.opened for a door opened before the first full read (the read is the first thing it hears)', async () => {
    const { locker, emulator, events } = await rig({ openMode: 'sync', start: false });
    await locker.open('004');
    expect(emulator.door('004')).toBe('open');
    await locker.start();
    await expect.poll(() => events.map((e) => `${e.type}${'compartmentId' in e ? ` ${e.compartmentId}` : ''}`)).toEqual(['board.online', 'door.opened 004']);
  });

  it('a jammed compartment accepts the command but sends no opened event', async () => {
    const { locker, emulator, events } = await rig();
    emulator.jam('003');
    const acted = once(emulator, 'open');
    await locker.open('003');
    expect(await acted).toEqual([{ compartmentId: '003', opened: false }]);
    expect(events.some(is('door.opened', '003'))).toBe(false);
    expect(emulator.openCount('003')).toBe(1);
  });

  it('maps controller refusals to stable error codes and never retries', async () => {
    const { locker, emulator } = await rig();
    emulator.setEnabled('004', false);
    await expect(locker.open('004')).rejects.toMatchObject({ code: 'COMPARTMENT_UNAVAILABLE' });
    await expect(locker.open('999')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    emulator.failRequests(503);
    await expect(locker.open('001')).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    emulator.failRequests(null);
    expect(emulator.openCount('001')).toBe(0);
  });

  it('setEnabled goes to the controller; a disabled compartment is refused locally', async () => {
    const { locker, emulator } = await rig();
    await locker.setEnabled('001', false);
    await expect(locker.open('001')).rejects.toMatchObject({ code: 'COMPARTMENT_UNAVAILABLE' });
    expect(emulator.openCount('001')).toBe(0);
    await locker.refresh();
    expect(locker.snapshot()[0]?.enabled).toBe(false);
  });

  it('ignores a replayed webhook (same event id) and rejects stale ones', async () => {
    const skew = { ms: 0 };
    const { locker, emulator, events } = await rig({ now: () => Date.now() + skew.ms });
    const delivered = once(emulator, 'delivered');
    emulator.forceOpen('001');
    const [first] = (await delivered) as [SmartEmulatorDelivery];
    expect(first.status).toBe(204);
    expect(events.filter(is('door.opened', '001'))).toHaveLength(1);

    skew.ms = -10 * 60_000;
    const staleDelivery = once(emulator, 'delivered');
    emulator.closeDoor('001');
    const [stale] = (await staleDelivery) as [SmartEmulatorDelivery];
    expect(stale.status).toBe(401);
    expect(stale.attempts).toBe(1);
    expect(locker.snapshot()[0]?.door).toBe('open');
  });

  it('reconciles lost webhooks from the state read', async () => {
    const { locker, emulator, events } = await rig();
    emulator.loseWebhooks();
    emulator.forceOpen('003');
    emulator.insertItem('003');
    await locker.refresh();
    expect(events.filter((e) => 'compartmentId' in e).map((e) => `${e.type}`)).toEqual(['door.opened', 'item.present']);
  });

  it('a dead controller goes offline, and on revival it is read in full again', async () => {
    const { locker, emulator } = await rig();
    await emulator.kill();
    await expect(locker.open('001')).rejects.toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    const offline = nextEvent(locker, (e) => e.type === 'board.offline');
    await locker.refresh();
    expect(await offline).toMatchObject({ gateway: 'ctl-1', reason: 'no_reply' });
    expect(locker.snapshot().every((s) => s.door === 'unknown')).toBe(true);

    const online = nextEvent(locker, (e) => e.type === 'board.online');
    const opened = nextEvent(locker, is('door.opened', '002'));
    emulator.forceOpen('002'); // while the adapter sees it offline it ignores single webhooks
    await emulator.revive(); // announces controller.online, which makes the adapter read everything
    expect(await online).toMatchObject({ reason: 'recovered' });
    await opened;
  });
});
