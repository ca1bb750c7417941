/**
 * Emulates a smart box controller (protocol v1, see docs/locker.md): a real
 * HTTP server with the REST API, compartments with doors and occupancy, and
 * signed webhooks for every change, retried on failure like a real
 * controller. Faults: jammed doors, a controller answering 503, a dead
 * controller (connections refused), webhooks that get lost.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  API_PREFIX,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  signWebhook,
  type SmartCompartmentState,
  type SmartErrorCode,
  type SmartWebhookEvent,
} from '../../adapters/locker/smart/protocol.js';

export interface SmartEmulatorOptions {
  controllerId: string;
  compartments: string[];
  apiKey: string;
  webhookSecret: string;
  webhookUrl?: string;
  port?: number;
  host?: string;
  /** 202 and open a moment later (default), or 200 and open before answering. */
  openMode?: 'async' | 'sync';
  /** How long after a 202 the door opens. */
  openDelayMs?: number;
  webhookRetries?: number;
  webhookRetryDelayMs?: number;
  /** Wall clock for webhook timestamps (tests can skew it to provoke stale rejections). */
  now?: () => number;
}

interface CompartmentSim {
  id: string;
  doorOpen: boolean;
  occupied: boolean;
  enabled: boolean;
  jammed: boolean;
  opens: number;
}

export interface SmartEmulatorDelivery {
  event: SmartWebhookEvent;
  /** HTTP status of the last attempt, or 0 when the receiver could not be reached / delivery was dropped. */
  status: number;
  attempts: number;
}

/**
 * Events: `request` ({ method, path }), `open` ({ compartmentId, opened }),
 * `delivered` (SmartEmulatorDelivery after the final attempt of each webhook).
 */
export class SmartControllerEmulator extends EventEmitter {
  private server: Server | null = null;
  private readonly compartments = new Map<string, CompartmentSim>();
  private webhookUrl: string | undefined;
  private failStatus: number | null = null;
  private dropWebhooks = false;
  private boundPort: number;
  private readonly host: string;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => number;
  /** Webhooks go out one after another, in the order things happened. */
  private outbox: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: SmartEmulatorOptions) {
    super();
    for (const id of options.compartments) this.compartments.set(id, { id, doorOpen: false, occupied: false, enabled: true, jammed: false, opens: 0 });
    this.webhookUrl = options.webhookUrl;
    this.boundPort = options.port ?? 0;
    this.host = options.host ?? '127.0.0.1';
    this.now = options.now ?? (() => Date.now());
  }

  get url(): string {
    return `http://${this.host}:${this.boundPort}`;
  }

  async start(): Promise<string> {
    if (this.server) return this.url;
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.host, () => {
        server.off('error', reject);
        this.boundPort = (server.address() as AddressInfo).port;
        resolve();
      });
    });
    return this.url;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  setWebhookUrl(url: string): void {
    this.webhookUrl = url;
  }

  // --- people at the box -----------------------------------------------------

  insertItem(id: string): void {
    const c = this.get(id);
    if (!c.doorOpen) throw new Error(`compartment ${id} is closed: open it before inserting`);
    this.change(c, () => (c.occupied = true), 'compartment.occupied', !c.occupied);
  }

  takeItem(id: string): void {
    const c = this.get(id);
    if (!c.doorOpen) throw new Error(`compartment ${id} is closed: open it before taking the item`);
    this.change(c, () => (c.occupied = false), 'compartment.emptied', c.occupied);
  }

  closeDoor(id: string): void {
    const c = this.get(id);
    this.change(c, () => (c.doorOpen = false), 'compartment.closed', c.doorOpen);
  }

  leaveOpen(id: string): void {
    this.get(id);
  }

  forceOpen(id: string): void {
    const c = this.get(id);
    this.change(c, () => (c.doorOpen = true), 'compartment.opened', !c.doorOpen);
  }

  door(id: string): 'open' | 'closed' {
    return this.get(id).doorOpen ? 'open' : 'closed';
  }

  openCount(id: string): number {
    return this.get(id).opens;
  }

  // --- faults and staff actions on the controller ----------------------------

  jam(id: string, jammed = true): void {
    this.get(id).jammed = jammed;
  }

  /** Staff disable a compartment at the controller's own panel. */
  setEnabled(id: string, enabled: boolean): void {
    this.get(id).enabled = enabled;
  }

  /** Every API request is answered with this status (e.g. 503); null returns to normal. */
  failRequests(status: number | null): void {
    this.failStatus = status;
  }

  /** Webhooks are silently lost (network, misconfigured URL). */
  loseWebhooks(lose = true): void {
    this.dropWebhooks = lose;
  }

  /** The controller dies: connections refused until `revive`. */
  async kill(): Promise<void> {
    await this.stop();
  }

  async revive(): Promise<void> {
    await this.start();
    await this.sendEvent('controller.online');
  }

  /** Sends a controller-level event (e.g. `controller.offline` before maintenance). */
  sendEvent(type: 'controller.online' | 'controller.offline'): Promise<SmartEmulatorDelivery | null> {
    return this.deliver({ id: randomUUID(), type, controllerId: this.options.controllerId, occurredAt: new Date(this.now()).toISOString() });
  }

  // --- internals -------------------------------------------------------------

  private get(id: string): CompartmentSim {
    const c = this.compartments.get(id);
    if (!c) throw new Error(`compartment ${id} is not emulated`);
    return c;
  }

  private change(c: CompartmentSim, mutate: () => void, type: SmartWebhookEvent['type'], changes: boolean): void {
    mutate();
    if (changes) void this.deliver({ id: randomUUID(), type, controllerId: this.options.controllerId, compartmentId: c.id, occurredAt: new Date(this.now()).toISOString() });
  }

  private state(c: CompartmentSim): SmartCompartmentState {
    return { id: c.id, door: c.doorOpen ? 'open' : 'closed', occupancy: c.occupied ? 'occupied' : 'empty', enabled: c.enabled };
  }

  private deliver(event: SmartWebhookEvent): Promise<SmartEmulatorDelivery | null> {
    const next = this.outbox.then(() => this.deliverNow(event));
    this.outbox = next.catch(() => undefined);
    return next;
  }

  private async deliverNow(event: SmartWebhookEvent): Promise<SmartEmulatorDelivery | null> {
    const url = this.webhookUrl;
    if (url === undefined) return null;
    const body = JSON.stringify(event);
    const retries = this.options.webhookRetries ?? 3;
    let status = 0;
    let attempts = 0;
    for (; attempts <= retries; ) {
      attempts++;
      if (this.dropWebhooks) break;
      const ts = Math.floor(this.now() / 1000);
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signWebhook(this.options.webhookSecret, ts, body) },
          body,
        });
        status = response.status;
        await response.arrayBuffer();
      } catch {
        status = 0;
      }
      // Like real gateways: retry on 429, 5xx and connection errors, not on other 4xx.
      if (status !== 0 && status !== 429 && status < 500) break;
      if (attempts <= retries) await new Promise<void>((resolve) => this.later(resolve, this.options.webhookRetryDelayMs ?? 50));
    }
    const delivery = { event, status, attempts };
    this.emit('delivered', delivery);
    return delivery;
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    this.emit('request', { method, path });
    const send = (status: number, body?: unknown): void => {
      res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const fail = (status: number, error: SmartErrorCode, message?: string): void => send(status, { error, ...(message ? { message } : {}) });

    if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) return fail(401, 'unauthorized');
    if (this.failStatus !== null) return fail(this.failStatus, this.failStatus === 503 ? 'busy' : 'bad_request');
    if (!path.startsWith(API_PREFIX)) return fail(404, 'bad_request', 'unknown path');
    const parts = path.slice(API_PREFIX.length).split('/').filter(Boolean).map(decodeURIComponent);

    if (method === 'GET' && parts.length === 1 && parts[0] === 'compartments') {
      return send(200, { controllerId: this.options.controllerId, compartments: [...this.compartments.values()].map((c) => this.state(c)) });
    }
    if (parts[0] !== 'compartments' || parts[1] === undefined) return fail(404, 'bad_request', 'unknown path');
    const c = this.compartments.get(parts[1]);
    if (!c) return fail(404, 'unknown_compartment');

    if (method === 'GET' && parts.length === 2) return send(200, this.state(c));
    if (method === 'POST' && parts[2] === 'open' && parts.length === 3) {
      if (!c.enabled) return fail(409, 'disabled');
      c.opens++;
      const commandId = randomUUID();
      const act = (): void => {
        const opened = !c.jammed;
        this.emit('open', { compartmentId: c.id, opened });
        if (opened) this.change(c, () => (c.doorOpen = true), 'compartment.opened', !c.doorOpen);
      };
      if ((this.options.openMode ?? 'async') === 'sync') {
        act();
        return send(200, { commandId, status: 'done' });
      }
      send(202, { commandId, status: 'accepted' });
      this.later(act, this.options.openDelayMs ?? 10);
      return;
    }
    if (method === 'PUT' && parts[2] === 'enabled' && parts.length === 3) {
      let enabled: unknown;
      try {
        enabled = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { enabled?: unknown }).enabled;
      } catch {
        enabled = undefined;
      }
      if (typeof enabled !== 'boolean') return fail(400, 'bad_request', 'body must be {"enabled": true|false}');
      c.enabled = enabled;
      return send(200, this.state(c));
    }
    return fail(404, 'bad_request', 'unknown path');
  }
}
