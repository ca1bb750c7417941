/**
 * Splits a text into SMPP short_message payloads. The smpp package does not
 * split long texts, so concatenated messages are built here: GSM 03.38
 * (one septet per byte, 160 per message, 153 per part) when every character
 * exists in the GSM alphabet, UCS-2 (70 / 67 code units) otherwise; parts
 * carry an 8-bit-reference concatenation UDH. Escape sequences (€, [, ...)
 * and surrogate pairs are never cut in half.
 */
import smpp from 'smpp';

export interface SmppPayload {
  encoding: 'gsm' | 'ucs2';
  dataCoding: number;
  /** `0x40` (UDH indicator) for concatenated parts, else 0. */
  esmClass: number;
  /** One short_message per part, UDH included. */
  parts: Buffer[];
}

const GSM_SINGLE = 160;
const GSM_PART = 153;
const UCS2_SINGLE_BYTES = 140;
const UCS2_PART_BYTES = 134;
const ESCAPE = 0x1b;
export const UDH_INDICATOR = 0x40;
export const UCS2_DATA_CODING = 0x08;

function chunkGsm(septets: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  while (start < septets.length) {
    let end = Math.min(start + GSM_PART, septets.length);
    // An escape as the last septet belongs to the next character.
    if (end < septets.length && septets[end - 1] === ESCAPE) end -= 1;
    chunks.push(septets.subarray(start, end));
    start = end;
  }
  return chunks;
}

function chunkUcs2(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(start + UCS2_PART_BYTES, bytes.length);
    // Do not end a part on a high surrogate (0xD800-0xDBFF).
    if (end < bytes.length) {
      const high = bytes[end - 2] ?? 0;
      if (high >= 0xd8 && high <= 0xdb) end -= 2;
    }
    chunks.push(bytes.subarray(start, end));
    start = end;
  }
  return chunks;
}

/**
 * @param reference 0-255, the same for all parts of one message and
 *   different between messages sent close together to the same number.
 * @param gsmDataCoding data_coding for GSM texts: 0x00 (SMSC default alphabet,
 *   what most German SMSCs expect) unless the provider says otherwise.
 */
export function encodeForSmpp(text: string, reference: number, gsmDataCoding = 0x00): SmppPayload {
  const gsm = smpp.encodings.ASCII.match(text);
  const bytes = gsm ? smpp.encodings.ASCII.encode(text) : smpp.encodings.UCS2.encode(text);
  const single = gsm ? bytes.length <= GSM_SINGLE : bytes.length <= UCS2_SINGLE_BYTES;
  const dataCoding = gsm ? gsmDataCoding : UCS2_DATA_CODING;
  const encoding = gsm ? 'gsm' : 'ucs2';
  if (single) return { encoding, dataCoding, esmClass: 0, parts: [bytes] };
  const chunks = gsm ? chunkGsm(bytes) : chunkUcs2(bytes);
  if (chunks.length > 255) throw new RangeError('text needs more than 255 parts');
  const ref = reference & 0xff;
  const parts = chunks.map((chunk, index) => Buffer.concat([Buffer.from([0x05, 0x00, 0x03, ref, chunks.length, index + 1]), chunk]));
  return { encoding, dataCoding, esmClass: UDH_INDICATOR, parts };
}
