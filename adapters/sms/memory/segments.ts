/** Encoding and part count as a gateway would report them. */
import { SegmentedMessage } from 'sms-segments-calculator';

export function countSegmentsForGateway(text: string): { encoding: 'gsm' | 'ucs2'; parts: number } {
  const message = new SegmentedMessage(text, 'auto', false);
  return { encoding: message.encodingName === 'GSM-7' ? 'gsm' : 'ucs2', parts: message.segmentsCount };
}
