/**
 * An SMPP 3.4 SMSC for tests and the zero-config start, built on the smpp
 * package's server mode: binds (transceiver, transmitter, receiver) with a
 * system id and password, answers enquire_link, reassembles UDH-concatenated
 * messages into the phone inbox, sends delivery receipts as deliver_sm and
 * can be told to throttle (ESME_RTHROTTLED) or refuse submits.
 */
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type Session } from 'smpp';
import { PhoneInbox } from './inbox.js';

export interface SmppSimulatorOptions {
  port?: number;
  host?: string;
  systemId?: string;
  password?: string;
  inbox?: PhoneInbox;
  /** Receipt `stat` per destination number (default DELIVRD). */
  receiptStat?: (to: string) => string;
}

export interface SmppSimulator {
  port: number;
  inbox: PhoneInbox;
  /** Answer the next `count` submit_sm with ESME_RTHROTTLED. */
  throttle(count: number): void;
  /** Answer the next submit_sm with this command_status. */
  refuseNext(status: number): void;
  /** Stop answering submit_sm (to test timeouts) until called with false. */
  silence(on: boolean): void;
  /** Drop every client connection (to test reconnects). */
  dropConnections(): void;
  /** Resolves at the next enquire_link a client sends. */
  nextEnquireLink(): Promise<void>;
  submits: number;
  binds: number;
  enquireLinks: number;
  close(): Promise<void>;
}

interface PartialMessage {
  parts: (string | undefined)[];
  ids: string[];
  from: string;
  encoding: 'gsm' | 'ucs2';
}

function smppTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getUTCFullYear() % 100)}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}`;
}

export async function startSmppSimulator(options: SmppSimulatorOptions = {}): Promise<SmppSimulator> {
  const inbox = options.inbox ?? new PhoneInbox();
  const systemId = options.systemId ?? 'dokubox';
  const password = options.password ?? 'dev';
  let throttles = 0;
  let refusal: number | undefined;
  let silent = false;
  let nextId = 0x1000;
  const partials = new Map<string, PartialMessage>();
  const sessions = new Set<Session>();
  let enquireWaiters: (() => void)[] = [];

  const sim: SmppSimulator = {
    port: 0,
    inbox,
    throttle: (count) => {
      throttles += count;
    },
    refuseNext: (status) => {
      refusal = status;
    },
    silence: (on) => {
      silent = on;
    },
    dropConnections: () => {
      for (const session of sessions) session.destroy();
    },
    nextEnquireLink: () => new Promise<void>((resolve) => enquireWaiters.push(resolve)),
    submits: 0,
    binds: 0,
    enquireLinks: 0,
    close: async () => {},
  };

  const server = smpp.createServer({}, (session: Session) => {
    sessions.add(session);
    let bound = false;
    session.on('error', () => session.destroy());
    session.on('close', () => sessions.delete(session));
    const bind = (pdu: PDU) => {
      if (pdu.system_id !== systemId || pdu.password !== password) {
        session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
        session.close();
        return;
      }
      bound = true;
      sim.binds += 1;
      session.send(pdu.response({ system_id: 'SIMSMSC' }));
    };
    session.on('bind_transceiver', bind);
    session.on('bind_transmitter', bind);
    session.on('bind_receiver', bind);
    session.on('enquire_link', (pdu: PDU) => {
      sim.enquireLinks += 1;
      session.send(pdu.response());
      const waiters = enquireWaiters;
      enquireWaiters = [];
      for (const resolve of waiters) resolve();
    });
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: PDU) => {
      if (!bound) {
        session.send(pdu.response({ command_status: 0x04 }));
        return;
      }
      sim.submits += 1;
      if (silent) return;
      if (throttles > 0) {
        throttles -= 1;
        session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
        return;
      }
      if (refusal !== undefined) {
        session.send(pdu.response({ command_status: refusal }));
        refusal = undefined;
        return;
      }
      nextId += 1;
      const id = nextId.toString(16);
      session.send(pdu.response({ message_id: id }));

      const to = `+${String(pdu.destination_addr)}`;
      const from = String(pdu.source_addr);
      const encoding = (Number(pdu.data_coding) & 0x0f) === 0x08 ? 'ucs2' : 'gsm';
      const body = pdu.short_message as { udh?: Buffer[]; message?: string } | undefined;
      const text = typeof body?.message === 'string' ? body.message : '';
      const concat = body?.udh?.find((ie) => ie[0] === 0x00 && ie.length >= 5);
      const delivered: { ids: string[]; text: string; parts: number } | undefined = (() => {
        if (!concat) return { ids: [id], text, parts: 1 };
        const ref = concat[2] ?? 0;
        const total = concat[3] ?? 1;
        const seq = concat[4] ?? 1;
        const key = `${to}|${from}|${ref}`;
        const partial = partials.get(key) ?? { parts: Array<string | undefined>(total).fill(undefined), ids: [], from, encoding };
        partial.parts[seq - 1] = text;
        partial.ids.push(id);
        partials.set(key, partial);
        if (partial.parts.some((p) => p === undefined)) return undefined;
        partials.delete(key);
        return { ids: partial.ids, text: partial.parts.join(''), parts: total };
      })();
      if (!delivered) return;
      inbox.receive({ id: delivered.ids[0] ?? id, to, from, text: delivered.text, encoding, parts: delivered.parts, via: 'smpp', receivedAt: new Date().toISOString() });
      if ((Number(pdu.registered_delivery) & 0x03) === 0) return;
      const stat = options.receiptStat?.(to) ?? 'DELIVRD';
      const now = smppTime(new Date());
      for (const partId of delivered.ids) {
        session.deliver_sm({
          source_addr: String(pdu.destination_addr),
          destination_addr: from,
          esm_class: 0x04,
          short_message: `id:${partId} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} submit date:${now} done date:${now} stat:${stat} err:${stat === 'DELIVRD' ? '000' : '001'} text:`,
        });
      }
    });
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve()));
  sim.port = (server.address() as AddressInfo).port;
  sim.close = async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return sim;
}
