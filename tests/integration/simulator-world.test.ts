/**
 * The simulated world as a tester uses it: what people do at the box, the
 * fault switches and what each one does on the wire, and a world that is
 * the same after a restart (doors, items, phones, reports, notices).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_KINDS, faultId, parseFaultId } from '../../simulator/faults.js';
import { SimulatedWorld, WorldError } from '../../simulator/world.js';
import { loadBoxes } from '../../src/mappings/loaders.js';
import { projectPath } from '../../src/project-root.js';

const boxes = [...loadBoxes(projectPath('mappings/boxes')).values()];
const dirs: string[] = [];
const worlds: SimulatedWorld[] = [];

async function startWorld(stateDir?: string): Promise<SimulatedWorld> {
  const world = await SimulatedWorld.start({ middlewareUrl: () => 'http://127.0.0.1:9', boxes, ...(stateDir === undefined ? {} : { stateDir }) });
  worlds.push(world);
  return world;
}

afterAll(async () => {
  for (const world of worlds) await world.close().catch(() => undefined);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the simulated world', () => {
  it('lets a person open, fill and close a compartment, and refuses to take from a closed one with the reason', async () => {
    const world = await startWorld();
    expect(world.act('md-foyer', '042', 'force-open')).toMatchObject({ door: 'open', item: 'absent' });
    expect(world.act('md-foyer', '042', 'insert')).toMatchObject({ door: 'open', item: 'present', sensorReads: 'present' });
    expect(world.act('md-foyer', '042', 'close')).toMatchObject({ door: 'closed', item: 'present' });
    const refused = (() => {
      try {
        world.act('md-foyer', '042', 'take');
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(WorldError);
    expect((refused as WorldError).code).toBe('DOOR_CLOSED');
    expect(() => world.act('md-foyer', '999', 'close')).toThrow(/no compartment '999'/);
    expect(() => world.act('nowhere', '001', 'close')).toThrow(/no box 'nowhere'/);
  });

  it('switches each fault on and off, and each one changes what the part does on the wire', async () => {
    const world = await startWorld();
    // A silent board: the console sees it, the wire stays quiet.
    await world.setFault('silent-board', { box: 'md-foyer', gateway: 'gw1', board: 3 }, true);
    expect(world.wiring('md-foyer').find((g) => g.id === 'gw1')?.boards.find((b) => b.board === 3)?.silent).toBe(true);
    expect(world.compartment('md-foyer', '049')).toMatchObject({ boardSilent: true });
    // A dropped gateway refuses connections until it is back.
    await world.setFault('dropped-gateway', { box: 'md-foyer', gateway: 'gw2' }, true);
    const [host, port] = (world.lockerEndpoints['md-foyer/gw2'] ?? '').split(':');
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), host, () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    await world.setFault('dropped-gateway', { box: 'md-foyer', gateway: 'gw2' }, false);
    expect(world.wiring('md-foyer').find((g) => g.id === 'gw2')?.online).toBe(true);
    // A jammed lock and a broken sensor sit on one compartment.
    await world.setFault('jammed-lock', { box: 'md-foyer', compartment: '007' }, true);
    await world.setFault('broken-sensor', { box: 'md-foyer', compartment: '007' }, true);
    world.act('md-foyer', '007', 'force-open');
    world.act('md-foyer', '007', 'insert');
    expect(world.compartment('md-foyer', '007')).toMatchObject({ jammed: true, sensorBroken: true, item: 'present', sensorReads: 'absent' });
    // The SMS gateway down: HTTP 503 to the middleware's requests.
    await world.setFault('sms-down', {}, true);
    const send = () => fetch(`${world.sms.seven.url}/api/sms`, { method: 'POST', headers: { 'x-api-key': 'dev', 'content-type': 'application/json' }, body: JSON.stringify({ to: '+4915112345678', text: 'x', from: 'dokubox' }) });
    expect((await send()).status).toBe(503);
    // Rejecting replaces down (one standing behaviour at a time).
    await world.setFault('sms-rejecting', {}, true);
    expect(world.faults().map((f) => f.kind)).not.toContain('sms-down');
    const rejected = (await (await send()).json()) as { messages: { success: boolean; error: string }[] };
    expect(rejected.messages[0]).toMatchObject({ success: false, error: '202' });
    await world.setFault('sms-rejecting', {}, false);
    expect((await send()).status).toBe(200);
    // The case system's callback endpoint down: HTTP 500.
    await world.setFault('callback-down', {}, true);
    expect((await fetch(world.callbacks.url, { method: 'POST', body: '<x/>' })).status).toBe(500);
    await world.clearFault('callback-down');
    expect(world.faults().map((f) => f.id).sort()).toEqual(['broken-sensor:md-foyer:007', 'jammed-lock:md-foyer:007', 'silent-board:md-foyer:gw1:3']);
    // Targets that do not exist are refused with the reason.
    await expect(world.setFault('silent-board', { box: 'md-foyer', gateway: 'gw9', board: 0 }, true)).rejects.toThrow(/no gateway 'gw9'/);
    await expect(world.setFault('jammed-lock', { box: 'md-foyer' }, true)).rejects.toThrow(/needs a compartment/);
  });

  it('names every fault by an id that reads back to the same fault', () => {
    for (const kind of Object.keys(FAULT_KINDS) as (keyof typeof FAULT_KINDS)[]) {
      const spec = FAULT_KINDS[kind];
      const target = spec.target === 'compartment' ? { box: 'b', compartment: '007' } : spec.target === 'gateway' ? { box: 'b', gateway: 'gw1' } : spec.target === 'board' ? { box: 'b', gateway: 'gw1', board: 2 } : {};
      expect(parseFaultId(faultId(kind, target))).toEqual({ kind, target });
    }
    expect(parseFaultId('no-such-fault')).toBeUndefined();
  });

  it('is the same world after a restart: doors, items, phones, reports and notices', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dokubox-world-'));
    dirs.push(dir);
    const first = await startWorld(dir);
    first.act('md-foyer', '100', 'force-open');
    first.act('md-foyer', '100', 'insert');
    first.act('md-foyer', '101', 'force-open');
    first.sms.inbox.receive({ id: 'm1', to: '+4915123456701', from: 'Stadt MD', text: 'Ihr Code: 123456', encoding: 'gsm', parts: 1, via: 'http', receivedAt: '2026-12-01T10:00:00.000Z' });
    first.callbacks.reports.push({ eventId: 'e1', messageId: 'M1', pickupId: 'p1', authority: 'magdeburg-abh', boxId: 'md-foyer', seq: 1, status: 'reserved', reason: '', occurredAt: '2026-12-01T10:00:00.000Z', receivedAt: '2026-12-01T10:00:00.100Z', secured: false });
    await first.close();

    const second = await startWorld(dir);
    expect(second.compartment('md-foyer', '100')).toMatchObject({ door: 'open', item: 'present' });
    expect(second.compartment('md-foyer', '101')).toMatchObject({ door: 'open', item: 'absent' });
    expect(second.compartment('md-foyer', '102')).toMatchObject({ door: 'closed', item: 'absent' });
    expect(second.phones()['+4915123456701']?.map((m) => m.text)).toEqual(['Ihr Code: 123456']);
    expect(second.reports().map((r) => r.pickupId)).toEqual(['p1']);
  });
});
