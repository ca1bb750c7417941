/**
 * The physical cycle of one box on top of its locker adapter: staff load,
 * applicants collect, staff take back expired or cancelled documents, and
 * faults are caught. Commands open a door and wait for the adapter's
 * `door.opened`; the state change follows the door closing with the item
 * sensor's verdict. Timeouts run on the injected clocks' timers, so the
 * simulated world and tests control time: waiting for the hardware on the
 * wall clock, for people (a door left open) on the domain clock. See docs/state-machine.md.
 */
import type { Logger } from 'pino';
import type { BoardEvent, CompartmentSnapshot, LockerAdapter, LockerEvent } from '../../adapters/locker/types.js';
import type { BoxDefinition } from '../core/box.js';
import type { Clock, TimerHandle, Timers } from '../core/clock.js';
import { DokuboxError } from '../core/errors.js';
import type { PickupService } from '../service/pickup-service.js';
import type { EnteredFactors } from '../core/pickup-policy.js';
import type { ClientIdentity } from '../service/types.js';
import type { AlarmSink } from '../store/alarms.js';
import type { DoorCommand } from './door-relay.js';

export interface BoxLifecycleOptions {
  box: BoxDefinition;
  adapter: LockerAdapter;
  service: PickupService;
  alarms: AlarmSink;
  /** Domain time: the door-left-open alarm waits for a person (simulated time with SIMULATED_TIME). */
  clock: Clock & Timers;
  /** Wall time: the door-open confirmation waits for the hardware; default `clock`. */
  wallClock?: Timers;
  logger: Logger;
  /** No door.opened this long after an open command: the compartment is defective. */
  doorOpenTimeoutMs?: number;
  /** A door open this long raises an alarm. */
  doorLeftOpenMs?: number;
  /**
   * With several instances: whether this instance drives a compartment's
   * lock, and how to hand a door command to the one that does.
   */
  route?: { isLocal(compartment: string): boolean; relay(command: DoorCommand): Promise<void> };
}

type Purpose = 'loading' | 'pickup' | 'retrieval';

interface Operation {
  purpose: Purpose;
  compartment: string;
  pickupId: string | null;
  actor: string;
  phase: 'opening' | 'open';
  timer: TimerHandle | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface OpenResult {
  pickupId: string | null;
  compartment: string;
}

export class BoxLifecycle {
  private readonly operations = new Map<string, Operation>();
  /** Events are handled one after another, in the order the adapter saw them. */
  private work: Promise<void> = Promise.resolve();
  private readonly listener = (event: LockerEvent) => {
    this.work = this.work.then(() =>
      this.onEvent(event).catch((error: unknown) =>
        this.o.logger.error({ boxId: this.o.box.id, event: event.type, err: error instanceof Error ? error.message : String(error) }, 'locker event handling failed'),
      ),
    );
  };

  constructor(private readonly o: BoxLifecycleOptions) {}

  get boxId(): string {
    return this.o.box.id;
  }

  get adapter(): LockerAdapter {
    return this.o.adapter;
  }

  start(): void {
    this.o.adapter.on('event', this.listener);
  }

  /** Resolves once all events received so far are processed. */
  async settled(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.work;
      await current;
    } while (current !== this.work);
  }

  stop(): void {
    this.o.adapter.off('event', this.listener);
    for (const op of this.operations.values()) op.timer?.cancel();
    this.operations.clear();
  }

  /** Staff scanned a document: open its reserved compartment. */
  async openForLoading(client: ClientIdentity, serialNumber: string): Promise<OpenResult> {
    const pickup = await this.o.service.findForLoading(client, this.o.box.id, serialNumber);
    if (pickup.compartment === null) throw new DokuboxError('COMPARTMENT_UNAVAILABLE', 'This pickup has no compartment yet.');
    await this.openDoor({ purpose: 'loading', compartment: pickup.compartment, pickupId: pickup.id, actor: `staff:${client.id}` });
    return { pickupId: pickup.id, compartment: pickup.compartment };
  }

  /**
   * Whether the box can open doors: some lock board answers, here or (with
   * several instances) at the instance that drives it.
   */
  async online(): Promise<boolean> {
    if (this.o.adapter.snapshot().some((s) => s.door !== 'unknown')) return true;
    if (this.o.route === undefined) return false;
    for (const online of (await this.o.service.linkStates(this.o.box.id)).values()) if (online) return true;
    return false;
  }

  /** Throws BOX_OFFLINE when no lock board of the box answers: nothing can open. */
  async assertOnline(): Promise<void> {
    if (!(await this.online())) {
      throw new DokuboxError('BOX_OFFLINE', `Box '${this.o.box.id}' is offline: no lock board answers, so no door can open. Staff have an alarm; try again later or collect the document at the counter.`);
    }
  }

  /** The applicant entered the factors of the box's policy (code, mobile number, date of birth or CAN). */
  async openForPickup(client: ClientIdentity, entered: EnteredFactors, deviceId?: string): Promise<OpenResult> {
    this.o.service.assertOpen(this.o.box);
    await this.assertOnline();
    const verified = await this.o.service.verify(client, this.o.box.id, entered, deviceId);
    await this.openDoor({ purpose: 'pickup', compartment: verified.compartment, pickupId: verified.pickupId, actor: `kiosk:${client.id}` });
    return { pickupId: verified.pickupId, compartment: verified.compartment };
  }

  /**
   * Staff open a compartment to take an expired, cancelled or faulty pickup's
   * document out, for `reason` (kept in the audit trail, with the pickup's
   * `pickup.audit` event when a pickup is inside). The entry is written
   * before the door opens: no door opens without it.
   */
  /** `actor` names who acted when it is not the API client (a person of the dashboard: `clerk:{username}`). */
  async openForRetrieval(client: ClientIdentity, compartment: string, pickupId: string | null, reason: string, actor = `${client.role === 'admin' ? 'admin' : 'staff'}:${client.id}`): Promise<OpenResult> {
    await this.o.service.audit(
      { actor, authority: client.authority, action: 'compartment_opened', boxId: this.o.box.id, compartment, reason, ...(pickupId === null ? {} : { pickupId }) },
      pickupId === null ? 'none' : 'if_exists',
    );
    await this.openDoor({ purpose: 'retrieval', compartment, pickupId, actor: `staff:${client.id}` });
    return { pickupId, compartment };
  }

  private openDoor(spec: DoorCommand): Promise<void> {
    if (this.o.route !== undefined && !this.o.route.isLocal(spec.compartment)) return this.o.route.relay(spec);
    return this.openLocally(spec);
  }

  /** Opens a door this instance drives and resolves once it is open (also for relayed commands). */
  async openLocally(spec: DoorCommand): Promise<void> {
    // The persisted mark is authoritative: it may have been set through another instance.
    if (spec.purpose !== 'retrieval' && (await this.o.service.isDefective(this.o.box.id, spec.compartment))) {
      throw new DokuboxError('COMPARTMENT_UNAVAILABLE', `Compartment ${spec.compartment} is marked defective; staff must repair it first.`, { context: { compartment: spec.compartment } });
    }
    return this.startOpening(spec);
  }

  private async startOpening(spec: DoorCommand): Promise<void> {
    if (this.operations.has(spec.compartment)) {
      throw new DokuboxError('COMPARTMENT_UNAVAILABLE', `Compartment ${spec.compartment} is already being opened; wait until it is closed again.`);
    }
    // Written before the command: an instance that takes over the box after a crash finishes the operation.
    await this.o.service.recordDoorOperation(this.o.box.id, spec.compartment, { purpose: spec.purpose, pickupId: spec.pickupId, actor: spec.actor });
    return new Promise<void>((resolve, reject) => {
      const op: Operation = { ...spec, phase: 'opening', timer: undefined, resolve, reject };
      this.operations.set(spec.compartment, op);
      op.timer = (this.o.wallClock ?? this.o.clock).setTimer(this.o.doorOpenTimeoutMs ?? 5000, () => {
        this.work = this.work.then(() => this.onOpenTimeout(op));
      });
      this.o.adapter.open(spec.compartment).catch((error: unknown) => {
        op.timer?.cancel();
        this.operations.delete(spec.compartment);
        void this.forget(spec.compartment);
        reject(error instanceof Error ? error : new Error(String(error)));
      });
    });
  }

  private async onOpenTimeout(op: Operation): Promise<void> {
    if (this.operations.get(op.compartment) !== op || op.phase !== 'opening') return;
    this.operations.delete(op.compartment);
    if (this.door(op.compartment) === 'unknown') {
      // The board stopped answering, or this instance no longer drives it: the door may well be open.
      this.abandon(op);
      return;
    }
    await this.forget(op.compartment);
    await this.o.alarms.raise({ kind: 'door_did_not_open', boxId: this.o.box.id, compartment: op.compartment, ...(op.pickupId ? { pickupId: op.pickupId } : {}) });
    await this.o.adapter.setEnabled(op.compartment, false).catch(() => undefined);
    if (op.pickupId !== null && op.purpose !== 'retrieval') {
      await this.o.service.markFault(op.pickupId, 'door_did_not_open', 'locker:' + this.o.box.id).catch((error: unknown) => this.transitionFailed(op, error));
    } else {
      await this.o.service.markCompartment(this.o.box.id, op.compartment, 'defective');
    }
    op.reject(
      new DokuboxError(
        'COMPARTMENT_UNAVAILABLE',
        op.purpose === 'pickup'
          ? 'The compartment did not open. Please collect your document at the counter; staff have been told.'
          : `Compartment ${op.compartment} did not open and is now marked defective.`,
        { context: { compartment: op.compartment } },
      ),
    );
  }

  /**
   * Gives up waiting for a door whose board this instance cannot see (it went
   * silent, or another instance drives it now). Whether the door opened is
   * not known, so nothing is marked: the operation's record stays, and
   * whichever instance next hears the board finishes it (resume): a door
   * found open is watched until it closes, a document taken out meanwhile
   * ends the pickup, a closed door with nothing changed drops the record.
   * The caller hears DEPENDENCY_UNAVAILABLE, a retryable answer.
   */
  private abandon(op: Operation): void {
    op.timer?.cancel();
    op.reject(
      new DokuboxError(
        'DEPENDENCY_UNAVAILABLE',
        op.purpose === 'pickup'
          ? 'The box did not confirm that the door opened: its lock board stopped answering. If a door is open, take your document and close the door; otherwise try again in a few minutes or ask at the counter.'
          : `Compartment ${op.compartment}: the lock board stopped answering while the door was opening, so whether it opened is not known. Look at the compartment; the box finishes the operation when the board answers again.`,
        { context: { compartment: op.compartment } },
      ),
    );
  }

  private seen(compartment: string): CompartmentSnapshot | undefined {
    return this.o.adapter.snapshot().find((s) => s.compartmentId === compartment);
  }

  private door(compartment: string): CompartmentSnapshot['door'] {
    return this.seen(compartment)?.door ?? 'unknown';
  }

  private item(compartment: string): CompartmentSnapshot['item'] {
    return this.seen(compartment)?.item ?? 'unknown';
  }

  private async onEvent(event: LockerEvent): Promise<void> {
    const box = this.o.box.id;
    if (!('compartmentId' in event) || typeof event.compartmentId !== 'string') {
      const board = event as BoardEvent;
      if (board.type === 'board.online' && board.reason === 'first_contact') {
        this.o.logger.debug({ boxId: box, gateway: board.gateway, board: board.board }, 'lock board online');
      } else {
        await this.o.alarms.raise({
          kind: board.type === 'board.offline' ? 'board_offline' : 'board_online',
          boxId: box,
          gateway: board.gateway,
          ...(board.board === undefined ? {} : { board: board.board }),
          detail: describeBoard(board),
        });
      }
      if (board.type === 'board.offline' && board.reason === 'released') {
        // Another instance drives these compartments now and finishes their door operations from the records.
        for (const id of board.compartmentIds) {
          const op = this.operations.get(id);
          if (op === undefined) continue;
          this.operations.delete(id);
          this.abandon(op);
        }
      }
      await this.o.service.recordLink(box, `${board.gateway}/${board.board ?? '*'}`, board.type === 'board.online').catch(() => undefined);
      if (board.type === 'board.online') await this.reconcile(board, await this.resume(board.compartmentIds));
      return;
    }
    const op = this.operations.get(event.compartmentId);
    if (event.type === 'door.opened') {
      if (op === undefined) {
        await this.o.alarms.raise({ kind: 'door_opened_without_command', boxId: box, compartment: event.compartmentId });
        return;
      }
      if (op.phase === 'opening') {
        op.timer?.cancel();
        op.phase = 'open';
        op.timer = this.o.clock.setTimer(this.o.doorLeftOpenMs ?? 120_000, () => {
          void this.o.alarms.raise({ kind: 'door_left_open', boxId: box, compartment: op.compartment, ...(op.pickupId ? { pickupId: op.pickupId } : {}) });
        });
        op.resolve();
      }
      return;
    }
    if (event.type !== 'door.closed' || op === undefined || op.phase !== 'open') return;
    op.timer?.cancel();
    this.operations.delete(op.compartment);
    const item = this.item(op.compartment);
    try {
      await this.afterClose(op, item);
    } catch (error) {
      await this.transitionFailed(op, error);
    }
    await this.forget(op.compartment);
  }

  private async forget(compartment: string): Promise<void> {
    await this.o.service.recordDoorOperation(this.o.box.id, compartment, undefined).catch((error: unknown) =>
      this.o.logger.warn({ boxId: this.o.box.id, compartment, err: error instanceof Error ? error.message : String(error) }, 'door operation record not removed'),
    );
  }

  /**
   * After this instance began driving a board: the door operations another
   * instance began and did not finish (it stopped or crashed). A door still
   * open becomes this instance's operation, so its closing is handled as
   * usual; a door closed meanwhile is handled now when the item sensor
   * shows that the operation happened (document in after loading, out after
   * a pickup or a retrieval). Otherwise the door never opened, or the sensor
   * cannot tell: the record goes, and staff get an alarm when the contents
   * disagree with the pickups (reconcile).
   */
  private async resume(compartmentIds: string[]): Promise<Set<string>> {
    const handled = new Set<string>();
    const records = await this.o.service.doorOperations(this.o.box.id);
    const states = new Map(this.o.adapter.snapshot().map((s) => [s.compartmentId, s]));
    for (const id of compartmentIds) {
      const record = records.get(id);
      if (record === undefined || this.operations.has(id)) continue;
      const purpose = record.purpose as Purpose;
      if (purpose !== 'loading' && purpose !== 'pickup' && purpose !== 'retrieval') {
        await this.forget(id);
        continue;
      }
      const state = states.get(id);
      const spec = { purpose, compartment: id, pickupId: record.pickupId, actor: record.actor };
      handled.add(id);
      if (state?.door === 'open') {
        const op: Operation = { ...spec, phase: 'open', timer: undefined, resolve: () => undefined, reject: () => undefined };
        op.timer = this.o.clock.setTimer(this.o.doorLeftOpenMs ?? 120_000, () => {
          void this.o.alarms.raise({ kind: 'door_left_open', boxId: this.o.box.id, compartment: id, ...(op.pickupId ? { pickupId: op.pickupId } : {}) });
        });
        this.operations.set(id, op);
        this.o.logger.info({ boxId: this.o.box.id, compartment: id, purpose }, 'door operation taken over from another instance');
        continue;
      }
      const item = state?.item ?? 'unknown';
      const happened = purpose === 'loading' ? item === 'present' : item === 'absent' || (purpose === 'pickup' && this.o.box.pickup.oldDocument === 'intoCompartment' && item === 'present');
      if (happened && state?.door === 'closed') {
        const op: Operation = { ...spec, phase: 'open', timer: undefined, resolve: () => undefined, reject: () => undefined };
        try {
          await this.afterClose(op, item);
          this.o.logger.info({ boxId: this.o.box.id, compartment: id, purpose }, 'door operation of another instance finished');
        } catch (error) {
          // Finished already by the instance that began it (it stopped after the transition): nothing to do.
          if (!(error instanceof DokuboxError)) await this.transitionFailed(op, error);
        }
      } else if (item === 'unknown' || state?.door !== 'closed') {
        // Nothing tells whether the door opened: staff look.
        await this.o.alarms.raise({
          kind: 'inventory_mismatch',
          boxId: this.o.box.id,
          compartment: id,
          ...(record.pickupId === null ? {} : { pickupId: record.pickupId }),
          detail: `an instance stopped during a door operation (${purpose}) and the compartment cannot tell whether it happened; check the compartment.`,
        });
      } else {
        handled.delete(id);
      }
      await this.forget(id);
    }
    return handled;
  }

  /**
   * After a board (re)connected (its first answer after start or after an
   * outage, a power cut, a restarted box): compares each item sensor of its
   * compartments with what the pickups say should be inside, and raises
   * `inventory_mismatch` for every disagreement. Compartments without an
   * item sensor (`unknown`), defective ones, faults and doors being operated
   * right now are left out.
   */
  private async reconcile(board: BoardEvent, resumed: Set<string> = new Set()): Promise<void> {
    const sensed = new Map(this.o.adapter.snapshot().map((s) => [s.compartmentId, s.item]));
    const ids = board.compartmentIds.filter((id) => (sensed.get(id) ?? 'unknown') !== 'unknown' && !this.operations.has(id) && !resumed.has(id));
    if (ids.length === 0) return;
    const expected = await this.o.service.expectedContents(this.o.box.id, ids);
    for (const id of ids) {
      const should = expected.get(id);
      const item = sensed.get(id);
      if (should === undefined || should.item === 'unknown' || should.item === item) continue;
      await this.o.alarms.raise({
        kind: 'inventory_mismatch',
        boxId: this.o.box.id,
        compartment: id,
        ...(should.pickupId === null ? {} : { pickupId: should.pickupId }),
        gateway: board.gateway,
        ...(board.board === undefined ? {} : { board: board.board }),
        detail: `expected ${should.item === 'present' ? 'a document inside' : 'empty'} (${should.why}); the item sensor reads ${item === 'present' ? 'an item inside' : 'empty'}. Check the compartment.`,
      });
    }
  }

  private async afterClose(op: Operation, item: CompartmentSnapshot['item']): Promise<void> {
    const box = this.o.box.id;
    const tag = { boxId: box, compartment: op.compartment, ...(op.pickupId ? { pickupId: op.pickupId } : {}) };
    switch (op.purpose) {
      case 'loading':
        // A compartment without an item sensor reads unknown: trust the staff member.
        if (item === 'absent') return this.o.alarms.raise({ kind: 'loaded_without_document', ...tag });
        await this.o.service.markLoaded(op.pickupId as string, op.actor);
        return;
      case 'pickup': {
        const method = this.o.box.pickup.steps.filter((s) => s !== 'pinLetter').join('+');
        if (this.o.box.pickup.oldDocument === 'intoCompartment') {
          // The old document goes in as the new one comes out: staff empty the compartment unless the sensor reads it empty.
          await this.o.service.markCollected(op.pickupId as string, op.actor, method, { oldDocumentInside: item !== 'absent' });
          return;
        }
        if (item === 'present') return this.o.alarms.raise({ kind: 'item_left_after_pickup', ...tag });
        await this.o.service.markCollected(op.pickupId as string, op.actor, method);
        return;
      }
      case 'retrieval':
        if (item === 'present') return this.o.alarms.raise({ kind: 'item_still_present_after_retrieval', ...tag });
        await this.o.service.finishRetrieval(box, op.compartment, op.actor);
        return;
    }
  }

  private async transitionFailed(op: Operation, error: unknown): Promise<void> {
    this.o.logger.error({ boxId: this.o.box.id, compartment: op.compartment, pickupId: op.pickupId, err: error instanceof Error ? error.message : String(error) }, 'transition after door event failed');
    await this.o.alarms.raise({ kind: 'transition_failed', boxId: this.o.box.id, compartment: op.compartment, ...(op.pickupId ? { pickupId: op.pickupId } : {}), detail: error instanceof DokuboxError ? error.code : 'INTERNAL' });
  }
}

/** Which board (and which compartments) a board event concerns, for the alarm staff read: `board 3 on gateway gw1, compartments 049-064 (16): no_reply`. */
export function describeBoard(event: BoardEvent): string {
  const where = event.board === undefined ? `gateway ${event.gateway}` : `board ${event.board} on gateway ${event.gateway}`;
  const ids = event.compartmentIds;
  const first = ids[0];
  const last = ids[ids.length - 1];
  const compartments = first === undefined ? '' : first === last ? `, compartment ${first}` : `, compartments ${first}-${last} (${ids.length})`;
  return `${where}${compartments}: ${event.reason}`;
}
