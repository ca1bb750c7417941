/**
 * Delivery receipts arrive as deliver_sm with the receipt bit in esm_class
 * and a text like `id:123 sub:001 dlvrd:001 submit date:2603021000 done
 * date:2603021001 stat:DELIVRD err:000 text:...` (SMPP 3.4 appendix B; the
 * format is de facto, so the parser tolerates missing fields and case).
 */
import type { DeliveryStatus } from '../types.js';

export interface ParsedReceipt {
  id: string;
  stat: string;
  err?: string;
  /** `done date` as YYMMDDhhmm(ss), UTC by convention. */
  doneDate?: string;
}

const STATS: Record<string, DeliveryStatus> = {
  DELIVRD: 'delivered',
  ACCEPTD: 'accepted',
  ENROUTE: 'buffered',
  EXPIRED: 'expired',
  DELETED: 'failed',
  UNDELIV: 'failed',
  REJECTD: 'rejected',
  UNKNOWN: 'unknown',
};

export function statusForSmppStat(stat: string): DeliveryStatus {
  return STATS[stat.toUpperCase()] ?? 'unknown';
}

export function parseReceiptText(text: string): ParsedReceipt | undefined {
  const id = /(?:^|\s)id:(\S+)/i.exec(text)?.[1];
  const stat = /(?:^|\s)stat:(\S+)/i.exec(text)?.[1];
  if (id === undefined || stat === undefined) return undefined;
  const err = /(?:^|\s)err:(\S+)/i.exec(text)?.[1];
  const doneDate = /done date:(\d{10,12})/i.exec(text)?.[1];
  return { id, stat: stat.toUpperCase(), ...(err === undefined ? {} : { err }), ...(doneDate === undefined ? {} : { doneDate }) };
}

/** YYMMDDhhmm(ss) as UTC epoch ms. */
export function parseReceiptDate(value: string): number | undefined {
  const match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(value);
  if (!match) return undefined;
  const [, yy, mo, dd, hh, mi, ss] = match;
  const ms = Date.UTC(2000 + Number(yy), Number(mo) - 1, Number(dd), Number(hh), Number(mi), Number(ss ?? '0'));
  return Number.isNaN(ms) ? undefined : ms;
}
