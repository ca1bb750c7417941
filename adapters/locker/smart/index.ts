/**
 * A pickup box driven by a smart controller with its own REST API (commands)
 * and signed webhooks (events). The webhook receiver is a framework-free
 * method the HTTP app mounts; a periodic state read reconciles anything a
 * lost webhook would have told.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { z } from 'zod';
import { systemClock, isoAt, type Clock } from '../../../src/core/clock.js';
import { DokuboxError } from '../../../src/core/errors.js';
import type { BoardEvent, CompartmentSnapshot, DoorState, ItemState, LockerAdapter, LockerEvent } from '../types.js';
import { observe } from '../observation.js';
import {
  API_PREFIX,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  errorResponseSchema,
  stateResponseSchema,
  verifyWebhookSignature,
  webhookEventSchema,
  type SmartCompartmentState,
} from './protocol.js';

export * from './protocol.js';

export const smartLockerConfigSchema = z.object({
  adapter: z.literal('smart').optional(),
  controllerId: z.string().min(1),
  /** e.g. `https://controller.box.local:8443` */
  baseUrl: z.string().url(),
  apiKey: z.string().min(1),
  webhookSecret: z.string().min(16),
  /** Full state read to catch lost webhooks and notice a dead controller; 0 turns it off. */
  pollIntervalMs: z.number().int().min(0).default(30_000),
  requestTimeoutMs: z.number().int().min(1).default(3000),
  /** Webhooks whose timestamp is further than this from our clock are refused. */
  signatureToleranceMs: z.number().int().min(1000).default(300_000),
});
export type SmartLockerConfig = z.output<typeof smartLockerConfigSchema>;
export type SmartLockerConfigInput = z.input<typeof smartLockerConfigSchema>;

export function parseSmartConfig(raw: unknown): SmartLockerConfig {
  const parsed = smartLockerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DokuboxError('CONFIG_INVALID', `Smart locker config is invalid: ${issue?.message ?? 'unknown problem'}. Fix the box mapping's locker block.`, {
      field: `locker.${(issue?.path ?? []).join('.')}`,
    });
  }
  return parsed.data;
}

export interface SmartLockerOptions {
  config: SmartLockerConfigInput;
  /** The box's compartments; their ids are the controller's compartment ids. */
  compartments: { id: string }[];
  logger: Logger;
  clock?: Clock;
  fetch?: typeof fetch;
}

export interface WebhookResult {
  status: 204 | 400 | 401 | 413;
  body?: string;
}

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

interface Slot {
  id: string;
  door: DoorState;
  item: ItemState;
  enabled: boolean;
  lastKnown: { door: DoorState; item: ItemState } | null;
  /** Sequence number of the last webhook applied to this compartment. */
  webhookSeq: number;
  /** An open command went out and no state has shown the door open since (observe()). */
  unlockPending: boolean;
}

/** The largest event body accepted; the HTTP route refuses larger ones (413) before reading them. */
export const MAX_WEBHOOK_BYTES = 16 * 1024;
const SEEN_EVENT_IDS = 2048;

export class SmartLocker extends EventEmitter implements LockerAdapter {
  readonly config: SmartLockerConfig;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly fetchImpl: typeof fetch;
  private readonly slots = new Map<string, Slot>();
  private status: 'never' | 'online' | 'offline' = 'never';
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly seen = new Set<string>();
  private webhookSeq = 0;
  private refreshing: Promise<void> | null = null;

  constructor(options: SmartLockerOptions) {
    super();
    this.config = parseSmartConfig(options.config);
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ component: 'smart-locker', controller: this.config.controllerId });
    this.fetchImpl = options.fetch ?? fetch;
    for (const c of options.compartments) {
      if (this.slots.has(c.id)) throw new DokuboxError('CONFIG_INVALID', `Smart locker layout: compartment id ${c.id} appears twice. Fix the box mapping.`, { field: 'compartments' });
      this.slots.set(c.id, { id: c.id, door: 'unknown', item: 'unknown', enabled: true, lastKnown: null, webhookSeq: 0, unlockPending: false });
    }
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.refresh();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.refreshing?.catch(() => undefined);
  }

  snapshot(): CompartmentSnapshot[] {
    return [...this.slots.values()].map((s) => ({ compartmentId: s.id, door: s.door, item: s.item, enabled: s.enabled }));
  }

  async open(compartmentId: string): Promise<void> {
    const slot = this.lookup(compartmentId);
    if (!slot.enabled) {
      throw new DokuboxError('COMPARTMENT_UNAVAILABLE', `Compartment ${compartmentId} is disabled and was not opened. Enable it after repair or use another compartment.`, { context: { compartment: compartmentId } });
    }
    // One attempt only: the controller may have opened the door even if its answer got lost.
    slot.unlockPending = true;
    const response = await this.request('POST', `/compartments/${encodeURIComponent(compartmentId)}/open`, {}, compartmentId);
    if (response.status === 200 || response.status === 202) {
      this.log.info({ event: 'locker.unlock', compartment: compartmentId, status: response.status }, 'open command accepted');
      // A door open already sends no webhook (nothing changes): it is open for whoever waits now.
      if (this.status === 'online' && slot.door === 'open' && slot.unlockPending) {
        slot.unlockPending = false;
        this.publish({ type: 'door.opened', compartmentId, at: isoAt(this.clock) });
      }
      return;
    }
    throw await this.commandError(response, compartmentId, 'opened');
  }

  async setEnabled(compartmentId: string, enabled: boolean): Promise<void> {
    const slot = this.lookup(compartmentId);
    const response = await this.request('PUT', `/compartments/${encodeURIComponent(compartmentId)}/enabled`, { enabled }, compartmentId);
    if (response.status !== 200 && response.status !== 202) throw await this.commandError(response, compartmentId, enabled ? 'enabled' : 'disabled');
    slot.enabled = enabled;
  }

  /** Reads the full state once and turns differences into events (also run periodically). */
  refresh(): Promise<void> {
    this.refreshing ??= this.readState().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async readState(): Promise<void> {
    const seqAtStart = this.webhookSeq;
    let body: z.infer<typeof stateResponseSchema>;
    try {
      const response = await this.request('GET', '/compartments', undefined, undefined);
      if (response.status !== 200) throw new Error(`state read answered ${response.status}`);
      body = stateResponseSchema.parse(await response.json());
    } catch (error) {
      this.log.warn({ event: 'locker.controller.unreachable', err: errMessage(error) }, 'controller state read failed');
      if (this.status !== 'offline') this.goOffline('no_reply');
      return;
    }
    const at = isoAt(this.clock);
    const previous = this.status;
    this.status = 'online';
    const events: LockerEvent[] = [];
    for (const state of body.compartments) {
      const slot = this.slots.get(state.id);
      if (!slot) continue;
      // A webhook that arrived while the read was under way is newer than what the read says.
      if (previous === 'online' && slot.webhookSeq > seqAtStart) continue;
      slot.enabled = state.enabled;
      events.push(...this.apply(slot, toDoor(state), toItem(state), previous === 'online' ? { door: slot.door, item: slot.item } : slot.lastKnown, at));
    }
    if (previous !== 'online') this.publish(this.boardEvent('board.online', previous === 'never' ? 'first_contact' : 'recovered', at));
    for (const e of events) this.publish(e);
  }

  /**
   * The webhook endpoint, framework-free: pass the raw body exactly as
   * received (the signature covers its bytes) and the request headers.
   * Answer with the returned status; the controller retries non-2xx.
   */
  readonly handleSmartWebhook = (rawBody: string | Uint8Array, headers: WebhookHeaders): WebhookResult => {
    if (rawBody.length > MAX_WEBHOOK_BYTES) return { status: 413, body: 'webhook body too large' };
    const check = verifyWebhookSignature(
      this.config.webhookSecret,
      rawBody,
      header(headers, TIMESTAMP_HEADER),
      header(headers, SIGNATURE_HEADER),
      this.clock.now(),
      this.config.signatureToleranceMs,
    );
    if (!check.ok) {
      this.log.warn({ event: 'locker.webhook.rejected', reason: check.reason }, 'webhook signature rejected');
      return { status: 401, body: `webhook rejected: ${check.reason}` };
    }
    let event: z.infer<typeof webhookEventSchema>;
    try {
      const text = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8');
      event = webhookEventSchema.parse(JSON.parse(text));
    } catch {
      return { status: 400, body: 'webhook body is not a valid event' };
    }
    if (event.controllerId !== this.config.controllerId) return { status: 400, body: 'webhook is for another controller' };
    if (this.seen.has(event.id)) return { status: 204 };
    this.remember(event.id);
    this.applyWebhook(event);
    return { status: 204 };
  };

  private applyWebhook(event: z.infer<typeof webhookEventSchema>): void {
    const at = isoAt(this.clock);
    if (event.type === 'controller.offline') {
      if (this.status !== 'offline') this.goOffline('controller_reported');
      return;
    }
    if (event.type === 'controller.online') {
      // Its state while offline is unknown to us: read it in full, which also announces board.online.
      void this.refresh();
      return;
    }
    const slot = event.compartmentId === undefined ? undefined : this.slots.get(event.compartmentId);
    if (!slot) {
      this.log.warn({ event: 'locker.webhook.unknown_compartment', compartment: event.compartmentId ?? null }, 'webhook for a compartment not in the layout');
      return;
    }
    if (this.status !== 'online') return; // a full read on recovery reconciles it
    slot.webhookSeq = ++this.webhookSeq;
    let { door, item } = slot;
    if (event.type === 'compartment.opened') door = 'open';
    if (event.type === 'compartment.closed') door = 'closed';
    if (event.type === 'compartment.occupied') item = 'present';
    if (event.type === 'compartment.emptied') item = 'absent';
    for (const e of this.apply(slot, door, item, { door: slot.door, item: slot.item }, at)) this.publish(e);
  }

  private apply(slot: Slot, door: DoorState, item: ItemState, before: { door: DoorState; item: ItemState } | null, at: string): LockerEvent[] {
    slot.door = door;
    slot.item = item;
    slot.lastKnown = { door, item };
    return observe(slot, slot.id, before, { door, item }, at);
  }

  private goOffline(reason: string): void {
    this.status = 'offline';
    for (const slot of this.slots.values()) {
      slot.door = 'unknown';
      slot.item = 'unknown';
    }
    this.publish(this.boardEvent('board.offline', reason, isoAt(this.clock)));
  }

  private boardEvent(type: BoardEvent['type'], reason: string, at: string): BoardEvent {
    return { type, gateway: this.config.controllerId, compartmentIds: [...this.slots.keys()], reason, at };
  }

  private schedule(): void {
    if (!this.running || this.config.pollIntervalMs === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh().finally(() => this.schedule());
    }, this.config.pollIntervalMs);
  }

  private remember(id: string): void {
    this.seen.add(id);
    // Sets iterate in insertion order, so the first entry is the oldest.
    if (this.seen.size > SEEN_EVENT_IDS) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private lookup(compartmentId: string): Slot {
    const slot = this.slots.get(compartmentId);
    if (!slot) throw new DokuboxError('NOT_FOUND', `Compartment ${compartmentId} is not part of this box's layout. Check the compartment id.`, { context: { compartment: compartmentId } });
    return slot;
  }

  private async request(method: string, path: string, body: unknown, compartmentId: string | undefined): Promise<Response> {
    try {
      return await this.fetchImpl(`${this.config.baseUrl.replace(/\/$/, '')}${API_PREFIX}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.config.apiKey}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      });
    } catch (cause) {
      throw new DokuboxError(
        'DEPENDENCY_UNAVAILABLE',
        `Box controller ${this.config.controllerId} did not answer ${method} ${path}. Nothing was retried; try again shortly and have staff check the controller if it persists.`,
        { context: { controller: this.config.controllerId, ...(compartmentId === undefined ? {} : { compartment: compartmentId }) }, cause },
      );
    }
  }

  private async commandError(response: Response, compartmentId: string, verb: string): Promise<DokuboxError> {
    const parsed = errorResponseSchema.safeParse(await response.json().catch(() => null));
    const code = parsed.success ? parsed.data.error : undefined;
    const context = { compartment: compartmentId, controller: this.config.controllerId, status: response.status };
    if (response.status === 404) return new DokuboxError('NOT_FOUND', `Box controller ${this.config.controllerId} does not know compartment ${compartmentId}. Check the box mapping.`, { context });
    if (response.status === 409) {
      return new DokuboxError('COMPARTMENT_UNAVAILABLE', `Compartment ${compartmentId} was not ${verb}: the controller reports it ${code ?? 'unavailable'}. Use another compartment; staff should inspect it.`, { context });
    }
    if (response.status === 401 || response.status === 403) {
      return new DokuboxError('DEPENDENCY_UNAVAILABLE', `Box controller ${this.config.controllerId} refused our credentials. Check the controller API key in the configuration.`, { context });
    }
    return new DokuboxError('DEPENDENCY_UNAVAILABLE', `Compartment ${compartmentId} was not ${verb}: the controller answered ${response.status}${code ? ` (${code})` : ''}. Try again shortly.`, { context });
  }

  private publish(event: LockerEvent): void {
    if (!this.running) return; // the contract promises silence after stop()
    try {
      this.emit('event', event);
    } catch (error) {
      this.log.error({ event: 'locker.listener_failed', type: event.type, err: errMessage(error) }, 'locker event listener threw');
    }
  }
}

function toDoor(state: SmartCompartmentState): DoorState {
  return state.door;
}

function toItem(state: SmartCompartmentState): ItemState {
  return state.occupancy === 'occupied' ? 'present' : state.occupancy === 'empty' ? 'absent' : 'unknown';
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

function errMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
