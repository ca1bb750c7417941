/**
 * SMS over SMPP 3.4 with the `smpp` package: one transceiver session that
 * binds, keeps itself alive with enquire_link, reconnects with jittered
 * exponential backoff, submits long texts as UDH-concatenated parts and
 * turns deliver_sm receipts into delivery reports. Every session gets an
 * `error` listener: an unhandled one would end the process.
 */
import type { Logger } from 'pino';
import smpp, { type PDU, type Session } from 'smpp';
import { DeliveryReportHub, SmsSendError, validateSender, type DeliveryReportListener, type SmsFailureReason, type SmsGateway, type SmsMessage, type SmsSendResult } from '../types.js';
import { encodeForSmpp } from './encoding.js';
import { parseReceiptDate, parseReceiptText, statusForSmppStat } from './receipts.js';

export interface SmppGatewayOptions {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  logger: Logger;
  /** enquire_link period; default 30 s. */
  enquireLinkMs?: number;
  /** How long to wait for a submit_sm_resp or enquire_link_resp; default 10 s. */
  responseTimeoutMs?: number;
  /** Reconnect backoff; default 1 s doubling to 60 s. */
  reconnect?: { baseMs: number; maxMs: number };
  /** data_coding for GSM-7 texts; default 0 (SMSC default alphabet). */
  gsmDataCoding?: number;
  /** How often one part is tried again within `send` when the SMSC throttles; default 3. */
  throttleRetries?: number;
  /** Wait after ESME_RTHROTTLED before the next try; default 1 s. */
  throttleWaitMs?: number;
  /**
   * Some SMSCs report receipt ids in decimal while submit_sm_resp gave hex
   * (or the reverse). Default `none`.
   */
  receiptIds?: 'none' | 'hex-to-decimal' | 'decimal-to-hex';
  random?: () => number;
}

type State = 'idle' | 'connecting' | 'bound' | 'closed';

/** What `onStateChange` reports: for health checks and metrics. */
export type SmppSessionState = 'connecting' | 'bound' | 'bind_refused' | 'closed';

const STATUS_REASONS: Record<number, SmsFailureReason> = {
  [smpp.ESME_RTHROTTLED]: 'throttled',
  [smpp.ESME_RMSGQFUL]: 'throttled',
  [smpp.ESME_RSYSERR]: 'unavailable',
  [smpp.ESME_RX_T_APPN]: 'unavailable',
  [smpp.ESME_RINVDSTADR]: 'invalid_number',
  [smpp.ESME_RINVSRCADR]: 'bad_sender',
  [smpp.ESME_RINVMSGLEN]: 'too_long',
  [smpp.ESME_RSUBMITFAIL]: 'rejected',
  [smpp.ESME_RX_P_APPN]: 'rejected',
  [smpp.ESME_RX_R_APPN]: 'rejected',
  0x04: 'unavailable', // ESME_RINVBNDSTS: our session is not bound (yet)
};

export function reasonForSmppStatus(status: number): SmsFailureReason {
  return STATUS_REASONS[status] ?? 'rejected';
}

function hex(status: number): string {
  return `0x${status.toString(16).padStart(8, '0')}`;
}

const MAX_PART_IDS = 10_000;

export class SmppGateway implements SmsGateway {
  readonly name: string = 'smpp';
  private readonly hub: DeliveryReportHub;
  private session: Session | undefined;
  private state: State = 'idle';
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private enquireTimer: NodeJS.Timeout | undefined;
  private lastBindRefused = false;
  private reference = 0;
  private readonly pending = new Set<(error: SmsSendError) => void>();
  /** Receipt ids of later parts -> the message id we reported for the first part. */
  private readonly partIds = new Map<string, string>();
  private boundWaiters: (() => void)[] = [];
  private readonly stateListeners = new Set<(state: SmppSessionState) => void>();

  constructor(private readonly options: SmppGatewayOptions) {
    this.hub = new DeliveryReportHub((error) => options.logger.error({ err: error }, 'sms delivery report listener failed'));
  }

  get bound(): boolean {
    return this.state === 'bound';
  }

  /** Starts connecting; resolves once bound the first time (reconnects go on in the background). */
  start(): Promise<void> {
    const ready = this.whenBound();
    if (this.state === 'idle') this.connect();
    return ready;
  }

  whenBound(): Promise<void> {
    if (this.state === 'bound') return Promise.resolve();
    return new Promise((resolve) => this.boundWaiters.push(resolve));
  }

  /** Session state changes (bound, connection lost, credentials refused, closed); returns an unsubscribe function. */
  onStateChange(listener: (state: SmppSessionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private emitState(state: SmppSessionState): void {
    for (const listener of this.stateListeners) listener(state);
  }

  /** Resolves at the next successful bind (after a reconnect). */
  nextBind(): Promise<void> {
    return new Promise((resolve) => this.boundWaiters.push(resolve));
  }

  onDeliveryReport(listener: DeliveryReportListener): () => void {
    return this.hub.add(listener);
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.emitState('closed');
    clearTimeout(this.reconnectTimer);
    clearInterval(this.enquireTimer);
    const session = this.session;
    this.session = undefined;
    if (!session) return;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      const timer = setTimeout(() => session.destroy(done), 1_000);
      session.unbind(() => {
        clearTimeout(timer);
        session.close(done);
      });
      if (!session.socket.writable) {
        clearTimeout(timer);
        session.destroy(done);
      }
    });
    this.failPending(new SmsSendError('timeout', 'the SMPP session closed before the SMSC answered; the message may have been accepted'));
  }

  private connect(): void {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const log = this.options.logger;
    const session = smpp.connect({ host: this.options.host, port: this.options.port });
    this.session = session;
    let gone = false;
    const lost = (why: string) => {
      if (gone) return;
      gone = true;
      clearInterval(this.enquireTimer);
      if (this.session === session) this.session = undefined;
      this.failPending(new SmsSendError('timeout', 'the SMPP connection dropped before the SMSC answered; the message may have been accepted'));
      if (this.state === 'closed') return;
      this.state = 'connecting';
      this.emitState('connecting');
      log.warn({ why, failures: this.failures }, 'smpp session lost, reconnecting');
      this.scheduleReconnect();
    };
    session.on('error', (error: Error) => {
      log.warn({ err: { message: error.message, name: error.name } }, 'smpp session error');
      lost('error');
    });
    session.on('close', () => lost('close'));
    session.on('connect', () => {
      session.bind_transceiver(
        { system_id: this.options.systemId, password: this.options.password, system_type: this.options.systemType ?? '', interface_version: 0x34 },
        (pdu) => {
          if (pdu.command_status !== smpp.ESME_ROK) {
            this.lastBindRefused = pdu.command_status === smpp.ESME_RBINDFAIL || pdu.command_status === smpp.ESME_RINVPASWD || pdu.command_status === 0x0f;
            log.error({ status: hex(pdu.command_status) }, 'smpp bind refused');
            this.emitState('bind_refused');
            session.destroy();
            return;
          }
          this.lastBindRefused = false;
          this.failures = 0;
          this.state = 'bound';
          log.info({ host: this.options.host, port: this.options.port }, 'smpp bound as transceiver');
          this.startEnquireLink(session);
          this.emitState('bound');
          const waiters = this.boundWaiters;
          this.boundWaiters = [];
          for (const resolve of waiters) resolve();
        },
      );
    });
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('deliver_sm', (pdu: PDU) => {
      session.send(pdu.response());
      void this.onDeliverSm(pdu);
    });
  }

  private scheduleReconnect(): void {
    const policy = this.options.reconnect ?? { baseMs: 1_000, maxMs: 60_000 };
    this.failures += 1;
    const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(this.failures - 1, 20));
    const wait = Math.round(ceiling / 2 + (this.options.random ?? Math.random)() * (ceiling / 2));
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }

  private startEnquireLink(session: Session): void {
    clearInterval(this.enquireTimer);
    const period = this.options.enquireLinkMs ?? 30_000;
    this.enquireTimer = setInterval(() => {
      let answered = false;
      const timer = setTimeout(() => {
        if (!answered) {
          this.options.logger.warn('smpp enquire_link unanswered, dropping the session');
          session.destroy();
        }
      }, this.options.responseTimeoutMs ?? 10_000);
      session.enquire_link({}, () => {
        answered = true;
        clearTimeout(timer);
      });
    }, period);
  }

  private failPending(error: SmsSendError): void {
    const rejects = [...this.pending];
    this.pending.clear();
    for (const reject of rejects) reject(error);
  }

  private submit(session: Session, params: Record<string, unknown>): Promise<PDU> {
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.responseTimeoutMs ?? 10_000;
      const fail = (error: SmsSendError) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        reject(error);
      };
      const timer = setTimeout(() => fail(new SmsSendError('timeout', `the SMSC did not answer submit_sm within ${timeoutMs} ms; the message may have been accepted`)), timeoutMs);
      this.pending.add(fail);
      const sent = session.submit_sm(params, (pdu) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        resolve(pdu);
      });
      if (!sent) fail(new SmsSendError('unavailable', 'the SMPP connection is not writable'));
    });
  }

  async send(message: SmsMessage): Promise<SmsSendResult> {
    const senderProblem = validateSender(message.sender);
    if (senderProblem) throw new SmsSendError('bad_sender', `smpp: ${senderProblem}`);
    const session = this.session;
    if (this.state !== 'bound' || !session) {
      if (this.lastBindRefused) throw new SmsSendError('auth', 'the SMSC refused our SMPP credentials');
      throw new SmsSendError('unavailable', 'no SMPP session is bound');
    }
    this.reference = (this.reference + 1) & 0xff;
    const payload = encodeForSmpp(message.text, this.reference, this.options.gsmDataCoding ?? 0x00);
    const numeric = /^\+?\d+$/.test(message.sender);
    const base = {
      source_addr_ton: numeric ? 1 : 5,
      source_addr_npi: numeric ? 1 : 0,
      source_addr: message.sender.replace(/^\+/, ''),
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: message.to.replace(/^\+/, ''),
      registered_delivery: 1,
      data_coding: payload.dataCoding,
      esm_class: payload.esmClass,
    };
    const ids: string[] = [];
    for (const [index, part] of payload.parts.entries()) {
      let pdu: PDU | undefined;
      for (let attempt = 0; ; attempt += 1) {
        pdu = await this.submit(session, { ...base, short_message: part });
        if (pdu.command_status !== smpp.ESME_RTHROTTLED || attempt >= (this.options.throttleRetries ?? 3)) break;
        // Wait here rather than failing: earlier parts are out, a retry of the whole message would repeat them.
        await new Promise((resolve) => setTimeout(resolve, this.options.throttleWaitMs ?? 1_000));
      }
      if (pdu.command_status !== smpp.ESME_ROK) {
        const reason = reasonForSmppStatus(pdu.command_status);
        if (index > 0) {
          // Part of the message is on its way: resending it all would duplicate those parts.
          throw new SmsSendError('timeout', `the SMSC refused part ${index + 1} of ${payload.parts.length} (${hex(pdu.command_status)}) after accepting the first`, { providerCode: hex(pdu.command_status) });
        }
        throw new SmsSendError(reason, `the SMSC refused the message (${hex(pdu.command_status)})`, { providerCode: hex(pdu.command_status), ...(reason === 'throttled' ? { retryAfterMs: this.options.throttleWaitMs ?? 1_000 } : {}) });
      }
      ids.push(String(pdu.message_id ?? ''));
    }
    const first = ids[0] ?? '';
    for (const id of ids.slice(1)) this.rememberPart(id, first);
    return { providerMessageId: first, parts: payload.parts.length, encoding: payload.encoding };
  }

  private rememberPart(partId: string, firstId: string): void {
    this.partIds.set(partId, firstId);
    if (this.partIds.size > MAX_PART_IDS) {
      const oldest = this.partIds.keys().next().value;
      if (oldest !== undefined) this.partIds.delete(oldest);
    }
  }

  private normaliseReceiptId(id: string): string {
    const mode = this.options.receiptIds ?? 'none';
    if (mode === 'hex-to-decimal' && /^[0-9a-f]+$/i.test(id)) return BigInt(`0x${id}`).toString(10);
    if (mode === 'decimal-to-hex' && /^\d+$/.test(id)) return BigInt(id).toString(16);
    return id;
  }

  private async onDeliverSm(pdu: PDU): Promise<void> {
    const esmClass = Number(pdu.esm_class ?? 0);
    if ((esmClass & 0x3c) !== 0x04) {
      // A mobile-originated SMS (a reply from the applicant): not handled; the number is not logged.
      this.options.logger.info('smpp inbound message ignored');
      return;
    }
    const body = pdu.short_message as { message?: unknown } | Buffer | string | undefined;
    const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('latin1') : typeof body?.message === 'string' ? body.message : Buffer.isBuffer(body?.message) ? body.message.toString('latin1') : '';
    const receipt = parseReceiptText(text);
    const tlvId = typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id : undefined;
    if (!receipt && !tlvId) {
      this.options.logger.warn('smpp receipt without id or stat ignored');
      return;
    }
    const rawId = tlvId ?? receipt?.id ?? '';
    const id = tlvId ?? this.normaliseReceiptId(rawId);
    const at = receipt?.doneDate === undefined ? undefined : parseReceiptDate(receipt.doneDate);
    await this.hub.emit({
      gateway: this.name,
      providerMessageId: this.partIds.get(id) ?? id,
      status: receipt ? statusForSmppStat(receipt.stat) : 'unknown',
      providerStatus: receipt?.stat ?? 'UNKNOWN',
      ...(at === undefined ? {} : { at }),
      ...(receipt?.err === undefined ? {} : { errorCode: receipt.err }),
    });
  }
}
