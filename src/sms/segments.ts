/**
 * SMS segment counting with the GSM 03.38 / UCS-2 rules (160/153 GSM-7
 * characters, 70/67 UCS-2 code units, escape characters such as € counting
 * twice), delegated to sms-segments-calculator.
 */
import { SegmentedMessage } from 'sms-segments-calculator';

export interface SegmentCount {
  encoding: 'gsm' | 'ucs2';
  segments: number;
  /** Characters as the network counts them (GSM-7 septets or UCS-2 code units). */
  units: number;
}

export function countSegments(text: string): SegmentCount {
  const message = new SegmentedMessage(text, 'auto', false);
  const encoding = message.encodingName === 'GSM-7' ? 'gsm' : 'ucs2';
  // messageSize is in bits without UDH: 7 per GSM-7 septet, 16 per UCS-2 code unit.
  const units = encoding === 'gsm' ? Math.round(message.messageSize / 7) : Math.round(message.messageSize / 16);
  return { encoding, segments: message.segmentsCount, units };
}
