import { describe, expect, it } from 'vitest';
import { observe } from './observation.js';

const at = '2026-03-02T09:00:00.000Z';
const types = (events: { type: string }[]) => events.map((e) => e.type);

describe('observe: the events of one look at a compartment', () => {
  it('reports a change in the order door.opened, item change, door.closed', () => {
    const watch = { unlockPending: false };
    expect(types(observe(watch, 'A1', { door: 'closed', item: 'absent' }, { door: 'open', item: 'present' }, at))).toEqual(['door.opened', 'item.present']);
    expect(types(observe(watch, 'A1', { door: 'open', item: 'present' }, { door: 'closed', item: 'absent' }, at))).toEqual(['item.absent', 'door.closed']);
    expect(observe(watch, 'A1', { door: 'closed', item: 'absent' }, { door: 'closed', item: 'unknown' }, at)).toEqual([]);
  });

  it('reports nothing on a first look, except a door open after an open command', () => {
    expect(observe({ unlockPending: false }, 'A1', null, { door: 'open', item: 'present' }, at)).toEqual([]);
    const watch = { unlockPending: true };
    expect(observe(watch, 'A1', null, { door: 'open', item: 'present' }, at)).toEqual([{ type: 'door.opened', compartmentId: 'A1', at }]);
    expect(watch.unlockPending).toBe(false);
  });

  it('reports a door open already once after an open command, and keeps waiting while the door stays shut', () => {
    const watch = { unlockPending: true };
    expect(observe(watch, 'A1', { door: 'closed', item: 'present' }, { door: 'closed', item: 'present' }, at)).toEqual([]);
    expect(watch.unlockPending).toBe(true);
    const open = { door: 'open', item: 'present' } as const;
    expect(types(observe(watch, 'A1', open, open, at))).toEqual(['door.opened']);
    expect(observe(watch, 'A1', open, open, at)).toEqual([]);
  });
});
