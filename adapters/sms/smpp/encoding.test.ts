import { describe, expect, it } from 'vitest';
import { encodeForSmpp } from './encoding.js';
import { parseReceiptDate, parseReceiptText, statusForSmppStat } from './receipts.js';

describe('SMPP payloads', () => {
  it('sends a short GSM text as one part without UDH', () => {
    const payload = encodeForSmpp('Code 123456 äöüß', 7);
    expect(payload).toMatchObject({ encoding: 'gsm', dataCoding: 0, esmClass: 0 });
    expect(payload.parts).toHaveLength(1);
    expect(payload.parts[0]?.length).toBe(16);
  });

  it('splits long GSM texts into 153-septet parts with a concatenation UDH', () => {
    const payload = encodeForSmpp('a'.repeat(400), 9);
    expect(payload.esmClass).toBe(0x40);
    expect(payload.parts.map((p) => p.length)).toEqual([6 + 153, 6 + 153, 6 + 94]);
    expect([...(payload.parts[1]?.subarray(0, 6) ?? [])]).toEqual([0x05, 0x00, 0x03, 9, 3, 2]);
  });

  it('never cuts an escape sequence (€) between parts', () => {
    const payload = encodeForSmpp(`${'a'.repeat(152)}€${'b'.repeat(20)}`, 1);
    const first = payload.parts[0]?.subarray(6) ?? Buffer.alloc(0);
    expect(first.length).toBe(152);
    expect(payload.parts[1]?.subarray(6, 8)).toEqual(Buffer.from([0x1b, 0x65]));
  });

  it('uses UCS-2 for Arabic and splits at 67 code units', () => {
    const payload = encodeForSmpp('ج'.repeat(150), 3);
    expect(payload).toMatchObject({ encoding: 'ucs2', dataCoding: 0x08 });
    expect(payload.parts.map((p) => p.length - 6)).toEqual([134, 134, 32]);
  });

  it('keeps surrogate pairs in one part', () => {
    const payload = encodeForSmpp(`${'ж'.repeat(66)}😀${'ж'.repeat(10)}`, 3);
    expect(payload.parts[0]?.length).toBe(6 + 132);
  });

  it('honours a provider-specific data_coding for GSM', () => {
    expect(encodeForSmpp('hello', 1, 0x01).dataCoding).toBe(0x01);
  });
});

describe('SMPP delivery receipts', () => {
  it('parses the de-facto receipt text', () => {
    const receipt = parseReceiptText('id:1a2b sub:001 dlvrd:001 submit date:2603021000 done date:2603021001 stat:DELIVRD err:000 text:Ihr Dok');
    expect(receipt).toEqual({ id: '1a2b', stat: 'DELIVRD', err: '000', doneDate: '2603021001' });
    expect(parseReceiptDate('2603021001')).toBe(Date.parse('2026-03-02T10:01:00Z'));
    expect(parseReceiptText('no receipt here')).toBeUndefined();
  });

  it.each([
    ['DELIVRD', 'delivered'],
    ['UNDELIV', 'failed'],
    ['EXPIRED', 'expired'],
    ['REJECTD', 'rejected'],
    ['DELETED', 'failed'],
    ['ACCEPTD', 'accepted'],
    ['ENROUTE', 'buffered'],
    ['weird', 'unknown'],
  ])('maps stat %s to %s', (stat, status) => {
    expect(statusForSmppStat(stat)).toBe(status);
  });
});
