/**
 * What one look at a compartment tells, as events, for every adapter:
 * `door.opened`, then item changes, then `door.closed` (docs/locker.md).
 */
import type { CompartmentEvent, DoorState, ItemState } from './types.js';

export interface Observed {
  door: DoorState;
  item: ItemState;
}

/**
 * The events from `before` to `now` of one compartment. `before` null is the
 * first look (after start), which has nothing to compare with. `watch.unlockPending`
 * says that an open command went out and no look has shown the door open since:
 * then an open door is reported even without a change (on the first look, or a
 * door that was open already), since whoever waits for the command must hear it;
 * a look that shows the door open ends the wait.
 */
export function observe(watch: { unlockPending: boolean }, id: string, before: Observed | null, now: Observed, at: string): CompartmentEvent[] {
  const unlocked = watch.unlockPending && now.door === 'open';
  if (unlocked) watch.unlockPending = false;
  if (before === null) return unlocked ? [{ type: 'door.opened', compartmentId: id, at }] : [];
  const events: CompartmentEvent[] = [];
  if ((before.door !== 'open' || unlocked) && now.door === 'open') events.push({ type: 'door.opened', compartmentId: id, at });
  if (before.item !== now.item && now.item !== 'unknown') events.push({ type: now.item === 'present' ? 'item.present' : 'item.absent', compartmentId: id, at });
  if (before.door !== 'closed' && now.door === 'closed') events.push({ type: 'door.closed', compartmentId: id, at });
  return events;
}
