/**
 * The simulated world as one object: the lock boards of every box, the SMS
 * gateway with its phones, the case system (its client that sends notices
 * and its callback server that records status reports), the world's clock
 * and the fault switches. The console (simulator/console/) and the scenario
 * runner (simulator/scenario/) drive the world only through this class; the
 * parts underneath speak the real wire protocols to the middleware.
 *
 * Events: `change` (WorldChange) whenever something a tester sees changed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BoxDefinition } from '../src/core/box.js';
import { normaliseMobile } from '../src/core/notice.js';
import { startCallbackServer, type CallbackServer, type RecordedReport } from './case-system/callback-server.js';
import { CaseSystemSimulator } from './case-system/client.js';
import { sampleNotice, type SampleNotice } from './case-system/data.js';
import { FAULT_KINDS, faultId, parseFaultId, type FaultKind, type FaultTarget } from './faults.js';
import type { CompartmentView, Cu16Emulator } from './locker/cu16-emulator.js';
import { emulatorForBox, keepEmulatorState, writeAtomically } from './locker/part.js';
import { PhoneInbox, startSmsGatewaySimulator, type InboxMessage, type SmsGatewaySimulator } from './sms-gateway/index.js';

export type CompartmentAction = 'insert' | 'take' | 'close' | 'leave-open' | 'force-open';
export const COMPARTMENT_ACTIONS: readonly CompartmentAction[] = ['insert', 'take', 'close', 'leave-open', 'force-open'];

export type WorldChange =
  | { kind: 'compartment'; box: string; compartment: string }
  | { kind: 'wiring'; box: string }
  | { kind: 'inbox'; phone: string }
  | { kind: 'reports' }
  | { kind: 'notices' }
  | { kind: 'faults' }
  | { kind: 'clock' };

/** The world's time: wall time, or the shared simulated clock (src/store/world-clock.ts) when the middleware runs with SIMULATED_TIME. */
export interface WorldTime {
  now(): number;
  state(): { now: number; speed: number; simulated: boolean };
  /** Changes speed and/or jumps forward; refused (with a message for people) when time is not simulated or the jump goes backwards. */
  set(change: { speed?: number; at?: number | string }): Promise<void>;
  onChange(listener: () => void): () => void;
  close?(): Promise<void>;
}

/** Wall time: what the world uses when the middleware's time is not simulated. */
export const WALL_TIME: WorldTime = {
  now: () => Date.now(),
  state: () => ({ now: Date.now(), speed: 1, simulated: false }),
  set: () => Promise.reject(new WorldError('TIME_NOT_SIMULATED', 'Time is not simulated here: start the middleware with SIMULATED_TIME=true (npm start does) to change speed or jump.')),
  onChange: () => () => undefined,
};

export class WorldError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How the case system logs in at the middleware. */
export interface CaseSystemLogin {
  authority: string;
  username: string;
  password: string;
}

export interface NoticeRequest {
  boxId: string;
  count?: number;
  /** `soap`: canonical NotifyDocumentsReady; `xoev`: the XÖV vendor XML over plain HTTP; `xoev-soap`: the same inside SOAP. */
  format?: 'soap' | 'xoev' | 'xoev-soap';
  language?: string;
  accessible?: boolean;
  /** Document types; default as the sample data has them. */
  documents?: string[];
  /** The applicant's mobile number; default one of the world's phones. */
  mobile?: string;
  renewal?: boolean;
  oldCardCan?: string;
  /** The applicant; default one of the sample people. */
  person?: { familyName: string; givenNames: string; dateOfBirth: string };
}

/** A notice the world's case system sent, and what the middleware answered. */
export interface SentNotice {
  messageId: string;
  boxId: string;
  format: 'soap' | 'xoev' | 'xoev-soap';
  sentAt: number;
  pickupId?: string;
  outcome: 'created' | 'duplicate' | 'refused' | 'error';
  /** The middleware's answer when it was not created (an error text, never personal data). */
  detail?: string;
  /** The phone the SMS will go to (E.164), to find it in the inbox. */
  phone: string;
  /** What the notice said, for testers at the console (simulated people only): the SMS language, the documents staff scan, what the applicant types at the box. */
  language?: string;
  accessible?: boolean;
  caseNumber?: string;
  documents?: { type: string; serialNumber: string }[];
  person?: { name: string; dateOfBirth: string };
}

export interface WorldOptions {
  middlewareUrl: () => string;
  boxes: BoxDefinition[];
  /** Where the world keeps its state across restarts (`VAR_DIR/simulator`); none: nothing is kept. */
  stateDir?: string;
  /** The case system's logins at the middleware; default: fresh ones per authority, which the middleware must be told (`caseSystemClientsEnv`). */
  caseSystemLogins?: CaseSystemLogin[];
  time?: WorldTime;
  /** Signing secret of the SMS gateway's delivery reports; default fresh. */
  smsSigningSecret?: string;
  /** Where the world's servers listen (`npm run simulator` for a middleware on another machine); default 127.0.0.1 and free ports. */
  listen?: WorldListen;
}

/** Fixed addresses, so that a middleware elsewhere can be configured once. Port 0 or none: any free port. */
export interface WorldListen {
  host?: string;
  /** The address the middleware reaches the world at, when it differs from `host` (e.g. listening on 0.0.0.0). */
  advertisedHost?: string;
  smsHttpPort?: number;
  smppPort?: number;
  callbackPort?: number;
  /** The CU16 gateways get consecutive ports from here, box by box. */
  lockerBasePort?: number;
}

/** The world's phones: a handful of numbers that notices go to unless one is given. */
export const WORLD_PHONES = ['+4915123456701', '+4916098765402', '+4917012345603', '+4917255512304', '+4917622334405', '+4915201234506'];

interface SavedWorld {
  version: 1;
  notices: SentNotice[];
  inbox: InboxMessage[];
  reports: RecordedReport[];
  sequence: number;
}


export class SimulatedWorld extends EventEmitter {
  readonly boxes: BoxDefinition[];
  readonly lockers = new Map<string, Cu16Emulator>();
  /** `box/gateway` → `host:port` of its emulated CU16 gateway. */
  readonly lockerEndpoints: Record<string, string> = {};
  sms!: SmsGatewaySimulator;
  callbacks!: CallbackServer;
  readonly logins: CaseSystemLogin[];
  readonly smsSigningSecret: string;
  readonly notices: SentNotice[] = [];
  time: WorldTime;
  private readonly activeFaults = new Map<string, { kind: FaultKind; target: FaultTarget; since: number }>();
  private readonly clients = new Map<string, CaseSystemSimulator>();
  /** What each notice of this run said, to resend it unchanged. */
  private readonly contents = new Map<string, SampleNotice>();
  private readonly runId = randomBytes(3).toString('hex');
  private sequence = 0;
  private saveScheduled = false;
  private readonly saves: (() => void)[] = [];
  private stopClock: (() => void) | undefined;
  private advertised = '127.0.0.1';

  private constructor(private readonly options: WorldOptions) {
    super();
    this.setMaxListeners(100);
    this.boxes = options.boxes;
    this.time = options.time ?? WALL_TIME;
    this.smsSigningSecret = options.smsSigningSecret ?? randomBytes(24).toString('base64url');
    this.logins =
      options.caseSystemLogins ??
      (() => {
        const password = randomBytes(12).toString('base64url');
        return [...new Set(options.boxes.map((b) => b.authority))].map((authority) => ({ authority, username: `sim-${authority}`, password }));
      })();
  }

  static async start(options: WorldOptions): Promise<SimulatedWorld> {
    const world = new SimulatedWorld(options);
    await world.startParts();
    return world;
  }

  private async startParts(): Promise<void> {
    const stateDir = this.options.stateDir;
    if (stateDir !== undefined) mkdirSync(stateDir, { recursive: true });
    const listen = this.options.listen ?? {};
    const host = listen.host ?? '127.0.0.1';
    const advertised = listen.advertisedHost ?? host;
    let nextLockerPort = listen.lockerBasePort;
    for (const box of this.boxes) {
      const emulator = emulatorForBox(box, { host, ...(nextLockerPort === undefined ? {} : { firstPort: nextLockerPort }) });
      if (emulator === undefined) continue;
      if (nextLockerPort !== undefined && nextLockerPort !== 0) nextLockerPort += emulator.wiring().length;
      if (stateDir !== undefined) this.saves.push(keepEmulatorState(emulator, stateDir, box.id));
      emulator.on('change', (compartment: string) => this.changed({ kind: 'compartment', box: box.id, compartment }));
      emulator.on('wiring', () => this.changed({ kind: 'wiring', box: box.id }));
      emulator.on('connection', () => this.changed({ kind: 'wiring', box: box.id }));
      emulator.on('disconnect', () => this.changed({ kind: 'wiring', box: box.id }));
      for (const gateway of await emulator.start()) this.lockerEndpoints[`${box.id}/${gateway.id}`] = `${advertised}:${gateway.port}`;
      this.lockers.set(box.id, emulator);
    }

    this.sms = await startSmsGatewaySimulator({
      signingSecret: this.smsSigningSecret,
      seven: { host, ...(listen.smsHttpPort === undefined ? {} : { port: listen.smsHttpPort }) },
      smpp: { host, ...(listen.smppPort === undefined ? {} : { port: listen.smppPort }) },
    });
    this.callbacks = await startCallbackServer({ host, ...(listen.callbackPort === undefined ? {} : { port: listen.callbackPort }) });
    this.advertised = advertised;

    const saved = stateDir === undefined ? undefined : this.load(join(stateDir, 'world.json'));
    if (saved !== undefined) {
      this.notices.push(...saved.notices);
      for (const message of saved.inbox) this.sms.inbox.receive(message);
      this.callbacks.reports.push(...saved.reports);
      this.sequence = saved.sequence;
    }
    const receive = this.sms.inbox.receive.bind(this.sms.inbox);
    this.sms.inbox.receive = (message) => {
      receive(message);
      this.changed({ kind: 'inbox', phone: message.to });
    };
    this.callbacks.onChange(() => this.changed({ kind: 'reports' }));
    this.stopClock = this.time.onChange(() => this.changed({ kind: 'clock' }));
  }

  private load(file: string): SavedWorld | undefined {
    if (!existsSync(file)) return undefined;
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as SavedWorld;
      return saved.version === 1 ? saved : undefined;
    } catch {
      // A damaged file is not worth a failed start: the world begins anew (the boxes keep their own files).
      return undefined;
    }
  }

  private changed(change: WorldChange): void {
    this.emit('change', change);
    if (this.options.stateDir !== undefined && change.kind !== 'compartment' && change.kind !== 'wiring' && !this.saveScheduled) {
      this.saveScheduled = true;
      setImmediate(() => {
        this.saveScheduled = false;
        this.saveWorld();
      });
    }
  }

  private saveWorld(): void {
    if (this.options.stateDir === undefined) return;
    const inbox = Object.values(this.sms.inbox.all()).flat();
    const saved: SavedWorld = { version: 1, notices: this.notices, inbox, reports: [...this.callbacks.reports], sequence: this.sequence };
    writeAtomically(join(this.options.stateDir, 'world.json'), JSON.stringify(saved));
  }

  /** Changes the world's time source (once the middleware's Redis is known to work); the console hears it as a clock change. */
  async useTime(time: WorldTime): Promise<void> {
    const previous = this.time;
    this.stopClock?.();
    this.time = time;
    this.stopClock = time.onChange(() => this.changed({ kind: 'clock' }));
    this.changed({ kind: 'clock' });
    if (previous !== time) await previous.close?.();
  }

  /** Environment for a middleware that talks to this world (lock-board endpoints, SMS gateway, case-system logins and callbacks). */
  middlewareEnv(): Record<string, string> {
    const clients = this.logins.map((l) => ({
      id: l.username,
      authority: l.authority,
      basic: { username: l.username, passwordSha256: createHash('sha256').update(l.password).digest('hex') },
    }));
    const reachable = (url: string): string => {
      const u = new URL(url);
      u.hostname = this.advertised;
      return u.toString().replace(/\/$/, '');
    };
    const callbacks = Object.fromEntries(this.logins.map((l) => [l.authority, { url: reachable(this.callbacks.url) }]));
    return {
      LOCKER_ENDPOINTS: JSON.stringify(this.lockerEndpoints),
      SMS_GATEWAY: 'dev',
      SMS_DEV_URL: reachable(this.sms.seven.url),
      SEVEN_WEBHOOK_SECRET: this.smsSigningSecret,
      CASE_SYSTEM_CLIENTS: JSON.stringify(clients),
      CASE_SYSTEM_CALLBACKS: JSON.stringify(callbacks),
    };
  }

  /** Once the middleware listens: delivery reports go to it. */
  middlewareReady(url: string): void {
    this.sms.seven.setWebhookUrl(`${url}/sms/v1/seven/webhook`);
  }

  // --- the box -----------------------------------------------------------------

  box(boxId: string): BoxDefinition {
    const box = this.boxes.find((b) => b.id === boxId);
    if (box === undefined) throw new WorldError('UNKNOWN_BOX', `There is no box '${boxId}' in this world; the boxes are ${this.boxes.map((b) => b.id).join(', ')}.`);
    return box;
  }

  private emulator(boxId: string): Cu16Emulator {
    this.box(boxId);
    const emulator = this.lockers.get(boxId);
    if (emulator === undefined) throw new WorldError('NO_LOCK_BOARDS', `Box '${boxId}' has no emulated Kerong lock boards.`);
    return emulator;
  }

  compartments(boxId: string): CompartmentView[] {
    const emulator = this.emulator(boxId);
    return this.box(boxId).compartments.flatMap((c) => (c.locker === undefined ? [] : [emulator.describe(c.id)]));
  }

  compartment(boxId: string, compartmentId: string): CompartmentView {
    try {
      return this.emulator(boxId).describe(compartmentId);
    } catch (error) {
      if (error instanceof WorldError) throw error;
      throw new WorldError('UNKNOWN_COMPARTMENT', `Box '${boxId}' has no compartment '${compartmentId}'.`);
    }
  }

  wiring(boxId: string): ReturnType<Cu16Emulator['wiring']> {
    return this.emulator(boxId).wiring();
  }

  /** What a person at the box does; refused with a reason when the door is closed (insert, take). */
  act(boxId: string, compartmentId: string, action: CompartmentAction): CompartmentView {
    const emulator = this.emulator(boxId);
    this.compartment(boxId, compartmentId);
    try {
      if (action === 'insert') emulator.insertItem(compartmentId);
      else if (action === 'take') emulator.takeItem(compartmentId);
      else if (action === 'close') emulator.closeDoor(compartmentId);
      else if (action === 'leave-open') emulator.leaveOpen(compartmentId);
      else if (action === 'force-open') emulator.forceOpen(compartmentId);
      else throw new WorldError('UNKNOWN_ACTION', `Unknown action '${String(action)}'; use one of ${COMPARTMENT_ACTIONS.join(', ')}.`);
    } catch (error) {
      if (error instanceof WorldError) throw error;
      throw new WorldError('DOOR_CLOSED', error instanceof Error ? error.message : String(error));
    }
    return emulator.describe(compartmentId);
  }

  // --- the case system -------------------------------------------------------

  private client(authority: string): CaseSystemSimulator {
    let client = this.clients.get(authority);
    if (client === undefined) {
      const login = this.logins.find((l) => l.authority === authority);
      if (login === undefined) throw new WorldError('NO_LOGIN', `The case system has no login for authority '${authority}'.`);
      client = new CaseSystemSimulator(this.options.middlewareUrl(), { basic: { username: login.username, password: login.password } });
      this.clients.set(authority, client);
    }
    return client;
  }

  /** Sends notices as the case system does; each answer is recorded (`notices`), refusals included. */
  async sendNotices(request: NoticeRequest): Promise<SentNotice[]> {
    const box = this.box(request.boxId);
    const count = request.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw new WorldError('BAD_COUNT', 'Send between 1 and 1000 notices at a time.');
    const format = request.format ?? 'soap';
    const client = this.client(box.authority);
    const sent: SentNotice[] = [];
    for (let k = 0; k < count; k += 1) {
      this.sequence += 1;
      const i = this.sequence;
      const base = sampleNotice(i, { runId: this.runId, authority: box.authority, boxId: box.id, ...(request.renewal === undefined ? {} : { renewal: request.renewal }), ...(request.oldCardCan === undefined ? {} : { oldCardCan: request.oldCardCan }) });
      const notice: SampleNotice = {
        ...base,
        mobile: request.mobile ?? (WORLD_PHONES[i % WORLD_PHONES.length] as string),
        ...(request.person === undefined ? {} : { person: request.person }),
        ...(request.language === undefined ? {} : { language: request.language }),
        ...(request.accessible === undefined ? {} : { accessible: request.accessible }),
        ...(request.documents === undefined ? {} : { documents: request.documents.map((type, d) => ({ type, serialNumber: `${base.documents[0]?.serialNumber.slice(0, 8) ?? 'T0000000'}${d}` })) }),
      };
      const record: SentNotice = {
        messageId: notice.messageId,
        boxId: box.id,
        format,
        sentAt: this.time.now(),
        outcome: 'error',
        // The middleware's own rule; a number it would refuse keeps the inbox's plain form.
        phone: normaliseMobile(notice.mobile) ?? PhoneInbox.normalise(notice.mobile),
        language: notice.language,
        accessible: notice.accessible,
        caseNumber: notice.caseNumber,
        documents: notice.documents.map((d) => ({ type: d.type, serialNumber: d.serialNumber })),
        person: { name: `${notice.person.givenNames} ${notice.person.familyName}`, dateOfBirth: notice.person.dateOfBirth },
      };
      this.contents.set(notice.messageId, notice);
      await this.deliver(record, notice, client);
      this.notices.push(record);
      sent.push(record);
      this.changed({ kind: 'notices' });
    }
    return sent;
  }

  /** Sends a notice again, unchanged (same message id), as the case system does after an error or a timeout; updates and returns its record. */
  async resendNotice(messageId: string): Promise<SentNotice> {
    const record = this.notices.find((n) => n.messageId === messageId);
    const notice = this.contents.get(messageId);
    if (record === undefined || notice === undefined) throw new WorldError('UNKNOWN_NOTICE', `The case system sent no notice '${messageId}' in this run; it can only resend its own.`);
    delete record.detail;
    record.outcome = 'error';
    await this.deliver(record, notice, this.client(this.box(record.boxId).authority));
    this.changed({ kind: 'notices' });
    return record;
  }

  private async deliver(record: SentNotice, notice: SampleNotice, client: CaseSystemSimulator): Promise<void> {
    try {
      if (record.format === 'soap') {
        const answer = await client.notify(notice);
        record.outcome = answer.outcome;
        record.pickupId = answer.pickupId;
      } else {
        const createdAt = new Date(this.time.now()).toISOString();
        const answer = record.format === 'xoev' ? await client.notifyXoev(notice, createdAt) : await client.notifyXoevSoap(notice, createdAt);
        const pickupId = /pickupId>([^<]+)</.exec(answer.body)?.[1] ?? /"pickupId"\s*:\s*"([^"]+)"/.exec(answer.body)?.[1];
        if (pickupId !== undefined) record.pickupId = pickupId;
        record.outcome = answer.status < 300 ? (/duplicate/.test(answer.body) ? 'duplicate' : 'created') : answer.status < 500 ? 'refused' : 'error';
        if (answer.status >= 300) record.detail = faultText(answer.body) ?? `HTTP ${answer.status}`;
      }
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      record.outcome = /Client|Sender|400|422/.test(text) ? 'refused' : 'error';
      record.detail = text.slice(0, 300);
    }
  }

  /** Cancels a pickup as the case system does (CancelPickup). */
  async cancel(pickupId: string): Promise<{ pickupId: string; state: string }> {
    const notice = this.notices.find((n) => n.pickupId === pickupId);
    const authority = notice === undefined ? this.logins[0]?.authority : this.box(notice.boxId).authority;
    if (authority === undefined) throw new WorldError('NO_LOGIN', 'The case system has no login.');
    const result = await this.client(authority).cancel({ pickupId });
    this.changed({ kind: 'notices' });
    return result;
  }

  /** Every status report received, in arrival order. */
  reports(): readonly RecordedReport[] {
    return this.callbacks.reports;
  }

  /** The reports of each pickup, in arrival order. */
  reportsByPickup(): Map<string, RecordedReport[]> {
    const out = new Map<string, RecordedReport[]>();
    for (const report of this.callbacks.reports) {
      const list = out.get(report.pickupId) ?? [];
      list.push(report);
      out.set(report.pickupId, list);
    }
    return out;
  }

  // --- the phones --------------------------------------------------------------

  phones(): Record<string, InboxMessage[]> {
    const all = this.sms.inbox.all();
    for (const phone of WORLD_PHONES) all[phone] ??= [];
    return all;
  }

  // --- faults ------------------------------------------------------------------

  /** The faults switched on now. */
  faults(): { id: string; kind: FaultKind; target: FaultTarget; since: number }[] {
    return [...this.activeFaults].map(([id, f]) => ({ id, ...f }));
  }

  /** Switches a fault on or off (idempotent); unknown kinds and targets are refused with the reason. */
  async setFault(kind: FaultKind, target: FaultTarget, on: boolean): Promise<string> {
    const spec = FAULT_KINDS[kind];
    if (spec === undefined) throw new WorldError('UNKNOWN_FAULT', `Unknown fault '${String(kind)}'; the faults are ${Object.keys(FAULT_KINDS).join(', ')}.`);
    const id = faultId(kind, target);
    const emulator = spec.part === 'locker' ? this.emulator(target.box ?? '') : undefined;
    const need = (key: 'compartment' | 'gateway'): string => {
      const value = target[key];
      if (value === undefined || value === '') throw new WorldError('FAULT_TARGET', `Fault '${kind}' needs a ${key}.`);
      return value;
    };
    const gatewayOf = (): string => {
      const gateway = need('gateway');
      if (!emulator?.wiring().some((g) => g.id === gateway)) throw new WorldError('FAULT_TARGET', `Box '${target.box ?? ''}' has no gateway '${gateway}'.`);
      return gateway;
    };
    switch (kind) {
      case 'jammed-lock':
        this.compartment(target.box ?? '', need('compartment'));
        emulator?.jamLock(need('compartment'), on);
        break;
      case 'broken-sensor':
        this.compartment(target.box ?? '', need('compartment'));
        emulator?.breakItemSensor(need('compartment'), on ? 'absent' : null);
        break;
      case 'silent-board': {
        const gateway = gatewayOf();
        const board = target.board ?? 0;
        if (!emulator?.wiring().find((g) => g.id === gateway)?.boards.some((b) => b.board === board)) throw new WorldError('FAULT_TARGET', `Gateway '${gateway}' has no board ${board}.`);
        emulator.silenceBoard(gateway, board, on);
        break;
      }
      case 'dropped-gateway':
        if (on) await emulator?.dropGateway(gatewayOf());
        else await emulator?.restoreGateway(gatewayOf());
        break;
      case 'garbage-replies':
        emulator?.setGarbage(gatewayOf(), on ? Uint8Array.from([0x00, 0xff, 0x13, 0x37, 0x02]) : null);
        break;
      case 'split-replies':
        emulator?.setSplitReplies(gatewayOf(), on ? 30 : null);
        break;
      case 'sms-down':
        this.sms.seven.setDefault(on ? { kind: 'http', status: 503 } : undefined);
        break;
      case 'sms-slow':
        this.sms.seven.setDefault(on ? { kind: 'slow', ms: target.ms ?? 8000 } : undefined);
        break;
      case 'sms-rejecting':
        // seven.io's code 202: the recipient number is invalid.
        this.sms.seven.setDefault(on ? { kind: 'reject', code: '202' } : undefined);
        break;
      case 'sms-reports-lost':
        this.sms.seven.setDeliveryReports(on ? 'lost' : 'normal');
        break;
      case 'sms-undelivered':
        this.sms.seven.setDeliveryReports(on ? 'failing' : 'normal');
        break;
      case 'callback-down':
        this.callbacks.setStanding(on ? 'http500' : 'ok');
        break;
      case 'callback-slow':
        this.callbacks.setStanding(on ? 'timeout' : 'ok');
        break;
      case 'callback-forgets':
        this.callbacks.setForgetting(on);
        break;
      default:
        throw new WorldError('UNKNOWN_FAULT', `Unknown fault '${String(kind)}'.`);
    }
    // One standing behaviour per gateway: switching one SMS fault on replaces the others.
    if (spec.exclusive !== undefined && on) for (const [other, f] of this.activeFaults) if (f.kind !== kind && FAULT_KINDS[f.kind].exclusive === spec.exclusive) this.activeFaults.delete(other);
    if (on) this.activeFaults.set(id, { kind, target, since: this.time.now() });
    else this.activeFaults.delete(id);
    this.changed({ kind: 'faults' });
    return id;
  }

  /** Switches a fault off by its id (as `faults()` lists it). */
  async clearFault(id: string): Promise<void> {
    const parsed = parseFaultId(id);
    if (parsed === undefined) throw new WorldError('UNKNOWN_FAULT', `No fault '${id}'.`);
    await this.setFault(parsed.kind, parsed.target, false);
  }

  // --- the whole -----------------------------------------------------------------

  /** Everything a tester sees, in one JSON-able object (the console's first paint). */
  snapshot(): WorldSnapshot {
    return {
      time: this.time.state(),
      boxes: this.boxes.map((b) => ({
        id: b.id,
        name: b.name,
        front: (b as { front?: { columns: number; rows: number } }).front ?? null,
        compartments: this.lockers.has(b.id) ? this.compartments(b.id) : [],
        wiring: this.lockers.has(b.id) ? this.wiring(b.id) : [],
      })),
      phones: this.phones(),
      notices: this.notices,
      reports: [...this.callbacks.reports],
      faults: this.faults(),
    };
  }

  async close(): Promise<void> {
    this.stopClock?.();
    for (const emulator of this.lockers.values()) await emulator.stop();
    for (const save of this.saves) save();
    this.saveWorld();
    await this.callbacks.close();
    await this.sms.close();
    await this.time.close?.();
  }
}

export interface WorldSnapshot {
  time: { now: number; speed: number; simulated: boolean };
  boxes: { id: string; name: string; front: { columns: number; rows: number } | null; compartments: CompartmentView[]; wiring: ReturnType<Cu16Emulator['wiring']> }[];
  phones: Record<string, InboxMessage[]>;
  notices: SentNotice[];
  reports: RecordedReport[];
  faults: { id: string; kind: FaultKind; target: FaultTarget; since: number }[];
}

function faultText(body: string): string | undefined {
  return (/<faultstring[^>]*>([^<]*)</.exec(body) ?? /<(?:\w+:)?Text[^>]*>([^<]*)</.exec(body) ?? /"message"\s*:\s*"([^"]*)"/.exec(body))?.[1]?.slice(0, 300);
}
