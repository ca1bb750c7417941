/**
 * The part of the `smpp` package (no published types) that the SMPP gateway
 * and the simulator use.
 */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  export interface PDU {
    command: string;
    command_id: number;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): PDU;
  }

  export interface Session extends EventEmitter {
    socket: Socket;
    send(pdu: PDU, responseCallback?: (pdu: PDU) => void, sendCallback?: (pdu: PDU) => void): boolean;
    bind_transceiver(options: Record<string, unknown>, responseCallback?: (pdu: PDU) => void): boolean;
    submit_sm(options: Record<string, unknown>, responseCallback?: (pdu: PDU) => void): boolean;
    deliver_sm(options: Record<string, unknown>, responseCallback?: (pdu: PDU) => void): boolean;
    enquire_link(options?: Record<string, unknown> | ((pdu: PDU) => void), responseCallback?: (pdu: PDU) => void): boolean;
    unbind(options?: Record<string, unknown> | ((pdu: PDU) => void), responseCallback?: (pdu: PDU) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
  }

  export interface Server extends NetServer {
    sessions: Session[];
  }

  export interface ConnectOptions {
    url?: string;
    host?: string;
    port?: number;
    auto_enquire_link_period?: number;
    debug?: boolean;
    connectTimeout?: number;
  }

  export function connect(options: ConnectOptions, listener?: () => void): Session;
  export function createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;

  export const ESME_ROK: number;
  export const ESME_RTHROTTLED: number;
  export const ESME_RBINDFAIL: number;
  export const ESME_RINVPASWD: number;
  export const ESME_RINVSYSID: number;
  export const ESME_RSYSERR: number;
  export const ESME_RMSGQFUL: number;
  export const ESME_RINVDSTADR: number;
  export const ESME_RINVSRCADR: number;
  export const ESME_RINVMSGLEN: number;
  export const ESME_RSUBMITFAIL: number;
  export const ESME_RINVBNDSTS: number;
  export const ESME_RX_T_APPN: number;
  export const ESME_RX_P_APPN: number;
  export const ESME_RX_R_APPN: number;

  export const encodings: {
    ASCII: { match(value: string): boolean; encode(value: string): Buffer; decode(value: Buffer): string };
    UCS2: { match(value: string): boolean; encode(value: string): Buffer; decode(value: Buffer): string };
  };

  const smpp: {
    connect: typeof connect;
    createServer: typeof createServer;
    encodings: typeof encodings;
    ESME_ROK: number;
    ESME_RTHROTTLED: number;
    ESME_RBINDFAIL: number;
    ESME_RINVPASWD: number;
    ESME_RSYSERR: number;
    ESME_RMSGQFUL: number;
    ESME_RINVDSTADR: number;
    ESME_RINVSRCADR: number;
    ESME_RINVMSGLEN: number;
    ESME_RSUBMITFAIL: number;
    ESME_RX_T_APPN: number;
    ESME_RX_P_APPN: number;
    ESME_RX_R_APPN: number;
  };
  export default smpp;
}
